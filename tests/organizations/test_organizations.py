import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dangjian.audit.services import Actor
from dangjian.organizations import selectors, services
from dangjian.organizations.models import Appointment, Member, Membership, Organization, OrganizationEvent
from tests.factories import MemberFactory, valid_id_number

BY = Actor.system("test")
K = Organization.Kind


def member_data(org, **over):
    data = dict(name="赵六", gender="female", ethnicity="汉族", birth_date=dt.date(1990, 5, 4),
                id_number=valid_id_number(dt.date(1990, 5, 4), male=False), joined_on=dt.date(2015, 7, 1),
                full_on=dt.date(2016, 7, 1), category="full", education="bachelor", post="科员", unit=None,
                organization=org, phone="13700000000")
    data.update(over)
    return data


def test_founding_a_branch_opens_a_three_year_term_from_rule_data(bureau):
    org = services.organization_create(by=BY, parent=bureau.general_branch, code="NEW1", name="智慧交通处党支部",
                                       kind=K.BRANCH, founded_on=dt.date(2026, 3, 1))
    assert (org.term_start, org.term_end) == (dt.date(2026, 3, 1), dt.date(2029, 3, 1))
    assert org.events.get().kind == OrganizationEvent.Kind.FOUNDED
    committee = services.organization_create(by=BY, parent=bureau.root, code="NEW2", name="第二机关党委",
                                             kind=K.ORGAN_COMMITTEE, founded_on=dt.date(2026, 3, 1))
    assert committee.term_end == dt.date(2031, 3, 1)


@pytest.mark.parametrize(("parent_attr", "kind", "message"), [
    ("cell_a", K.BRANCH, "党支部不能设在党小组之下"),
    ("branch_a", K.GENERAL_BRANCH, "党总支不能设在党支部之下"),
])
def test_tree_shape_is_enforced(bureau, parent_attr, kind, message):
    with pytest.raises(ValidationError, match=message):
        services.organization_create(by=BY, parent=getattr(bureau, parent_attr), code="X1", name="x", kind=kind,
                                     founded_on=dt.date(2026, 1, 1))
    assert not Organization.objects.filter(code="X1").exists()


def test_duplicate_code_and_future_date_are_refused(bureau):
    with pytest.raises(ValidationError) as exc:
        services.organization_create(by=BY, parent=bureau.general_branch, code="BA", name="x", kind=K.BRANCH,
                                     founded_on=dt.date(2999, 1, 1))
    assert set(exc.value.message_dict) == {"code", "founded_on"}


def test_transfer_keeps_history_so_past_membership_can_be_answered(bureau):
    member = bureau.member_a
    services.member_transfer(by=BY, member=member, to=bureau.branch_b, on=dt.date(2025, 6, 1), note="工作调动")
    member.refresh_from_db()
    assert member.organization == bureau.branch_b
    stays = list(member.memberships.order_by("start"))
    assert [(s.organization_id, s.end) for s in stays] == [(bureau.cell_a.pk, dt.date(2025, 6, 1)),
                                                           (bureau.branch_b.pk, None)]
    # Who belonged to branch A (including its cell) before and after the transfer:
    assert member in {m.member for m in selectors.memberships_on(bureau.branch_a, dt.date(2025, 5, 31))}
    assert member not in {m.member for m in selectors.memberships_on(bureau.branch_a, dt.date(2025, 6, 1))}
    assert member in {m.member for m in selectors.memberships_on(bureau.branch_b, dt.date(2025, 6, 1))}


def test_transfer_cannot_predate_the_current_stay(bureau):
    with pytest.raises(ValidationError, match="不能早于"):
        services.member_transfer(by=BY, member=bureau.member_a, to=bureau.branch_b, on=dt.date(2000, 1, 1))
    assert Membership.objects.filter(member=bureau.member_a).count() == 1


def test_new_secretary_ends_the_previous_appointment(bureau):
    newcomer = MemberFactory(organization=bureau.branch_a)
    services.appointment_create(by=BY, organization=bureau.branch_a, member=newcomer, role="secretary",
                                start=dt.date(2026, 1, 10))
    old = Appointment.objects.get(organization=bureau.branch_a, member=bureau.member_a)
    assert old.end == dt.date(2026, 1, 10)
    assert Appointment.objects.filter(organization=bureau.branch_a, role="secretary", end__isnull=True).count() == 1


def test_dissolving_an_organisation_with_members_is_refused(bureau):
    with pytest.raises(ValidationError, match="在册党员"):
        services.organization_dissolve(by=BY, organization=bureau.branch_b, on=dt.date(2026, 1, 1))
    assert Organization.objects.get(pk=bureau.branch_b.pk).dissolved_on is None


def test_member_create_opens_a_stay_and_validates_everything(bureau):
    member = services.member_create(by=BY, data=member_data(bureau.branch_a))
    assert member.memberships.get().start == dt.date(2015, 7, 1)
    bad = member_data(bureau.branch_a, id_number="110105199005040000", joined_on=dt.date(2000, 1, 1),
                      category="probationary", phone="12", organization=bureau.general_branch)
    with pytest.raises(ValidationError) as exc:
        services.member_create(by=BY, data=bad)
    errors = exc.value.message_dict
    assert set(errors) >= {"id_number", "joined_on", "full_on", "phone", "organization"}
    assert all("\u4e00" <= msg[0][0] <= "\u9fff" or msg[0][0] in "“" for msg in errors.values())
    assert Member.objects.filter(name="赵六").count() == 1


def test_birth_date_must_match_the_id_number(bureau):
    with pytest.raises(ValidationError, match="出生日期与身份证号"):
        services.member_create(by=BY, data=member_data(bureau.branch_a, birth_date=dt.date(1990, 5, 5)))


def test_confirming_a_probationary_member(bureau):
    member = services.member_create(by=BY, data=member_data(bureau.branch_a, category="probationary", full_on=None,
                                                            joined_on=dt.date(2025, 3, 1)))
    services.member_confirm_full(by=BY, member=member, on=dt.date(2026, 3, 1))
    member.refresh_from_db()
    assert (member.category, member.full_on) == ("full", dt.date(2026, 3, 1))


@time_machine.travel(dt.date(2026, 11, 30), tick=False)
def test_branch_rules_and_term_reminders_are_flagged(bureau):
    today = dt.date(2026, 11, 30)
    # Branch B: 4 full members, secretary in place, term ends 2027-01-01 (within 6 months).
    rows = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=today)}
    texts = [f.text for f in rows["BB"].findings]
    assert any("请筹备换届" in t for t in texts)
    # Drop branch B to 2 full members: below the founding minimum of 3.
    leaving = Member.objects.filter(organization=bureau.branch_b).exclude(pk=bureau.member_b.pk)[:2]
    Member.objects.filter(pk__in=[m.pk for m in leaving]).update(status=Member.Status.TRANSFERRED_OUT)
    row = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=today)}["BB"]
    assert row.full == 2
    assert any("少于成立党支部所需的 3 人" in f.text and f.level == "danger" for f in row.findings)
    # Seven full members call for a committee of 3-5.
    MemberFactory.create_batch(5, organization=bureau.branch_b)
    row = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=today)}["BB"]
    assert any("应设支部委员会 3–5 人" in f.text for f in row.findings)
    # An expired term is danger.
    Organization.objects.filter(pk=bureau.branch_b.pk).update(term_end=dt.date(2026, 1, 1))
    row = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=today)}["BB"]
    assert any("已于 2026-01-01 届满" in f.text and f.level == "danger" for f in row.findings)


def test_organisations_without_a_secretary_are_listed(bureau):
    Appointment.objects.filter(organization=bureau.branch_b).update(end=dt.date(2025, 1, 1))
    rows = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=dt.date(2026, 1, 1))}
    assert "未配备书记" in [f.text for f in rows["BB"].findings]
    assert "未配备书记" not in [f.text for f in rows["BA"].findings]
    assert "未配备书记" not in [f.text for f in rows["BA1"].findings]  # cells have no secretary


def test_member_counts_sum_up_the_tree(bureau):
    rows = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=dt.date(2026, 1, 1))}
    assert rows["BA"].full == 4 and rows["BA1"].full == 1 and rows["BB"].full == 4
    assert rows["GB1"].full == 8 and rows["LG"].full == 8


def test_branch_secretary_tree_is_their_branch_only(bureau):
    rows = selectors.organization_rows(bureau.users["branch_secretary"], today=dt.date(2026, 1, 1))
    assert [r.org.code for r in rows] == ["BA", "BA1"]


def test_a_member_leaving_the_roster_leaves_their_posts(bureau):
    services.member_leave(by=BY, member=bureau.member_b, status="deceased", on=dt.date(2026, 5, 1))
    assert not Appointment.objects.filter(member=bureau.member_b, end__isnull=True).exists()
    rows = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=dt.date(2026, 6, 1))}
    assert "未配备书记" in [f.text for f in rows["BB"].findings]
