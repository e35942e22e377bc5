"""表决权 and the rules of procedure per body (issue 9): who counts at a vote, the quorum and pass
mark of a 支部党员大会 (支部工作条例 第十一条) and of a 党组会议 (⅔ for 干部任免), a quorum
failure flagged on the meeting with its votes void, and the matter kinds each body decides."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Member, Organization, ProbationPeriod
from dangjian.orglife import selectors, services
from dangjian.orglife.models import AgendaItem, Attendance, Meeting, MeetingKind
from dangjian.orglife.paperwork.ledger import _quorum_text
from dangjian.orglife.services import AgendaInput, MeetingInput
from tests.factories import MemberFactory, make_org

BY = Actor.system("test")
K = MeetingKind
C = AgendaItem.Category
NOW = dt.datetime(2026, 11, 30, 10, 0)
DAY = dt.date(2026, 11, 3)


def at(day: dt.date, hour: int = 14) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def ten(bureau):
    """A branch of 10 members on DAY: 2 预备党员, 1 under 留党察看, 7 with 表决权."""
    branch = make_org(bureau.general_branch, Organization.Kind.BRANCH, "第九党支部", code="B9")
    full = [MemberFactory(organization=branch, name=f"正式{i}") for i in range(7)]
    probationary = [MemberFactory(organization=branch, name=f"预备{i}", category=Member.Category.PROBATIONARY,
                                  joined_on=dt.date(2026, 5, 1), full_on=None) for i in range(2)]
    disciplined = MemberFactory(organization=branch, name="察看")
    ProbationPeriod.objects.create(member=disciplined, start=dt.date(2026, 1, 10), end=dt.date(2027, 1, 10))
    return branch, full, probationary, disciplined


def general_meeting(branch, *, absent=(), votes=None, category=C.ADMIT_PROBATIONARY, day=DAY):
    agenda = []
    if votes is not None:
        agenda = [AgendaInput(title="讨论接收张某为中共预备党员", category=category, votes_for=votes[0],
                              votes_against=votes[1], votes_abstain=votes[2])]
    return services.meeting_record(by=BY, data=MeetingInput(
        organization=branch, kind=K.GENERAL_MEETING, starts_at=at(day), topics="讨论接收预备党员",
        absences={m.pk: ("official", "") for m in absent}, agenda=agenda))


def the_item(meeting):
    item = selectors.decision_items(meeting.agenda_items.all()).get()
    return item, *selectors.decision_flags(item)


def meeting_quorum(meeting):
    return selectors.row_quorum(selectors.meeting_rows(Meeting.objects.filter(pk=meeting.pk)).get())


@time_machine.travel(NOW, tick=False)
def test_only_members_with_voting_rights_count_at_a_general_meeting(ten):
    branch, full, probationary, disciplined = ten
    meeting = general_meeting(branch)
    row = selectors.meeting_rows(Meeting.objects.filter(pk=meeting.pk)).get()
    assert (row.expected, row.voters_expected) == (10, 7)  # 应到 10, 应到有表决权 7
    no_vote = set(Attendance.objects.filter(meeting=meeting, has_vote=False).values_list("member_id", flat=True))
    assert no_vote == {m.pk for m in probationary} | {disciplined.pk}


@time_machine.travel(NOW, tick=False)
def test_a_member_under_probation_votes_again_after_it_ends_and_a_member_made_full_from_that_day(ten):
    branch, full, probationary, disciplined = ten
    ProbationPeriod.objects.filter(member=disciplined).update(end=dt.date(2026, 11, 1))
    Member.objects.filter(pk=probationary[0].pk).update(category=Member.Category.FULL, full_on=dt.date(2026, 11, 3))
    meeting = general_meeting(branch)
    assert meeting.attendances.filter(has_vote=True).count() == 9  # 7 + the restored + the one made full on the day


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("voters_present", "quorate"), [(4, True), (3, False)])
def test_general_meeting_quorum_is_more_than_half_of_those_with_voting_rights(ten, voters_present, quorate):
    branch, full, probationary, disciplined = ten
    # Everyone without 表决权 came: they do not make up the quorum.
    meeting = general_meeting(branch, absent=full[voters_present:], votes=(voters_present, 0, 0))
    quorum = meeting_quorum(meeting)
    assert (quorum.present, quorum.expected, quorum.met) == (voters_present, 7, quorate)
    assert "支部工作条例（试行）》第十一条" in quorum.source
    item, passed, flags = the_item(meeting)
    if quorate:
        assert passed is True and flags == []
    else:  # the meeting could not be held: its vote is void, neither passed nor failed
        assert passed is None
        assert [f.code for f in flags] == ["decision.quorum.general_meeting"]
        assert "表决无效" in flags[0].text and "第十一条" in flags[0].source


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("votes_for", "passed"), [(4, True), (3, False)])
def test_a_motion_passes_with_more_than_half_of_those_with_voting_rights_expected(ten, votes_for, passed):
    branch, *_ = ten
    meeting = general_meeting(branch, votes=(votes_for, 7 - votes_for, 0))
    _item, result, flags = the_item(meeting)
    assert result is passed and flags == []


@time_machine.travel(NOW, tick=False)
def test_a_vote_by_someone_without_voting_rights_is_refused(ten):
    branch, *_ = ten
    before = (Meeting.objects.count(), AgendaItem.objects.count())
    with pytest.raises(ValidationError) as exc:
        general_meeting(branch, votes=(8, 0, 0))  # 10 present, 7 with 表决权
    message = exc.value.message_dict["agenda"][0]
    assert "超过到会有表决权的人数 7" in message and "《中国共产党章程》第七条" in message
    assert (Meeting.objects.count(), AgendaItem.objects.count()) == before


@time_machine.travel(NOW, tick=False)
def test_a_vote_added_later_by_someone_without_voting_rights_is_refused(ten):
    branch, *_ = ten
    meeting = general_meeting(branch)
    with pytest.raises(ValidationError, match="超过到会有表决权的人数 7"):
        services.agenda_item_add(by=BY, meeting=meeting, item=AgendaInput(
            title="讨论预备党员转正", category=C.CONFIRM_FULL, votes_for=8, votes_against=0, votes_abstain=0))
    assert not meeting.agenda_items.exists()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("category", [C.MAJOR_MATTER, C.KEY_APPOINTMENT, C.MAJOR_PROJECT, C.LARGE_FUND])
def test_a_sanzhongyida_item_at_a_branch_meeting_is_refused(ten, category):
    branch, *_ = ten
    before = Meeting.objects.count()
    with pytest.raises(ValidationError) as exc:
        general_meeting(branch, votes=(7, 0, 0), category=category)
    message = " ".join(exc.value.message_dict["agenda"])
    assert "支部党员大会不决定“三重一大”事项" in message and "支部工作条例（试行）》第十一条" in message
    assert Meeting.objects.count() == before


@time_machine.travel(NOW, tick=False)
def test_a_branch_committee_decides_its_own_matters_only(bureau):
    with pytest.raises(ValidationError, match="支部委员会会议不决定“接收预备党员”事项.*第十二条"):
        services.meeting_record(by=BY, data=MeetingInput(
            organization=bureau.branch_a, kind=K.COMMITTEE_MEETING, starts_at=at(DAY), topics="研究",
            agenda=[AgendaInput(title="接收预备党员", category=C.ADMIT_PROBATIONARY)]))
    meeting = services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.branch_a, kind=K.COMMITTEE_MEETING, starts_at=at(DAY), topics="研究",
        agenda=[AgendaInput(title="研究发展对象", category=C.MEMBER_DEVELOPMENT)]))
    assert meeting.agenda_items.get().category == C.MEMBER_DEVELOPMENT


@pytest.fixture
def nine_in_the_leading_group(bureau):
    for m in MemberFactory.create_batch(8, organization=bureau.branch_a):
        Appointment.objects.create(organization=bureau.root, member=m, role="committee_member",
                                   start=dt.date(2024, 1, 1))
    return list(Member.objects.filter(appointments__organization=bureau.root, appointments__end__isnull=True))


def leading_group_meeting(bureau, members, *, absent, category, chair_last=True):
    meeting = services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=K.LEADING_GROUP_MEETING, starts_at=at(DAY), topics="研究干部任免",
        absences={m.pk: ("official", "") for m in members[:absent]},
        agenda=[AgendaInput(title="任免", category=category, votes_for=9 - absent, votes_against=0, votes_abstain=0,
                            chair_spoke_last=chair_last)]))
    return the_item(meeting)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("absent", "valid"), [(3, True), (4, False)])
@pytest.mark.parametrize("category", [C.KEY_APPOINTMENT, C.APPOINTMENT, C.DISCIPLINE])
def test_two_thirds_for_appointments_and_discipline_at_a_leading_group_meeting(
        bureau, nine_in_the_leading_group, absent, valid, category):
    assert len(nine_in_the_leading_group) == 9  # 6 present is two thirds, 5 is not
    _item, passed, flags = leading_group_meeting(bureau, nine_in_the_leading_group, absent=absent, category=category)
    if valid:
        assert passed is True and flags == []
    else:
        assert passed is None and [f.code for f in flags] == ["decision.quorum_strict"]
        assert "党组工作条例" in flags[0].source


@time_machine.travel(NOW, tick=False)
def test_two_thirds_is_not_a_rule_of_the_general_meeting(ten):
    branch, full, *_ = ten
    # 4 of 7 with 表决权 present: less than ⅔, but a 党员大会 needs only more than half.
    meeting = general_meeting(branch, absent=full[4:], votes=(4, 0, 0), category=C.DISCIPLINE)
    _item, passed, flags = the_item(meeting)
    assert passed is True and flags == []


@time_machine.travel(NOW, tick=False)
def test_speaking_last_is_a_rule_of_the_leading_group_not_of_the_general_meeting(bureau, nine_in_the_leading_group,
                                                                                 ten):
    _item, _passed, flags = leading_group_meeting(bureau, nine_in_the_leading_group, absent=0,
                                                  category=C.MAJOR_MATTER, chair_last=False)
    assert [f.code for f in flags] == ["decision.chair_not_last"]
    branch, *_ = ten
    meeting = services.meeting_record(by=BY, data=MeetingInput(
        organization=branch, kind=K.GENERAL_MEETING, starts_at=at(DAY), topics="处分",
        agenda=[AgendaInput(title="处分", category=C.DISCIPLINE, votes_for=7, votes_against=0, votes_abstain=0,
                            chair_spoke_last=False)]))
    assert the_item(meeting)[2] == []


@time_machine.travel(NOW, tick=False)
def test_a_quorum_failure_shows_on_the_meeting_page_list_ledger_and_minutes(bureau, ten, client_for):
    from dangjian.orglife.paperwork.minutes import meeting_minutes_docx
    from tests.orglife.test_paperwork import docx_text

    branch, full, *_ = ten
    meeting = general_meeting(branch, absent=full[3:], votes=(3, 0, 0))
    client = client_for("party_office")
    page = client.get(reverse("orglife:meeting_detail", args=[meeting.pk])).content.decode()
    assert "有表决权的到会 3/7 人" in page and "会议不能召开" in page and "表决无效" in page
    assert "无表决权" in page  # the 预备党员 and the member under 留党察看 are marked
    listing = client.get(reverse("orglife:meetings"), {"year": 2026}).content.decode()
    assert "未达法定人数" in listing
    row = selectors.meeting_rows(Meeting.objects.filter(pk=meeting.pk)).get()
    assert _quorum_text(row).startswith("未达到：有表决权的到会 3/7 人")
    _doc, text = docx_text(meeting_minutes_docx(meeting))
    assert "应到有表决权 | 7人 | 实到有表决权 | 3人" in text
    assert "会议不能召开，本次会议的表决无效" in text and "（应到有表决权7人，实到有表决权3人），表决无效。" in text


@time_machine.travel(NOW, tick=False)
def test_a_leadership_meeting_decides_the_units_sanzhongyida_and_is_no_party_meeting(bureau):
    meeting = services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=K.LEADERSHIP_MEETING, starts_at=at(DAY), topics="研究采购",
        agenda=[AgendaInput(title="采购执法车", category=C.LARGE_FUND, amount=80, votes_for=1, votes_against=0,
                            votes_abstain=0)]))
    item, passed, flags = the_item(meeting)
    assert passed is True and flags == [] and meeting_quorum(meeting) is None
    with pytest.raises(ValidationError, match="党支部不召开局长办公会"):
        services.meeting_record(by=BY, data=MeetingInput(
            organization=bureau.branch_a, kind=K.LEADERSHIP_MEETING, starts_at=at(DAY), topics="x"))
    # It counts for no 组织生活 rule.
    table = selectors.compliance(Organization.objects.filter(pk=bureau.root.pk), year=2026, today=dt.date(2026, 11, 30))
    assert all(c.requirement.kind != K.LEADERSHIP_MEETING for r in table.rows for c in r.cells)


@time_machine.travel(NOW, tick=False)
def test_probation_is_recorded_through_its_service_and_then_counts(bureau):
    from dangjian.organizations import services as org_services

    member = MemberFactory(organization=bureau.branch_a, name="受处分")
    with pytest.raises(ValidationError, match="不能超过2年.*纪律处分条例"):
        org_services.member_probation_record(by=BY, member=member, start=dt.date(2026, 1, 1), end=dt.date(2028, 6, 1))
    with pytest.raises(ValidationError, match="应晚于开始日期"):
        org_services.member_probation_record(by=BY, member=member, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 1))
    assert not ProbationPeriod.objects.filter(member=member).exists()
    org_services.member_probation_record(by=BY, member=member, start=dt.date(2026, 1, 1), end=dt.date(2027, 1, 1))
    meeting = general_meeting(bureau.branch_a)
    assert not meeting.attendances.get(member=member).has_vote


@time_machine.travel(NOW, tick=False)
def test_probation_recorded_later_takes_the_vote_at_the_meetings_it_covers(ten):
    """A 党员大会 on DAY with 4 of 7 voters present is quorate and passes 4 votes; a 留党察看 recorded
    afterwards from a day before DAY makes one of those 4 a member without 表决权: 应到有表决权 drops
    to 6, 实到有表决权 to 3, the quorum fails and the vote is void. A meeting before the period keeps
    its figures; each meeting changed has its audit entry."""
    from dangjian.audit.models import AuditEntry
    from dangjian.organizations import services as org_services

    branch, full, probationary, disciplined = ten
    before = general_meeting(branch, day=dt.date(2026, 9, 1), absent=full[4:])
    meeting = general_meeting(branch, absent=full[4:], votes=(4, 0, 0))
    assert (meeting_quorum(meeting).expected, meeting_quorum(meeting).met) == (7, True)
    assert the_item(meeting)[1] is True

    org_services.member_probation_record(by=BY, member=full[0], start=dt.date(2026, 10, 1),
                                         end=dt.date(2027, 4, 1), document_number="临交纪〔2026〕8号")

    quorum = meeting_quorum(meeting)
    assert (quorum.expected, quorum.present, quorum.met) == (6, 3, False)
    item, passed, flags = the_item(meeting)
    assert passed is None and "表决无效" in flags[0].text
    assert not meeting.attendances.get(member=full[0]).has_vote
    assert (meeting_quorum(before).expected, meeting_quorum(before).met) == (7, True)
    entry = AuditEntry.objects.get(action="meeting.voting_rights")
    assert entry.object_id == str(meeting.pk)
    assert (entry.before, entry.after) == ({"attendance": {str(full[0].pk): {"has_vote": True}}},
                                           {"attendance": {str(full[0].pk): {"has_vote": False}}})


@time_machine.travel(NOW, tick=False)
def test_a_confirmation_dated_in_the_past_gives_the_vote_at_the_meetings_from_that_day(ten):
    """A 预备党员 made 正式党员 on a day D already past: the meetings on record from D, where the
    member counted as without 表决权, now count them (应到有表决权 7 -> 8); a meeting before D keeps
    its figures; each meeting changed has its audit entry, with the 转正 as its note. A member under
    留党察看 on the meeting day stays without the vote."""
    from dangjian.audit.models import AuditEntry
    from dangjian.organizations import services as org_services

    branch, full, probationary, disciplined = ten
    before = general_meeting(branch, day=dt.date(2026, 9, 1))
    meeting = general_meeting(branch)  # DAY, 2026-11-03
    assert not meeting.attendances.get(member=probationary[0]).has_vote
    assert meeting_quorum(meeting).expected == 7

    org_services.member_confirm_full(by=BY, member=probationary[0], on=dt.date(2026, 10, 1))

    assert meeting.attendances.get(member=probationary[0]).has_vote
    assert meeting_quorum(meeting).expected == 8
    assert not before.attendances.get(member=probationary[0]).has_vote
    assert meeting_quorum(before).expected == 7
    entry = AuditEntry.objects.get(action="meeting.voting_rights")
    assert entry.object_id == str(meeting.pk) and "转为正式党员" in entry.note
    assert (entry.before, entry.after) == ({"attendance": {str(probationary[0].pk): {"has_vote": False}}},
                                           {"attendance": {str(probationary[0].pk): {"has_vote": True}}})


@time_machine.travel(NOW, tick=False)
def test_a_past_confirmation_leaves_a_member_under_probation_without_the_vote(ten):
    from dangjian.organizations import services as org_services

    branch, full, probationary, disciplined = ten
    meeting = general_meeting(branch)
    ProbationPeriod.objects.create(member=probationary[1], start=dt.date(2026, 10, 15), end=dt.date(2027, 4, 15))
    org_services.member_confirm_full(by=BY, member=probationary[1], on=dt.date(2026, 10, 1))
    assert not meeting.attendances.get(member=probationary[1]).has_vote


@time_machine.travel(NOW, tick=False)
def test_bringing_past_meetings_up_to_date_takes_the_same_queries_for_one_meeting_or_four(ten):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    branch, full, probationary, disciplined = ten
    counts = []
    for member, days in ((probationary[0], [DAY]), (probationary[1], [dt.date(2026, 10, d) for d in (5, 12, 19)])):
        for day in days:
            general_meeting(branch, day=day)
        Member.objects.filter(pk=member.pk).update(category=Member.Category.FULL, full_on=dt.date(2026, 10, 1))
        member.refresh_from_db()
        with CaptureQueriesContext(connection) as queries:
            changed = services.member_voting_rights_refresh(by=BY, member=member, start=dt.date(2026, 10, 1), end=None)
        counts.append((len(changed), len(queries)))
    assert [c for c, _ in counts] == [1, 4]  # the second member also sat the first member's meeting
    assert counts[0][1] == counts[1][1] == 8, counts  # 4 to read and update, 4 for the audit entries


@time_machine.travel(NOW, tick=False)
def test_a_corrected_confirmation_date_moves_the_vote_at_past_meetings_both_ways(ten):
    """The member form corrects a 转正 date (member_update): a 预备党员 recorded as made full before a
    meeting now votes there; moved after it, they no longer do."""
    from dangjian.organizations import services as org_services

    branch, full, probationary, disciplined = ten
    meeting = general_meeting(branch)
    member = probationary[0]
    org_services.member_update(by=BY, member=member, data={"category": Member.Category.FULL,
                                                           "full_on": dt.date(2026, 10, 1)})
    assert meeting.attendances.get(member=member).has_vote
    org_services.member_update(by=BY, member=member, data={"full_on": dt.date(2026, 11, 20)})
    assert not meeting.attendances.get(member=member).has_vote
    assert meeting_quorum(meeting).expected == 7
