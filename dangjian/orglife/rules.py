"""Rule data for organisational life, read into typed objects (see core/rules/national.toml)."""

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from dangjian.core import rules
from dangjian.orglife.models import DEMOCRATIC_APPRAISAL, AgendaItem, MeetingKind

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
                                 source=rule.citation, effective_from=rule.effective_from,
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


def dual_life(on: dt.date) -> tuple[str, int] | None:
    """(period, minimum) of the 双重组织生活 rule: how often a 党员领导干部 attends their branch's
    组织生活会 as an ordinary member; None before the rule took effect (nothing is owed then)."""
    try:
        value = rules.value("orglife.dual_life", on=on)
    except KeyError:
        return None
    return value["period"], int(value["min"])


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


def owed_share(on: dt.date) -> Fraction:
    """The share of a period an organisation must have existed for to owe it (local rule)."""
    return fraction("orglife.owed_share_of_period", on)


# ---------------------------------------------------------------- bodies and their procedure

# The body a meeting is of, by its kind and the organisation holding it. A 支委会 of a branch or a
# general branch follows 支部工作条例 第十二条; the 机关党委's 党委会 and the 党组 decide the
# “三重一大” and need ⅔ for 干部任免 and 处分. Kinds not listed decide nothing by vote.
GENERAL_MEETING, BRANCH_COMMITTEE, PARTY_COMMITTEE, LEADING_GROUP, LEADERSHIP = (
    "general_meeting", "branch_committee", "party_committee", "leading_group", "leadership_meeting")
BODY_LABELS = {GENERAL_MEETING: "支部党员大会", BRANCH_COMMITTEE: "支部委员会会议", PARTY_COMMITTEE: "党委会（机关党委）",
               LEADING_GROUP: "党组会议", LEADERSHIP: "局长办公会（行政领导班子会议）"}


def body_of(meeting_kind: str, organization_kind: str) -> str | None:
    if meeting_kind == MeetingKind.GENERAL_MEETING:
        return GENERAL_MEETING
    if meeting_kind == MeetingKind.LEADING_GROUP_MEETING:
        return LEADING_GROUP
    if meeting_kind == MeetingKind.LEADERSHIP_MEETING:
        return LEADERSHIP
    if meeting_kind == MeetingKind.COMMITTEE_MEETING:
        return PARTY_COMMITTEE if organization_kind == "organ_committee" else BRANCH_COMMITTEE
    return None


# Rule codes per body: (quorum, quorum for 干部任免/处分, pass mark, matter kinds). None: no such rule.
BODY_RULES = {
    GENERAL_MEETING: ("decision.quorum.general_meeting", None, "decision.pass.general_meeting",
                      "agenda.categories.general_meeting"),
    BRANCH_COMMITTEE: ("decision.quorum.committee_meeting", None, "decision.pass.committee_meeting",
                       "agenda.categories.branch_committee"),
    PARTY_COMMITTEE: ("decision.quorum.party_committee", "decision.quorum_strict.party_committee",
                      "decision.pass.party_committee", "agenda.categories.leading_group"),
    LEADING_GROUP: ("decision.quorum", "decision.quorum_strict", "decision.pass", "agenda.categories.leading_group"),
    LEADERSHIP: (None, None, None, "agenda.categories.leadership_meeting"),
}


# The meeting form's 类别 groups: each body's matter kinds as the rule data lists them.
CATEGORY_GROUPS = (("党组（党委）会议", "agenda.categories.leading_group"),
                   ("局长办公会", "agenda.categories.leadership_meeting"),
                   ("支部党员大会", "agenda.categories.general_meeting"),
                   ("支部委员会会议", "agenda.categories.branch_committee"))


def category_choices(on: dt.date) -> list[tuple[str, list[tuple[str, str]]]]:
    """Agenda categories grouped by the body that may decide them on `on` (a kind several bodies
    decide is under each); kinds no rule lists go under 其他."""
    labels = dict(AgendaItem.Category.choices)
    groups, listed = [], set()
    for label, code in CATEGORY_GROUPS:
        rule = _rule_or_none(code, on)
        kinds = [c for c in (rule.value if rule else []) if c in labels]
        listed.update(kinds)
        if kinds:
            groups.append((label, [(c, labels[c]) for c in kinds]))
    rest = [(c, text) for c, text in AgendaItem.Category.choices if c not in listed]
    return groups + ([("其他", rest)] if rest else [])


@dataclass(frozen=True)
class Procedure:
    """What the rules say about deciding at one body on one day."""

    body: str
    label: str
    quorum: "rules.Rule | None"
    strict_quorum: "rules.Rule | None"
    pass_mark: "rules.Rule | None"
    categories: "rules.Rule | None"
    chair_speaks_last: "rules.Rule | None"  # the rule when it applies to this body, else None


def _rule_or_none(code: str | None, on: dt.date):
    if code is None:
        return None
    try:
        return rules.rule(code, on=on)
    except KeyError:
        return None


def procedure(meeting_kind: str, organization_kind: str, on: dt.date) -> Procedure | None:
    """The rules of procedure for a meeting of `meeting_kind` held by an organisation of
    `organization_kind` on `on`; None for a meeting that decides nothing by vote."""
    body = body_of(meeting_kind, organization_kind)
    if body is None:
        return None
    quorum, strict, pass_mark, categories = (_rule_or_none(code, on) for code in BODY_RULES[body])
    chair = _rule_or_none("decision.chair_speaks_last", on)
    return Procedure(body=body, label=BODY_LABELS[body], quorum=quorum, strict_quorum=strict, pass_mark=pass_mark,
                     categories=categories, chair_speaks_last=chair if chair and body in chair.value else None)


def share(rule) -> Fraction:
    return Fraction(str(rule.value))


def quorate(present: int, expected: int, rule) -> bool:
    """At a ½ rule more than the share must be present; at a ⅔ rule (三分之二以上) at least it."""
    need = share(rule)
    return present >= need * expected if need > Fraction(1, 2) else present > need * expected


def passes(votes_for: int, expected: int, rule) -> bool:
    return votes_for > share(rule) * expected


def members_vote(on: dt.date) -> tuple[bool, bool]:
    """(预备党员 vote, members under 留党察看 vote) on `on`, from the rule data (both False)."""
    return (bool(_value_or("voting.probationary_members_vote", on, True)),
            bool(_value_or("voting.members_on_probation_vote", on, True)))


def _value_or(code: str, on: dt.date, default):
    try:
        return rules.value(code, on=on)
    except KeyError:
        return default
