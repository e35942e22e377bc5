"""Every rule comparison tried a step before, on and after its boundary (a day, a person, a yuan):
a boundary moved by one, or `<` written for `<=`, fails here. Values come from the rule data
(core/rules/national.toml), read the way the code reads them, so a deployment's override is
tested the same way."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from dangjian.core import rules
from dangjian.core.dates import add_months
from dangjian.organizations.models import Membership, Organization
from dangjian.organizations.selectors import OrgRow, open_on, organization_findings
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import selectors
from dangjian.orglife.models import AgendaItem
from dangjian.orglife.services import _status

TODAY = dt.date(2026, 6, 15)
TZ = timezone.get_current_timezone()
K = Organization.Kind


def _at(day: dt.date, hour: int = 14) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


# ---------------------------------------------------------------- lateness (补录)

@pytest.mark.parametrize(("days_after", "status"), [(0, "on_time"), ("limit", "on_time"), ("limit+1", "late")])
def test_a_record_is_late_only_after_the_allowed_days(days_after, status):
    held = dt.date(2026, 3, 2)
    limit = orglife_rules.late_after_days(held)
    days = {"limit": limit, "limit+1": limit + 1}.get(days_after, days_after)
    # Recorded at 23:59 on the last allowed day is still on time: the count is in calendar days.
    assert _status(_at(held, 9), _at(held + dt.timedelta(days=days), 23)) == status


# ---------------------------------------------------------------- organisation findings

def _row(kind=K.BRANCH, *, full=10, probationary=0, committee=3, secretary="张三", term_end=None):
    org = Organization(kind=kind, name="测试支部", term_end=term_end, dissolved_on=None)
    row = OrgRow(org, 3, full, probationary, committee, secretary)
    row.full, row.probationary = full, probationary
    return row


def _codes(row, today=TODAY):
    return {n.code for n in organization_findings(row, today=today)}


def test_a_branch_needs_its_minimum_of_full_members():
    minimum = rules.value("branch.min_full_members", on=TODAY)
    assert "branch.min_full_members" in _codes(_row(full=minimum - 1, committee=1))
    assert "branch.min_full_members" not in _codes(_row(full=minimum, committee=1))


def test_a_branch_over_its_member_limit_is_told_to_split():
    maximum = rules.value("branch.max_members", on=TODAY)
    assert "branch.max_members" not in _codes(_row(full=maximum))
    assert "branch.max_members" in _codes(_row(full=maximum, probationary=1))


def test_a_committee_is_required_from_the_threshold():
    threshold = rules.value("branch.committee_threshold", on=TODAY)
    # 3 至 5 人组成，一般不超过 7 人 (支部工作条例 第二十条): 6 or 7 is within the rule, 8 is above it.
    low, high = rules.value("branch.committee_min", on=TODAY), rules.value("branch.committee_ceiling", on=TODAY)
    assert "branch.committee_threshold" not in _codes(_row(full=threshold - 1, committee=1))
    assert "branch.committee_threshold" in _codes(_row(full=threshold, committee=1))
    assert "branch.committee_threshold" in _codes(_row(full=threshold, committee=low - 1))
    assert "branch.committee_threshold" not in _codes(_row(full=threshold, committee=low))
    assert "branch.committee_threshold" not in _codes(_row(full=threshold, committee=high))
    assert "branch.committee_threshold" in _codes(_row(full=threshold, committee=high + 1))


def test_a_term_expires_the_day_after_its_end_and_is_reminded_ahead():
    months = rules.value("term.reminder_months", on=TODAY)
    horizon = add_months(TODAY, months)
    assert _codes(_row(term_end=TODAY - dt.timedelta(days=1))) >= {"term.expired"}
    assert "term.expired" not in _codes(_row(term_end=TODAY))
    assert "term.reminder_months" in _codes(_row(term_end=TODAY))
    assert "term.reminder_months" in _codes(_row(term_end=horizon))
    assert not {"term.expired", "term.reminder_months"} & _codes(_row(term_end=horizon + dt.timedelta(days=1)))


def test_every_finding_cites_a_source_except_the_missing_secretary():
    row = _row(full=1, committee=0, secretary=None, term_end=TODAY - dt.timedelta(days=1))
    for notice in organization_findings(row, today=TODAY):
        assert notice.code
        assert notice.source or notice.code == "organization.no_secretary", notice


# ---------------------------------------------------------------- dated stays and posts

@pytest.mark.parametrize(("day", "open_"), [(-1, False), (0, True), (9, True), (10, False)])
def test_a_stay_is_open_from_its_start_until_the_day_before_its_end(bureau, day, open_):
    start = dt.date(2026, 1, 1)
    stay = Membership.objects.create(member=bureau.member_a, organization=bureau.branch_b, start=start,
                                     end=start + dt.timedelta(days=10))
    assert Membership.objects.filter(open_on(start + dt.timedelta(days=day)), pk=stay.pk).exists() is open_


# ---------------------------------------------------------------- which periods are owed

@pytest.mark.parametrize(("founded", "dissolved", "owed"), [
    (dt.date(2026, 2, 14), None, True),    # live 46 of Q1's 90 days
    (dt.date(2026, 2, 15), None, False),   # 45 of 90: exactly half is not more than half
    (dt.date(2025, 1, 1), dt.date(2026, 2, 16), True),   # live to 15 February: 46 days
    (dt.date(2025, 1, 1), dt.date(2026, 2, 15), False),  # live to 14 February: 45 days
])
def test_a_quarter_is_owed_by_an_organisation_live_for_more_than_half_of_it(founded, dissolved, owed):
    org = Organization(founded_on=founded, dissolved_on=dissolved)
    assert selectors._live_for_most_of(org, dt.date(2026, 1, 1), dt.date(2026, 3, 31)) is owed


# ---------------------------------------------------------------- decisions: quorum, pass mark, large funds

def _item(*, expected=10, present=10, category=AgendaItem.Category.MAJOR_MATTER, votes_for=None, amount=None,
          chair_spoke_last=True, day=TODAY):
    meeting = SimpleNamespace(starts_at=_at(day), kind="leading_group_meeting",
                              organization=SimpleNamespace(kind="leading_group"))
    return SimpleNamespace(meeting=meeting, expected=expected, present=present, category=category,
                           votes_for=votes_for, amount=amount, chair_spoke_last=chair_spoke_last)


def _flag_codes(item):
    return {n.code for n in selectors.decision_flags(item)[1]}


def test_ordinary_quorum_is_more_than_the_share():
    need = orglife_rules.fraction("decision.quorum", TODAY)  # 1/2
    expected = 10
    at_share = int(need * expected)
    assert "decision.quorum" in _flag_codes(_item(expected=expected, present=at_share, votes_for=at_share))
    assert "decision.quorum" not in _flag_codes(_item(expected=expected, present=at_share + 1, votes_for=at_share))


def test_strict_quorum_is_at_least_the_share():
    need = orglife_rules.fraction("decision.quorum_strict", TODAY)  # 2/3
    expected = 9
    at_share = int(need * expected)  # 6
    item = {"category": AgendaItem.Category.KEY_APPOINTMENT, "expected": expected, "votes_for": at_share}
    assert "decision.quorum_strict" in _flag_codes(_item(present=at_share - 1, **item))
    assert "decision.quorum_strict" not in _flag_codes(_item(present=at_share, **item))


def test_a_motion_passes_with_more_than_half_of_those_expected():
    mark = orglife_rules.fraction("decision.pass", TODAY)
    expected = 10
    half = int(mark * expected)
    assert selectors.decision_flags(_item(expected=expected, votes_for=half))[0] is False
    assert selectors.decision_flags(_item(expected=expected, votes_for=half + 1))[0] is True
    assert selectors.decision_flags(_item(expected=expected, votes_for=None))[0] is None


def test_a_large_amount_outside_sanzhongyida_is_flagged_from_the_threshold():
    threshold = orglife_rules.large_fund_threshold(TODAY)
    ordinary = {"category": AgendaItem.Category.ORDINARY, "votes_for": 10}
    assert "decision.large_fund_threshold" not in _flag_codes(_item(amount=threshold - Decimal("0.01"), **ordinary))
    assert "decision.large_fund_threshold" in _flag_codes(_item(amount=threshold, **ordinary))


def test_no_flags_before_the_rules_of_procedure_took_effect():
    effective = min(r.effective_from for r in rules.all_rules() if r.code == "decision.quorum")
    before = _item(present=1, votes_for=None, chair_spoke_last=False, day=effective - dt.timedelta(days=1))
    on = _item(present=1, votes_for=None, chair_spoke_last=False, day=effective)
    assert _flag_codes(before) == set()
    assert "decision.quorum" in _flag_codes(on)
