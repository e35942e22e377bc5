"""`manage.py demo`: the demo bureau is realistic, valid under the platform's own rules, audited,
deterministic and idempotent. The demo is built once for all the demo tests (see conftest.py)."""

import ast
import datetime as dt
from collections import Counter
from io import StringIO

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import THREE_ADMINS, Role
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import audit_verify_chain
from dangjian.core.dates import add_years
from dangjian.core.identity import birth_date_from_id, gender_from_id, validate_id_number
from dangjian.demo.logins import DEMO_LOGINS
from dangjian.demo.runner import DEMO_ACTOR
from dangjian.organizations.demo import ROOT_CODE
from dangjian.organizations.models import Appointment, Member, Membership, Organization, OrganizationEvent, Unit
from dangjian.organizations.selectors import organization_rows

K = Organization.Kind
# The member created first (the 党组 secretary). Changing the generator's data or the order of its
# random draws changes this name: that is the point of the check.
FIRST_MEMBER_NAME = "李亮"


def test_the_bureau_has_the_shape_of_a_municipal_transport_bureau(demo, db):
    counts = demo.first.counts
    assert demo.first.created
    assert counts["leading_group"] == 1
    assert counts["organ_committee"] == 1
    assert counts["general_branch"] == 6  # 50–100 members each (机关基层组织工作条例 第六条)
    assert 22 <= counts["branch"] <= 28
    assert counts["cell"] >= 8
    assert 12 <= counts["units"] <= 18
    assert counts["branch_office"] >= 3
    assert 420 <= counts["members"] <= 480
    root = Organization.objects.get(code=ROOT_CODE)
    assert root.kind == K.LEADING_GROUP and root.is_root()
    assert Unit.objects.get(code=ROOT_CODE).kind == Unit.Kind.BUREAU
    assert not Unit.objects.filter(organization__isnull=True).exists()


def test_every_id_number_is_valid_unique_and_matches_birth_date_and_gender(demo, db):
    members = list(Member.objects.all())
    assert len({m.id_number for m in members}) == len(members)
    for member in members:
        validate_id_number(member.id_number)
        assert member.id_number[6:14] == member.birth_date.strftime("%Y%m%d")
        assert birth_date_from_id(member.id_number) == member.birth_date
        assert gender_from_id(member.id_number) == member.gender


def test_members_are_plausible(demo, db):
    today = timezone.localdate()
    members = list(Member.objects.select_related("organization"))
    for member in members:
        assert dt.date(1962, 1, 1) <= member.birth_date <= dt.date(2000, 12, 31)
        assert member.joined_on >= add_years(member.birth_date, 18)
        assert member.organization.kind in (K.BRANCH, K.CELL)
        assert member.unit_id is not None
        assert len(member.phone) == 11 and member.phone[:2] in ("13", "15", "18")
        if member.category == Member.Category.FULL:
            assert member.full_on == add_years(member.joined_on, 1) <= today
        else:
            assert member.full_on is None and (today - member.joined_on).days <= 365
    probationary = sum(m.category == Member.Category.PROBATIONARY for m in members)
    assert 0.015 <= probationary / len(members) <= 0.035  # a 机关: about 2–3 %
    assert not Member.objects.filter(post__in=["科员", "党组成员、驻局纪检监察组组长"]).exists()
    ethnicities = Counter(m.ethnicity for m in members)
    assert ethnicities["汉族"] / len(members) > 0.85 and len(ethnicities) >= 3
    assert len({m.phone for m in members}) == len(members)
    # Each member has exactly one open stay, in their current organisation.
    open_stays = dict(Membership.objects.filter(end__isnull=True).values_list("member_id", "organization_id"))
    assert open_stays == {m.pk: m.organization_id for m in members}


def test_every_role_has_a_login_that_authenticates_with_the_demo_password(demo, db):
    assert {login.role for login in DEMO_LOGINS} == set(Role.values)
    request = RequestFactory().post("/login/")
    for login in DEMO_LOGINS:
        user = authenticate(request, username=login.username, password=settings.DEMO_PASSWORD)
        assert user is not None, login.username
        grant = RoleAssignment.objects.get(user=user)
        assert grant.role == login.role
        if login.role in THREE_ADMINS:
            assert grant.organization_id is None and grant.unit_id is None and user.member_id is None
    users = {u.username: u for u in User.objects.select_related("member")}
    secretary = Appointment.objects.get(organization__code=ROOT_CODE, role=Appointment.Role.SECRETARY,
                                        end__isnull=True)
    assert users["lingdao"].member == secretary.member
    branch = RoleAssignment.objects.get(user=users["zhibu"]).organization
    assert branch.kind == K.BRANCH
    assert Appointment.objects.get(organization=branch, role=Appointment.Role.SECRETARY,
                                   end__isnull=True).member == users["zhibu"].member
    assert RoleAssignment.objects.get(user=users["lianluo"]).unit.kind == Unit.Kind.BRANCH_OFFICE
    assert users["dangyuan"].member.organization.path.startswith(
        RoleAssignment.objects.get(user=users["dangyuan"]).organization.path)


def test_building_again_changes_nothing(demo, db):
    assert not demo.second.created
    assert demo.counts_after_second == demo.first.counts
    assert demo.audit_entries_after_second == demo.audit_entries_after_first


def test_the_command_prints_the_log_ins_when_the_demo_exists(demo, db):
    out = StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()
    assert "演示数据已存在" in text
    assert "角色" in text and "用户名" in text and "密码" in text
    for login in DEMO_LOGINS:
        assert login.username in text
    assert settings.DEMO_PASSWORD in text
    # The demo's admins pass the second factor like any: the output says how to enrol.
    assert "双因素认证：xitong、anquan、shenji" in text and "扫码" in text


def test_this_year_two_branches_were_founded_two_renamed_and_one_dissolved(demo, db):
    year = timezone.localdate().year
    events = OrganizationEvent.objects.filter(on__year=year)
    assert events.filter(kind=OrganizationEvent.Kind.FOUNDED).count() == 2
    assert events.filter(kind=OrganizationEvent.Kind.RESTRUCTURED).count() == 2
    assert events.filter(kind=OrganizationEvent.Kind.DISSOLVED).count() == 1
    dissolved = events.get(kind=OrganizationEvent.Kind.DISSOLVED).organization
    assert not Member.objects.filter(organization__path__startswith=dissolved.path).exists()
    # Last year had its own events, so a year filter has something to tell apart.
    last_year = OrganizationEvent.objects.filter(on__year=year - 1)
    assert last_year.filter(kind__in=[OrganizationEvent.Kind.FOUNDED, OrganizationEvent.Kind.RESTRUCTURED]).exists()
    # Members moved between branches this year.
    assert Membership.objects.filter(start__year=year, end__isnull=True).exclude(
        member__joined_on__year=year).count() >= 20


def test_the_rules_flag_what_the_demo_was_made_to_show(demo, db):
    today = timezone.localdate()
    party_office = User.objects.get(username="dangban")
    rows = organization_rows(party_office, today=today)
    findings = Counter()
    for row in rows:
        for finding in row.findings:
            findings[finding.code] += 1
    assert 1 <= findings["organization.no_secretary"] <= 2
    assert findings["term.reminder_months"] >= 2  # terms ending within six months
    assert findings["term.expired"] >= 1
    assert findings["branch.max_members"] == 1
    # Everything else is in order: enough full members, committees of 3–5 where required.
    assert findings["branch.min_full_members"] == 0
    assert findings["branch.committee_threshold"] == 0
    for code in ("branch.no_committee", "general_branch.max_members", "general_branch.committee_size",
                 "organ_committee.committee_size", "organ_committee.discipline", "cell.no_leader"):
        assert findings[code] == 0, code
    for row in rows:
        if row.org.kind == K.BRANCH:
            assert row.members <= 55
        if row.org.kind == K.GENERAL_BRANCH:
            assert row.members <= 100


def test_the_leading_group_is_its_secretary_and_members_and_no_one_holds_a_post_as_a_probationary(demo, db):
    root_posts = Appointment.objects.filter(organization__code=ROOT_CODE, end__isnull=True)
    assert Counter(root_posts.values_list("role", flat=True)) == {
        Appointment.Role.SECRETARY: 1, Appointment.Role.LEADING_GROUP_MEMBER: 5}
    assert not root_posts.filter(member__post__contains="纪检监察组").exists()
    assert Member.objects.filter(post="驻局纪检监察组组长").count() == 1
    assert not Appointment.objects.filter(member__category=Member.Category.PROBATIONARY, end__isnull=True).exists()
    assert not Appointment.objects.filter(role=Appointment.Role.COMMITTEE_MEMBER, organization__kind__in=[
        K.LEADING_GROUP, K.ORGAN_COMMITTEE, K.GENERAL_BRANCH]).exists()


def test_the_demo_trail_names_the_system_setting_itself_up_never_demo(demo, db):
    assert set(AuditEntry.objects.values_list("actor_name", "roles").distinct()) == {("系统初始化", "system")}


def test_every_write_is_in_the_audit_trail(demo, db):
    actions = Counter(AuditEntry.objects.filter(actor_name=DEMO_ACTOR).values_list("action", flat=True))
    assert actions["member.create"] == Member.objects.count()
    assert actions["organization.create"] == Organization.objects.count()
    assert actions["unit.create"] == Unit.objects.count()
    assert actions["appointment.create"] == Appointment.objects.count()
    # Every stay but each member's first comes from a transfer.
    assert actions["member.transfer"] == Membership.objects.count() - Member.objects.count()
    assert actions["user.create"] == len(DEMO_LOGINS)
    assert actions["role.grant"] == len(DEMO_LOGINS)
    assert audit_verify_chain() is None


def test_the_demo_is_deterministic(demo, db):
    assert Member.objects.order_by("id").first().name == FIRST_MEMBER_NAME


def test_no_area_demo_imports_another_areas_demo():
    """Each step reads what earlier steps built from the database; only dangjian/demo knows the order."""
    from dangjian.demo.runner import STEPS

    for step in STEPS:
        tree = ast.parse(open(step.__file__, encoding="utf-8").read())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:  # `from x import demo` names x.demo
                imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        others = {name for name in imported if name.endswith(".demo") and name != step.__name__}
        assert not others, (step.__name__, others)
