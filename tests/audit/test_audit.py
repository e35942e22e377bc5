import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor, audit_record, audit_verify_chain
from dangjian.audit.triggers import drop_triggers
from dangjian.organizations import services
from tests.factories import MemberFactory

BY = Actor.system("test")


def _write_some(bureau, n=5):
    for i in range(n):
        services.member_update(by=BY, member=bureau.member_a, data={**_data(bureau.member_a), "post": f"岗位{i}"})


def _data(member):
    return {f: getattr(member, f) for f in services.MEMBER_FIELDS if f not in ("organization", "status")}


def test_every_service_write_leaves_an_entry_with_masked_before_and_after(bureau):
    before = AuditEntry.objects.count()
    services.member_update(by=Actor(user=None, name="dangban", roles=("party_office",), ip="10.1.2.3"),
                           member=bureau.member_a, data={**_data(bureau.member_a), "phone": "13900001111"})
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == before + 1
    assert (entry.action, entry.actor_name, entry.roles, entry.source_ip) == (
        "member.update", "dangban", "party_office", "10.1.2.3")
    assert entry.after == {"phone": "139****1111"}
    assert "13900001111" not in str(entry.before) + str(entry.after)


def test_chain_verifies_when_untouched(bureau):
    _write_some(bureau)
    assert audit_verify_chain() is None
    call_command("audit_verify")  # does not raise


def test_entries_cannot_be_updated_or_deleted_through_the_database(bureau):
    _write_some(bureau, 1)
    entry = AuditEntry.objects.order_by("seq").first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(note="改过")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def _drop_triggers():
    drop_triggers(connection)


@pytest.mark.django_db(transaction=True)
def test_audit_verify_names_the_row_changed_directly_in_the_database(bureau):
    # Someone with database rights removes the guard and edits history: the chain shows it.
    _write_some(bureau)
    victim = AuditEntry.objects.order_by("seq")[3]
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET actor_name = %s WHERE id = %s", ["别人", victim.pk])
    with pytest.raises(CommandError, match=f"第 {victim.seq} 条"):
        call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_audit_verify_names_a_deleted_row(bureau):
    _write_some(bureau)
    victim = AuditEntry.objects.order_by("seq")[2]
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [victim.pk])
    broken = audit_verify_chain()
    assert broken is not None and broken.seq == victim.seq


def test_failed_business_write_leaves_no_entry(bureau):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        services.member_update(by=BY, member=bureau.member_a, data={**_data(bureau.member_a), "id_number": "123"})
    assert AuditEntry.objects.count() == before


def test_audit_admin_searches_the_trail_and_the_search_is_itself_audited(bureau, client_for):
    MemberFactory(name="王五", organization=bureau.branch_a)
    audit_record(by=BY, action="member.update", obj=bureau.member_a, note="测试")
    client = client_for("audit_admin")
    response = client.get(reverse("audit:search"), {"action": "member.update"})
    assert response.status_code == 200
    assert "测试" in response.content.decode()
    assert AuditEntry.objects.filter(action="audit.search", actor_name="shenji").exists()


def test_login_and_failed_login_are_audited(bureau, client):
    client.post(reverse("access:login"), {"username": "dangban", "password": "wrong"})
    client.post(reverse("access:login"), {"username": "dangban", "password": "Test@12345"})
    actions = list(AuditEntry.objects.filter(actor_name="dangban").values_list("action", flat=True))
    assert "auth.login_failed" in actions and "auth.login" in actions


def test_every_action_the_code_records_has_a_chinese_name():
    import re
    from pathlib import Path

    from dangjian.audit.actions import labels

    root = Path(__file__).resolve().parents[2] / "dangjian"
    used = {m for path in root.rglob("*.py") for m in re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text())}
    assert used and used <= set(labels()), used - set(labels())
