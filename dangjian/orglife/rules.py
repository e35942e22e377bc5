"""Rule data for organisational life, read into typed objects (see core/rules/national.toml)."""

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from dangjian.core import rules
from dangjian.orglife.models import DEMOCRATIC_APPRAISAL, MeetingKind

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
    "democratic_life_meeting": MeetingKind.DEMOCRATIC_LIFE_MEETING,
    "organ_committee_secretary_lecture": MeetingKind.PARTY_LECTURE,
}
# Requirements met by lectures the organisation's secretary gave (wherever the lecture was held).
SECRETARY_LECTURE_KEYS = {"secretary_lecture", "organ_committee_secretary_lecture"}


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
    quorum: str = ""  # e.g. "2/3": only meetings with at least this share of 应到 present count

    @property
    def form(self) -> str | None:
        """What a meeting must be (or also count as) to count: its kind, or 民主评议党员."""
        return DEMOCRATIC_APPRAISAL if self.key == "democratic_appraisal" else self.kind


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
                                 source=rule.source, effective_from=rule.effective_from,
                                 quorum=str(v.get("quorum", ""))))
    return found


def cited(rule: rules.Rule) -> str:
    """A rule's source as a message cites it: the document, the article read, the layer."""
    article = "" if not rule.article or rule.article == "未核实" else rule.article
    local = "（本地规则）" if rule.basis else ""
    return f"{rule.source}{article}{local}"


def yearly_forms(on: dt.date) -> tuple[str, ...]:
    """The forms counted by their 所属年度 (the year they are for), not by their date."""
    return tuple(rules.value("orglife.covers_year.kinds", on=on))


def covers_year_rule(on: dt.date) -> rules.Rule:
    return rules.rule("orglife.covers_year.kinds", on=on)


def combinable(kind: str, on: dt.date) -> tuple[tuple[str, ...], rules.Rule | None]:
    """(the forms a meeting of `kind` may also count as, the rule saying so); none without a rule."""
    try:
        rule = rules.rule(f"orglife.combinable.{kind}", on=on)
    except KeyError:
        return (), None
    return tuple(rule.value), rule


@dataclass(frozen=True)
class Campaign:
    tag: str
    start: dt.date
    until: dt.date
    source: str
    article: str

    def on(self, day: dt.date) -> bool:
        return self.start <= day <= self.until


def campaigns() -> list[Campaign]:
    """The study campaigns (学习教育) as rule data, in date order."""
    found = [Campaign(tag=r.value["tag"], start=r.effective_from, until=r.value["until"], source=r.source,
                      article=r.article)
             for r in rules.all_rules() if r.code.startswith("study.campaign.")]
    return sorted(found, key=lambda c: c.start)


def campaigns_on(day: dt.date) -> list[Campaign]:
    return [c for c in campaigns() if c.on(day)]


def contact_study_kinds(on: dt.date) -> tuple[str, ...]:
    """The kinds of a branch's meetings that are its study sessions, for the contact-point figure."""
    return tuple(rules.value("contact_point.study_kinds", on=on))


def fraction(code: str, on: dt.date) -> Fraction:
    return Fraction(str(rules.value(code, on=on)))


def late_after_days(on: dt.date) -> int:
    return int(rules.value("orglife.late_after_days", on=on))


def large_fund_threshold(on: dt.date):
    from decimal import Decimal

    return Decimal(str(rules.value("decision.large_fund_threshold", on=on)))
