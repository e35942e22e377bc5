"""Rule data for organisational life, read into typed objects (see core/rules/national.toml)."""

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from dangjian.core import rules
from dangjian.orglife.models import MeetingKind

# The meeting kind each compliance rule counts; democratic appraisal counts meetings flagged
# `includes_appraisal`, the secretary's lecture counts lectures given by the 党组 secretary.
RULE_KINDS = {
    "general_meeting": MeetingKind.GENERAL_MEETING,
    "committee_meeting": MeetingKind.COMMITTEE_MEETING,
    "cell_meeting": MeetingKind.CELL_MEETING,
    "party_lecture": MeetingKind.PARTY_LECTURE,
    "theme_day": MeetingKind.THEME_DAY,
    "organizational_life_meeting": MeetingKind.ORGANIZATIONAL_LIFE_MEETING,
    "democratic_appraisal": None,
    "central_group_study": MeetingKind.CENTRAL_GROUP_STUDY,
    "secretary_lecture": MeetingKind.PARTY_LECTURE,
}


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str
    period: str  # "month" | "quarter" | "year"
    minimum: int
    applies_to: str  # an Organization.Kind value
    when: str  # "" or "has_committee"
    kind: str | None
    source: str
    effective_from: dt.date


def requirements(on: dt.date) -> list[Requirement]:
    """The compliance rules in effect on `on`, in a stable order."""
    found = []
    for key, kind in RULE_KINDS.items():
        try:
            rule = rules.rule(f"orglife.required.{key}", on=on)
        except KeyError:
            continue
        v = rule.value
        found.append(Requirement(key=key, label=rule.label, period=v["period"], minimum=int(v["min"]),
                                 applies_to=v["applies_to"], when=v.get("when", ""), kind=kind,
                                 source=rule.source, effective_from=rule.effective_from))
    return found


def fraction(code: str, on: dt.date) -> Fraction:
    return Fraction(str(rules.value(code, on=on)))


def late_after_days(on: dt.date) -> int:
    return int(rules.value("orglife.late_after_days", on=on))


def large_fund_threshold(on: dt.date):
    from decimal import Decimal

    return Decimal(str(rules.value("decision.large_fund_threshold", on=on)))
