import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations import services as org_services
from dangjian.organizations.models import Appointment, Member, Organization
from dangjian.orglife import selectors, services
from dangjian.orglife.models import AgendaItem, Attendance, Meeting, MeetingKind
from dangjian.orglife.services import AgendaInput, GuestInput, MeetingInput
from tests.factories import MemberFactory

BY = Actor.system("test")
K = MeetingKind
TODAY = dt.date(2026, 11, 30)


def at(y, m, d, h=14):
    return dt.datetime(y, m, d, h, tzinfo=timezone.get_current_timezone())


def record(org, kind, when, **extra):
    extra.setdefault("topics", "学习")
    return services.meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind, starts_at=when, **extra))


# ---------------------------------------------------------------- recording

@time_machine.travel(dt.datetime(2026, 3, 6, 18, 0), tick=False)
def test_attendance_expects_everyone_who_belonged_on_the_day(bureau):
    absent = bureau.member_a
    meeting = record(bureau.branch_a, K.THEME_DAY, at(2026, 3, 6), absences={absent.pk: ("official", "出差")})
    rows = {a.member_id: a for a in meeting.attendances.all()}
    assert len(rows) == 4  # three in the branch and one in its cell
    assert not rows[absent.pk].present and rows[absent.pk].absence_reason == "official"
    assert sum(a.present for a in rows.values()) == 3
    assert meeting.status == Meeting.Status.ON_TIME


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_a_member_transferred_in_later_is_not_expected_at_an_earlier_meeting(bureau):
    org_services.member_transfer(by=BY, member=bureau.member_b, to=bureau.branch_a, on=dt.date(2026, 6, 1))
    before = record(bureau.branch_a, K.THEME_DAY, at(2026, 5, 20))
    after = record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 20))
    assert bureau.member_b.pk not in set(before.attendances.values_list("member_id", flat=True))
    assert bureau.member_b.pk in set(after.attendances.values_list("member_id", flat=True))


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_a_record_entered_long_after_is_kept_and_marked_late(bureau):
    meeting = record(bureau.branch_a, K.THEME_DAY, at(2026, 1, 9))
    assert meeting.status == Meeting.Status.LATE
    recent = record(bureau.branch_a, K.THEME_DAY, at(2026, 11, 25))
    assert recent.status == Meeting.Status.ON_TIME


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_body_meetings_expect_the_appointed_members(bureau):
    extra = MemberFactory.create_batch(2, organization=bureau.branch_a)
    for m in extra:
        Appointment.objects.create(organization=bureau.branch_a, member=m, role="committee_member",
                                   start=dt.date(2024, 1, 1))
    meeting = record(bureau.branch_a, K.COMMITTEE_MEETING, at(2026, 11, 3))
    assert set(meeting.attendances.values_list("member_id", flat=True)) == {bureau.member_a.pk, *(m.pk for m in extra)}


def _unchanged(counts_before):
    return (Meeting.objects.count(), Attendance.objects.count(), AgendaItem.objects.count(),
            AuditEntry.objects.count()) == counts_before


def _counts():
    return Meeting.objects.count(), Attendance.objects.count(), AgendaItem.objects.count(), AuditEntry.objects.count()


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
@pytest.mark.parametrize(("change", "field", "message"), [
    ({"starts_at": at(2026, 12, 5)}, "starts_at", "会议时间不能晚于现在"),
    ({"kind": K.CELL_MEETING}, "kind", "党支部不召开党小组会"),
    ({"topics": " "}, "topics", "请填写会议议题"),
    ({"starts_at": at(2017, 6, 1)}, "starts_at", "成立，会议不能早于此日"),
])
def test_bad_meetings_are_refused_with_a_reason_and_nothing_saved(bureau, change, field, message):
    before = _counts()
    data = dict(organization=bureau.branch_a, kind=K.THEME_DAY, starts_at=at(2026, 11, 3), topics="学习")
    data.update(change)
    with pytest.raises(ValidationError) as exc:
        services.meeting_record(by=BY, data=MeetingInput(**data))
    assert any(message in m for m in exc.value.message_dict[field])
    assert _unchanged(before)


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_attendance_for_someone_not_a_member_that_day_is_refused(bureau):
    leaver = MemberFactory(organization=bureau.branch_a, name="王五")
    org_services.member_transfer(by=BY, member=leaver, to=bureau.branch_b, on=dt.date(2026, 6, 1))
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.THEME_DAY, at(2026, 11, 3), absences={leaver.pk: ("sick", "")})
    assert "王五在会议当天不是应到人员" in exc.value.message_dict["attendance"][0]
    assert _unchanged(before)


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_more_votes_than_members_present_is_refused(bureau):
    before = _counts()
    item = AgendaInput(title="接收预备党员", category="ordinary", votes_for=4, votes_against=0, votes_abstain=1)
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.GENERAL_MEETING, at(2026, 11, 3), agenda=[item])
    assert "表决票数合计 5 超过实到人数 4" in exc.value.message_dict["agenda"][0]
    assert _unchanged(before)


def test_a_decision_without_a_meeting_is_refused(bureau):
    before = _counts()
    with pytest.raises(ValidationError, match="议题须属于一次已记录的会议"):
        services.agenda_item_add(by=BY, meeting=None, item=AgendaInput(title="x", category="major_matter"))
    assert _unchanged(before)


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_agenda_items_only_at_deciding_meetings(bureau):
    with pytest.raises(ValidationError, match="主题党日不表决议题"):
        record(bureau.branch_a, K.THEME_DAY, at(2026, 11, 3), agenda=[AgendaInput(title="x", category="ordinary")])


# ---------------------------------------------------------------- quorum and votes

def _leading_group(bureau, size):
    """Give the 党组 `size` appointed members (the fixture's secretary included)."""
    for m in MemberFactory.create_batch(size - 1, organization=bureau.branch_b):
        Appointment.objects.create(organization=bureau.root, member=m, role="committee_member",
                                   start=dt.date(2024, 1, 1))
    return list(Member.objects.filter(appointments__organization=bureau.root, appointments__end__isnull=True))


def _decide(bureau, members, *, absent, category="major_matter", votes=None, chair_last=True, amount=None):
    absences = {m.pk: ("official", "") for m in members[:absent]}
    v = votes or (None, None, None)
    meeting = record(bureau.root, K.LEADING_GROUP_MEETING, at(2026, 11, 3), absences=absences,
                     agenda=[AgendaInput(title="议题", category=category, votes_for=v[0], votes_against=v[1],
                                         votes_abstain=v[2], chair_spoke_last=chair_last, amount=amount)])
    item = selectors.decision_items(meeting.agenda_items.all()).get()
    return selectors.decision_flags(item)


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
@pytest.mark.parametrize(("absent", "quorate"), [(3, True), (4, False)])
def test_quorum_is_more_than_half_of_the_members(bureau, absent, quorate):
    members = _leading_group(bureau, 8)  # 8 expected: 5 present is quorate, 4 is not
    _passed, flags = _decide(bureau, members, absent=absent, votes=(4, 0, 0))
    assert any("法定人数" in f.text for f in flags) is not quorate


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
@pytest.mark.parametrize(("absent", "quorate"), [(3, True), (4, False)])
def test_appointments_need_two_thirds_present(bureau, absent, quorate):
    members = _leading_group(bureau, 9)  # 9 expected: 6 present is two thirds, 5 is not
    _passed, flags = _decide(bureau, members, absent=absent, category="key_appointment", votes=(5, 0, 0))
    quorum_flags = [f for f in flags if "法定人数" in f.text]
    assert bool(quorum_flags) is not quorate
    if quorum_flags:
        assert "党组工作条例" in quorum_flags[0].source


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
@pytest.mark.parametrize(("votes_for", "passed"), [(5, True), (4, False)])
def test_passing_counts_against_members_who_should_attend_not_those_present(bureau, votes_for, passed):
    members = _leading_group(bureau, 8)
    # 6 present: 4 votes for is a majority of those present but not more than half of the 8 expected.
    result, _flags = _decide(bureau, members, absent=2, votes=(votes_for, 6 - votes_for, 0))
    assert result is passed


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
@pytest.mark.parametrize("chair_last", [True, False])
def test_chair_speaking_last_is_checked(bureau, chair_last):
    members = _leading_group(bureau, 5)
    _passed, flags = _decide(bureau, members, absent=0, votes=(5, 0, 0), chair_last=chair_last)
    assert any("末位表态" in f.text for f in flags) is not chair_last


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
@pytest.mark.parametrize(("category", "amount", "flagged"), [("ordinary", 60, True), ("ordinary", 20, False),
                                                             ("large_fund", 60, False)])
def test_large_amounts_must_be_decided_as_sanzhongyida(bureau, category, amount, flagged):
    members = _leading_group(bureau, 5)
    _passed, flags = _decide(bureau, members, absent=0, votes=(5, 0, 0), category=category, amount=amount)
    assert any("大额度资金标准" in f.text for f in flags) is flagged


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
@pytest.mark.parametrize(("votes", "flagged"), [((5, 0, 0), False), (None, True)])
def test_a_sanzhongyida_item_without_a_recorded_vote_is_flagged(bureau, votes, flagged):
    members = _leading_group(bureau, 5)
    _passed, flags = _decide(bureau, members, absent=0, votes=votes)
    assert any("未记录表决结果" in f.text for f in flags) is flagged


# ---------------------------------------------------------------- compliance

@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_compliance_equals_a_hand_count(bureau):
    """Branch A, 2026, today 30 November: theme days in every month to October but April (two in
    October), a general meeting and a lecture in Q1 and Q3, the March theme day entered late.
    Branch C is founded on 15 June 2026: it owes June (16 of 30 days) but not Q2 (16 of 91 days)."""
    a = bureau.branch_a
    for month in (1, 2, 3, 5, 6, 7, 8, 9, 10):
        record(a, K.THEME_DAY, at(2026, month, 9))
    record(a, K.THEME_DAY, at(2026, 10, 23))
    record(a, K.GENERAL_MEETING, at(2026, 2, 10))
    record(a, K.PARTY_LECTURE, at(2026, 3, 12))
    record(a, K.GENERAL_MEETING, at(2026, 8, 10))
    record(a, K.PARTY_LECTURE, at(2026, 9, 12))
    c = org_services.organization_create(by=BY, parent=bureau.general_branch, code="BC", name="第三党支部",
                                         kind=Organization.Kind.BRANCH, founded_on=dt.date(2026, 6, 15))
    MemberFactory.create_batch(3, organization=c)
    record(c, K.THEME_DAY, at(2026, 7, 9))

    table = selectors.compliance(Organization.objects.filter(code__in=["BA", "BC"]), year=2026, today=TODAY)
    rows = {r.org.code: r for r in table.rows}
    theme_a = [c_ for c_ in rows["BA"].cells if c_.requirement.key == "theme_day"]
    # Hand count: January to October are over, April is the gap; November is under way, December to come.
    assert [c_.state for c_ in theme_a] == ["held"] * 3 + ["missing"] + ["held"] * 6 + ["due", "future"]
    quarterly = {(c_.requirement.key, c_.month): c_.state for c_ in rows["BA"].cells
                 if c_.requirement.period == "quarter"}
    assert quarterly == {("general_meeting", 3): "held", ("general_meeting", 6): "missing",
                         ("general_meeting", 9): "held", ("general_meeting", 12): "due",
                         ("party_lecture", 3): "held", ("party_lecture", 6): "missing",
                         ("party_lecture", 9): "held", ("party_lecture", 12): "due"}
    # Branch A has only a secretary: no committee, so 支委会 is not required.
    assert all(c_.state == "exempt" for c_ in rows["BA"].cells if c_.requirement.key == "committee_meeting")
    # Branch C: founded 15 June, so it existed for 16 of June's 30 days (more than half): June is
    # required (missing), January to May are not; July held, August to October missing.
    theme_c = {c_.month: c_.state for c_ in rows["BC"].cells if c_.requirement.key == "theme_day"}
    assert [theme_c[m] for m in range(1, 13)] == ["exempt"] * 5 + ["missing", "held", "missing", "missing", "missing",
                                                                      "due", "future"]
    quarter_c = {(c_.requirement.key, c_.month): c_.state for c_ in rows["BC"].cells if c_.requirement.period == "quarter"}
    assert quarter_c[("general_meeting", 6)] == "exempt" and quarter_c[("general_meeting", 9)] == "missing"
    assert [c_.held for c_ in theme_a][9] == 2
    # Over the finished quarters: A held 4 of 6 (Q1, Q3 each twice), C held 0 of 2 (its Q3).
    held, required = table.rate({"general_meeting", "party_lecture"})
    assert (held, required) == (4, 8)
    # The late March theme day still counts as held.
    assert Meeting.objects.get(organization=a, starts_at=at(2026, 3, 9)).status == Meeting.Status.LATE


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_committee_meetings_are_required_where_a_branch_has_a_committee(bureau):
    for m in MemberFactory.create_batch(2, organization=bureau.branch_b):
        Appointment.objects.create(organization=bureau.branch_b, member=m, role="committee_member",
                                   start=dt.date(2026, 5, 10))
    record(bureau.branch_b, K.COMMITTEE_MEETING, at(2026, 6, 3))
    table = selectors.compliance(Organization.objects.filter(code="BB"), year=2026, today=TODAY)
    states = {c.month: c.state for c in table.rows[0].cells if c.requirement.key == "committee_meeting"}
    assert states[4] == "exempt" and states[5] == "missing" and states[6] == "held" and states[7] == "missing"


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_the_leading_group_secretary_must_give_a_lecture_a_year(bureau):
    table = selectors.compliance(Organization.objects.filter(code="LG"), year=2026, today=dt.date(2027, 1, 5))
    lecture = [c for c in table.rows[0].cells if c.requirement.key == "secretary_lecture"][0]
    assert lecture.state == "missing"
    secretary = Appointment.objects.get(organization=bureau.root, role="secretary").member
    record(bureau.branch_b, K.PARTY_LECTURE, at(2026, 7, 1), lecturer=secretary)
    table = selectors.compliance(Organization.objects.filter(code="LG"), year=2026, today=dt.date(2027, 1, 5))
    assert [c for c in table.rows[0].cells if c.requirement.key == "secretary_lecture"][0].state == "held"


# ---------------------------------------------------------------- contact points

@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_contact_point_attendance_is_counted_from_guest_records(bureau):
    leader = MemberFactory(organization=bureau.branch_b, name="王局长")
    services.contact_point_set(by=BY, leader=leader, organization=bureau.branch_a, year=2026)
    record(bureau.branch_a, K.THEME_DAY, at(2026, 3, 6), guests=[GuestInput(name="王局长", member=leader,
                                                                            role="contact_leader")])
    record(bureau.branch_a, K.THEME_DAY, at(2026, 4, 3))
    record(bureau.branch_a, K.PARTY_LECTURE, at(2026, 5, 8), guests=[GuestInput(name="王局长", member=leader,
                                                                               role="lecturer")])
    point = selectors.contact_points(bureau.branch_a.contact_points.all(), year=2026).get()
    assert (point.meetings_joined, point.meetings_held) == (2, 3)
    with pytest.raises(ValidationError, match="已联系"):
        services.contact_point_set(by=BY, leader=leader, organization=bureau.branch_a, year=2026)


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_a_stranger_id_does_not_reveal_a_name(bureau):
    outsider = MemberFactory(organization=bureau.branch_b, name="外单位某人")
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.THEME_DAY, at(2026, 11, 3), absences={outsider.pk: ("sick", "")})
    message = exc.value.message_dict["attendance"][0]
    assert "外单位某人" not in message and f"编号为{outsider.pk}的人员" in message


def test_decisions_before_the_rules_took_effect_are_not_checked(bureau):
    from types import SimpleNamespace

    item = SimpleNamespace(meeting=SimpleNamespace(starts_at=at(2018, 5, 1), kind="leading_group_meeting",
                                                   organization=SimpleNamespace(kind="leading_group")),
                           expected=5, present=1,
                           category="major_matter", votes_for=None, chair_spoke_last=False, amount=None)
    assert selectors.decision_flags(item) == (None, [])


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_a_transcribed_paper_record_is_judged_by_when_it_was_entered(bureau):
    on_time = services.meeting_record(by=BY, entered_at=at(2026, 3, 7), data=MeetingInput(
        organization=bureau.branch_a, kind=K.THEME_DAY, starts_at=at(2026, 3, 6), topics="学习"))
    assert on_time.status == Meeting.Status.ON_TIME and on_time.recorded_at == at(2026, 3, 7)
    with pytest.raises(ValidationError, match="录入时间应在会议之后"):
        services.meeting_record(by=BY, entered_at=at(2026, 3, 1), data=MeetingInput(
            organization=bureau.branch_a, kind=K.THEME_DAY, starts_at=at(2026, 3, 6), topics="学习"))


@pytest.mark.parametrize(("founded", "dissolved", "required"), [
    (dt.date(2026, 1, 2), None, True),        # the year's 组织生活会 is owed
    (dt.date(2026, 7, 3), None, False),       # 182 of 365 days: not more than half
    (dt.date(2018, 1, 1), dt.date(2026, 12, 3), True),
    (dt.date(2018, 1, 1), dt.date(2026, 6, 30), False),
])
def test_a_year_is_owed_by_organisations_live_for_most_of_it(founded, dissolved, required):
    org = Organization(kind="branch", founded_on=founded, dissolved_on=dissolved)
    assert selectors._live_for_most_of(org, dt.date(2026, 1, 1), dt.date(2026, 12, 31)) is required


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_moving_a_meeting_into_an_earlier_month_is_judged_late_and_audited(bureau):
    meeting = record(bureau.branch_a, K.THEME_DAY, at(2026, 11, 27))
    assert meeting.status == Meeting.Status.ON_TIME
    services.meeting_update(by=BY, meeting=meeting, data=MeetingInput(
        organization=bureau.branch_a, kind=K.THEME_DAY, starts_at=at(2026, 4, 9), topics="学习"))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.LATE
    entry = AuditEntry.objects.filter(action="meeting.update").get()
    assert entry.before["status"] == "on_time" and entry.after["status"] == "late"
    assert entry.before["starts_at"].startswith("2026-11-27") and entry.after["starts_at"].startswith("2026-04-09")


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_dissolving_twice_or_before_the_current_posts_is_refused(bureau):
    Member.objects.filter(organization=bureau.branch_b).update(status=Member.Status.TRANSFERRED_OUT)
    with pytest.raises(ValidationError, match="现任班子成员的任职日期"):
        org_services.organization_dissolve(by=BY, organization=bureau.branch_b, on=dt.date(2023, 6, 1))
    org_services.organization_dissolve(by=BY, organization=bureau.branch_b, on=dt.date(2026, 6, 1))
    with pytest.raises(ValidationError, match="已于 2026-06-01 撤销"):
        org_services.organization_dissolve(by=BY, organization=bureau.branch_b, on=dt.date(2026, 7, 1))
    entry = AuditEntry.objects.get(action="organization.dissolve")
    assert entry.after["appointments_ended"] == ["李四（书记）"]


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_committee_meetings_are_named_for_their_level(bureau):
    assert record(bureau.branch_a, K.COMMITTEE_MEETING, at(2026, 11, 3)).kind_label == "支委会"
    assert record(bureau.committee, K.COMMITTEE_MEETING, at(2026, 11, 3)).kind_label == "党委会"
    assert record(bureau.general_branch, K.COMMITTEE_MEETING, at(2026, 11, 3)).kind_label == "总支委员会"
