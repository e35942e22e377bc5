"""The national rules on the meeting side not checked before, each with a case that meets it and
one that does not: 民主生活会 once a year with ⅔ of the leading group present; 谈心谈话 (each committee
member with each other and with the members, yearly); the 机关党委 secretary's yearly 党课; every
党员领导干部's 双重组织生活 (derived from attendance)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Member, Organization
from dangjian.orglife import selectors, services
from dangjian.orglife.models import HeartTalk, MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.factories import MemberFactory

BY = Actor.system("test")
K = MeetingKind
AFTER = dt.date(2027, 1, 20)


def at(y, m, d, h=9):
    return dt.datetime(y, m, d, h, tzinfo=timezone.get_current_timezone())


def record(org, kind, when, **extra):
    extra.setdefault("topics", "会议")
    return services.meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind, starts_at=when, **extra))


def yearly_cell(org, key, year=2026, today=AFTER):
    row = selectors.compliance(Organization.objects.filter(pk=org.pk), year=year, today=today).rows[0]
    return next(c for c in row.cells if c.requirement.key == key)


def leading_group_of_four(bureau) -> list[Member]:
    """The 党组: its secretary (李四) and three more members, all from 2024."""
    extra = [MemberFactory(organization=bureau.branch_b) for _ in range(3)]
    for member in extra:
        Appointment.objects.create(organization=bureau.root, member=member, role=Appointment.Role.COMMITTEE_MEMBER,
                                   start=dt.date(2024, 1, 1))
    return [bureau.member_b, *extra]


# ---------------------------------------------------------------- 民主生活会

@time_machine.travel(dt.datetime(2027, 1, 20, 10, 0), tick=False)
def test_a_democratic_life_meeting_with_two_thirds_present_meets_the_yearly_rule(bureau):
    group = leading_group_of_four(bureau)
    record(bureau.root, K.DEMOCRATIC_LIFE_MEETING, at(2026, 12, 22), absences={group[3].pk: ("official", "出差")})
    cell = yearly_cell(bureau.root, "democratic_life_meeting")
    assert (cell.state, cell.held) == ("held", 1)


@time_machine.travel(dt.datetime(2027, 1, 20, 10, 0), tick=False)
def test_one_short_of_two_thirds_is_kept_flagged_and_not_counted(bureau, client_for):
    group = leading_group_of_four(bureau)
    meeting = record(bureau.root, K.DEMOCRATIC_LIFE_MEETING, at(2026, 12, 22),
                     absences={group[2].pk: ("official", "出差"), group[3].pk: ("sick", "")})
    cell = yearly_cell(bureau.root, "democratic_life_meeting")
    assert (cell.state, cell.held) == ("missing", 0)
    assert "到会 2/4 人，不足应到会人数的2/3，不计入" in cell.notes[0]
    assert "民主生活会若干规定" in cell.notes[0]
    page = client_for("party_office").get(meeting.get_absolute_url()).content.decode()
    assert "到会 2/4 人，未达到应到会人数的2/3" in page


@time_machine.travel(dt.datetime(2027, 1, 20, 10, 0), tick=False)
def test_no_democratic_life_meeting_in_a_year_is_missing(bureau):
    leading_group_of_four(bureau)
    assert yearly_cell(bureau.root, "democratic_life_meeting").state == "missing"


# ---------------------------------------------------------------- 谈心谈话

def _committee(bureau) -> list[Member]:
    """第一党支部's committee: 张三 (secretary) and two of its members as 委员."""
    others = list(Member.objects.filter(memberships__organization=bureau.branch_a, memberships__end__isnull=True)
                  .exclude(pk=bureau.member_a.pk).order_by("pk")[:2])
    for member in others:
        Appointment.objects.create(organization=bureau.branch_a, member=member,
                                   role=Appointment.Role.COMMITTEE_MEMBER, start=dt.date(2024, 1, 1))
    return [bureau.member_a, *others]


@time_machine.travel(dt.datetime(2026, 12, 20, 10, 0), tick=False)
def test_each_committee_member_talked_with_everyone_is_complete(bureau, client_for):
    committee = _committee(bureau)
    members = list(Member.objects.filter(memberships__organization__path__startswith=bureau.branch_a.path,
                                         memberships__end__isnull=True))
    for first in committee:
        for second in members:
            if second.pk != first.pk and not HeartTalk.objects.filter(first=second, second=first).exists():
                services.heart_talk_record(by=BY, organization=bureau.branch_a, held_on=dt.date(2026, 5, 10),
                                           first=first, second=second)
    rows = selectors.heart_talk_coverage(bureau.branch_a, year=2026, today=dt.date(2026, 12, 20))
    assert [r.member for r in rows] == committee
    assert all(r.complete for r in rows)
    page = client_for("party_office").get(reverse("orglife:calendar", args=[bureau.branch_a.pk]),
                                          {"year": 2026}).content.decode()
    assert page.count('data-complete="1"') == 3


@time_machine.travel(dt.datetime(2026, 12, 20, 10, 0), tick=False)
def test_a_committee_member_who_has_not_talked_with_a_colleague_is_named(bureau):
    committee = _committee(bureau)
    services.heart_talk_record(by=BY, organization=bureau.branch_a, held_on=dt.date(2026, 5, 10),
                               first=committee[0], second=committee[1])
    rows = {r.member.pk: r for r in selectors.heart_talk_coverage(bureau.branch_a, year=2026,
                                                                    today=dt.date(2026, 12, 20))}
    assert rows[committee[0].pk].missing_committee == [committee[2]]
    assert rows[committee[2].pk].missing_committee == committee[:2]
    assert not rows[committee[0].pk].complete
    # A talk of last year does not count for this one.
    assert selectors.heart_talk_coverage(bureau.branch_a, year=2025, today=dt.date(2026, 12, 20))[0].talks == 0


@time_machine.travel(dt.datetime(2026, 12, 20, 10, 0), tick=False)
def test_a_talk_with_oneself_or_with_someone_of_another_branch_is_refused(bureau):
    with pytest.raises(ValidationError) as exc:
        services.heart_talk_record(by=BY, organization=bureau.branch_a, held_on=dt.date(2026, 5, 10),
                                   first=bureau.member_a, second=bureau.member_a)
    assert "不能是同一人" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError) as exc:
        services.heart_talk_record(by=BY, organization=bureau.branch_a, held_on=dt.date(2026, 5, 10),
                                   first=bureau.member_a, second=bureau.member_b)
    assert "李四在2026-05-10不是“第一党支部”的党员" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError):
        services.heart_talk_record(by=BY, organization=bureau.branch_a, held_on=dt.date(2026, 12, 21),
                                   first=bureau.member_a, second=Member.objects.exclude(pk=bureau.member_a.pk).first())
    assert not HeartTalk.objects.exists()


# ---------------------------------------------------------------- the 机关党委 secretary's 党课

@time_machine.travel(dt.datetime(2027, 1, 20, 10, 0), tick=False)
def test_the_organ_committee_secretary_gave_a_lecture(bureau):
    record(bureau.committee, K.PARTY_LECTURE, at(2026, 6, 30, 14), lecturer=bureau.member_b, topics="七一党课")
    assert yearly_cell(bureau.committee, "organ_committee_secretary_lecture").state == "held"


@time_machine.travel(dt.datetime(2027, 1, 20, 10, 0), tick=False)
def test_a_lecture_by_someone_else_does_not_meet_the_secretary_rule(bureau):
    record(bureau.committee, K.PARTY_LECTURE, at(2026, 6, 30, 14), lecturer=bureau.member_a, topics="七一党课")
    assert yearly_cell(bureau.committee, "organ_committee_secretary_lecture").state == "missing"


# ---------------------------------------------------------------- 双重组织生活

@time_machine.travel(dt.datetime(2027, 1, 20, 10, 0), tick=False)
def test_a_leader_present_at_their_branch_organizational_life_meeting_lives_a_dual_life(bureau, client_for):
    group = leading_group_of_four(bureau)
    record(bureau.branch_b, K.ORGANIZATIONAL_LIFE_MEETING, at(2027, 1, 12, 14), covers_year=2026,
           absences={group[1].pk: ("official", "出差")})
    rows = {r.member.pk: r for r in selectors.dual_life(bureau.root, year=2026, today=AFTER)}
    assert rows[bureau.member_b.pk].meetings == [(dt.date(2027, 1, 12), "第二党支部")]
    assert rows[group[1].pk].meetings == []  # absent: no 双重组织生活 this year
    # A meeting of the 党组 itself is not their branch's.
    page = client_for("party_office").get(reverse("orglife:calendar", args=[bureau.root.pk]),
                                          {"year": 2026}).content.decode()
    assert page.count('data-attended="1"') == 3 and page.count('data-attended="0"') == 1
    assert "未参加所在党支部2026年度组织生活会" in page


@time_machine.travel(dt.datetime(2027, 1, 20, 10, 0), tick=False)
def test_dual_life_is_checked_against_the_rules_period_and_minimum(bureau, client_for, rules_override):
    """orglife.dual_life is read: a deployment that asks for twice a year (or every half-year's
    quarter) finds the leader who attended once short; the national once a year finds them right."""
    from tests.core.test_rule_layers import entry

    leading_group_of_four(bureau)
    record(bureau.branch_b, K.ORGANIZATIONAL_LIFE_MEETING, at(2026, 7, 12, 14))
    row = {r.member.pk: r for r in selectors.dual_life(bureau.root, year=2026, today=AFTER)}[bureau.member_b.pk]
    assert row.met and row.required == "每年至少1次"
    rules_override(entry("orglife.dual_life", '{ period = "year", min = 2, applies_to = "leading_group" }'))
    row = {r.member.pk: r for r in selectors.dual_life(bureau.root, year=2026, today=AFTER)}[bureau.member_b.pk]
    assert not row.met and row.short == ["2026年"] and row.required == "每年至少2次"
    page = client_for("party_office").get(reverse("orglife:calendar", args=[bureau.root.pk]),
                                          {"year": 2026}).content.decode()
    assert "未达“每年至少2次”：2026年" in page
    rules_override(entry("orglife.dual_life", '{ period = "quarter", min = 1, applies_to = "leading_group" }'))
    row = {r.member.pk: r for r in selectors.dual_life(bureau.root, year=2026, today=AFTER)}[bureau.member_b.pk]
    assert row.short == ["2026年第1季度", "2026年第2季度", "2026年第4季度"] and row.required == "每季度至少1次"


@pytest.mark.parametrize("year", [2000, 2016, 2017])
def test_pages_checked_against_the_rules_offer_no_year_before_them(bureau, client_for, year):
    # The rule data starts in 2018 (orglife.dual_life in 2017-10, 支部工作条例 in 2018-10): a year
    # before it shows the current year, not an error.
    client = client_for("party_office")
    today = dt.date.today().year
    for url in (reverse("orglife:calendar", args=[bureau.root.pk]), reverse("orglife:calendar", args=[bureau.branch_a.pk]),
                reverse("orglife:matrix"), reverse("orglife:ledger", args=[bureau.branch_a.pk])):
        page = client.get(url, {"year": year})
        assert page.status_code == 200, url
    page = client.get(reverse("orglife:calendar", args=[bureau.root.pk]), {"year": year}).content.decode()
    assert f"{today}" in page and f'value="{year}"' not in page


def test_the_first_year_of_the_rules_is_offered_and_owes_no_dual_life_before_the_rule(bureau, client_for):
    assert selectors.dual_life(bureau.root, year=2017, today=dt.date(2017, 6, 30)) == []
    page = client_for("party_office").get(reverse("orglife:calendar", args=[bureau.root.pk]), {"year": 2018})
    assert page.status_code == 200
