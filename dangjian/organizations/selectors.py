"""Reads for organisations and members. Each selector returns scoped, joined querysets or plain
rows computed in a fixed number of queries whatever the data size."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core import rules
from dangjian.core.dates import add_months
from dangjian.core.identity import mask_id_number, mask_phone
from dangjian.core.notices import Notice
from dangjian.organizations.models import Appointment, Member, Membership, Organization, ProbationPeriod

ACTIVE = Q(status=Member.Status.ACTIVE)


def current_secretary_subquery(on_field: str = "pk") -> Subquery:
    """Name of the organisation's current secretary (one correlated subquery, no extra round trip)."""
    return Subquery(
        Appointment.objects.filter(organization=OuterRef(on_field), role=Appointment.Role.SECRETARY,
                                   end__isnull=True)
        .order_by("-start").values("member__name")[:1]
    )


@dataclass
class OrgRow:
    """One organisation of the tree, with its figures and what the rules say about it."""

    org: Organization
    depth: int
    direct_full: int
    direct_probationary: int
    committee_size: int
    secretary: str | None
    full: int = 0
    probationary: int = 0
    findings: list[Notice] = field(default_factory=list)

    @property
    def members(self) -> int:
        return self.full + self.probationary


def organization_rows(user, *, today: dt.date, include_dissolved: bool = False) -> list[OrgRow]:
    """The organisations the user may see, in tree order, with member counts summed over each
    subtree, the current secretary and the branch rules' findings. Two queries."""
    orgs = policy.organizations(user)
    if not include_dissolved:
        orgs = orgs.filter(dissolved_on__isnull=True)
    orgs = orgs.annotate(
        direct_full=Count("members", filter=Q(members__status=Member.Status.ACTIVE,
                                               members__category=Member.Category.FULL), distinct=True),
        direct_probationary=Count("members", filter=Q(members__status=Member.Status.ACTIVE,
                                                      members__category=Member.Category.PROBATIONARY), distinct=True),
        committee_size=Count("appointments", filter=Q(appointments__end__isnull=True), distinct=True),
        secretary=current_secretary_subquery(),
    ).order_by("path")
    rows = [OrgRow(o, o.depth, o.direct_full, o.direct_probationary, o.committee_size, o.secretary) for o in orgs]
    # Sum members up the tree: rows are in path order, so each row's subtree follows it directly.
    by_path = {r.org.path: r for r in rows}
    for r in rows:
        for depth in range(1, r.depth + 1):
            ancestor = by_path.get(r.org.path[: depth * Organization.steplen])
            if ancestor is not None:
                ancestor.full += r.direct_full
                ancestor.probationary += r.direct_probationary
    for r in rows:
        r.findings = organization_findings(r, today=today)
    return rows


def organization_findings(row: OrgRow, *, today: dt.date) -> list[Notice]:
    """What the branch and term rules (rule data, with sources) say about one organisation."""
    org, found = row.org, []

    def breach(code: str, text: str, level: str = "danger", due: dt.date | None = None, rule: str | None = None):
        found.append(Notice(code, text, level, rules.rule(rule or code, on=today).citation, due))

    if org.kind == Organization.Kind.BRANCH and not org.dissolved_on:
        minimum = rules.value("branch.min_full_members", on=today)
        maximum = rules.value("branch.max_members", on=today)
        threshold = rules.value("branch.committee_threshold", on=today)
        low, high = rules.value("branch.committee_min", on=today), rules.value("branch.committee_max", on=today)
        if row.full < minimum:
            breach("branch.min_full_members", f"正式党员 {row.full} 人，少于成立党支部所需的 {minimum} 人")
        if row.members > maximum:
            breach("branch.max_members", f"党员 {row.members} 人，超过一般上限 {maximum} 人，宜分设党支部", "warning")
        if row.full >= threshold and not (low <= row.committee_size <= high):
            breach("branch.committee_threshold",
                   f"正式党员 {row.full} 人（≥{threshold}），应设支部委员会 {low}–{high} 人，现有 {row.committee_size} 人",
                   "warning")
    if org.kind != Organization.Kind.CELL and not org.dissolved_on and not row.secretary:
        found.append(Notice("organization.no_secretary", "未配备书记"))
    if org.term_end and not org.dissolved_on:
        months = rules.value("term.reminder_months", on=today)
        if org.term_end < today:
            breach("term.expired", f"任期已于 {org.term_end:%Y-%m-%d} 届满，应及时换届", due=org.term_end,
                   rule=f"term.years.{org.kind}")
        elif org.term_end <= add_months(today, months):
            breach("term.reminder_months", f"任期将于 {org.term_end:%Y-%m-%d} 届满，请筹备换届", "warning",
                   due=org.term_end)
    return found


def member_queryset(user, *, q: str = "", organization: Organization | None = None, category: str = "",
                    status: str = Member.Status.ACTIVE) -> QuerySet[Member]:
    """The members the user may see, filtered, joined with what the list shows."""
    members = policy.members(user).select_related("organization", "unit")
    if organization is not None:
        members = members.filter(organization__path__startswith=organization.path)
    if category:
        members = members.filter(category=category)
    if status:
        members = members.filter(status=status)
    if q:
        members = members.filter(Q(name__contains=q) | Q(post__contains=q) | Q(unit__name__contains=q))
    return members


# The member list's order and keyset: pinyin order by the stored key (collation.name_key), the id
# breaking ties; a cursor is (name_key, id), see core.cursors. Served by member_org_list_idx.
MEMBER_ORDER = ("name_key", "id")
MEMBER_CURSOR = (str, int)


def keyset_page(members: QuerySet[Member], *, after: tuple[str, int] | None, size: int = 50):
    """One page in pinyin order of names (name_key, id), starting after the position `after`
    (decoded with `core.cursors.decode_cursor(…, MEMBER_CURSOR)`): constant cost at any depth,
    unlike OFFSET. Returns (rows, next position or None); the page and the API encode it with
    `encode_cursor`."""
    members = members.order_by(*MEMBER_ORDER)
    if after is not None:
        key, pk = after
        members = members.filter(Q(name_key__gt=key) | Q(name_key=key, id__gt=pk))
    rows = list(members[: size + 1])
    next_position = (rows[size - 1].name_key, rows[size - 1].pk) if len(rows) > size else None
    return rows[:size], next_position


def member_total(members: QuerySet[Member]) -> int:
    """How many members the filtered list holds in all pages (共 N 人): one COUNT over the same
    scope and filters, without the joins the rows need."""
    return members.select_related(None).order_by().count()


@dataclass(frozen=True)
class ShownNumbers:
    """What one reader sees of one member's numbers."""

    id_number: str  # always masked (core.identity.mask_id_number)
    birth_date: dt.date | None  # None: the reader sees the birth year only
    phone: str  # full, or masked (core.identity.mask_phone)


def member_numbers(user, member: Member) -> ShownNumbers:
    """The one masking decision for a member's numbers, used by the member pages and the API.

    - ID number: masked for every reader, the member themself included. The full number is shown
      only by the audited reveal on the member page (a reason is asked and logged:
      `services.member_reveal_id_number`), open to holders of `Perm.UNMASK_ID` and to the member.
      The API has no such step, so it never gives the full number.
    - Birth date: to the member themself only; others see the birth year. With the birth date
      beside it, the mask (first 4 and last 2 characters) leaves only the district and sequence
      digits to guess: a few thousand candidates, fewer with the gender.
    - Phone: full with `Perm.SEE_PHONE` on the member (the member has it on their own record),
      masked otherwise.

    Decided from the caller's cached grants: no query, so a page of rows costs nothing more."""
    own = user.is_authenticated and user.member_id == member.pk
    see_phone = policy.can_on_member(user, member, Perm.SEE_PHONE)
    return ShownNumbers(
        id_number=mask_id_number(member.id_number),
        birth_date=member.birth_date if own else None,
        phone=member.phone if see_phone else mask_phone(member.phone),
    )


def label_organizations(orgs) -> None:
    """Give each organisation a `display_name`: a cell's name alone ("第一党小组") is ambiguous, so
    cells read "城东分局第一党支部 · 第一党小组". One query for all the parents, whatever the count."""
    orgs = [o for o in orgs if o is not None]
    parent_paths = {o.path[: -Organization.steplen] for o in orgs if o.kind == Organization.Kind.CELL}
    parents = dict(Organization.objects.filter(path__in=parent_paths).values_list("path", "name")) if parent_paths else {}
    for o in orgs:
        parent = parents.get(o.path[: -Organization.steplen]) if o.kind == Organization.Kind.CELL else None
        o.display_name = f"{parent} · {o.name}" if parent else o.name


def open_on(day: dt.date) -> Q:
    """A dated stay or post (start, end) that is open on `day`: the one definition every
    "who belonged / who held the post on day D" question uses."""
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gt=day))


def memberships_on(organization: Organization, day: dt.date) -> QuerySet[Membership]:
    """Who belonged to `organization` (or a cell inside it) on `day`."""
    return (Membership.objects.filter(open_on(day), organization__path__startswith=organization.path)
            .select_related("member", "organization"))


def appointments_on(organization: Organization, day: dt.date) -> QuerySet[Appointment]:
    """Posts held in `organization` itself (not below it) on `day`, with their members: the
    secretary first, then deputies, then committee members, each by start date."""
    rank = Case(When(role=Appointment.Role.SECRETARY, then=Value(0)),
                When(role=Appointment.Role.DEPUTY_SECRETARY, then=Value(1)), default=Value(2))
    return (Appointment.objects.filter(open_on(day), organization=organization).select_related("member")
            .order_by(rank, "start", "pk"))


def member_history(user, member: Member):
    """Stays and appointments of one member, for the detail page (3 queries), and the member's audit
    trail only for a reader who may read the audit trail (VIEW_AUDIT; one more query)."""
    from dangjian.audit.models import AuditEntry

    memberships = list(member.memberships.select_related("organization").order_by("start", "id"))
    label_organizations([member.organization] + [s.organization for s in memberships])
    audit = None
    if policy.has_perm(user, Perm.VIEW_AUDIT):
        audit = list(AuditEntry.objects.filter(object_type="organizations.member", object_id=str(member.pk))
                     .order_by("-seq")[:20])
    return {
        "memberships": memberships,
        "appointments": list(member.appointments.select_related("organization").order_by("start")),
        "audit": audit,
    }


def probationary_on(day: dt.date) -> Q:
    """Members who were 预备党员 on `day`: still probationary, or made full after it."""
    return Q(category=Member.Category.PROBATIONARY) | Q(full_on__gt=day)


def voters_on(member_ids, day: dt.date) -> set[int]:
    """Of `member_ids`, those with 表决权 on `day`: not 预备党员 (党章 第七条) and not under 留党察看
    (纪律处分条例), as far as the rule data says they have none. One query."""
    def rule_says_vote(code: str) -> bool:
        try:
            return bool(rules.value(code, on=day))
        except KeyError:  # before the rule: nobody loses the vote
            return True

    excluded = Q(pk__in=[])
    if not rule_says_vote("voting.probationary_members_vote"):
        excluded |= probationary_on(day)
    if not rule_says_vote("voting.members_on_probation_vote"):
        excluded |= Q(pk__in=ProbationPeriod.objects.filter(start__lte=day, end__gt=day).values("member_id"))
    return set(Member.objects.filter(pk__in=list(member_ids)).exclude(excluded).values_list("pk", flat=True))
