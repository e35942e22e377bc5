"""Study campaigns (学习教育) are dated facts in the rule data; the meeting form offers those in
effect on the meeting's day as study themes."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from dangjian.core import rules
from dangjian.orglife import rules as orglife_rules


@pytest.mark.parametrize(("day", "tags"), [
    (dt.date(2021, 6, 1), ["党史学习教育"]),
    (dt.date(2022, 6, 1), []),
    (dt.date(2022, 11, 1), ["学习贯彻党的二十大精神"]),
    (dt.date(2023, 5, 1), ["学习贯彻党的二十大精神", "学习贯彻习近平新时代中国特色社会主义思想主题教育"]),
    (dt.date(2024, 5, 1), ["党纪学习教育"]),
    (dt.date(2024, 9, 1), []),
    (dt.date(2025, 5, 1), ["深入贯彻中央八项规定精神学习教育"]),
    (dt.date(2025, 9, 1), []),
    (dt.date(2026, 2, 10), []),  # before Spring Festival: not yet launched
    (dt.date(2026, 3, 10), ["树立和践行正确政绩观学习教育"]),
    (dt.date(2026, 8, 3), []),
])
def test_the_campaigns_in_effect_on_a_day(day, tags):
    assert [c.tag for c in orglife_rules.campaigns_on(day)] == tags


def test_every_campaign_cites_its_source_and_layer():
    entries = [r for r in rules.all_rules() if r.code.startswith("study.campaign.")]
    assert {r.code for r in entries} == {f"study.campaign.{y}" for y in range(2021, 2027)}
    for rule in entries:
        assert rule.source and rule.value["until"] > rule.effective_from, rule.code
        # National entries say which article was read (or that it was not; a 通知 has none, and its
        # quote carries the citation); local ones whose practice.
        assert rule.article or rule.quote or rule.basis, rule.code
    assert rules.rule("study.campaign.2022").basis  # the 二十大's end date is a local choice


@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_the_form_offers_the_campaigns_of_the_meeting_day(bureau, client_for):
    client = client_for("branch_secretary")
    during = client.get(reverse("orglife:meeting_create"), {"starts_at": "2026-03-10T14:30"}).content.decode()
    assert 'value="树立和践行正确政绩观学习教育"' in during
    after = client.get(reverse("orglife:meeting_create"), {"starts_at": "2026-09-10T14:30"}).content.decode()
    assert 'value="树立和践行正确政绩观学习教育"' not in after
    assert 'value="学习贯彻党的二十大精神"' not in during + after


# ---------------------------------------------------------------- contact points count study sessions

@time_machine.travel(dt.datetime(2026, 11, 30, 10, 0), tick=False)
def test_the_contact_point_figure_counts_the_branch_study_sessions_only(bureau):
    from django.utils import timezone

    from dangjian.audit.services import Actor
    from dangjian.orglife import selectors, services
    from dangjian.orglife.models import ContactPoint, Guest, MeetingKind
    from dangjian.orglife.services import GuestInput, MeetingInput

    by = Actor.system("test")
    services.contact_point_set(by=by, leader=bureau.member_b, organization=bureau.branch_a, year=2026)
    tz = timezone.get_current_timezone()
    leader = GuestInput(name=bureau.member_b.name, role=Guest.Role.CONTACT_LEADER, member=bureau.member_b)
    for kind, day, guests, also in (
            (MeetingKind.THEME_DAY, 6, [leader], []),  # a Friday-afternoon study: joined
            (MeetingKind.PARTY_LECTURE, 13, [], []),  # a study the leader missed
            (MeetingKind.GENERAL_MEETING, 20, [leader], [MeetingKind.THEME_DAY]),  # held as the 主题党日: a study
            (MeetingKind.COMMITTEE_MEETING, 3, [leader], []),  # not a study session
            (MeetingKind.GENERAL_MEETING, 24, [], [])):  # a 党员大会 deciding matters: not a study session
        services.meeting_record(by=by, data=MeetingInput(
            organization=bureau.branch_a, kind=kind, starts_at=dt.datetime(2026, 3, day, 15, tzinfo=tz),
            topics="学习", guests=guests, also_counts=also))
    [point] = selectors.contact_points(ContactPoint.objects.all(), year=2026)
    assert (point.meetings_joined, point.meetings_held) == (2, 3)
