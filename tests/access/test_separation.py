"""三员分立 cannot be crossed (issue 8, hole 2): the probe's attacks replayed, each refused with a
Chinese message and nothing changed."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dangjian.access import policy, services
from dangjian.access.forms import UserCreateForm
from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import THREE_ADMINS, Role
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Member

BY = Actor.system("test")


def _as(user) -> Actor:
    return Actor(user=user, name=user.username)


# ---------------------------------------------------------------- (a) role grants

def test_replay_security_admin_grants_party_office_to_itself_and_reads_nothing(bureau, client_for):
    admin = bureau.users["security_admin"]
    client = client_for("security_admin")
    response = client.post(reverse("access:roles"), {"user": admin.pk, "role": "party_office",
                                                     "organization": bureau.root.pk, "include_descendants": "on"})
    assert response.status_code == 200
    assert "不能给自己授予角色" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=admin, role=Role.PARTY_OFFICE).exists()
    assert client.get(reverse("organizations:members")).status_code == 404


def test_replay_security_admin_grants_party_office_to_the_system_admin(bureau, client_for):
    target = bureau.users["sys_admin"]
    response = client_for("security_admin").post(reverse("access:roles"), {
        "user": target.pk, "role": "party_office", "organization": bureau.root.pk, "include_descendants": "on"})
    assert response.status_code == 200
    assert "三员分立：该账号是系统管理员，不能再授予业务角色党办/机关党委" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=target, role=Role.PARTY_OFFICE).exists()
    assert client_for("sys_admin").get(reverse("organizations:members")).status_code == 404


@pytest.mark.parametrize("admin_role", sorted(THREE_ADMINS))
def test_no_business_role_for_an_admin_account(bureau, admin_role):
    user = bureau.users["no_role"]
    services.role_grant(by=BY, user=user, role=admin_role)
    with pytest.raises(ValidationError, match="三员分立"):
        services.role_grant(by=BY, user=user, role=Role.MEMBER, organization=bureau.branch_a)
    assert set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) == {admin_role}


@pytest.mark.parametrize("admin_role", sorted(THREE_ADMINS))
def test_no_admin_role_for_a_business_account(bureau, admin_role):
    user = bureau.users["branch_secretary"]
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError, match="已有业务角色"):
        services.role_grant(by=_as(bureau.users["security_admin"]), user=user, role=admin_role)
    assert not RoleAssignment.objects.filter(user=user, role=admin_role).exists()
    assert AuditEntry.objects.count() == before


def test_no_admin_role_for_an_account_bound_to_a_member(bureau):
    user = bureau.users["no_role"]
    user.member = Member.objects.filter(organization=bureau.branch_b).first()
    user.save()
    with pytest.raises(ValidationError, match="已对应党员"):
        services.role_grant(by=BY, user=user, role=Role.SYS_ADMIN)


def test_no_admin_grants_any_role_to_itself(bureau):
    admin = bureau.users["security_admin"]
    with pytest.raises(ValidationError, match="不能给自己授予角色"):
        services.role_grant(by=_as(admin), user=admin, role=Role.LEADER, organization=bureau.root)
    assert set(RoleAssignment.objects.filter(user=admin).values_list("role", flat=True)) == {Role.SECURITY_ADMIN}


# ---------------------------------------------------------------- (b) member binding

def test_replay_account_form_has_no_id_number_field_and_answers_nothing(bureau, client_for):
    assert "member_id_number" not in UserCreateForm().fields
    client = client_for("sys_admin")
    page = client.get(reverse("access:users")).content.decode()
    assert "身份证" not in page
    # The probe's request, with a real ID number: the field is ignored, no binding is made.
    response = client.post(reverse("access:users"), {"username": "probe1", "full_name": "探测", "password": "Good#Pass2026",
                                                     "member_id_number": bureau.member_a.id_number})
    assert response.status_code == 302
    assert User.objects.get(username="probe1").member is None


def test_security_admin_binds_an_account_picking_the_member_from_a_list(bureau, client_for):
    client = client_for("security_admin")
    member = Member.objects.filter(organization=bureau.branch_b, user__isnull=True).first()
    page = client.get(reverse("access:bindings")).content.decode()
    assert f"{member.name} · {member.organization.name}" in page
    assert member.id_number not in page and "身份证" not in page
    target = bureau.users["no_role"]
    response = client.post(reverse("access:bindings"), {"user": target.pk, "member": member.pk})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.member == member
    entry = AuditEntry.objects.filter(action="user.bind_member").latest("seq")
    assert entry.actor_name == bureau.users["security_admin"].username and entry.object_id == str(target.pk)


def test_admin_accounts_cannot_be_bound_to_a_member(bureau):
    member = Member.objects.filter(organization=bureau.branch_b).first()
    assert bureau.users["sys_admin"] not in policy.accounts_bindable(bureau.users["security_admin"])
    with pytest.raises(ValidationError, match="三员分立"):
        services.user_bind_member(by=_as(bureau.users["security_admin"]), user=bureau.users["sys_admin"], member=member)
    assert User.objects.get(pk=bureau.users["sys_admin"].pk).member is None


def test_the_system_admin_cannot_bind(bureau, client_for):
    assert client_for("sys_admin").get(reverse("access:bindings")).status_code == 404


def test_a_member_with_an_account_cannot_be_bound_again(bureau):
    with pytest.raises(ValidationError, match="已有对应账号"):
        services.user_bind_member(by=BY, user=bureau.users["no_role"], member=bureau.member_a)


def test_unbinding_is_audited(bureau, client_for):
    user = bureau.users["member"]
    response = client_for("security_admin").post(reverse("access:binding_remove", args=[user.pk]))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.member is None
    assert AuditEntry.objects.filter(action="user.unbind_member", object_id=str(user.pk)).exists()


# ---------------------------------------------------------------- (c) disabling admins

@pytest.mark.parametrize("persona", ["audit_admin", "security_admin", "sys_admin"])
def test_replay_system_admin_disables_an_admin_account(bureau, client_for, persona):
    target = bureau.users[persona]
    response = client_for("sys_admin").post(reverse("access:user_toggle", args=[target.pk]), follow=True)
    assert "不能停用" in response.content.decode()
    target.refresh_from_db()
    assert target.is_active


def test_the_system_admin_still_disables_an_ordinary_account(bureau, client_for):
    target = bureau.users["leader"]
    client_for("sys_admin").post(reverse("access:user_toggle", args=[target.pk]))
    target.refresh_from_db()
    assert not target.is_active


def test_the_account_page_offers_no_disable_or_reset_on_admin_rows(bureau, client_for):
    page = client_for("sys_admin").get(reverse("access:users")).content.decode()
    for persona in ("audit_admin", "security_admin", "sys_admin"):
        pk = bureau.users[persona].pk
        assert reverse("access:user_toggle", args=[pk]) not in page
        assert reverse("access:user_password_reset", args=[pk]) not in page
    assert reverse("access:user_toggle", args=[bureau.users["leader"].pk]) in page


def test_replay_revoke_the_admin_role_then_grant_a_business_role(bureau, client_for):
    """The probe's attack with one step more: take the system admin's role away, then grant the same
    account party_office. An account that once was a 三员 account stays one."""
    target = bureau.users["no_role"]
    services.role_grant(by=BY, user=target, role=Role.SYS_ADMIN)
    client = client_for("security_admin")
    assignment = RoleAssignment.objects.get(user=target, role=Role.SYS_ADMIN)
    assert client.post(reverse("access:role_revoke", args=[assignment.pk])).status_code == 302
    response = client.post(reverse("access:roles"), {"user": target.pk, "role": "party_office",
                                                     "organization": bureau.root.pk, "include_descendants": "on"})
    assert "曾是管理员（三员）账号" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=target).exists()
    assert target not in policy.accounts_bindable(bureau.users["security_admin"])
    with pytest.raises(ValidationError, match="三员分立"):
        services.user_bind_member(by=BY, user=target, member=Member.objects.filter(user__isnull=True).first())
