"""党章 第九条: "党员如果没有正当理由，连续六个月不参加党的组织生活……就被认为是自行脱党". The branch
secretary sees a to-do naming the member and the months, from 3 months (a warning) to 6 (danger).
Absences with a 正当理由 (公差, 病假) do not count; only meetings the member was expected at do.
党费 is not recorded on the platform, so that part of the rule is not checked."""

import datetime as dt

import pytest
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.core import rules
from dangjian.core.todos import todos_for
from dangjian.orglife import services as life
from dangjian.orglife.models import Attendance, MeetingKind
from dangjian.orglife.services import MeetingInput
from dangjian.orglife.todos import lapsed_members

BY = Actor.system("test")
TODAY = dt.date(2026, 11, 30)
TZ = timezone.get_current_timezone()


def _meeting(org, day, absences=None):
    return life.meeting_record(by=BY, data=MeetingInput(
        organization=org, kind=MeetingKind.GENERAL_MEETING, topics="学习",
        starts_at=dt.datetime.combine(day, dt.time(15), tzinfo=TZ), absences=absences or {}))


def _lapse_todos(user):
    return [t for t in todos_for(user, TODAY) if t.kind == "member.lapse"]


@pytest.fixture
def absent(bureau):
    """李四 (branch B) attended in April 2026 and missed every meeting since, without a reason."""
    member = bureau.member_b
    _meeting(bureau.branch_b, dt.date(2026, 4, 20))
    for month in (5, 6, 7, 8, 9, 10, 11):
        _meeting(bureau.branch_b, dt.date(2026, month, 20), {member.pk: (Attendance.AbsenceReason.PERSONAL, "")})
    return member


def test_six_months_without_organisational_life_is_flagged_for_the_secretary(bureau, absent):
    todos = _lapse_todos(bureau.users["sibling_secretary"])
    assert [t.title for t in todos] == [
        "第二党支部：李四 已连续 7 个月未参加组织生活（2026-04-20 起），满 6 个月无正当理由的，视为自行脱党"
        "（《中国共产党章程》第九条），请核实情况"]
    assert todos[0].level == "danger" and todos[0].due == dt.date(2026, 10, 20)
    assert rules.value("member.lapse_months", on=TODAY) == 6
    # The other branch's secretary does not see it.
    assert _lapse_todos(bureau.users["branch_secretary"]) == []


def test_five_months_is_a_warning_ahead_of_the_rule(bureau):
    member = bureau.member_b
    _meeting(bureau.branch_b, dt.date(2026, 6, 25))
    _meeting(bureau.branch_b, dt.date(2026, 10, 20), {member.pk: (Attendance.AbsenceReason.OTHER, "未请假")})
    (todo,) = _lapse_todos(bureau.users["sibling_secretary"])
    assert todo.level == "warning" and "已连续 5 个月未参加组织生活" in todo.text and "2026-12-25" in todo.text


def test_attending_again_clears_it(bureau, absent):
    _meeting(bureau.branch_b, dt.date(2026, 11, 25))
    assert _lapse_todos(bureau.users["sibling_secretary"]) == []


@pytest.mark.parametrize("reason", [Attendance.AbsenceReason.OFFICIAL, Attendance.AbsenceReason.SICK])
def test_absences_with_a_proper_reason_do_not_count(bureau, reason):
    member = bureau.member_b
    _meeting(bureau.branch_b, dt.date(2026, 3, 20))
    for month in (4, 5, 6, 7, 8, 9, 10):
        _meeting(bureau.branch_b, dt.date(2026, month, 20), {member.pk: (reason, "")})
    assert [lapse.member for lapse in lapsed_members(bureau.users["party_office"], TODAY)] == []


def test_a_branch_that_records_no_meetings_flags_no_one(bureau):
    assert lapsed_members(bureau.users["party_office"], TODAY) == []


def test_never_attended_counts_from_the_first_meeting_on_record_they_missed(bureau):
    member = bureau.member_b
    _meeting(bureau.branch_b, dt.date(2026, 5, 30), {member.pk: (Attendance.AbsenceReason.PERSONAL, "")})
    (lapse,) = lapsed_members(bureau.users["party_office"], TODAY)
    assert (lapse.member, lapse.since, lapse.months) == (member, dt.date(2026, 5, 30), 6)
    _meeting(bureau.branch_b, dt.date(2026, 6, 1), {member.pk: (Attendance.AbsenceReason.PERSONAL, "")})
    assert lapsed_members(bureau.users["party_office"], TODAY)[0].since == dt.date(2026, 5, 30)


def test_six_whole_months_is_the_rule_and_one_day_short_is_a_warning(bureau):
    member = bureau.member_b
    _meeting(bureau.branch_b, dt.date(2026, 5, 30))
    _meeting(bureau.branch_b, dt.date(2026, 9, 1), {member.pk: (Attendance.AbsenceReason.PERSONAL, "")})
    (todo,) = _lapse_todos(bureau.users["sibling_secretary"])
    assert todo.level == "danger" and "已连续 6 个月" in todo.text  # 2026-05-30 to 2026-11-30
    _meeting(bureau.branch_b, dt.date(2026, 6, 1))
    (todo,) = _lapse_todos(bureau.users["sibling_secretary"])
    assert todo.level == "warning" and "已连续 5 个月" in todo.text  # 2026-06-01: a day short of six


def test_the_warning_starts_at_three_whole_months(bureau):
    """Members at a meeting within the last three months are left out before the aggregate (the
    city-scale shortcut); the boundary is the same as the whole-month count's."""
    member = bureau.member_b
    _meeting(bureau.branch_b, dt.date(2026, 8, 30))
    _meeting(bureau.branch_b, dt.date(2026, 10, 20), {member.pk: (Attendance.AbsenceReason.PERSONAL, "")})
    (lapse,) = lapsed_members(bureau.users["party_office"], TODAY)
    assert (lapse.member, lapse.since, lapse.months) == (member, dt.date(2026, 8, 30), 3)
    _meeting(bureau.branch_b, dt.date(2026, 8, 31))
    assert lapsed_members(bureau.users["party_office"], TODAY) == []


def test_a_meeting_attended_outside_the_readers_scope_still_counts(bureau, absent):
    """李四 also sits on 局机关党委 (outside 第二党支部's secretary's scope): attending its committee
    meeting on 10 November is organisational life, so the branch's secretary is not told he lapsed.
    (The query leaves out first those seen at the scope's own meetings lately; everyone else's
    attendance is read whole, wherever they attended.)"""
    life.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.committee, kind=MeetingKind.COMMITTEE_MEETING, topics="研究工作",
        starts_at=dt.datetime(2026, 11, 10, 15, tzinfo=TZ)))
    assert absent.pk in Attendance.objects.filter(meeting__organization=bureau.committee).values_list("member_id", flat=True)
    assert _lapse_todos(bureau.users["sibling_secretary"]) == []
    assert lapsed_members(bureau.users["sibling_secretary"], TODAY) == []
