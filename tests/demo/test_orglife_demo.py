"""The demo bureau's organisational life (`dangjian.orglife.demo`): two years of meetings, decisions
and contact-point visits that meet the rules, except for the gaps the demo was made to show. The
demo is built once for all the demo tests (see conftest.py)."""

import datetime as dt
from collections import Counter

from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import audit_verify_chain
from dangjian.demo.runner import DEMO_ACTOR, format_counts
from dangjian.organizations.demo import ROOT_CODE
from dangjian.organizations.models import Appointment, Organization
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import selectors
from dangjian.orglife.demo.builder import gap_year
from dangjian.orglife.demo.data import (
    GAP_BRANCH,
    MID_YEAR_BRANCH,
    PLENUMS,
    TAG_CONGRESS,
    TAG_HISTORY,
    spring_festival,
)
from dangjian.orglife.models import AgendaItem, ContactPoint, Guest, Meeting, MeetingKind

K = Organization.Kind
MK = MeetingKind


def _bureau():
    root = Organization.objects.get(code=ROOT_CODE)
    return root, Organization.objects.filter(path__startswith=root.path)


def _years(today: dt.date) -> list[int]:
    """Last year, and this year once six weeks of it have passed (before that it has little in it)."""
    return [today.year - 1] + ([today.year] if (today - dt.date(today.year, 1, 1)).days >= 45 else [])


def _decisions():
    items = selectors.decision_items(AgendaItem.objects.filter(meeting__organization__code=ROOT_CODE))
    return [(item, *selectors.decision_flags(item)) for item in items]


def test_the_counts_are_plausible_and_printed(demo, db):
    counts = demo.first.counts
    assert demo.first.created
    assert 800 <= counts["meetings"] <= 2600
    assert counts["meetings.theme_day"] >= 12 * 20
    assert counts["meetings.leading_group_meeting"] >= 20 and counts["meetings.central_group_study"] >= 12
    assert counts["meetings.democratic_life_meeting"] >= 1 and counts["meetings.special_meeting"] >= 1
    assert 8 <= counts["attendances"] / counts["meetings"] <= 25
    assert 0.01 <= counts["absences"] / counts["attendances"] <= 0.08
    assert counts["sanzhongyida"] >= 20 and counts["agenda_items"] > counts["sanzhongyida"]
    assert counts["contact_points"] == 12  # six in the 党组 (书记 and 党组成员; the 派驻组长 is not one), two years
    assert counts["contact_visits"] >= 7 * 2 * 5
    # The deliberate gaps.
    assert counts["gap.committee_months"] == 2
    assert counts["gap.quorum_items"] == 1
    assert counts["gap.chair_not_last"] == 1
    assert 3 <= counts["gap.late_meetings"] <= 8
    assert counts["gap.new_branches"] == 2
    text = format_counts(counts)
    assert "组织生活：会议" in text and "有意留下的问题：支委会缺月 2" in text


def test_only_the_deliberate_gaps_are_missing(demo, db):
    """Both years meet every rule (三会一课, 主题党日, 组织生活会, 民主评议, 中心组, the secretary's
    党课), except GAP_BRANCH's two 支委会 in finished months of the gap year."""
    today = timezone.localdate()
    _root, bureau = _bureau()
    missing = []
    for year in (today.year - 1, today.year):
        table = selectors.compliance(bureau, year=year, today=today)
        missing += [(row.org.code, c.requirement.key, c.start) for row in table.rows for c in row.missing]
        assert any(c.state == "held" for row in table.rows for c in row.cells if c.requirement.key == "secretary_lecture"
                   ) or year == today.year and today.month <= 6
    assert len(missing) == 2
    assert {(code, key) for code, key, _start in missing} == {(GAP_BRANCH, "committee_meeting")}
    year = gap_year(today)
    assert all(start.year == year and selectors.month_end(year, start.month) < today for *_, start in missing)
    # The branch has a committee in those months: the gap is a skipped meeting, not an exemption.
    gap = Organization.objects.get(code=GAP_BRANCH)
    for *_, start in missing:
        end = selectors.month_end(start.year, start.month)
        assert Appointment.objects.filter(organization=gap, start__lte=end, end__isnull=True).count() >= 3
        assert not Meeting.objects.filter(organization=gap, kind=MK.COMMITTEE_MEETING, starts_at__year=start.year,
                                          starts_at__month=start.month).exists()


def test_branches_founded_this_year_meet_only_after_founding(demo, db):
    today = timezone.localdate()
    _root, bureau = _bureau()
    new = list(bureau.filter(kind=K.BRANCH, founded_on__year=today.year))
    assert MID_YEAR_BRANCH in {b.code for b in new} and len(new) == 2
    for branch in new:
        days = [timezone.localtime(at).date() for at in
                Meeting.objects.filter(organization__path__startswith=branch.path).values_list("starts_at", flat=True)]
        assert all(day >= branch.founded_on for day in days)
        if (today - branch.founded_on).days > 40:
            assert days, branch.name
        row = selectors.compliance(Organization.objects.filter(pk=branch.pk), year=today.year, today=today).rows[0]
        for cell in row.cells:
            # Owed only for periods the branch existed for more than half of; none of those is missed.
            if not selectors._live_for_most_of(branch, cell.start, cell.end):
                assert cell.state == "exempt", (branch.name, cell.requirement.key, cell.start)
            else:
                assert cell.state != "missing", (branch.name, cell.requirement.key, cell.start)
            if cell.end < branch.founded_on:
                assert cell.state == "exempt"


def test_one_decision_without_quorum_and_one_without_the_chair_speaking_last(demo, db):
    decisions = _decisions()
    no_quorum = [item for item, _passed, flags in decisions if any(f.text.startswith("到会") for f in flags)]
    chair = [item for item, _passed, flags in decisions if any(f.text == "主持人未末位表态" for f in flags)]
    assert len(no_quorum) == 1 and len(chair) == 1
    assert no_quorum[0].meeting.kind == MK.LEADING_GROUP_MEETING and 2 * no_quorum[0].present <= no_quorum[0].expected
    assert chair[0].category in selectors.SANZHONGYIDA and chair[0].meeting.kind == MK.LEADING_GROUP_MEETING
    categories = Counter(item.category for item, _passed, _flags in decisions)
    assert all(categories[c] >= 3 for c in selectors.SANZHONGYIDA)
    for item, passed, flags in decisions:
        if item.category == AgendaItem.Category.LARGE_FUND:
            assert item.amount is not None and item.amount > 0
        if item.category in selectors.SANZHONGYIDA:
            assert item.votes_for is not None  # every 三重一大 item was voted on
            if item is not no_quorum[0]:
                assert passed
        if item is not no_quorum[0] and item is not chair[0]:
            assert flags == []


def test_every_contact_point_joined_some_of_its_branch_meetings(demo, db):
    today = timezone.localdate()
    root, _bureau_orgs = _bureau()
    leaders = set(Appointment.objects.filter(organization=root, end__isnull=True).values_list("member_id", flat=True))
    for year in _years(today):
        points = list(selectors.contact_points(ContactPoint.objects.all(), year=year))
        assert {p.leader_id for p in points} == leaders and len(points) == len(leaders)
        assert len({p.organization_id for p in points}) == len(points)
        for point in points:
            assert point.organization.kind == K.BRANCH and not point.organization.code.startswith("JTJ-01-01-01")
            assert 0 < point.meetings_joined <= point.meetings_held, point
    visits = Guest.objects.filter(role__in=[Guest.Role.CONTACT_LEADER, Guest.Role.LECTURER], member__isnull=False)
    assert set(visits.values_list("meeting__kind", flat=True)) == {MK.THEME_DAY, MK.PARTY_LECTURE}
    assert all(m.weekday() == 4 for m in [timezone.localtime(at) for at in
                                           visits.values_list("meeting__starts_at", flat=True)])
    # Most, not all, of the branch's Friday studies: 60–90% each, taken together.
    studies = sum(Meeting.objects.filter(organization=p.organization, starts_at__year=p.year,
                                         kind__in=[MK.THEME_DAY, MK.PARTY_LECTURE]).count()
                  for p in ContactPoint.objects.all())
    assert 0.5 <= visits.count() / studies <= 0.95
    # Leaders sometimes give the 党课 themselves, as guest lecturers.
    lectures = Meeting.objects.filter(guests__role=Guest.Role.LECTURER, kind=MK.PARTY_LECTURE)
    assert lectures.exists() and all(m.lecturer_id in leaders for m in lectures)


def test_no_meeting_is_in_the_future_and_late_ones_are_marked(demo, db):
    now, today = timezone.now(), timezone.localdate()
    assert not Meeting.objects.filter(starts_at__gt=now).exists()
    assert all(timezone.localtime(at).date() < today for at in Meeting.objects.values_list("starts_at", flat=True))
    late = Meeting.objects.filter(status=Meeting.Status.LATE)
    assert late.count() >= 3

    def days_to_record(meeting):  # as the service counts lateness: calendar days, local time
        return (timezone.localtime(meeting.recorded_at).date() - timezone.localtime(meeting.starts_at).date()).days

    for meeting in Meeting.objects.all():
        assert meeting.starts_at <= meeting.recorded_at <= now
        late_after = orglife_rules.late_after_days(timezone.localtime(meeting.starts_at).date())
        assert (days_to_record(meeting) > late_after) == (meeting.status == Meeting.Status.LATE), meeting


def test_attendance_is_85_to_100_percent_and_the_minutes_agree(demo, db):
    no_quorum = next(item for item, _passed, flags in _decisions() if any(f.text.startswith("到会") for f in flags))
    for meeting in selectors.meeting_rows(Meeting.objects.exclude(pk=no_quorum.meeting_id)):
        assert meeting.expected > 0
        assert meeting.present >= 0.85 * meeting.expected, meeting
        assert f"应到{meeting.expected}人，实到{meeting.present}人" in meeting.minutes, meeting
    reasons = Counter(Meeting.objects.filter(attendances__present=False).values_list(
        "attendances__absence_reason", flat=True))
    assert set(reasons) == {"official", "sick", "personal"}


def test_the_demo_studies_by_date(demo, db):
    """Each study tag is what was being studied that day: a campaign in effect (rule data) or a
    plenum within a year of it; no 二十大 relayed every October, no 党史学习教育 after 2021, the
    中心组 not tagged whatever its topic, and nothing in Spring Festival week."""
    today = timezone.localdate()
    root, bureau = _bureau()
    secretary = Appointment.objects.get(organization=root, role=Appointment.Role.SECRETARY, end__isnull=True).member
    meetings = Meeting.objects.filter(organization__path__startswith=root.path)
    assert not meetings.filter(study_tags__name__in=[TAG_CONGRESS, TAG_HISTORY]).exists()
    plenum_tags = set(PLENUMS.values())
    for meeting in meetings.prefetch_related("study_tags"):
        day = timezone.localtime(meeting.starts_at).date()
        first, last = spring_festival(day.year)
        assert not first <= day <= last, meeting
        in_effect = {c.tag for c in orglife_rules.campaigns_on(day)} | {
            tag for closed, tag in PLENUMS.items() if closed < day <= closed + dt.timedelta(days=365)}
        for tag in meeting.study_tags.all():
            assert tag.name in in_effect, (meeting, tag.name)
            assert tag.name in in_effect | plenum_tags
    central = meetings.filter(kind=MK.CENTRAL_GROUP_STUDY)
    assert 0 < central.filter(study_tags__isnull=False).count() < central.count()
    for campaign in orglife_rules.campaigns():
        if dt.date(today.year - 1, 1, 1) <= campaign.start and campaign.start + dt.timedelta(days=14) < today:
            launched = meetings.filter(study_tags__name=campaign.tag)
            assert launched.filter(kind=MK.LEADING_GROUP_MEETING, organization=root).exists(), campaign.tag
            assert launched.filter(kind=MK.SPECIAL_MEETING, organization=root).exists(), campaign.tag
            assert launched.filter(kind=MK.THEME_DAY).count() >= 3, campaign.tag
    for year in _years(today):
        if year < today.year or today > dt.date(year, 7, 1):  # the secretary's 党课 before 七一, at the latest
            assert meetings.filter(kind=MK.PARTY_LECTURE, lecturer=secretary, starts_at__year=year).exists()
    last_year = Meeting.objects.filter(organization=root, starts_at__year=today.year - 1)
    # 民主生活会 for a year is held in January of the next and counts for the year it covers.
    dlm = Meeting.objects.filter(organization=root, kind=MK.DEMOCRATIC_LIFE_MEETING)
    assert dlm.filter(covers_year=today.year - 1).count() == 1
    assert all(timezone.localtime(m.starts_at).month == 1 for m in dlm)
    assert last_year.filter(kind=MK.CENTRAL_GROUP_STUDY).count() == 12
    assert 20 <= last_year.filter(kind=MK.LEADING_GROUP_MEETING).count() <= 26
    # Every branch live all last year held its 组织生活会 with 民主评议 in the fourth quarter.
    # Every 组织生活会 carries 民主评议; it is held in December or, for the year before, in January;
    # some are held as the quarter's 党员大会 (recorded once).
    olm = Meeting.objects.filter(kind=MK.ORGANIZATIONAL_LIFE_MEETING)
    assert all(m.includes_appraisal and (timezone.localtime(m.starts_at).month == 12
                                         and m.covers_year == timezone.localtime(m.starts_at).year
                                         or timezone.localtime(m.starts_at).month == 1
                                         and m.covers_year == timezone.localtime(m.starts_at).year - 1) for m in olm)
    assert olm.filter(starts_at__month=1).exists()
    assert olm.filter(also_counts__kind=MK.GENERAL_MEETING).exists()
    live = bureau.filter(kind=K.BRANCH, founded_on__lte=dt.date(today.year - 1, 1, 1)).exclude(
        dissolved_on__lt=dt.date(today.year, 1, 1))
    assert set(olm.values_list("organization_id", flat=True)) >= set(live.values_list("pk", flat=True))


def test_every_meeting_and_contact_point_is_in_the_audit_trail(demo, db):
    actions = Counter(AuditEntry.objects.filter(actor_name=DEMO_ACTOR).values_list("action", flat=True))
    assert actions["meeting.record"] == Meeting.objects.count()
    assert actions["contact_point.set"] == ContactPoint.objects.count()
    assert audit_verify_chain() is None
