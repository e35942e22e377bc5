import datetime as dt

import time_machine
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.core import metrics as registry
from dangjian.core.metrics import Period
from dangjian.core.todos import todos_for
from dangjian.orglife import services
from dangjian.orglife.models import MeetingKind
from dangjian.orglife.services import AgendaInput, MeetingInput
from tests.factories import subtree

BY = Actor.system("test")


def at(y, m, d):
    return dt.datetime(y, m, d, 14, tzinfo=timezone.get_current_timezone())


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_orglife_figures_count_records_in_scope_and_year(bureau):
    for when, tags in ((at(2026, 3, 6), ["学习贯彻党的二十大精神"]), (at(2026, 4, 3), []), (at(2025, 5, 8), [])):
        services.meeting_record(by=BY, data=MeetingInput(organization=bureau.branch_a, kind=MeetingKind.THEME_DAY,
                                                         starts_at=when, topics="学习", study_tags=tags))
    services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=at(2026, 6, 1), topics="党组会",
        study_tags=["学习贯彻党的二十大精神"],
        agenda=[AgendaInput(title="采购", category="large_fund", amount=80, votes_for=1, votes_against=0,
                            votes_abstain=0),
                AgendaInput(title="任免", category="key_appointment", chair_spoke_last=False, votes_for=1,
                            votes_against=0, votes_abstain=0)]))
    year = Period.year(2026)

    def value(key, scope=bureau.root):
        return registry.get(key).compute(organizations=subtree(scope), period=year)

    assert value("orglife.meetings.theme_day").value == 2
    assert value("orglife.meetings.theme_day", bureau.branch_b).value == 0
    assert value("orglife.study.party_congress_20").value == 2
    assert value("orglife.decisions.large_fund").value == 1
    assert value("orglife.decisions.key_appointment").value == 1
    flagged = value("orglife.decisions_flagged")
    assert flagged.value == 1 and [i.title for i in flagged.records] == ["任免"]
    assert value("orglife.contact_attendance").missing  # no contact points set: missing, not 0
    compliance = value("orglife.three_and_one_compliance", bureau.branch_a)
    assert compliance.total > 0 and compliance.value == 0


@time_machine.travel(dt.datetime(2026, 11, 25, 10, 0), tick=False)
def test_secretary_is_reminded_of_what_is_due_and_missing(bureau):
    services.meeting_record(by=BY, data=MeetingInput(organization=bureau.branch_a, kind=MeetingKind.THEME_DAY,
                                                     starts_at=at(2026, 10, 9), topics="学习"))
    titles = [t.title for t in todos_for(bureau.users["branch_secretary"], dt.date(2026, 11, 25))]
    assert "第一党支部：本月主题党日尚未记录" in titles
    assert any(t.startswith("第一党支部：今年有") and "主题党日" in t for t in titles)
    assert not any("第二党支部" in t for t in titles)


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_quarter_and_year_meetings_are_reminded_a_month_ahead(bureau):
    titles = [t.title for t in todos_for(bureau.users["branch_secretary"], dt.date(2026, 11, 30))]
    assert "第一党支部：本季度支部党员大会尚未记录" in titles
    assert "第一党支部：本年度组织生活会尚未记录" in titles


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_a_meeting_figure_s_records_are_the_meetings_it_counts(bureau):
    # Of the kind or also counted as it (once, whatever else it also served), in scope and year;
    # the records in time order, as the drill-down pages them.
    def record(org, kind, when, also=()):
        return services.meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind, starts_at=when,
                                                                topics="学习", also_counts=list(also))).pk

    a_day = record(bureau.branch_a, MeetingKind.THEME_DAY, at(2026, 3, 6))
    a_general = record(bureau.branch_a, MeetingKind.GENERAL_MEETING, at(2026, 2, 6),
                       also=[MeetingKind.THEME_DAY, MeetingKind.PARTY_LECTURE])
    b_general = record(bureau.branch_b, MeetingKind.GENERAL_MEETING, at(2026, 5, 8), also=[MeetingKind.THEME_DAY])
    record(bureau.branch_a, MeetingKind.GENERAL_MEETING, at(2026, 6, 5))  # served no 主题党日
    record(bureau.branch_a, MeetingKind.THEME_DAY, at(2025, 5, 8))  # another year
    metric = registry.get("orglife.meetings.theme_day")
    for scope, expected in ((bureau.root, [a_general, a_day, b_general]), (bureau.branch_a, [a_general, a_day])):
        result = metric.compute(organizations=subtree(scope), period=Period.year(2026))
        assert result.value == len(expected) and [m.pk for m in result.records] == expected
