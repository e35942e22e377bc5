"""Reads for organisational life: compliance against rule data, the 三重一大 register with its rule
flags, and contact-point attendance. Each is a fixed number of queries whatever the data size;
nothing depends on a scheduled job having run."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core.notices import Notice
from dangjian.organizations.models import Appointment, Member, Membership, Organization
from dangjian.organizations.selectors import subtree_ids
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife.models import (
    AgendaItem,
    Attendance,
    ContactPoint,
    Guest,
    Meeting,
    MeetingAlsoCounts,
    MeetingKind,
)
from dangjian.orglife.rules import Requirement

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
COMMITTEE_MINIMUM = 3  # a branch "has a committee" with 3 or more current posts (书记 + 2)


def year_range(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def month_end(year: int, month: int) -> dt.date:
    return (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)


@dataclass
class Cell:
    """One requirement over one period for one organisation."""

    requirement: Requirement
    start: dt.date
    end: dt.date
    held: int
    state: str  # held | missing | due (period under way) | future | exempt (not live, no committee)
    # What the count rests on beyond the kind's own meetings: "随主题党日 6月28日" (a session that
    # also served this form), "2027年1月召开，计入所属年度2026年", "…到会不足2/3，不计入".
    notes: list[str] = field(default_factory=list)

    @property
    def month(self) -> int:
        return self.end.month

    @property
    def counts(self) -> bool:
        """Whether the cell counts towards the compliance rate (its period is over and required)."""
        return self.state in ("held", "missing")


@dataclass
class OrgCompliance:
    org: Organization
    cells: list[Cell] = field(default_factory=list)

    def by_month(self) -> dict[int, list[Cell]]:
        months: dict[int, list[Cell]] = defaultdict(list)
        for cell in self.cells:
            if cell.state != "exempt":
                months[cell.month].append(cell)
        return months

    @property
    def missing(self) -> list[Cell]:
        return [c for c in self.cells if c.state == "missing"]


@dataclass
class ComplianceTable:
    year: int
    rows: list[OrgCompliance]

    def rate(self, keys: set[str] | None = None) -> tuple[int, int]:
        """(periods held, periods required) over the finished periods, for the given rule keys."""
        cells = [c for r in self.rows for c in r.cells if c.counts and (keys is None or c.requirement.key in keys)]
        return sum(1 for c in cells if c.state == "held"), len(cells)


THREE_AND_ONE_KEYS = {"general_meeting", "committee_meeting", "cell_meeting", "party_lecture"}


def _live_for_most_of(org: Organization, start: dt.date, end: dt.date) -> bool:
    """A period is required of an organisation that existed for more than half of it: a branch
    founded on 2 January owes that year's 组织生活会, one founded on 28 March does not owe a Q1
    党员大会, and one dissolved on 3 December does not owe December's 主题党日."""
    first = max(start, org.founded_on)
    last = min(end, org.dissolved_on - dt.timedelta(days=1)) if org.dissolved_on else end
    live_days = (last - first).days + 1
    return live_days > orglife_rules.owed_share(end) * ((end - start).days + 1)


def _via(main_kind: str, day: dt.date) -> str:
    return f"随{MeetingKind(main_kind).label} {day.month}月{day.day}日"


def _discount_short_of_quorum(orgs, scope, year: int, in_year_or_for_it: Q, covered_by: dict, notes_by: dict) -> None:
    """A requirement that asks for a share of 应到 present (民主生活会: ⅔) is not met by a meeting
    short of it: such meetings are taken off the count, with a note. One query, only when such a
    requirement applies to one of the organisations."""
    quorums = {req.kind: (req.quorum, req.source) for req in orglife_rules.requirements(dt.date(year, 12, 31))
               if req.quorum and req.kind and any(o.kind == req.applies_to for o in orgs)}
    if not quorums:
        return
    from fractions import Fraction

    for meeting in (Meeting.objects.filter(in_year_or_for_it, organization__in=scope, kind__in=quorums)
                    .annotate(expected=Count("attendances"),
                              present=Count("attendances", filter=Q(attendances__present=True)))
                    .values("organization_id", "kind", "starts_at", "covers_year", "expected", "present")):
        share, source = quorums[meeting["kind"]]
        covers = meeting["covers_year"] if meeting["covers_year"] is not None else \
            timezone.localtime(meeting["starts_at"]).year
        if covers != year or not meeting["expected"] or meeting["present"] >= Fraction(share) * meeting["expected"]:
            continue
        key = (meeting["organization_id"], meeting["kind"])
        covered_by[key] -= 1
        day = timezone.localtime(meeting["starts_at"]).date()
        notes_by[key].append(f"{day.month}月{day.day}日的{MeetingKind(meeting['kind']).label}到会 "
                             f"{meeting['present']}/{meeting['expected']} 人，不足应到会人数的{share}，不计入（{source}）")


def _plus(sums: list[int] | None, more: list[int]) -> list[int]:
    return more if sums is None else [a + b for a, b in zip(sums, more, strict=True)]


def compliance(organizations: QuerySet[Organization], *, year: int, today: dt.date) -> ComplianceTable:
    """Required against held, per organisation and period of `year`. Five queries, six at most: the
    organisations, the meeting counts grouped by organisation, kind and 所属年度, the "also counts as"
    rows (a 主题党日 that was also the quarter's 党员大会 and 党课: one row per extra form), the current
    posts (for "has a committee" and the secretaries), the secretaries' lectures, and, when a
    requirement asks for a share present (民主生活会: ⅔), those meetings' attendance.

    Counts come back as running totals, "meetings up to the end of month m" for m = 1..12, so the
    count of any period (a month, a quarter, the year) is one subtraction, and each organisation's
    cells are built from small per-organisation lists without scanning anything per cell: the
    bureau's matrix builds ~1,000 cells and a city's 2,000 branches ~50,000. The yearly forms
    (组织生活会, 民主评议, 民主生活会) count by the year they are for (所属年度), so one held in
    January for the year before counts there, not here."""
    orgs = list(organizations.order_by("path"))
    scope = organizations.values("pk")
    start, end = year_range(year)
    tz = timezone.get_current_timezone()
    yearly = set(orglife_rules.yearly_forms(dt.date(year, 12, 31)))
    # Running totals by range filters on starts_at rather than extracting the month, which SQLite
    # would do in Python for every meeting: upto1 counts January, upto2 January and February, ...
    month_bounds = [dt.datetime(year + m // 12, m % 12 + 1, 1, tzinfo=tz) for m in range(1, 13)]
    running = {f"upto{m}": Count("id", filter=Q(starts_at__lt=month_bounds[m - 1])) for m in range(1, 13)}
    zero = [0] * 13
    held_by: dict[tuple[int, str], list[int]] = {}  # (organisation, form) -> [0, up to Jan, ..., up to Dec]
    covered_by: dict[tuple[int, str], int] = defaultdict(int)  # (organisation, form) -> meetings for the year
    notes_by: dict[tuple[int, str], list[str]] = defaultdict(list)  # what a reader should know about a cell
    in_year_or_for_it = Q(starts_at__gte=start, starts_at__lt=end) | Q(covers_year=year)
    for org_id, kind, covers, last, total, *upto in (
            Meeting.objects.filter(in_year_or_for_it, organization__in=scope)
            .values_list("organization_id", "kind", "covers_year")
            .annotate(last=Max("starts_at"), total=Count("id"), **running).order_by()):
        held_by[(org_id, kind)] = _plus(held_by.get((org_id, kind)), [0, *upto])
        if (covers if covers is not None else year) == year:
            covered_by[(org_id, kind)] += total
            if last >= end:
                held_at = timezone.localtime(last)
                notes_by[(org_id, kind)].append(f"{held_at.year}年{held_at.month}月召开，计入所属年度{year}年")
    via_by: dict[tuple[int, str], list[tuple[dt.date, str, int | None]]] = defaultdict(list)
    for org_id, form, main, at, covers in (
            MeetingAlsoCounts.objects.filter(Q(meeting__starts_at__gte=start, meeting__starts_at__lt=end)
                                             | Q(meeting__covers_year=year), meeting__organization__in=scope)
            .values_list("meeting__organization_id", "kind", "meeting__kind", "meeting__starts_at",
                         "meeting__covers_year").order_by("meeting__starts_at")):
        day = timezone.localtime(at).date()
        via_by[(org_id, form)].append((day, main, covers))
        if day.year == year:
            held_by[(org_id, form)] = _plus(held_by.get((org_id, form)), [0] * day.month + [1] * (13 - day.month))
        if (covers if covers is not None else day.year) == year:
            covered_by[(org_id, form)] += 1
    posts = list(Appointment.objects.filter(organization__in=scope, start__lte=dt.date(year, 12, 31))
                 .filter(Q(end__isnull=True) | Q(end__gt=dt.date(year, 1, 1)))
                 .values("organization_id", "member_id", "role", "start", "end"))
    posts_by_org: dict[int, list[dict]] = defaultdict(list)
    for p in posts:
        posts_by_org[p["organization_id"]].append(p)
    secretaries = {p["member_id"] for p in posts if p["role"] == Appointment.Role.SECRETARY}
    running_all = {f"upto{m}": Count("id", filter=Q(starts_at__lt=month_bounds[m - 1])) for m in range(1, 12)}
    running_all["upto12"] = Count("id")  # the whole year: the query is limited to it
    lectures_by: dict[int, list[int]] = {}  # lecturer -> running totals, as above
    if secretaries:
        for lecturer_id, *upto in (Meeting.objects.filter(kind=MeetingKind.PARTY_LECTURE, lecturer_id__in=secretaries,
                                                          starts_at__gte=start, starts_at__lt=end)
                                   .values_list("lecturer_id").annotate(**running_all).order_by()):
            lectures_by[lecturer_id] = [0, *upto]
    _discount_short_of_quorum(orgs, scope, year, in_year_or_for_it, covered_by, notes_by)

    def posts_on(org_id: int, day: dt.date) -> list[dict]:
        return [p for p in posts_by_org.get(org_id, ()) if p["start"] <= day and (p["end"] is None or p["end"] > day)]

    # The rules in effect at each month's end that close a period that month, per kind of
    # organisation they apply to, in month order: (month, requirement, the period's first month).
    due: dict[str, list[tuple[int, Requirement, int]]] = defaultdict(list)
    for month in range(1, 13):
        for req in orglife_rules.requirements(month_end(year, month)):
            if month % PERIOD_MONTHS[req.period] == 0:
                due[req.applies_to].append((month, req, month - PERIOD_MONTHS[req.period] + 1))
    ends = {m: month_end(year, m) for m in range(1, 13)}
    year_start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    table = ComplianceTable(year=year, rows=[])
    for org in orgs:
        row, pk = OrgCompliance(org), org.pk  # pk once: a city's matrix reads it for 90,000 cells
        # Live all year: every period is owed (see _live_for_most_of), nothing to work out per cell.
        live_all_year = org.founded_on <= year_start and (org.dissolved_on is None or org.dissolved_on > year_end)
        for month, req, first in due.get(org.kind, ()):
            period_start, period_end = dt.date(year, first, 1), ends[month]
            form = req.form
            notes: list[str] = []
            if req.key in orglife_rules.SECRETARY_LECTURE_KEYS:
                held = 0
                for p in posts_on(pk, period_end):
                    if p["role"] == Appointment.Role.SECRETARY:
                        sums = lectures_by.get(p["member_id"], zero)
                        held += sums[month] - sums[first - 1]
            elif form in yearly and req.period == "year":
                held = covered_by.get((pk, form), 0)
                notes = [*notes_by.get((pk, form), ()),
                         *(_via(main, day) for day, main, covers in via_by.get((pk, form), ())
                           if (covers if covers is not None else day.year) == year)]
            else:
                sums = held_by.get((pk, form), zero)
                held = sums[month] - sums[first - 1]
                vias = via_by.get((pk, form))  # most cells have none: no list built for them (a city: 74,000)
                notes = ([_via(main, day) for day, main, _covers in vias if period_start <= day <= period_end]
                         if vias else [])
            live = live_all_year or _live_for_most_of(org, period_start, period_end)
            if live and req.when == "has_committee" and len(posts_on(pk, period_end)) < COMMITTEE_MINIMUM:
                live = False
            if not live:
                state = "exempt"
            elif held >= req.minimum:
                state = "held"
            elif period_start > today:
                state = "future"
            elif period_end >= today:
                state = "due"
            else:
                state = "missing"
            row.cells.append(Cell(req, period_start, period_end, held, state, notes))
        if any(c.state != "exempt" for c in row.cells):
            table.rows.append(row)
    return table


# ---------------------------------------------------------------- decisions (三重一大)

SANZHONGYIDA = {AgendaItem.Category.MAJOR_MATTER, AgendaItem.Category.KEY_APPOINTMENT,
                AgendaItem.Category.MAJOR_PROJECT, AgendaItem.Category.LARGE_FUND}
# Matters that need the stricter quorum (⅔) where the body has one (党组, 党委).
STRICT_QUORUM = {AgendaItem.Category.KEY_APPOINTMENT, AgendaItem.Category.APPOINTMENT,
                 AgendaItem.Category.DISCIPLINE}


def _attendance_counts(meeting: str = "pk") -> dict:
    """应到, 实到, and the same for those with 表决权, counted from the attendance rows of the meeting
    at `meeting` (an outer reference). Each is a subquery per row, not COUNT(DISTINCT) over a join:
    the database cuts the page first and counts for the rows on it, so a page of 50 reads 50
    meetings' rows whatever the scope holds (a join counted a city's 2.3 million rows, issue 11)."""
    def count(**filters):
        rows = (Attendance.objects.filter(meeting=OuterRef(meeting), **filters).order_by().values("meeting")
                .annotate(n=Count("pk")).values("n"))
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    return {"expected": count(), "present": count(present=True), "voters_expected": count(has_vote=True),
            "voters_present": count(present=True, has_vote=True)}


def decision_items(items: QuerySet[AgendaItem]) -> QuerySet[AgendaItem]:
    """Agenda items joined with their meeting and annotated with 应到 and 实到, of everyone and of
    those with 表决权 (one query)."""
    return items.select_related("meeting", "meeting__organization").annotate(**_attendance_counts("meeting"))


@dataclass(frozen=True)
class Quorum:
    """Whether a meeting had the members with 表决权 its rules of procedure need to be held."""

    met: bool
    present: int
    expected: int
    rule: object  # core.rules.Rule

    @property
    def text(self) -> str:
        if self.met:
            return f"有表决权的到会 {self.present}/{self.expected} 人，达到法定人数"
        return (f"有表决权的到会 {self.present}/{self.expected} 人，未超过半数：会议不能召开，本次会议的表决无效"
                if orglife_rules.share(self.rule) <= Fraction(1, 2) else
                f"有表决权的到会 {self.present}/{self.expected} 人，未达到法定人数：会议不能召开，本次会议的表决无效")

    @property
    def source(self) -> str:
        return self.rule.citation


def meeting_quorum(meeting: Meeting, *, voters_expected: int, voters_present: int) -> Quorum | None:
    """The meeting's quorum by its body's rule, on its day; None where no rule applies (a meeting
    that decides nothing by vote, a 局长办公会, a day before the rule). Reads `organization`."""
    day = timezone.localtime(meeting.starts_at).date()
    procedure = orglife_rules.procedure(meeting.kind, meeting.organization.kind, day)
    if procedure is None or procedure.quorum is None or not voters_expected:
        return None
    return Quorum(orglife_rules.quorate(voters_present, voters_expected, procedure.quorum),
                  voters_present, voters_expected, procedure.quorum)


def row_quorum(row) -> Quorum | None:
    """`meeting_quorum` for a row annotated by `meeting_rows` (or an item's meeting by `decision_items`)."""
    meeting = row if isinstance(row, Meeting) else row.meeting
    return meeting_quorum(meeting, voters_expected=row.voters_expected, voters_present=row.voters_present)


def decision_flags(item: AgendaItem) -> tuple[bool | None, list[Notice]]:
    """(passed, rule flags) for one annotated item, by the rules of its body (党员大会, 支委会,
    党委会, 党组会, 局长办公会). A decision that breaks a rule is flagged with the rule and its
    source, never refused. `passed` is None when no vote was recorded, and when the vote is void:
    a meeting without its quorum could not be held, so every vote at it is void; an item needing
    the ⅔ quorum without it was not validly decided."""
    day = timezone.localtime(item.meeting.starts_at).date()
    procedure = orglife_rules.procedure(item.meeting.kind, item.meeting.organization.kind, day)
    if procedure is None or (procedure.quorum, procedure.pass_mark, procedure.categories) == (None, None, None):
        return None, []  # decided before the rules of procedure took effect: nothing to check against
    expected = getattr(item, "voters_expected", item.expected)
    present = getattr(item, "voters_present", item.present)
    flags = []
    void = False
    if procedure.quorum is not None and expected and not orglife_rules.quorate(present, expected, procedure.quorum):
        void = True
        need = orglife_rules.share(procedure.quorum)
        flags.append(Notice(procedure.quorum.code,
                            f"到会 {present}/{expected} 人（有表决权），未达到法定人数（须超过应到会的{need}）：会议不能召开，表决无效",
                            source=procedure.quorum.citation))
    elif (procedure.strict_quorum is not None and item.category in STRICT_QUORUM and expected
          and not orglife_rules.quorate(present, expected, procedure.strict_quorum)):
        void = True
        need = orglife_rules.share(procedure.strict_quorum)
        flags.append(Notice(procedure.strict_quorum.code,
                            f"到会 {present}/{expected} 人，未达到应到会成员{need}以上的法定人数：该议题不能作出决定，表决无效",
                            source=procedure.strict_quorum.citation))
    passed = None
    if item.votes_for is not None and not void and procedure.pass_mark is not None:
        passed = orglife_rules.passes(item.votes_for, expected, procedure.pass_mark)
    elif item.votes_for is not None and not void and procedure.body == "leadership_meeting":
        passed = item.votes_for * 2 > expected
    elif item.votes_for is None and item.category in SANZHONGYIDA:
        rule = procedure.pass_mark or procedure.categories
        flags.append(Notice("decision.no_vote", "“三重一大”事项未记录表决结果，无法证明经集体决策",
                            source=rule.citation if rule else ""))
    chair = procedure.chair_speaks_last
    if chair is not None and not item.chair_spoke_last and item.category != AgendaItem.Category.ORDINARY:
        flags.append(Notice("decision.chair_not_last", "主持人未末位表态", source=chair.citation))
    threshold = orglife_rules.large_fund_threshold(day)
    if item.amount is not None and item.amount >= threshold and item.category not in SANZHONGYIDA:
        from dangjian.core import rules

        flags.append(Notice("decision.large_fund_threshold",
                            f"金额 {item.amount} 万元达到大额度资金标准（{threshold} 万元），应按“三重一大”事项决策",
                            source=rules.rule("decision.large_fund_threshold", on=day).citation))
    return passed, flags


def meeting_flags(meeting: Meeting, *, expected: int, present: int) -> list[Notice]:
    """What a recorded meeting lacks under a rule that lets it stand but not count: a 民主生活会 with
    fewer than ⅔ of the leading group present. The record is kept (it happened), flagged here and
    left out of the count (see compliance)."""
    day = timezone.localtime(meeting.starts_at).date()
    flags = []
    for req in orglife_rules.requirements(day):
        if req.quorum and req.kind == meeting.kind and expected:
            from fractions import Fraction

            if present < Fraction(req.quorum) * expected:
                flags.append(Notice(f"orglife.required.{req.key}",
                                    f"到会 {present}/{expected} 人，未达到应到会人数的{req.quorum}：本次{req.label}不计入当年要求",
                                    source=req.source))
    return flags


# ---------------------------------------------------------------- contact points

# Leaders in pinyin order of their names (as the member list), then their branches in tree order.
CONTACT_POINT_ORDER = ("leader__name_key", "organization__path", "id")


def contact_points(points: QuerySet[ContactPoint], *, year: int) -> QuerySet[ContactPoint]:
    """Each leader's contact branch for the year, with how many of the branch's study sessions that
    year the leader joined (as a guest or as an attendee) and how many it held (the kinds are rule
    data: contact_point.study_kinds). One query; a page cut with `core.cursors.page_after` counts
    for its own rows only."""
    start, end = year_range(year)
    study_kinds = orglife_rules.contact_study_kinds(dt.date(year, 12, 31))
    # The branch's study sessions (每周五下午的学习活动): its 主题党日 and 党课, and meetings that also
    # served as one; not its 支委会 or a 党员大会 that decided a matter.
    branch_meetings = Meeting.objects.filter(
        Q(kind__in=study_kinds) | Exists(MeetingAlsoCounts.objects.filter(meeting=OuterRef("pk"), kind__in=study_kinds)),
        organization=OuterRef("organization"), starts_at__gte=start, starts_at__lt=end)
    joined = branch_meetings.filter(
        Q(Exists(Guest.objects.filter(meeting=OuterRef("pk"), member=OuterRef(OuterRef("leader")))))
        | Q(Exists(Attendance.objects.filter(meeting=OuterRef("pk"), member=OuterRef(OuterRef("leader")),
                                             present=True))))
    def count_of(qs):
        counted = qs.order_by().values("organization").annotate(c=Count("pk")).values("c")[:1]
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    return (points.filter(year=year).select_related("leader", "organization")
            .annotate(meetings_held=count_of(branch_meetings), meetings_joined=count_of(joined))
            .order_by(*CONTACT_POINT_ORDER))


def meeting_rows(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Meetings with 应到 and 实到 (of everyone and of those with 表决权) counted in the same
    query, for lists; `row_quorum(row)` then says whether each had its quorum."""
    return meetings.select_related("organization").annotate(**_attendance_counts())


def study_sessions(meetings: QuerySet[Meeting], tag: str) -> QuerySet[Meeting]:
    return meetings.filter(study_tags__name=tag)


def meetings_in_year(meetings: QuerySet[Meeting], year: int) -> QuerySet[Meeting]:
    start, end = year_range(year)
    return meetings.filter(starts_at__gte=start, starts_at__lt=end)



# ---------------------------------------------------------------- lists shared by pages and the API

def meeting_list(user, *, organization: Organization | None = None, year: int | None = None, kind: str = "",
                 study_tag: str = "") -> QuerySet[Meeting]:
    """The meetings the user may see (VIEW_MEETINGS), optionally cut to an organisation's subtree (as
    far as the user's grants reach), a year, a kind and a study tag. Not yet ordered or counted: the
    caller cuts its page, then `meeting_rows` counts attendance for the rows on it."""
    meetings = (policy.records_under(user, Meeting, Perm.VIEW_MEETINGS, organization) if organization is not None
                else policy.records(user, Meeting, Perm.VIEW_MEETINGS))
    if kind:  # the meetings of the kind and those that also served as one
        meetings = meetings.filter(Q(kind=kind) | Exists(MeetingAlsoCounts.objects.filter(
            meeting=OuterRef("pk"), kind=kind)))
    if year:
        meetings = meetings_in_year(meetings, year)
    if study_tag:
        meetings = meetings.filter(Exists(Meeting.study_tags.through.objects.filter(
            meeting=OuterRef("pk"), studytag__name=study_tag)))
    return meetings


def decision_register(user, *, organization: Organization | None = None, year: int | None = None,
                      category: str = "") -> QuerySet[AgendaItem]:
    """Agenda items of meetings the user may read decisions of (VIEW_DECISIONS), optionally cut to an
    organisation's subtree, a year and a category ("sanzhongyida" = the four 三重一大 categories)."""
    meetings = (policy.records_under(user, Meeting, Perm.VIEW_DECISIONS, organization) if organization is not None
                else policy.records(user, Meeting, Perm.VIEW_DECISIONS))
    items = AgendaItem.objects.filter(meeting__in=meetings)
    if year:
        start, end = year_range(year)
        items = items.filter(meeting__starts_at__gte=start, meeting__starts_at__lt=end)
    if category == "sanzhongyida":
        items = items.filter(category__in=SANZHONGYIDA)
    elif category:
        items = items.filter(category=category)
    return items


def nameable_leaders(user, perm: Perm = Perm.RECORD_MEETINGS, *, organization: Organization | None = None,
                     year: int | None = None, within: Organization | None = None) -> QuerySet[Member]:
    """Leaders the user may name on a record though they may not see them as members: the members of
    a 党组 the user holds `perm` on, and the leaders whose 党建联系点 is an organisation the user holds
    `perm` on (only `organization`'s, and only for `year`, when given; only in `within`'s subtree,
    e.g. one bureau of a city, when given). Never another bureau's."""
    scope = (policy.organization_ids(user, perm) if within is None
             else policy.organizations_under(user, perm, within).values("pk"))
    # Two subqueries united, not an OR across joins with DISTINCT (which read every member and post).
    in_group = Appointment.objects.filter(organization__kind=Organization.Kind.LEADING_GROUP, end__isnull=True,
                                          organization__in=scope).values("member_id")
    points = ContactPoint.objects.filter(organization__in=scope)
    if organization is not None:
        points = points.filter(organization=organization)
    if year is not None:
        points = points.filter(year=year)
    return Member.objects.filter(pk__in=in_group.union(points.values("leader_id"))).order_by("name")


def nameable_people(user, *, organization: Organization | None = None, meeting: Meeting | None = None,
                    year: int | None = None) -> QuerySet[Member]:
    """Whom the user may name on a meeting record (host, recorder, lecturer, guests): the members
    they may see, the leaders of `nameable_leaders` (for `organization` and `year` when given), and
    whoever the record (`meeting`) already names. The one answer to "whom may I name", used by the
    meeting form and the API alike; a form may narrow it further to offer a short list."""
    allowed = policy.member_q(user) | Q(pk__in=nameable_leaders(user, organization=organization, year=year)
                                        .order_by().values("pk"))
    if meeting is not None:
        allowed |= (Q(pk__in={meeting.host_id, meeting.recorder_id, meeting.lecturer_id} - {None})
                    | Q(pk__in=meeting.guests.exclude(member=None).values("member_id"))
                    | Q(pk__in=meeting.attendances.values("member_id")))
    return Member.objects.filter(allowed)


# ---------------------------------------------------------------- 谈心谈话 and 双重组织生活

@dataclass
class TalkCoverage:
    """One committee member's 谈心谈话 for a year: whom of the committee and the members they have
    not yet talked with (支部工作条例 第十九条: each at least once a year)."""

    member: Member
    talks: int
    missing_committee: list[Member]
    missing_members: list[Member]

    @property
    def complete(self) -> bool:
        return not self.missing_committee and not self.missing_members


def heart_talk_coverage(organization: Organization, *, year: int, today: dt.date) -> list[TalkCoverage]:
    """Per committee member of `organization` in `year` (posts open at the year's end, or today in
    the current year): the talks they had and whom they still owe one. Three queries: the posts,
    the members, the talks."""
    from dangjian.organizations.selectors import memberships_on, open_on
    from dangjian.orglife.models import HeartTalk

    day = min(today, dt.date(year, 12, 31))
    committee = [a.member for a in Appointment.objects.filter(open_on(day), organization=organization)
                 .select_related("member").order_by("start", "pk")]
    members = [m.member for m in memberships_on(organization, day).order_by("member__name", "member_id")]
    pairs: dict[int, set[int]] = defaultdict(set)
    for first, second in HeartTalk.objects.filter(organization=organization, held_on__year=year).values_list(
            "first_id", "second_id"):
        pairs[first].add(second)
        pairs[second].add(first)
    rows = []
    for person in dict.fromkeys(committee):
        talked = pairs.get(person.pk, set())
        rows.append(TalkCoverage(
            member=person, talks=len(talked),
            missing_committee=[m for m in committee if m.pk != person.pk and m.pk not in talked],
            missing_members=[m for m in members if m.pk != person.pk and m.pk not in talked
                             and m.pk not in {c.pk for c in committee}]))
    return rows


def talk_people(organization: Organization):
    """Everyone who has belonged to `organization` (or a cell inside it), by name: the people a
    谈心谈话 may be recorded between (the service checks they belonged on the day)."""
    return (Member.objects.filter(pk__in=Membership.objects.filter(organization__in=subtree_ids(organization))
                                  .values("member_id")).order_by("name", "pk"))


@dataclass
class DualLife:
    """A 党员领导干部 of a 党组 and the 组织生活会 of their own branch they attended as an ordinary
    member (党章 第八条: 双重组织生活), for one year; `meetings` empty when they did not. `short` names
    the periods (of the rule orglife.dual_life) with fewer than its minimum, `required` says the rule."""

    member: Member
    meetings: list[tuple[dt.date, str]]
    short: list[str] = field(default_factory=list)
    required: str = ""

    @property
    def met(self) -> bool:
        return not self.short


PERIOD_WORDS = {"year": "每年", "quarter": "每季度", "month": "每月"}


def _periods_owed(year: int, period: str, day: dt.date) -> list[tuple[int, str]]:
    """The periods of `year` begun by `day`, as (first month, label): (1, "2026年") for a year."""
    if period == "year":
        return [(1, f"{year}年")]
    step = 3 if period == "quarter" else 1
    return [(m, f"{year}年第{(m - 1) // 3 + 1}季度" if step == 3 else f"{year}年{m}月") for m in range(1, 13, step)
            if dt.date(year, m, 1) <= day]


def dual_life(leading_group: Organization, *, year: int, today: dt.date) -> list[DualLife]:
    """Each member of the 党组 (posts open at the year's end, or today in the current year) with the
    branch 组织生活会 for `year` (by 所属年度; a meeting that also counted as one counts) they were
    present at, derived from attendance, checked against orglife.dual_life (its period and minimum:
    a meeting held in the next year for this one counts in the year's last period). Two queries."""
    from dangjian.organizations.selectors import open_on

    day = min(today, dt.date(year, 12, 31))
    rule = orglife_rules.dual_life(day)
    if rule is None:  # a year before the rule: nothing owed, nothing to list
        return []
    period, minimum = rule
    leaders = [a.member for a in Appointment.objects.filter(open_on(day), organization=leading_group)
               .select_related("member").order_by("start", "pk")]
    olm = MeetingKind.ORGANIZATIONAL_LIFE_MEETING
    start, end = year_range(year)
    attended: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for member_id, at, org_name in (
            Attendance.objects.filter(member__in=[m.pk for m in leaders], present=True)
            .filter(Q(meeting__kind=olm) | Q(meeting__also_counts__kind=olm))
            .filter(Q(meeting__covers_year=year) | Q(meeting__covers_year__isnull=True, meeting__starts_at__gte=start,
                                                    meeting__starts_at__lt=end))
            .exclude(meeting__organization=leading_group)
            .values_list("member_id", "meeting__starts_at", "meeting__organization__name").distinct()
            .order_by("meeting__starts_at")):
        attended[member_id].append((timezone.localtime(at).date(), org_name))
    owed = _periods_owed(year, period, day)
    firsts = [first for first, _label in owed]
    required = f"{PERIOD_WORDS.get(period, period)}至少{minimum}次"
    rows = []
    for m in dict.fromkeys(leaders):
        meetings = attended.get(m.pk, [])
        counts = defaultdict(int)
        for held, _name in meetings:  # into the last period begun by the meeting (or the year's last)
            month = held.month if held.year == year else 12
            counts[max((f for f in firsts if f <= month), default=firsts[0])] += 1
        rows.append(DualLife(member=m, meetings=meetings, required=required,
                             short=[label for first, label in owed if counts[first] < minimum]))
    return rows
