"""Boundary tests for rules in docs/rules.md that no other test pinned: each fails if the rule's value
in national.toml or local.toml is changed by one (a size, a date, one form added to or taken off a
list). The expected values are written here, not read from the rule data."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.organizations import selectors as org_selectors
from dangjian.organizations.models import Appointment, Organization
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import selectors, services
from dangjian.orglife.models import Meeting, MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.factories import MemberFactory

BY = Actor.system("test")
K = MeetingKind
TODAY = dt.date(2026, 11, 30)


# ---------------------------------------------------------------- 总支 and 机关党委 committee sizes

def _committee_of(bureau, org: Organization, size: int) -> None:
    """Bring `org`'s sitting committee to `size` (it starts with its secretary)."""
    current = Appointment.objects.filter(organization=org, end__isnull=True).count()
    for member in MemberFactory.create_batch(size - current, organization=bureau.branch_a):
        Appointment.objects.create(organization=org, member=member, role=Appointment.Role.COMMITTEE_MEMBER,
                                   start=dt.date(2025, 1, 1))


def _size_flagged(bureau, code: str) -> bool:
    rows = {r.org.code: r for r in org_selectors.organization_rows(bureau.users["party_office"], today=TODAY)}
    org_code = "GB1" if code.startswith("general_branch") else "OC"
    return code in {f.code for f in rows[org_code].findings}


@pytest.mark.parametrize(("org_attr", "code", "size", "flagged"), [
    ("general_branch", "general_branch.committee_size", 4, True),   # general_branch.committee_min = 5
    ("general_branch", "general_branch.committee_size", 5, False),
    ("general_branch", "general_branch.committee_size", 7, False),  # general_branch.committee_max = 7
    ("general_branch", "general_branch.committee_size", 8, True),
    ("committee", "organ_committee.committee_size", 4, True),       # organ_committee.committee_min = 5
    ("committee", "organ_committee.committee_size", 5, False),
    ("committee", "organ_committee.committee_size", 9, False),      # organ_committee.committee_max = 9
    ("committee", "organ_committee.committee_size", 10, True),
])
def test_general_branch_and_organ_committee_sizes_at_their_bounds(bureau, org_attr, code, size, flagged):
    org = getattr(bureau, org_attr)
    _committee_of(bureau, org, size)
    assert Appointment.objects.filter(organization=org, end__isnull=True).count() == size
    assert _size_flagged(bureau, code) is flagged


# ---------------------------------------------------------------- study campaigns: first and last day

@pytest.mark.parametrize(("tag", "start", "until"), [
    ("党史学习教育", dt.date(2021, 2, 20), dt.date(2021, 12, 31)),
    ("学习贯彻习近平新时代中国特色社会主义思想主题教育", dt.date(2023, 4, 3), dt.date(2024, 1, 31)),
    ("党纪学习教育", dt.date(2024, 4, 1), dt.date(2024, 7, 31)),
    ("深入贯彻中央八项规定精神学习教育", dt.date(2025, 3, 12), dt.date(2025, 7, 31)),
    ("树立和践行正确政绩观学习教育", dt.date(2026, 2, 24), dt.date(2026, 7, 31)),
])
def test_a_campaign_is_offered_from_its_first_to_its_last_day(tag, start, until):
    def tags(day):
        return [c.tag for c in orglife_rules.campaigns_on(day)]

    assert tag in tags(until)
    assert tag not in tags(until + dt.timedelta(days=1))
    assert tag in tags(start)
    assert tag not in tags(start - dt.timedelta(days=1))


# ---------------------------------------------------------------- one session counted for several forms

def _at(y, m, d, h=14):
    return dt.datetime(y, m, d, h, tzinfo=timezone.get_current_timezone())


def _record(org, kind, when, **extra):
    extra.setdefault("topics", "学习")
    return services.meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind, starts_at=when, **extra))


# Each rule's list of meeting kinds (民主评议 is `includes_appraisal`, not a combinable kind), and a
# form the branch holds that is not on the list.
COMBINABLE = [
    (K.THEME_DAY, [K.GENERAL_MEETING, K.PARTY_LECTURE, K.ORGANIZATIONAL_LIFE_MEETING], K.COMMITTEE_MEETING),
    (K.GENERAL_MEETING, [K.THEME_DAY, K.PARTY_LECTURE, K.ORGANIZATIONAL_LIFE_MEETING], K.COMMITTEE_MEETING),
    (K.PARTY_LECTURE, [K.THEME_DAY, K.GENERAL_MEETING], K.ORGANIZATIONAL_LIFE_MEETING),
    (K.ORGANIZATIONAL_LIFE_MEETING, [K.GENERAL_MEETING], K.THEME_DAY),
]


@time_machine.travel(dt.datetime(2026, 7, 10, 10, 0), tick=False)
@pytest.mark.parametrize(("kind", "allowed", "refused"), COMBINABLE)
def test_each_form_a_session_may_also_count_as_and_one_it_may_not(bureau, kind, allowed, refused):
    for day, form in enumerate(allowed, start=1):
        _record(bureau.branch_a, kind, _at(2026, 6, day), also_counts=[form])
    assert Meeting.objects.count() == len(allowed)
    with pytest.raises(ValidationError) as exc:
        _record(bureau.branch_a, kind, _at(2026, 6, 20), also_counts=[refused])
    assert "不能同时计为" in " ".join(exc.value.message_dict["also_counts"])
    assert Meeting.objects.count() == len(allowed)


# ---------------------------------------------------------------- 所属年度: 民主生活会

@time_machine.travel(dt.datetime(2027, 2, 20, 10, 0), tick=False)
def test_a_democratic_life_meeting_held_in_january_counts_for_the_year_it_covers(bureau):
    _record(bureau.root, K.DEMOCRATIC_LIFE_MEETING, _at(2027, 1, 12), covers_year=2026, topics="2026年度民主生活会")

    def cell(year):
        row = selectors.compliance(Organization.objects.filter(pk=bureau.root.pk), year=year,
                                   today=dt.date(2027, 2, 20)).rows[0]
        return next(c for c in row.cells if c.requirement.key == "democratic_life_meeting")

    assert (cell(2026).state, cell(2026).held) == ("held", 1)
    assert cell(2027).held == 0
