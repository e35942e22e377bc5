"""Reads for organisations and members. Each selector returns scoped, joined querysets or plain
rows computed in a fixed number of queries whatever the data size."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Func, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import RPad

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core import rules
from dangjian.core.dates import add_months
from dangjian.core.identity import mask_id_number, mask_phone
from dangjian.core.notices import Notice
from dangjian.organizations.models import Appointment, Member, Membership, Organization, ProbationPeriod

ACTIVE = Q(status=Member.Status.ACTIVE)
R = Appointment.Role
# The 委员 of a committee, with or without a named 分工 (the services' COMMITTEE_ROLES).
COMMITTEE_MEMBER_ROLES = (R.COMMITTEE_MEMBER, R.ORGANIZATION_MEMBER, R.PROPAGANDA_MEMBER, R.DISCIPLINE_MEMBER)
# Posts that make a committee: its 书记, 副书记 and 委员 (not a 党组成员, 组长 or 纪委书记).
COMMITTEE_SEATS = (R.SECRETARY, R.DEPUTY_SECRETARY, *COMMITTEE_MEMBER_ROLES)


def citation(code: str, on: dt.date) -> str:
    """The text a rule rests on as a reader names it: 《…》第二十条 (the article where it was read)."""
    return rules.rule(code, on=on).citation


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
    direct_full: int  # the organisation's own members: read for whole-scope rows only (0 with `among`)
    direct_probationary: int
    committee_size: int
    secretary: str | None
    full: int = 0
    committee_members: int = 0  # 委员 (with or without a named 分工), not 书记 or 副书记
    discipline_posts: int = 0  # 纪检委员 or 机关纪委书记
    cell_leaders: int = 0
    probationary: int = 0
    findings: list[Notice] = field(default_factory=list)

    @property
    def members(self) -> int:
        return self.full + self.probationary


def under_path(path) -> Q:
    """Organisations at or under the organisation whose path is `path` (an expression, typically an
    OuterRef): `path BETWEEN P AND rpad(P, 255, 'Z')`, P followed by the alphabet's last character as
    far as the column goes, so every path that starts with P lies in between: a range the path index
    answers. The same test as `path__startswith=OuterRef(…)`, whose LIKE pattern the database only
    knows row by row, so it reads every organisation of the city for each outer row (issue 11: the
    tree's subtree sums, 0.5 ms a row at 3,325 organisations on PostgreSQL). Exact because
    treebeard's alphabet (0-9, A-Z) sorts the same in every collation, which the tree's
    `order_by("path")` relies on too."""
    ceiling = RPad(path, Organization._meta.get_field("path").max_length, Value(Organization.alphabet[-1]),
                   output_field=CharField())
    return Q(path__gte=path, path__lte=ceiling)


def _count(rows: QuerySet) -> Subquery:
    """How many of `rows` (correlated with the outer organisation) there are: one subquery per
    outer row, so the rows are cut (limited, paged) before anything is counted, and no
    COUNT(DISTINCT …) runs over a members × appointments join."""
    return Subquery(rows.order_by().annotate(n=Func("pk", function="COUNT")).values("n")[:1])


def _subtree_count(visible: QuerySet, category: str) -> Subquery:
    """Active members of `category` in the outer organisation's subtree, counting only the
    organisations in `visible` (as the whole-tree sum does). One correlated subquery: the subtree
    as `organization_id IN (visible organisations in the path range)`."""
    subtree = visible.filter(under_path(OuterRef(OuterRef("path")))).values("pk")
    return _count(Member.objects.filter(ACTIVE, category=category, organization__in=subtree))


def organization_rows(user, *, today: dt.date, include_dissolved: bool = False, among: QuerySet | None = None,
                      limit: int | None = None) -> list[OrgRow]:
    """The organisations the user may see, in tree order, with member counts summed over each
    subtree, the current secretary and the branch rules' findings. One query.

    Every figure of a row is a correlated subquery (an indexed lookup on the organisation), never
    a count over joins, so the database cuts the rows first and counts for those kept.
    `among` (organisations, e.g. the tree's first levels or one node's children) keeps only those
    rows, at most `limit` of them: then each row's subtree sums come from a correlated subquery
    over the subtree's path range, so the work and the rows stay those of the page whatever the
    size of the user's scope. Without `among`, the whole scope: direct counts, summed up the tree
    here."""
    visible = policy.organizations(user)
    if not include_dissolved:
        visible = visible.filter(dissolved_on__isnull=True)
    orgs = visible if among is None else visible.filter(pk__in=among.values("pk"))
    if among is not None:
        orgs = orgs.annotate(subtree_full=_subtree_count(visible, Member.Category.FULL),
                             subtree_probationary=_subtree_count(visible, Member.Category.PROBATIONARY))
    else:
        own = Member.objects.filter(ACTIVE, organization=OuterRef("pk"))
        orgs = orgs.annotate(direct_full=_count(own.filter(category=Member.Category.FULL)),
                             direct_probationary=_count(own.filter(category=Member.Category.PROBATIONARY)))
    posts = Appointment.objects.filter(organization=OuterRef("pk"), end__isnull=True)
    orgs = orgs.annotate(
        committee_size=_count(posts.filter(role__in=COMMITTEE_SEATS)),
        committee_members=_count(posts.filter(role__in=COMMITTEE_MEMBER_ROLES)),
        discipline_posts=_count(posts.filter(role__in=(R.DISCIPLINE_MEMBER, R.DISCIPLINE_SECRETARY))),
        cell_leaders=_count(posts.filter(role=R.CELL_LEADER)),
        secretary=current_secretary_subquery(),
    ).order_by("path")
    if limit is not None:
        orgs = orgs[:limit]
    rows = [OrgRow(o, o.depth, getattr(o, "direct_full", 0), getattr(o, "direct_probationary", 0),
                   o.committee_size, o.secretary, committee_members=o.committee_members,
                   discipline_posts=o.discipline_posts, cell_leaders=o.cell_leaders) for o in orgs]
    if among is not None:
        for r in rows:
            r.full, r.probationary = r.org.subtree_full or 0, r.org.subtree_probationary or 0
    else:
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
    """What the size, committee and term rules (rule data, with sources) say about one organisation."""
    org, found = row.org, []

    def breach(code: str, text: str, level: str = "danger", due: dt.date | None = None, rule: str | None = None):
        found.append(Notice(code, text, level, citation(rule or code, today), due))

    live = not org.dissolved_on
    if org.kind == Organization.Kind.BRANCH and live:
        _branch_findings(row, today, breach)
    elif org.kind in (Organization.Kind.GENERAL_BRANCH, Organization.Kind.ORGAN_COMMITTEE) and live:
        _committee_findings(row, today, breach)
    if org.kind == Organization.Kind.CELL and live and not row.cell_leaders:
        breach("cell.no_leader", "未明确党小组组长", "warning", rule="cell.leader")
    if org.kind != Organization.Kind.CELL and live and not row.secretary:
        found.append(Notice("organization.no_secretary", "未配备书记"))
    if org.term_end and live:
        _term_findings(row, today, breach)
    return found


def _branch_findings(row: OrgRow, today: dt.date, breach) -> None:
    """支部工作条例 第四条 and 第二十条: at least 3 正式党员, about 50 members at most; 7 正式党员 or
    more: a committee of 3–5 (一般不超过 7); fewer: a 书记 (and 副书记) but no 委员."""
    minimum = rules.value("branch.min_full_members", on=today)
    maximum = rules.value("branch.max_members", on=today)
    threshold = rules.value("branch.committee_threshold", on=today)
    low, usual = rules.value("branch.committee_min", on=today), rules.value("branch.committee_max", on=today)
    ceiling = rules.value("branch.committee_ceiling", on=today)
    if row.full < minimum:
        breach("branch.min_full_members", f"正式党员 {row.full} 人，少于成立党支部所需的 {minimum} 人")
    if row.members > maximum:
        breach("branch.max_members", f"党员 {row.members} 人，超过一般上限 {maximum} 人，宜分设党支部", "warning")
    if row.full >= threshold and row.committee_size < low:
        breach("branch.committee_threshold",
               f"正式党员 {row.full} 人，应设支部委员会 {low}–{usual} 人，现有 {row.committee_size} 人", "warning",
               rule="branch.committee_ceiling")  # the article read (第二十条) sets both
    elif row.full >= threshold and row.committee_size > ceiling:
        breach("branch.committee_threshold",
               f"支部委员会 {row.committee_size} 人，超过一般上限 {ceiling} 人", "warning", rule="branch.committee_ceiling")
    if row.full < threshold and row.committee_members:
        breach("branch.no_committee",
               f"正式党员 {row.full} 人，不足 {threshold} 人，只设书记（必要时设副书记），不设委员，现有委员 "
               f"{row.committee_members} 人", "warning", rule="branch.small_deputy_max")


def _committee_findings(row: OrgRow, today: dt.date, breach) -> None:
    """A 总支 serves 50–100 members (机关基层组织工作条例 第六条) with 5–7 委员; above 100 a 基层党委
    with 5–9 委员 (local practice); a 机关党委 has a 机关纪委 or a 纪检委员 (党章)."""
    kind = row.org.kind
    low, high = rules.value(f"{kind}.committee_min", on=today), rules.value(f"{kind}.committee_max", on=today)
    name = "总支委员会" if kind == Organization.Kind.GENERAL_BRANCH else "党委"
    if kind == Organization.Kind.GENERAL_BRANCH:
        ceiling = rules.value("general_branch.max_members", on=today)
        if row.members > ceiling:
            breach("general_branch.max_members", f"党员 {row.members} 人，超过 {ceiling} 人，宜设基层党委", "warning")
    if not low <= row.committee_size <= high:
        breach(f"{kind}.committee_size", f"{name}应有委员 {low}–{high} 人，现有 {row.committee_size} 人", "warning",
               rule=f"{kind}.committee_min")
    if kind == Organization.Kind.ORGAN_COMMITTEE and not row.discipline_posts:
        breach("organ_committee.discipline", "未设机关纪委或纪检委员", "warning")


def _term_findings(row: OrgRow, today: dt.date, breach) -> None:
    """换届: overdue after the term's end, unless within an approved extension; a reminder ahead."""
    org = row.org
    months = rules.value("term.reminder_months", on=today)
    end = max(org.term_end, org.term_extended_to or org.term_end)
    extended = end != org.term_end
    if end < today:
        text = (f"批准延期至 {end:%Y-%m-%d} 已过，应及时换届" if extended
                else f"任期已于 {org.term_end:%Y-%m-%d} 届满，应及时换届")
        breach("term.expired", text, due=end, rule=f"term.years.{org.kind}")
    elif extended and org.term_end < today:
        breach("term.extended", f"任期已于 {org.term_end:%Y-%m-%d} 届满，经批准延期至 {end:%Y-%m-%d}", "warning",
               due=end, rule="term.extension_max_months")
    elif end <= add_months(today, months):
        breach("term.reminder_months", f"任期将于 {end:%Y-%m-%d} 届满，请筹备换届", "warning", due=end)


def member_queryset(user, *, q: str = "", organization: Organization | None = None, category: str = "",
                    status: str = Member.Status.ACTIVE) -> QuerySet[Member]:
    """The members the user may see, filtered, joined with what the list shows."""
    members = policy.members(user).select_related("organization", "unit")
    if organization is not None:  # the subtree as `organization_id IN (subquery)`, not a join on the path
        members = members.filter(organization__in=subtree_ids(organization))
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
    - Birth date: to the member themself; others see the birth year. With the birth date beside
      it, the mask (first 4 and last 2 characters) leaves only the district and sequence digits to
      guess: a few thousand candidates, fewer with the gender. Holders of `Perm.UNMASK_ID` see it
      in full through the same audited reveal as the number (`views.member_reveal`).
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


def bureau_of(organization: Organization) -> Organization | None:
    """The bureau `organization` belongs to: the root of its tree or, under a city's 市直机关工委,
    the organisation below it (its 党组 or 机关党委); None for a 市直机关工委, which spans the
    bureaus. No query for a top-level organisation or a 党组 (always a bureau's root: its parent,
    if any, is a 市直机关工委, services.ALLOWED_PARENTS), one below them."""
    if organization.kind == Organization.Kind.WORKING_COMMITTEE:
        return None
    if organization.depth == 1 or organization.kind == Organization.Kind.LEADING_GROUP:
        return organization
    step = Organization.steplen
    top = list(Organization.objects.filter(path__in=[organization.path[:step], organization.path[:2 * step]])
               .order_by("depth"))
    return top[1] if top[0].kind == Organization.Kind.WORKING_COMMITTEE else top[0]


def open_on(day: dt.date) -> Q:
    """A dated stay or post (start, end) that is open on `day`: the one definition every
    "who belonged / who held the post on day D" question uses."""
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gt=day))


def subtree_ids(organization: Organization) -> QuerySet:
    """The ids of `organization` and everything under it, as a subquery: records are cut to a subtree
    with `organization_id IN (subtree_ids(…))`, which lets each record's own organisation index drive
    the query (a join on the organisation's path starts from the other side and reads the city)."""
    return Organization.objects.filter(path__startswith=organization.path).values("pk")


def memberships_on(organization: Organization, day: dt.date) -> QuerySet[Membership]:
    """Who belonged to `organization` (or a cell inside it) on `day`."""
    return (Membership.objects.filter(open_on(day), organization__in=subtree_ids(organization))
            .select_related("member", "organization"))


def appointments_on(organization: Organization, day: dt.date) -> QuerySet[Appointment]:
    """Posts held in `organization` itself (not below it) on `day`, with their members: the
    secretary first, then deputies, then committee members, each by start date."""
    rank = Case(When(role=Appointment.Role.SECRETARY, then=Value(0)),
                When(role=Appointment.Role.DEPUTY_SECRETARY, then=Value(1)),
                When(role__in=COMMITTEE_MEMBER_ROLES, then=Value(2)), default=Value(3))
    return (Appointment.objects.filter(open_on(day), organization=organization).select_related("member")
            .order_by(rank, "start", "pk"))


def member_history(user, member: Member):
    """Stays, appointments and 留党察看 periods of one member, for the detail page (4 queries), and
    the member's audit trail only for a reader who may read the audit trail (VIEW_AUDIT; one more
    query)."""
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
        "probation_periods": list(member.probation_periods.order_by("start")),
        "audit": audit,
    }


def probationary_on(day: dt.date) -> Q:
    """Members who were 预备党员 on `day`: still probationary, or made full after it."""
    return Q(category=Member.Category.PROBATIONARY) | Q(full_on__gt=day)


def _rule_says_vote(code: str, day: dt.date) -> bool:
    try:
        return bool(rules.value(code, on=day))
    except KeyError:  # before the rule: nobody loses the vote
        return True


def voters_on(member_ids, day: dt.date) -> set[int]:
    """Of `member_ids`, those with 表决权 on `day`: not 预备党员 (党章 第七条) and not under 留党察看
    (纪律处分条例), as far as the rule data says they have none. One query."""
    excluded = Q(pk__in=[])
    if not _rule_says_vote("voting.probationary_members_vote", day):
        excluded |= probationary_on(day)
    if not _rule_says_vote("voting.members_on_probation_vote", day):
        excluded |= Q(pk__in=ProbationPeriod.objects.filter(start__lte=day, end__gt=day).values("member_id"))
    return set(Member.objects.filter(pk__in=list(member_ids)).exclude(excluded).values_list("pk", flat=True))


def member_votes_on(member: Member, days) -> dict[dt.date, bool]:
    """Whether `member` had 表决权 on each of `days`, by the same rules as `voters_on` (the member's
    category and 转正 date as loaded). One query, whatever the number of days."""
    periods = list(member.probation_periods.values_list("start", "end"))
    votes = {}
    for day in days:
        probationary = member.category == Member.Category.PROBATIONARY or bool(member.full_on and member.full_on > day)
        on_probation = any(start <= day < end for start, end in periods)
        votes[day] = not ((probationary and not _rule_says_vote("voting.probationary_members_vote", day))
                          or (on_probation and not _rule_says_vote("voting.members_on_probation_vote", day)))
    return votes
