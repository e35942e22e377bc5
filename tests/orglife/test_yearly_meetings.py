"""所属年度: 组织生活会, 民主评议 and 民主生活会 are for a year and often held in January or February
of the next; they count for the year they cover, not the calendar date."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.core.metrics import Period
from dangjian.organizations.models import Organization
from dangjian.orglife import metrics, selectors, services
from dangjian.orglife.models import Meeting, MeetingKind
from dangjian.orglife.services import MeetingInput

BY = Actor.system("test")
K = MeetingKind


def at(y, m, d, h=14):
    return dt.datetime(y, m, d, h, tzinfo=timezone.get_current_timezone())


def record(org, kind, when, **extra):
    extra.setdefault("topics", "年度组织生活会")
    return services.meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind, starts_at=when, **extra))


def olm_cell(org, year, today):
    row = selectors.compliance(Organization.objects.filter(pk=org.pk), year=year, today=today).rows[0]
    return next(c for c in row.cells if c.requirement.key == "organizational_life_meeting")


@time_machine.travel(dt.datetime(2027, 2, 20, 10, 0), tick=False)
def test_a_yearly_meeting_defaults_to_the_year_it_was_held_and_others_have_none(bureau):
    olm = record(bureau.branch_a, K.ORGANIZATIONAL_LIFE_MEETING, at(2027, 1, 15))
    theme = record(bureau.branch_a, K.THEME_DAY, at(2027, 1, 15))
    assert olm.covers_year == 2027
    assert theme.covers_year is None


@time_machine.travel(dt.datetime(2027, 2, 20, 10, 0), tick=False)
def test_a_meeting_held_in_january_for_last_year_counts_there_not_here(bureau):
    record(bureau.branch_a, K.ORGANIZATIONAL_LIFE_MEETING, at(2027, 1, 15), covers_year=2026, includes_appraisal=True)
    today = dt.date(2027, 2, 20)
    last = olm_cell(bureau.branch_a, 2026, today)
    assert (last.state, last.held) == ("held", 1)
    assert last.notes == ["2027年1月召开，计入所属年度2026年"]
    this = olm_cell(bureau.branch_a, 2027, today)
    assert this.held == 0 and this.state == "due"
    row = selectors.compliance(Organization.objects.filter(pk=bureau.branch_a.pk), year=2026, today=today).rows[0]
    appraisal = next(c for c in row.cells if c.requirement.key == "democratic_appraisal")
    assert appraisal.state == "held"
    # The annual report's figures count it for 2026, not 2027.
    orgs = Organization.objects.filter(pk=bureau.branch_a.pk)
    assert metrics.meetings_serving(orgs, Period.year(2026), K.ORGANIZATIONAL_LIFE_MEETING).value == 1
    assert metrics.meetings_serving(orgs, Period.year(2027), K.ORGANIZATIONAL_LIFE_MEETING).value == 0
    assert metrics.meetings_serving(orgs, Period.year(2026), "democratic_appraisal").value == 1


@time_machine.travel(dt.datetime(2027, 2, 20, 10, 0), tick=False)
def test_a_covers_year_two_years_away_is_refused_naming_the_rule(bureau):
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.ORGANIZATIONAL_LIFE_MEETING, at(2027, 1, 15), covers_year=2025)
    message = " ".join(exc.value.message_dict["covers_year"])
    assert "所属年度应为会议当年（2027）或上一年（2026）" in message
    assert "按所属年度计数的年度会议" in message and "本地规则" in message
    with pytest.raises(ValidationError):
        record(bureau.branch_a, K.ORGANIZATIONAL_LIFE_MEETING, at(2027, 1, 15), covers_year=2028)
    assert not Meeting.objects.exists()


@time_machine.travel(dt.datetime(2027, 2, 20, 10, 0), tick=False)
def test_a_correction_can_move_the_meeting_to_last_year(bureau):
    meeting = record(bureau.branch_a, K.ORGANIZATIONAL_LIFE_MEETING, at(2027, 1, 15))
    services.meeting_update(by=BY, meeting=meeting, data=MeetingInput(
        organization=bureau.branch_a, kind=meeting.kind, starts_at=meeting.starts_at, topics=meeting.topics,
        covers_year=2026))
    meeting.refresh_from_db()
    assert meeting.covers_year == 2026
    assert olm_cell(bureau.branch_a, 2026, dt.date(2027, 2, 20)).state == "held"


@time_machine.travel(dt.datetime(2027, 2, 20, 10, 0), tick=False)
def test_the_form_offers_this_year_or_the_last_and_refuses_another(bureau, client_for):
    client = client_for("branch_secretary")
    page = client.get(reverse("orglife:meeting_create")).content.decode()
    assert '<option value="2027">2027年</option>' in page and '<option value="2026">2026年</option>' in page
    data = {"organization": bureau.branch_a.pk, "kind": K.ORGANIZATIONAL_LIFE_MEETING, "starts_at": "2027-01-15T14:30",
            "topics": "2026年度组织生活会", "covers_year": "2025"}
    response = client.post(reverse("orglife:meeting_create"), data)
    assert response.status_code == 200
    assert "所属年度应为会议当年（2027）或上一年（2026）" in response.content.decode()
    assert not Meeting.objects.exists()
    response = client.post(reverse("orglife:meeting_create"), data | {"covers_year": "2026"})
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.covers_year == 2026
    assert "2026年" in client.get(meeting.get_absolute_url()).content.decode()
