"""One session recorded once and counted for each form it serves (a 主题党日 that was also the
quarter's 党员大会 and 党课; an 组织生活会 held as a 党员大会 with 民主评议)."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Organization
from dangjian.orglife import selectors, services
from dangjian.orglife.models import Meeting, MeetingAlsoCounts, MeetingKind
from dangjian.orglife.services import MeetingInput

BY = Actor.system("test")
K = MeetingKind
TODAY = dt.date(2026, 7, 10)


def at(y, m, d, h=14):
    return dt.datetime(y, m, d, h, tzinfo=timezone.get_current_timezone())


def record(org, kind, when, **extra):
    extra.setdefault("topics", "主题党日：学习党纪")
    return services.meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind, starts_at=when, **extra))


def q2_cells(org):
    row = selectors.compliance(Organization.objects.filter(pk=org.pk), year=2026, today=TODAY).rows[0]
    return {c.requirement.key: c for c in row.cells if c.end == dt.date(2026, 6, 30)}


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
def test_a_theme_day_that_was_also_the_general_meeting_and_the_lecture_is_held_for_all_three(bureau, client_for):
    meeting = record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 26),
                     also_counts=[K.GENERAL_MEETING, K.PARTY_LECTURE])
    assert Meeting.objects.count() == 1  # recorded once
    cells = q2_cells(bureau.branch_a)
    for key in ("theme_day", "general_meeting", "party_lecture"):
        assert cells[key].state == "held", key
    assert cells["general_meeting"].notes == ["随主题党日 6月26日"]
    assert cells["party_lecture"].notes == ["随主题党日 6月26日"]
    assert cells["theme_day"].notes == []
    # The matrix says so in each badge.
    page = client_for("party_office").get(reverse("orglife:matrix"), {"year": 2026}).content.decode()
    assert 'data-rule="general_meeting" title="支部党员大会：已开展（随主题党日 6月26日）"' in page
    assert 'data-rule="party_lecture" title="党课：已开展（随主题党日 6月26日）"' in page
    # The calendar lists the meeting with what it also counted as.
    calendar = client_for("party_office").get(reverse("orglife:calendar", args=[bureau.branch_a.pk]),
                                              {"year": 2026}).content.decode()
    assert "（同时计为支部党员大会、党课）" in calendar
    # The ✓ link to the 党员大会 lists it.
    listed = client_for("party_office").get(reverse("orglife:meetings"), {
        "org": bureau.branch_a.pk, "year": 2026, "kind": K.GENERAL_MEETING}).content.decode()
    assert reverse("orglife:meeting_detail", args=[meeting.pk]) in listed
    # The detail page and the audit entry record the forms.
    assert "支部党员大会、党课（一次活动，分别计入）" in client_for("party_office").get(
        meeting.get_absolute_url()).content.decode()
    assert AuditEntry.objects.get(action="meeting.record").after["also_counts"] == ["general_meeting", "party_lecture"]


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
def test_without_also_counts_the_quarter_shows_missing(bureau):
    record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 26))
    cells = q2_cells(bureau.branch_a)
    assert cells["general_meeting"].state == "missing" and cells["party_lecture"].state == "missing"


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
def test_the_ledger_says_which_session_a_form_was_held_with(bureau):
    from dangjian.orglife.paperwork.ledger import ledger_xlsx

    record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 26), also_counts=[K.GENERAL_MEETING, K.PARTY_LECTURE])
    data = ledger_xlsx(user=bureau.users["party_office"], organization=bureau.branch_a, year=2026)
    wb = load_workbook(io.BytesIO(data))
    kinds = [row[2].value for row in wb["会议台账"].iter_rows(min_row=2)]
    assert kinds == ["主题党日（同时计为支部党员大会、党课）"]
    sources = [row[-1].value or "" for row in wb["完成情况"].iter_rows(min_row=2)]
    assert any(s.startswith("6月：已开展（随主题党日 6月26日）") for s in sources)


@time_machine.travel(dt.datetime(2026, 12, 30, 10, 0), tick=False)
def test_an_organizational_life_meeting_held_as_a_general_meeting_with_appraisal(bureau):
    record(bureau.branch_a, K.ORGANIZATIONAL_LIFE_MEETING, at(2026, 12, 10), topics="组织生活会",
           also_counts=[K.GENERAL_MEETING], includes_appraisal=True)
    row = selectors.compliance(Organization.objects.filter(pk=bureau.branch_a.pk), year=2026,
                               today=dt.date(2026, 12, 30)).rows[0]
    cells = {c.requirement.key: c for c in row.cells if c.end.month == 12}
    assert cells["organizational_life_meeting"].state == "held"
    assert cells["democratic_appraisal"].state == "held"
    assert cells["democratic_appraisal"].notes == ["随组织生活会 12月10日"]
    assert cells["general_meeting"].held == 1 and cells["general_meeting"].notes == ["随组织生活会 12月10日"]


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
def test_a_form_the_rules_do_not_combine_is_refused_naming_the_rule(bureau):
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 26), also_counts=[K.COMMITTEE_MEETING])
    message = " ".join(exc.value.message_dict["also_counts"])
    assert "主题党日不能同时计为支委会（党委会）" in message
    assert "各地主题党日实施办法" in message and "本地规则" in message
    # A form the organisation does not hold: a branch holds no 党小组会 of its own... nor a 中心组.
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.CENTRAL_GROUP_STUDY, at(2026, 6, 26), also_counts=[K.THEME_DAY])
    assert not Meeting.objects.exists() and not MeetingAlsoCounts.objects.exists()


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
def test_appraisal_is_carried_only_by_a_form_whose_rule_lists_it(bureau, rules_override):
    """民主评议党员 on the lists of orglife.combinable.* is read: a 主题党日 may carry it while the
    local rule lists it; a deployment that drops it from the list refuses it, naming the rule; a 党课
    (whose list lacks it) never may."""
    from tests.core.test_rule_layers import entry

    record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 26), includes_appraisal=True)
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.PARTY_LECTURE, at(2026, 6, 27), includes_appraisal=True)
    assert "党课不能同时计为民主评议党员：按规则，党课可同时计为主题党日、支部党员大会" in exc.value.message_dict[
        "includes_appraisal"][0]
    rules_override(entry("orglife.combinable.theme_day", '["general_meeting", "party_lecture"]'))
    with pytest.raises(ValidationError) as exc:
        record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 28), includes_appraisal=True)
    assert "主题党日不能同时计为民主评议党员：按规则，主题党日可同时计为支部党员大会、党课" in exc.value.message_dict[
        "includes_appraisal"][0]
    assert Meeting.objects.count() == 1


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
def test_a_correction_drops_a_form_and_the_cell_goes_back_to_missing(bureau):
    meeting = record(bureau.branch_a, K.THEME_DAY, at(2026, 6, 26), also_counts=[K.GENERAL_MEETING, K.PARTY_LECTURE])
    services.meeting_update(by=BY, meeting=meeting, data=MeetingInput(
        organization=bureau.branch_a, kind=K.THEME_DAY, starts_at=meeting.starts_at, topics=meeting.topics,
        also_counts=[K.PARTY_LECTURE]))
    cells = q2_cells(bureau.branch_a)
    assert cells["general_meeting"].state == "missing" and cells["party_lecture"].state == "held"
    entry = AuditEntry.objects.get(action="meeting.update")
    assert (entry.before["also_counts"], entry.after["also_counts"]) == (["general_meeting", "party_lecture"], ["party_lecture"])


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
def test_the_form_records_it_once_with_the_boxes_ticked(bureau, client_for):
    client = client_for("branch_secretary")
    response = client.post(reverse("orglife:meeting_create"), {
        "organization": bureau.branch_a.pk, "kind": K.THEME_DAY, "starts_at": "2026-06-26T14:30",
        "topics": "主题党日暨党员大会、党课", "also_counts": [K.GENERAL_MEETING, K.PARTY_LECTURE]})
    assert response.status_code == 302
    assert sorted(Meeting.objects.get().also_counts.values_list("kind", flat=True)) == ["general_meeting", "party_lecture"]
