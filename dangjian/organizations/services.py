"""Writes to organisations, units, members and appointments. Each service validates, saves and
records its audit entry in one transaction, and raises ValidationError (Chinese messages) on bad
input with nothing saved."""

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Substr
from django.dispatch import Signal
from django.utils import timezone

from dangjian.audit.services import (
    Actor,
    AuditItem,
    audit_changes,
    audit_record,
    audit_record_many,
    audited_transition,
    audited_update,
    explained_conflict,
    present,
    snapshot,
)
from dangjian.core import rules
from dangjian.core.crypto import search_hash
from dangjian.core.dates import Precision, add_months, add_years, latest_day
from dangjian.core.identity import (
    normalize_id_number,
    normalize_person_name,
    normalize_phone,
    validate_id_number,
    validate_phone,
)
from dangjian.core.transitions import Workflow
from dangjian.core.updates import bump_version, check_version, model_update
from dangjian.organizations.collation import name_key
from dangjian.organizations.models import (
    Appointment,
    Member,
    Membership,
    Organization,
    OrganizationEvent,
    ProbationPeriod,
    Unit,
)
from dangjian.organizations.selectors import citation, open_on

ORG_FIELDS = ["code", "name", "kind", "founded_on", "dissolved_on", "term_start", "term_end"]
UNIT_FIELDS = ["code", "name", "kind", "organization"]
MEMBER_FIELDS = [
    "name", "gender", "ethnicity", "birth_date", "id_number", "joined_on", "joined_on_precision", "full_on",
    "full_on_precision", "category", "education", "post", "unit", "organization", "phone", "status",
]
# The member dates that may be incomplete (core/dates.py): each with its precision field.
MEMBER_PARTIAL_DATES = {"joined_on": "joined_on_precision", "full_on": "full_on_precision"}
# Which kinds may sit under which: the shape of a bureau's party tree.
ALLOWED_PARENTS = {
    Organization.Kind.WORKING_COMMITTEE: {None},  # the city's root
    Organization.Kind.LEADING_GROUP: {None, Organization.Kind.WORKING_COMMITTEE},
    Organization.Kind.ORGAN_COMMITTEE: {None, Organization.Kind.LEADING_GROUP, Organization.Kind.WORKING_COMMITTEE},
    Organization.Kind.GENERAL_BRANCH: {Organization.Kind.ORGAN_COMMITTEE, Organization.Kind.LEADING_GROUP},
    Organization.Kind.BRANCH: {Organization.Kind.ORGAN_COMMITTEE, Organization.Kind.GENERAL_BRANCH},
    Organization.Kind.CELL: {Organization.Kind.BRANCH},
}
R = Appointment.Role
# The 委员 of a committee (支委会, 总支委员会, 党委), with or without a named 分工.
COMMITTEE_ROLES = frozenset({R.COMMITTEE_MEMBER, R.ORGANIZATION_MEMBER, R.PROPAGANDA_MEMBER, R.DISCIPLINE_MEMBER})
# The posts each kind of organisation has: a 党组 its 书记, 副书记 and 党组成员 (not 委员); a 党小组
# its 组长; a 机关党委 may have a 机关纪委 (its 书记 recorded here) or a 纪检委员.
ROLES_BY_KIND = {
    Organization.Kind.WORKING_COMMITTEE: frozenset({R.SECRETARY, R.DEPUTY_SECRETARY}) | COMMITTEE_ROLES,
    Organization.Kind.LEADING_GROUP: frozenset({R.SECRETARY, R.DEPUTY_SECRETARY, R.LEADING_GROUP_MEMBER}),
    Organization.Kind.ORGAN_COMMITTEE: frozenset({R.SECRETARY, R.DEPUTY_SECRETARY, R.DISCIPLINE_SECRETARY})
    | COMMITTEE_ROLES,
    Organization.Kind.GENERAL_BRANCH: frozenset({R.SECRETARY, R.DEPUTY_SECRETARY}) | COMMITTEE_ROLES,
    Organization.Kind.BRANCH: frozenset({R.SECRETARY, R.DEPUTY_SECRETARY}) | COMMITTEE_ROLES,
    Organization.Kind.CELL: frozenset({R.CELL_LEADER}),
}
# The named 分工 of a 委员: which of them a 支委会 has is rule data (branch.committee_posts).
NAMED_POSTS = frozenset({R.ORGANIZATION_MEMBER, R.PROPAGANDA_MEMBER, R.DISCIPLINE_MEMBER})
# Records of later areas that depend on a member's 表决权 on a day (orglife's attendance rows) are
# brought up to date when a write changes it for days already past: a 留党察看 (no vote from `start`
# until `end`) or a 转正 dated in the past (a vote from `start` on, `end` None). Each such area
# connects a receiver to this signal (in its AppConfig.ready), called in the recording transaction
# with by=, member=, start=, end=, reason=, `reason` the Chinese note for its audit entries. This
# area may not import a later one (scripts/import-graph), so it reaches them through the signal.
voting_rights_changed = Signal()
# Committees elected by a 党员大会 (选举工作条例): their posts need 被选举权.
ELECTED_KINDS = {Organization.Kind.ORGAN_COMMITTEE, Organization.Kind.GENERAL_BRANCH, Organization.Kind.BRANCH}
# Posts held by one person at a time: a new holder ends the previous holder's post.
SINGLE_HOLDER_ROLES = {R.SECRETARY, R.CELL_LEADER, R.DISCIPLINE_SECRETARY}
# A post above others in the same organisation: whoever takes it no longer holds their posts below
# it there (a 副书记 promoted to 书记 is no longer 副书记; a 委员 made 副书记 no longer 委员).
SUPERSEDES = {
    R.SECRETARY: frozenset({R.DEPUTY_SECRETARY}) | COMMITTEE_ROLES,
    R.DEPUTY_SECRETARY: COMMITTEE_ROLES,
}
# Members are kept on branches and cells; the higher bodies are made of branches.
MEMBER_HOLDING_KINDS = {Organization.Kind.BRANCH, Organization.Kind.CELL}
# What an edit of a member may change: moving is a transfer, leaving the roster is `member_leave`.
MEMBER_EDITABLE = [name for name in MEMBER_FIELDS if name not in ("organization", "status")]

# The moves of the workflows below; anything else is refused with the message given.
S, C = Member.Status, Member.Category
# On the roster -> off it (转出本系统、去世、出党). The dated history of stays is `Membership`.
MEMBER_ROSTER = Workflow(
    subject="党员", labels=dict(S.choices), moves={S.ACTIVE: frozenset(S.values) - {S.ACTIVE}},
    refusal=lambda member, source, to: f"{member.name}已不在册。" if source != S.ACTIVE else "请选择离开花名册的原因。",
)
# 预备党员 -> 正式党员 (转正), once.
MEMBER_CATEGORY = Workflow(
    subject="党员", field="category", labels=dict(C.choices), moves={C.PROBATIONARY: frozenset({C.FULL})},
    refusal=lambda member, source, to: f"{member.name}已是正式党员。",
)
# An organisation is live until it has a dissolution date; 撤销 is final. Its events (成立, 调整,
# 换届, 撤销) are `OrganizationEvent` rows; only 撤销 changes its state.
ORGANIZATION_LIFE = Workflow(
    subject="党组织", field=None, state=lambda org: "dissolved" if org.dissolved_on else "live",
    labels={"live": "存续", "dissolved": "已撤销"}, moves={"live": frozenset({"dissolved"})},
    refusal=lambda org, source, to: f"“{org.name}”已于 {org.dissolved_on:%Y-%m-%d} 撤销。",
)


def _today() -> dt.date:
    return timezone.localdate()


def term_years(kind: str, on: dt.date) -> int | None:
    """Term length from rule data; None for kinds that are not elected (党组, 党小组)."""
    try:
        return int(rules.value(f"term.years.{kind}", on=on))
    except KeyError:
        return None


def _not_future(day: dt.date, label: str) -> None:
    if day > _today():
        raise ValidationError({label: "日期不能晚于今天。"})


# ---------------------------------------------------------------- organisations

def _new_organization_fields(code: str, name: str, kind: str, founded_on: dt.date) -> dict:
    """A new organisation's columns: its first term opens on its founding (for a kind with terms)."""
    years = term_years(kind, founded_on)
    return dict(code=code, name=name, kind=kind, founded_on=founded_on, term_start=founded_on if years else None,
                term_end=add_years(founded_on, years) if years else None)


@transaction.atomic
def organization_create(
    *, by: Actor, parent: Organization | None, code: str, name: str, kind: str, founded_on: dt.date,
    note: str = "", document_number: str = "",
) -> Organization:
    """Found an organisation under `parent`; opens its first term where the kind is elected."""
    code, name = code.strip(), name.strip()
    errors = {}
    if kind not in Organization.Kind.values:
        errors["kind"] = "请选择党组织类型。"
    elif (parent.kind if parent else None) not in ALLOWED_PARENTS[kind]:
        where = parent.get_kind_display() if parent else "顶层"
        errors["parent"] = f"{Organization.Kind(kind).label}不能设在{where}之下。"
    if not code:
        errors["code"] = "请填写编码。"
    elif Organization.objects.filter(code=code).exists():
        errors["code"] = f"编码 {code} 已被使用。"
    if not name:
        errors["name"] = "请填写名称。"
    if founded_on > _today():
        errors["founded_on"] = "成立日期不能晚于今天。"
    if parent and parent.dissolved_on:
        errors["parent"] = f"上级党组织“{parent.name}”已撤销。"
    if errors:
        raise ValidationError(errors)
    fields = _new_organization_fields(code, name, kind, founded_on)
    org = Organization.objects.add_child(parent, fields) if parent else Organization.objects.add_root(fields)
    OrganizationEvent.objects.create(organization=org, kind=OrganizationEvent.Kind.FOUNDED, on=founded_on,
                                     note=note, document_number=document_number)
    audit_record(by=by, action="organization.create", obj=org, after=snapshot(org, ORG_FIELDS), note=note)
    return org


@dataclass
class OrgRow:
    """One organisation for `organization_bulk_create`. `parent`: an organisation in the system, the
    code of an earlier row, or None (top level)."""

    code: str
    name: str
    kind: str
    founded_on: dt.date
    parent: "Organization | str | None" = None


@transaction.atomic
def organization_bulk_create(*, by: Actor, rows: list[OrgRow], note: str = "") -> dict[str, Organization]:
    """`organization_create` for a whole tree at once (a bureau brought in from a workbook): the
    same checks, then treebeard's `load_bulk` (bulk_create=True) under each organisation of the
    system that receives new ones: the first level is inserted in its sorted place, everything
    below it in one insert per 1,000, in code order as `node_order_by` keeps siblings. The FOUNDED
    events and one audit entry per organisation (as `organization_create` writes it) in bulk too.
    Returns the organisations by code."""
    if not rows:
        return {}
    errors: dict[str, str] = {}
    kinds: dict[str, str] = {}
    first = None  # the first row refused: its position goes with the error (`_refused`)
    for i, row in enumerate(rows):
        found = len(errors)
        row.code, row.name = row.code.strip(), row.name.strip()
        parent = row.parent
        parent_kind = parent.kind if isinstance(parent, Organization) else kinds.get(parent) if parent else None
        if row.kind not in Organization.Kind.values:
            errors.setdefault("kind", "请选择党组织类型。")
        elif isinstance(parent, str) and parent not in kinds:
            errors.setdefault("parent", f"上级党组织 {parent} 应在下级之前。")
        elif parent_kind not in ALLOWED_PARENTS[row.kind]:
            where = Organization.Kind(parent_kind).label if parent_kind else "顶层"
            errors.setdefault("parent", f"{Organization.Kind(row.kind).label}不能设在{where}之下。")
        elif isinstance(parent, Organization) and parent.dissolved_on:
            errors.setdefault("parent", f"上级党组织“{parent.name}”已撤销。")
        if not row.code:
            errors.setdefault("code", "请填写编码。")
        elif row.code in kinds:
            errors.setdefault("code", f"编码 {row.code} 重复。")
        if not row.name:
            errors.setdefault("name", "请填写名称。")
        if row.founded_on > _today():
            errors.setdefault("founded_on", "成立日期不能晚于今天。")
        kinds[row.code] = row.kind
        if first is None and len(errors) > found:
            first = i
    codes = list(kinds)
    for chunk in [] if errors else _chunks(codes):
        taken = Organization.objects.filter(code__in=chunk).values_list("code", flat=True).first()
        if taken:
            errors["code"], first = f"编码 {taken} 已被使用。", codes.index(taken)
            break
    if errors:
        raise _refused(ValidationError(errors), first)

    def node(row: OrgRow) -> dict:
        data = _new_organization_fields(row.code, row.name, row.kind, row.founded_on)
        below = sorted(children.get(row.code, ()), key=lambda r: r.code)
        return {"data": data, "children": [node(r) for r in below]}

    children: dict[str, list[OrgRow]] = {}
    tops: dict[int | None, list[OrgRow]] = {}  # organisation in the system (None: top level) -> its new ones
    for row in rows:
        if isinstance(row.parent, str):
            children.setdefault(row.parent, []).append(row)
        else:
            tops.setdefault(row.parent.pk if row.parent else None, []).append(row)
    for parent_pk, top in tops.items():
        for row in sorted(top, key=lambda r: r.code):
            # One subtree at a time, its parent fetched afresh: the sorted insert of a top node follows
            # the database's collation (PostgreSQL's locale order is not Python's), so it may move a
            # sibling inserted before it; a sibling already written moves with its descendants, while
            # a subtree still to be written would keep a path computed before the move.
            parent = Organization.objects.get(pk=parent_pk) if parent_pk else None
            Organization.objects.load_bulk([node(row)], parent=parent, bulk_create=True)
    made: dict[str, Organization] = {}
    for chunk in _chunks(codes):
        made.update((o.code, o) for o in Organization.objects.filter(code__in=chunk))
    made = {code: made[code] for code in codes}  # in the rows' order
    OrganizationEvent.objects.bulk_create(
        [OrganizationEvent(organization=org, kind=OrganizationEvent.Kind.FOUNDED, on=org.founded_on, note=note)
         for org in made.values()], batch_size=500)
    audit_record_many(by=by, items=[AuditItem("organization.create", org, after=snapshot(org, ORG_FIELDS), note=note)
                                    for org in made.values()])
    return made


@explained_conflict()
@transaction.atomic
def organization_restructure(
    *, by: Actor, organization: Organization, on: dt.date, note: str, name: str | None = None,
    parent: Organization | None = None, document_number: str = "", expected_version: int | None = None,
) -> Organization:
    """调整: rename and/or move an organisation, recorded as a dated event. `expected_version`:
    refused (Conflict) if someone else changed the organisation since the form was filled."""
    check_version(organization, expected_version)
    if not note.strip():
        raise ValidationError({"note": "请说明调整内容（如：因机构改革更名）。"})
    _not_future(on, "on")
    path = organization.path
    if parent is not None and parent.pk != (Organization.objects.get_parent(organization) or organization).pk:
        if parent.path.startswith(organization.path):
            raise ValidationError({"parent": "不能调整到自身或下级党组织之下。"})
        if parent.kind not in ALLOWED_PARENTS[organization.kind] - {None}:
            raise ValidationError({"parent": f"{organization.get_kind_display()}不能设在{parent.get_kind_display()}之下。"})
        Organization.objects.move(organization, parent, pos="sorted-child")
        organization.refresh_from_db()
    changes = model_update(instance=organization, fields=["name"], data={"name": name} if name and name.strip() else {},
                           expected_version=expected_version)
    if organization.path != path:
        if not changes:
            bump_version(organization, expected_version)  # moved, not renamed: still a new version
        changes["path"] = (path, organization.path)
    OrganizationEvent.objects.create(organization=organization, kind=OrganizationEvent.Kind.RESTRUCTURED, on=on,
                                     note=note.strip(), document_number=document_number)
    # The event is on the record even when neither name nor place changed (e.g. a new 批复).
    audit_changes(by=by, action="organization.restructure", obj=organization, changes=changes, note=note,
                  always=True)
    return organization


@transaction.atomic
def organization_dissolve(*, by: Actor, organization: Organization, on: dt.date, note: str = "") -> Organization:
    """撤销: only an organisation with no active members and no live sub-organisations."""
    _not_future(on, "on")
    ORGANIZATION_LIFE.check(organization, "dissolved")
    if on < organization.founded_on:
        raise ValidationError({"on": "撤销日期不能早于成立日期。"})
    open_posts = list(Appointment.objects.filter(organization=organization, end__isnull=True).select_related("member"))
    late_start = max((a.start for a in open_posts), default=None)
    if late_start and on < late_start:
        raise ValidationError({"on": f"撤销日期不能早于现任班子成员的任职日期（{late_start:%Y-%m-%d}）。"})
    active = Member.objects.filter(organization__path__startswith=organization.path, status=Member.Status.ACTIVE)
    if active.exists():
        raise ValidationError(f"“{organization.name}”还有 {active.count()} 名在册党员，请先办理组织关系转接。")
    live_children = Organization.objects.get_descendants(organization).filter(dissolved_on__isnull=True)
    if live_children.exists():
        raise ValidationError(f"“{organization.name}”还有未撤销的下级党组织，请先撤销或调整它们。")
    # Every write counts a version (optimistic locking): a form open on one of these posts is stale.
    Appointment.objects.filter(pk__in=[a.pk for a in open_posts]).update(end=on, version=F("version") + 1)
    audited_transition(
        by=by, action="organization.dissolve", workflow=ORGANIZATION_LIFE, instance=organization, to="dissolved",
        values={"dissolved_on": on}, note=note,
        event=lambda source, target: OrganizationEvent.objects.create(
            organization=organization, kind=OrganizationEvent.Kind.DISSOLVED, on=on, note=note),
        after_extra={"appointments_ended": [f"{a.member.name}（{a.get_role_display()}）" for a in open_posts]},
    )
    return organization


@explained_conflict()
@transaction.atomic
def organization_renew_term(
    *, by: Actor, organization: Organization, on: dt.date, note: str = "", voters_expected: int | None = None,
    voters_present: int | None = None, results: list[tuple[str, int]] | None = None, approved_by: str = "",
    document_number: str = "", expected_version: int | None = None,
) -> Organization:
    """换届: a new term starting `on`, its length from the rule in effect on that day. The election's
    figures (应到/实到会有选举权党员, each elected person's 赞成票), when given, are checked against
    the election rules and kept on the event; an approved extension ends with the new term. A 换届
    more than the rule's months (term.advance_max_months: 一般不超过1年) before the term ends is an
    early election the higher committee must approve: refused without the approving body and its
    文号, which are kept on the event when given.
    `expected_version`: refused (Conflict) if someone else changed the organisation since the
    form was filled (two officers recording the same 换届)."""
    check_version(organization, expected_version)
    _not_future(on, "on")
    years = term_years(organization.kind, on)
    if years is None:
        raise ValidationError(f"{organization.get_kind_display()}不实行任期制换届。")
    if organization.term_start and on <= organization.term_start:
        raise ValidationError({"on": "换届日期应晚于本届任期开始日期。"})
    approved_by, document_number = approved_by.strip(), document_number.strip()
    advance_problems(organization, on=on, approved_by=approved_by, document_number=document_number)
    election = election_clean(voters_expected=voters_expected, voters_present=voters_present, results=results, on=on)
    changes = model_update(instance=organization, fields=["term_start", "term_end", "term_extended_to"],
                           data={"term_start": on, "term_end": add_years(on, years), "term_extended_to": None},
                           expected_version=expected_version)
    OrganizationEvent.objects.create(organization=organization, kind=OrganizationEvent.Kind.TERM_RENEWED, on=on, note=note,
                                     approved_by=approved_by, document_number=document_number, **election)
    audit_changes(by=by, action="organization.renew_term", obj=organization, changes=changes,
                  note=" ".join(filter(None, (approved_by, document_number, note))), always=True)
    return organization


def early_election(organization: Organization, on: dt.date) -> tuple[int, dt.date] | None:
    """(the rule's months, the earliest day) when a 换届 on `on` is more than term.advance_max_months
    before the term ends (《关于党的基层组织任期的意见》二：提前进行换届选举，应报上级党的委员会批准，
    提前期限一般不超过1年); None when it is not, before the rule, or without a term end."""
    if not organization.term_end or not _in_effect("term.advance_max_months", on):
        return None
    months = int(rules.value("term.advance_max_months", on=on))
    earliest = add_months(organization.term_end, -months)
    return (months, earliest) if on < earliest else None


def advance_problems(organization: Organization, *, on: dt.date, approved_by: str, document_number: str) -> None:
    """Refuse an early 换届 (see early_election) without the approving committee and its 文号."""
    early = early_election(organization, on)
    if early is None or (approved_by and document_number):
        return
    months, earliest = early
    because = (f"本届任期 {organization.term_end:%Y-%m-%d} 届满，{on:%Y-%m-%d} 换届提前超过{months}个月（最早 "
               f"{earliest:%Y-%m-%d}）：提前换届须经上级党的委员会批准，提前期限一般不超过1年"
               f"（{citation('term.advance_max_months', on)}）。")
    errors = {}
    if not approved_by:
        errors["approved_by"] = f"{because}请填写批准提前换届的上级党组织。"
    if not document_number:
        errors["document_number"] = f"{because}请填写批复文号。" if approved_by else "请填写批复文号。"
    raise ValidationError(errors)


def election_clean(*, voters_expected: int | None, voters_present: int | None, results: list[tuple[str, int]] | None,
                   on: dt.date) -> dict:
    """The election figures of a 换届, checked: more than the quorum share (4/5) of the 应到会 members
    with 选举权 present, and each elected person's 赞成票 above half of those present (the 基层 rule's
    denominator is 实到会). Nothing given: no figures (a 换届 recorded without them)."""
    if voters_expected is None and voters_present is None and not results:
        return {}
    errors: dict[str, str] = {}
    if not voters_expected:
        errors["voters_expected"] = "请填写应到会有选举权的党员人数。"
    if voters_present is None:
        errors["voters_present"] = "请填写实到会有选举权的党员人数。"
    elif voters_expected and voters_present > voters_expected:
        errors["voters_present"] = "实到会人数不能多于应到会人数。"
    if errors:
        raise ValidationError(errors)
    quorum, quorum_rule = Fraction(str(rules.value("election.quorum", on=on))), citation("election.quorum", on)
    if not voters_present > voters_expected * quorum:
        raise ValidationError({"voters_present": (
            f"有选举权的党员应到会 {voters_expected} 人、实到会 {voters_present} 人，未超过应到会人数的"
            f"{_fraction_words(quorum)}，不能进行选举（{quorum_rule}）。")})
    results = results or []
    if not results:
        raise ValidationError({"results": "请填写当选人及其赞成票数。"})
    share, pass_rule = Fraction(str(rules.value("election.pass", on=on))), citation("election.pass", on)
    names = [name.strip() for name, _ in results]
    if any(not name for name in names):
        raise ValidationError({"results": "请填写当选人姓名。"})
    if len(set(names)) != len(names):
        raise ValidationError({"results": "同一人不能重复填写。"})
    for name, votes in results:
        if votes < 0 or votes > voters_present:
            raise ValidationError({"results": f"{name.strip()}的赞成票 {votes} 票不在 0 至实到会人数 {voters_present} 之间。"})
        if not votes > voters_present * share:
            raise ValidationError({"results": (
                f"{name.strip()}获赞成票 {votes} 票，未超过实到会有选举权人数 {voters_present} 人的"
                f"{_fraction_words(share)}，不能当选（{pass_rule}）。")})
    return {"voters_expected": voters_expected, "voters_present": voters_present,
            "election_results": [{"name": name.strip(), "votes": votes} for name, votes in results]}


def _fraction_words(share: Fraction) -> str:
    return "一半" if share == Fraction(1, 2) else f"{_CHINESE_NUMBERS[share.denominator]}分之{_CHINESE_NUMBERS[share.numerator]}"


_CHINESE_NUMBERS = dict(enumerate("零一二三四五六七八九十"))


@explained_conflict()
@transaction.atomic
def organization_extend_term(
    *, by: Actor, organization: Organization, approved_on: dt.date, approved_by: str, document_number: str,
    extended_to: dt.date, note: str = "", expected_version: int | None = None,
) -> Organization:
    """延期换届: the higher organisation approved running the term until `extended_to`. The limit
    (一般不超过1年) counts from the term's end, so several approvals together stay within it.
    `expected_version`: refused (Conflict) if the organisation changed since the form was filled."""
    check_version(organization, expected_version)
    if not organization.term_end:
        raise ValidationError(f"{organization.get_kind_display()}不实行任期制换届。")
    if organization.dissolved_on:
        raise ValidationError(f"“{organization.name}”已撤销。")
    errors: dict[str, str] = {}
    if not approved_by.strip():
        errors["approved_by"] = "请填写批准延期的上级党组织。"
    if not document_number.strip():
        errors["document_number"] = "请填写批复文号。"
    if approved_on > _today():
        errors["approved_on"] = "批准日期不能晚于今天。"
    months = int(rules.value("term.extension_max_months", on=approved_on))
    limit = add_months(organization.term_end, months)
    if extended_to <= organization.term_end:
        errors["extended_to"] = f"延期至日期应晚于本届任期届满日期（{organization.term_end:%Y-%m-%d}）。"
    elif extended_to > limit:
        errors["extended_to"] = (
            f"延期换届一般不超过1年（{months}个月）：本届任期 {organization.term_end:%Y-%m-%d} 届满，"
            f"最迟可延至 {limit:%Y-%m-%d}（{citation('term.extension_max_months', approved_on)}）。")
    if errors:
        raise ValidationError(errors)
    changes = model_update(instance=organization, fields=["term_extended_to"], data={"term_extended_to": extended_to},
                           expected_version=expected_version)
    OrganizationEvent.objects.create(
        organization=organization, kind=OrganizationEvent.Kind.TERM_EXTENDED, on=approved_on, note=note.strip(),
        document_number=document_number.strip(), approved_by=approved_by.strip(), extended_to=extended_to)
    audit_changes(by=by, action="organization.extend_term", obj=organization, changes=changes,
                  note=f"{approved_by.strip()} {document_number.strip()} {note}".strip(), always=True)
    return organization


# ---------------------------------------------------------------- appointments

@transaction.atomic
def appointment_create(
    *, by: Actor, organization: Organization, member: Member, role: str, start: dt.date
) -> Appointment:
    """Appoint `member`. A new secretary (or 组长, 纪委书记) ends the previous holder's post on `start`;
    a promotion (`SUPERSEDES`) ends the appointee's own lower posts in the organisation on `start`.
    A lower post begun before the appointee's current higher one is an earlier post: it is recorded
    as ended on the day they took the higher one (a workbook then sets its own 免职日期). Every post
    ended here has its own audit entry."""
    if role not in Appointment.Role.values:
        raise ValidationError({"role": "请选择职务。"})
    _not_future(start, "start")
    if member.status != Member.Status.ACTIVE:
        raise ValidationError({"member": f"{member.name}不是在册党员。"})
    appointment_check(organization=organization, member=member, role=role, on=start)
    if role in SINGLE_HOLDER_ROLES:
        for previous in Appointment.objects.select_for_update().filter(
            organization=organization, role=role, end__isnull=True
        ):
            _check_successor(previous, start)
            audited_update(by=by, action="appointment.end", instance=previous, fields=["end"], data={"end": start})
    ends_on = _promotion(by=by, organization=organization, member=member, role=role, start=start)
    appointment = Appointment.objects.create(organization=organization, member=member, role=role, start=start)
    audit_record(by=by, action="appointment.create", obj=appointment,
                 after=snapshot(appointment, ["organization", "member", "role", "start"]))
    if ends_on is not None:
        audited_update(by=by, action="appointment.end", instance=appointment, fields=["end"], data={"end": ends_on})
    return appointment


def _check_successor(previous: Appointment, start: dt.date) -> None:
    """A new sole holder (书记, 组长, 纪委书记) takes over from `previous` on `start`, not before it began."""
    if previous.start > start:
        raise ValidationError({"start": f"现任{previous.title}{previous.member.name}自{previous.start}任职，新任日期不能早于此日。"})


def _promotion_plan(held_posts, *, organization: Organization, member: Member, role: str,
                    start: dt.date) -> tuple[list[Appointment], dt.date | None]:
    """The member's own open posts in `organization` (`held_posts`) against a new `role` from
    `start`: the lower ones, to end on `start`; and the day the new post itself ends when a higher
    post was taken after `start` (the new one is then an earlier post). Refused: a lower post begun
    after `start`, or a higher post held since `start` or before."""
    label = Appointment(organization=organization, role=role).title
    to_end, ends_on = [], None
    for held in held_posts:
        if held.end is not None:
            continue
        if held.role in SUPERSEDES.get(role, ()):
            if held.start > start:
                raise ValidationError({"start": f"{member.name}自{held.start}任{held.title}，升任{label}的日期不能早于此日。"})
            to_end.append(held)
        elif role in SUPERSEDES.get(held.role, ()):
            if held.start <= start:
                raise ValidationError({"role": f"{member.name}现任{held.title}（自{held.start}起），不再同时任{label}；"
                                               f"以前担任的{label}请写明免职日期。"})
            ends_on = min(held.start, ends_on or held.start)
    return to_end, ends_on


def _promotion(*, by: Actor, organization: Organization, member: Member, role: str, start: dt.date) -> dt.date | None:
    """`_promotion_plan` against the posts in the database: the lower posts ended (audited); returns
    the day the new post ends, if it is an earlier one."""
    held = Appointment.objects.select_for_update().filter(
        organization=organization, member=member, end__isnull=True).select_related("organization")
    to_end, ends_on = _promotion_plan(held, organization=organization, member=member, role=role, start=start)
    for post in to_end:
        audited_update(by=by, action="appointment.end", instance=post, fields=["end"], data={"end": start})
    return ends_on


@dataclass
class AppointmentRow:
    """One post for `appointment_bulk_create`: held from `start`, and until `end` if it is a past one."""

    organization: Organization
    member: Member
    role: str
    start: dt.date
    end: dt.date | None = None


@transaction.atomic
def appointment_bulk_create(*, by: Actor, appointments: list[AppointmentRow]) -> list[Appointment]:
    """`appointment_create` (then `appointment_end` for a past post) for many posts at once, in the
    order given (the order they were held): the same checks, a new single holder ending the one
    before (held in the system, or earlier in `appointments`), written in one insert, and the
    audit entries as the one-by-one services write them (a create, an end), chained in that order."""
    if not appointments:
        return []
    org_ids = sorted({a.organization.pk for a in appointments})
    open_posts: dict[int, list[Appointment]] = {}  # organisation -> its open posts, the file's as they come
    for chunk in _chunks(org_ids):
        for post in Appointment.objects.select_for_update().filter(
                organization_id__in=chunk, end__isnull=True).select_related("member", "organization"):
            open_posts.setdefault(post.organization_id, []).append(post)
    made: list[Appointment] = []
    events: list[tuple[str, Appointment]] = []  # ("create" or "end", the post), in the order they happened
    ended: list[Appointment] = []  # posts already in the database that rows of this call end
    full_members = _full_member_counter(appointments)
    for i, row in enumerate(appointments):
        with _refused_row(i):
            _appointment_one(row, open_posts.setdefault(row.organization.pk, []), events, made, ended, full_members)
    Appointment.objects.bulk_update(ended, ["end", "version"], batch_size=500)
    Appointment.objects.bulk_create(made, batch_size=500)
    audit_record_many(by=by, items=[
        AuditItem("appointment.create", post, after=snapshot(post, ["organization", "member", "role", "start"]))
        if kind == "create" else
        AuditItem("appointment.end", post, before={"end": None}, after={"end": present("end", post.end)})
        for kind, post in events])
    return made


def _full_member_counter(appointments: list[AppointmentRow]):
    """(branch, day) -> the 正式党员 of the branch and its 党小组 that day, for the branches of the
    committee and 副书记 rows among `appointments` (appointment_check's count, which the one-by-one
    service runs as a query per post): their stays read once per 900 branches of a path length."""
    paths: dict[int, list[str]] = {}  # path length -> the branches' paths
    for a in appointments:
        if a.organization.kind == Organization.Kind.BRANCH and a.role in COMMITTEE_ROLES | {R.DEPUTY_SECRETARY}:
            paths.setdefault(len(a.organization.path), []).append(a.organization.path)
    stays: dict[str, list[tuple]] = {}  # branch path -> (member, start, end, full_on) of its and its cells' stays
    for length, found in paths.items():
        for chunk in _chunks(sorted(set(found))):
            for branch, *stay in (Membership.objects.annotate(branch=Substr("organization__path", 1, length))
                                  .filter(branch__in=chunk, member__full_on__isnull=False)
                                  .values_list("branch", "member_id", "start", "end", "member__full_on")):
                stays.setdefault(branch, []).append(stay)

    def count(branch: Organization, on: dt.date) -> int:
        return len({member for member, start, end, full_on in stays.get(branch.path, ())
                    if start <= on and (end is None or end > on) and full_on <= on})
    return count


def _appointment_one(row: AppointmentRow, in_org: list[Appointment], events: list, made: list, ended: list,
                     full_members) -> None:
    """One post of `appointment_bulk_create`, against the organisation's open posts (`in_org`, kept
    up to date here): checked; the single holder before it and the appointee's own lower posts (a
    promotion, `_promotion_plan`) ended on its first day."""
    if row.role not in Appointment.Role.values:
        raise ValidationError({"role": "请选择职务。"})
    _not_future(row.start, "start")
    if row.member.status != Member.Status.ACTIVE:
        raise ValidationError({"member": f"{row.member.name}不是在册党员。"})
    still_open = [p for p in in_org if p.end is None]
    appointment_check(organization=row.organization, member=row.member, role=row.role, on=row.start,
                      open_deputies=sum(p.role == R.DEPUTY_SECRETARY for p in still_open),
                      full_members=lambda: full_members(row.organization, row.start))
    appointment = Appointment(organization=row.organization, member=row.member, role=row.role, start=row.start)

    def end(post: Appointment) -> None:
        post.end = row.start
        if post.pk is not None:  # held in the system: written with the others, its version counted
            post.version += 1
            ended.append(post)
        events.append(("end", post))  # audited in the order things happened, as one by one

    if row.role in SINGLE_HOLDER_ROLES:
        previous = next((p for p in still_open if p.role == row.role), None)
        if previous is not None:
            _check_successor(previous, row.start)
            end(previous)
    mine = [p for p in still_open if p.member_id == row.member.pk and p.end is None]
    lower, ends_on = _promotion_plan(mine, organization=row.organization, member=row.member, role=row.role,
                                     start=row.start)
    for post in lower:
        end(post)
    events.append(("create", appointment))
    if row.end is not None:
        _not_future(row.end, "end")
        if row.end < row.start:
            raise ValidationError({"end": "免职日期不能早于任职日期。"})
    appointment.end = row.end if row.end is not None else ends_on
    if appointment.end is not None:
        events.append(("end", appointment))
    else:
        in_org.append(appointment)
    made.append(appointment)


def _rule_on(code: str, on: dt.date):
    """The entry of `code` in effect on `on`, or None before the rule."""
    try:
        return rules.rule(code, on=on)
    except KeyError:
        return None


def _in_effect(code: str, on: dt.date) -> bool:
    return _rule_on(code, on) is not None


def _applies(code: str, on: dt.date) -> bool:
    """Whether a yes/no rule (value 1 or 0) is in effect on `on` and says yes."""
    return _in_effect(code, on) and bool(rules.value(code, on=on))


def branch_committee_posts(on: dt.date) -> frozenset[str] | None:
    """The named 分工 a 支委会 has on `on` (branch.committee_posts, “组织委员、宣传委员、纪检委员”),
    as Appointment roles; None before the rule (every 分工 then). A name no role carries is skipped:
    it cannot be appointed here anyway."""
    if not _in_effect("branch.committee_posts", on):
        return None
    by_label = {label: role for role, label in R.choices if role in NAMED_POSTS}
    names = str(rules.value("branch.committee_posts", on=on)).replace("，", "、").split("、")
    return frozenset(by_label[n.strip()] for n in names if n.strip() in by_label)


def appointment_check(*, organization: Organization, member: Member, role: str, on: dt.date,
                      open_deputies: int | None = None, full_members=None) -> None:
    """The posts rules: the post exists at this kind of organisation; a 预备党员 has no 被选举权; a
    branch with fewer than 7 正式党员 has a 书记 and at most one 副书记 but no 委员. `open_deputies`:
    the 副书记 posts open in the organisation, when the caller knows them better than the database
    (a bulk write whose earlier rows are not written yet); `full_members()`: the branch's 正式党员 that
    day, when the caller has counted them for many posts at once."""
    label = Appointment(organization=organization, role=role).title
    if role not in ROLES_BY_KIND[organization.kind]:
        raise ValidationError({"role": f"{organization.get_kind_display()}不设{label}。"})
    if organization.founded_on and on < organization.founded_on:
        raise ValidationError({"start": f"任职日期不能早于“{organization.name}”的成立日期（{organization.founded_on:%Y-%m-%d}）。"})
    # A 入党日期 known to the month or year holds its earliest possible day: a post before that day is
    # before any day the member can have joined. 不详 says nothing, so it is not checked.
    if member.joined_on_precision != Precision.UNKNOWN and on < member.joined_on:
        raise ValidationError({"start": f"任职日期不能早于{member.name}的入党日期（{member.joined_display}）。"})
    # A rule checks the posts from the day it took effect (a past post, imported, predates some).
    if organization.kind in ELECTED_KINDS and _applies("member.probationary_not_eligible", on) and (
            member.full_on is None or member.full_on > on):
        raise ValidationError({"member": (
            f"{member.name}是预备党员，没有被选举权，不能担任{label}"
            f"（{citation('member.probationary_not_eligible', on)}：预备党员没有表决权、选举权和被选举权）。")})
    if organization.kind != Organization.Kind.BRANCH or role not in COMMITTEE_ROLES | {R.DEPUTY_SECRETARY}:
        return
    posts = branch_committee_posts(on) if role in NAMED_POSTS else None
    if posts is not None and role not in posts:
        named = "、".join(R(p).label for p in sorted(posts, key=R.values.index)) or "无"
        raise ValidationError({"role": (
            f"党支部委员会的委员分工为{named}，不设{label}"
            f"（{citation('branch.committee_posts', on)}：{rules.rule('branch.committee_posts', on=on).quote}）。")})
    if not (_in_effect("branch.committee_threshold", on) and _in_effect("branch.small_deputy_max", on)):
        return
    threshold = int(rules.value("branch.committee_threshold", on=on))
    # 正式党员 in the branch (and its 党小组) on the day of the appointment.
    full = full_members() if full_members is not None else (
        Membership.objects.filter(open_on(on), organization__path__startswith=organization.path,
                                  member__full_on__lte=on).values("member").distinct().count())
    if full >= threshold:
        return
    rule_text = citation("branch.small_deputy_max", on)
    if role in COMMITTEE_ROLES:
        raise ValidationError({"role": (
            f"“{organization.name}”正式党员 {full} 人，不足 {threshold} 人，不设支部委员会：只设书记 1 名，"
            f"必要时设副书记 1 名，不能任命{label}（{rule_text}）。")})
    deputies = int(rules.value("branch.small_deputy_max", on=on))
    if open_deputies is None:
        open_deputies = Appointment.objects.filter(organization=organization, role=R.DEPUTY_SECRETARY,
                                                   end__isnull=True).count()
    if open_deputies >= deputies:
        raise ValidationError({"role": (
            f"“{organization.name}”正式党员 {full} 人，不足 {threshold} 人，必要时只设副书记 {deputies} 名，"
            f"现已配备（{rule_text}）。")})


@explained_conflict()
@transaction.atomic
def appointment_end(*, by: Actor, appointment: Appointment, on: dt.date,
                    expected_version: int | None = None) -> Appointment:
    check_version(appointment, expected_version)
    _not_future(on, "end")
    if on < appointment.start:
        raise ValidationError({"end": "免职日期不能早于任职日期。"})
    audited_update(by=by, action="appointment.end", instance=appointment, fields=["end"], data={"end": on},
                   expected_version=expected_version)
    return appointment


# ---------------------------------------------------------------- units

@transaction.atomic
def unit_create(*, by: Actor, parent: Unit | None, code: str, name: str, kind: str,
                organization: Organization | None) -> Unit:
    code, name = code.strip(), name.strip()
    errors = {}
    if not code:
        errors["code"] = "请填写编码。"
    elif Unit.objects.filter(code=code).exists():
        errors["code"] = f"编码 {code} 已被使用。"
    if not name:
        errors["name"] = "请填写名称。"
    if kind not in Unit.Kind.values:
        errors["kind"] = "请选择单位类型。"
    if errors:
        raise ValidationError(errors)
    fields = dict(code=code, name=name, kind=kind, organization=organization)
    unit = Unit.objects.add_child(parent, fields) if parent else Unit.objects.add_root(fields)
    audit_record(by=by, action="unit.create", obj=unit, after=snapshot(unit, UNIT_FIELDS))
    return unit


@explained_conflict()
@transaction.atomic
def unit_update(*, by: Actor, unit: Unit, name: str, organization: Organization | None,
                expected_version: int | None = None) -> Unit:
    """Rename a unit or change the organisation serving it; audited only if a value changed.
    `expected_version`: refused (Conflict) if the unit was saved by someone else since it was read."""
    check_version(unit, expected_version)
    if not name.strip():
        raise ValidationError({"name": "请填写名称。"})
    audited_update(by=by, action="unit.update", instance=unit, fields=["name", "organization"],
                   data={"name": name, "organization": organization}, expected_version=expected_version)
    return unit


# ---------------------------------------------------------------- members

def member_clean(data: dict, *, instance: Member | None = None, taken: "set[str] | None" = None) -> dict:
    """Normalise and check a member's fields; returns the cleaned dict or raises ValidationError
    with one Chinese message per field. Shared by the form, the API and the workbook import.

    `taken`: the search hashes of the ID numbers already registered, looked up once for a whole
    file (`taken_id_hashes`); None asks the database for this one number."""
    errors: dict[str, str] = {}
    data = dict(data)
    data["name"] = normalize_person_name(data.get("name") or "")
    if not data["name"]:
        errors["name"] = "请填写姓名。"
    data["id_number"] = normalize_id_number(data.get("id_number") or "")
    try:
        validate_id_number(data["id_number"])
    except ValidationError as exc:
        errors["id_number"] = exc.messages[0]
    else:
        if taken is not None:
            clashes = search_hash(data["id_number"], kind="id_number") in taken
        else:
            clash = Member.objects.with_id_numbers(data["id_number"])
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            clashes = clash.exists()
        if clashes:
            errors["id_number"] = "该身份证号已登记在另一名党员名下。"
    data["phone"] = normalize_phone(data.get("phone") or "")
    try:
        validate_phone(data["phone"])
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    for name, label in (("gender", "性别"), ("category", "党员类别")):
        if data.get(name) not in {"gender": Member.Gender, "category": Member.Category}[name].values:
            errors[name] = f"请选择{label}。"
    if data.get("education") and data["education"] not in Member.Education.values:
        errors["education"] = "学历不在可选范围内。"
    today = _today()
    _partial_precisions(data, instance)
    birth, joined, full = data.get("birth_date"), data.get("joined_on"), data.get("full_on")
    joined_precision, full_precision = data["joined_on_precision"], data["full_on_precision"]
    if not birth:
        errors["birth_date"] = "请填写出生日期。"
    elif birth > today:
        errors["birth_date"] = "出生日期不能晚于今天。"
    if joined_precision == Precision.UNKNOWN:
        # 入党日期 不详 (an imported old member): stored as the earliest day the rules allow, the 18th
        # birthday, or the 转正日期 if that is earlier (the data says so); never shown as a date.
        joined = data["joined_on"] = birth and min([add_years(birth, 18), *([full] if full else [])])
    elif not joined:
        errors["joined_on"] = "请填写入党日期。"
    elif joined > today:
        errors["joined_on"] = "入党日期不能晚于今天。"
    elif birth and latest_day(joined, joined_precision) < add_years(birth, 18):
        # Refused only if even the last day the typed month or year may mean is before the 18th
        # birthday: an incomplete date that may be right is not refused.
        errors["joined_on"] = "入党时应年满18周岁，请核对入党日期或出生日期。"
    if full and joined and latest_day(full, full_precision) < joined:
        errors["full_on"] = "转正日期不能早于入党日期。"
    elif full and full > today:
        errors["full_on"] = "转正日期不能晚于今天。"
    elif full and joined and full < joined:
        # 转正 in the month (year) of joining's earliest day: its earliest possible day is the joining.
        data["full_on"] = joined
    if data.get("category") == Member.Category.PROBATIONARY and full:
        errors["full_on"] = "预备党员不应有转正日期；已转正的请把类别改为正式党员。"
    if (birth and "birth_date" not in errors and "id_number" not in errors
            and data["id_number"][6:14] != birth.strftime("%Y%m%d")):
        errors["birth_date"] = "出生日期与身份证号中的出生日期不一致。"
    org = data.get("organization")
    if org is None:
        errors["organization"] = "请选择所在党组织。"
    elif org.kind not in MEMBER_HOLDING_KINDS:
        errors["organization"] = "党员应编入党支部或党小组。"
    elif org.dissolved_on:
        errors["organization"] = f"“{org.name}”已撤销。"
    if errors:
        raise ValidationError(errors)
    return data


def _partial_precisions(data: dict, instance: Member | None) -> None:
    """Fill in each member date's precision (core/dates.py): as given (an import); else the saved
    one while the date is unchanged (an edit form shows the stored earliest day: saving it unchanged
    keeps 1984年11月); else a full date (the form and the API take full dates only)."""
    for name, precision in MEMBER_PARTIAL_DATES.items():
        if precision in data:
            continue
        if instance is not None and data.get(name) == getattr(instance, name):
            data[precision] = getattr(instance, precision)
        else:
            data[precision] = Precision.DAY
    if data["full_on_precision"] == Precision.UNKNOWN and (
            data.get("full_on") or data.get("category") != Member.Category.FULL):
        data["full_on_precision"] = Precision.DAY  # 不详 says something only of a 正式党员 with no date


def _refused(exc: ValidationError, index: int | None) -> ValidationError:
    """`exc`, marked with the position of the row it refuses in a bulk service's list."""
    exc.index = index
    return exc


@contextmanager
def _refused_row(index: int):
    """Inside a bulk service's loop: a ValidationError raised for row `index` carries it (`.index`),
    so the caller (the workbook import) can name the row of the file it came from."""
    try:
        yield
    except ValidationError as exc:
        raise _refused(exc, index) from None


# Rows per IN (...) list: under SQLite's old limit of 999 variables, whatever the build.
LOOKUP_CHUNK = 900


def _chunks(values: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def taken_id_hashes(id_numbers) -> set[str]:
    """The search hashes, among those of `id_numbers`, already registered to a member (anyone's,
    whatever the caller's scope): one query per 900 numbers, for `member_clean(taken=...)`."""
    hashes = sorted({search_hash(number, kind="id_number") for number in id_numbers if number})
    taken: set[str] = set()
    for chunk in _chunks(hashes):
        taken.update(Member.objects.filter(id_number_hash__in=chunk).values_list("id_number_hash", flat=True))
    return taken


@transaction.atomic
def member_create(*, by: Actor, data: dict, since: dt.date | None = None) -> Member:
    """Register a member; their first stay in the organisation starts `since` (default: joined)."""
    data = member_clean(data)
    member = Member.objects.create(**{k: data.get(k) for k in MEMBER_FIELDS if k in data},
                                   name_key=name_key(data["name"]))
    Membership.objects.create(member=member, organization=member.organization, start=since or member.joined_on)
    audit_record(by=by, action="member.create", obj=member, after=snapshot(member, MEMBER_FIELDS))
    return member


@transaction.atomic
def member_bulk_create(*, by: Actor, rows: list[dict]) -> list[Member]:
    """Register many members whose data `member_clean` has already accepted (workbook imports):
    three inserts in all instead of several queries per member. The database's unique ID-number
    constraint still catches a clash that arose after the check."""
    members = Member.objects.bulk_create(
        [Member(**{k: row.get(k) for k in MEMBER_FIELDS if k in row}, name_key=name_key(row["name"]))
         for row in rows], batch_size=500)
    # A row's `since` starts the stay (the day they came to this organisation); default the joining.
    Membership.objects.bulk_create(
        [Membership(member=m, organization=m.organization, start=row.get("since") or m.joined_on)
         for m, row in zip(members, rows, strict=True)], batch_size=500)
    audit_record_many(by=by, items=[AuditItem("member.create", m, after=snapshot(m, MEMBER_FIELDS)) for m in members])
    return members


@transaction.atomic
def membership_history_add(*, by: Actor, stays: list[tuple[Member, Organization, dt.date, dt.date]]) -> list[Membership]:
    """Earlier, closed stays of members (a bureau brought in with its history): each between its
    member's joining and their current stay, within its organisation's life, none overlapping
    another; one audit entry each."""
    opened = dict(Membership.objects.filter(member__in=[m for m, *_ in stays], end__isnull=True)
                  .values_list("member_id", "start"))
    made = []
    for member, organization, start, end in stays:
        if end < start:
            raise ValidationError({"end": "转出日期不能早于转入日期。"})
        if start < member.joined_on:
            raise ValidationError({"start": "转入日期不能早于入党日期。"})
        if member.pk in opened and end > opened[member.pk]:
            raise ValidationError({"end": "以前的组织关系应在转入现所在党组织之前结束。"})
        if organization.kind not in MEMBER_HOLDING_KINDS:
            raise ValidationError({"organization": "党员应编入党支部或党小组。"})
        if start < organization.founded_on or (organization.dissolved_on and end > organization.dissolved_on):
            raise ValidationError({"start": f"“{organization.name}”存续期间以外不能有组织关系。"})
        made.append(Membership(member=member, organization=organization, start=start, end=end, note="以前的组织关系"))
    by_member: dict[int, list[Membership]] = {}
    for stay in sorted(made, key=lambda st: st.start):
        earlier = by_member.setdefault(stay.member.pk, [])
        if earlier and stay.start < earlier[-1].end:
            raise ValidationError({"start": f"{stay.member.name}的两段组织关系时间重叠。"})
        earlier.append(stay)
    made = Membership.objects.bulk_create(made, batch_size=500)
    audit_record_many(by=by, items=[AuditItem("member.history", st.member, after={
        "organization": st.organization.name, "start": st.start.isoformat(), "end": st.end.isoformat()})
        for st in made])
    return made


@explained_conflict()
@transaction.atomic
def member_update(*, by: Actor, member: Member, data: dict, expected_version: int | None = None) -> Member:
    """Change the roster fields that `data` carries; a field it leaves out keeps its value (a form
    that does not show a field cannot clear it). The whole record is checked as it will be. The
    audit entry names exactly the fields whose values changed; nothing changed, no entry.
    Organisation changes go through `member_transfer`, leaving the roster through `member_leave`.
    With `expected_version` (what the form or client read), a record saved by someone else since
    is refused with a Conflict naming who, when and what, and nothing is written."""
    check_version(member, expected_version)
    given = {name: value for name, value in data.items() if name in MEMBER_EDITABLE}
    current = {name: getattr(member, name) for name in MEMBER_FIELDS}
    for name, precision in MEMBER_PARTIAL_DATES.items():
        # A date changed without its precision is a date typed in full.
        if name in given and given[name] != current[name] and precision not in given:
            given[precision] = Precision.DAY
    cleaned = member_clean(current | given | {"organization": member.organization}, instance=member)
    changes = audited_update(by=by, action="member.update", instance=member, fields=MEMBER_EDITABLE,
                             data={name: cleaned[name] for name in given}, expected_version=expected_version)
    if "name" in changes:
        # The sort key follows the name; derived, so not a change of its own in the audit entry.
        member.name_key = name_key(member.name)
        Member.objects.filter(pk=member.pk).update(name_key=member.name_key)
    if "id_number" in changes:
        # So does the search hash (computed by the field as the row is saved).
        member.save(update_fields=["id_number_hash"])
    if "category" in changes or "full_on" in changes:
        # A corrected 党员类别 or 转正日期: the meetings on record since joining count the 表决权 anew.
        _voting_rights_changed(by=by, member=member, start=min(current["joined_on"], member.joined_on), end=None,
                               reason=f"更正{member.name}的党员类别或转正日期")
    return member


@transaction.atomic
def member_transfer(*, by: Actor, member: Member, to: Organization, on: dt.date, note: str = "") -> Member:
    """组织关系转接: close the current stay on `on` and open one in `to`. History is kept."""
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(f"{member.name}不是在册党员，不能转接。")
    if to.pk == member.organization_id:
        raise ValidationError({"to": "转入党组织与当前党组织相同。"})
    if to.kind not in MEMBER_HOLDING_KINDS:
        raise ValidationError({"to": "党员应编入党支部或党小组。"})
    if to.dissolved_on:
        raise ValidationError({"to": f"“{to.name}”已撤销。"})
    _not_future(on, "on")
    current = Membership.objects.select_for_update().filter(member=member, end__isnull=True).first()
    if current and on < current.start:
        raise ValidationError({"on": f"转接日期不能早于转入当前党组织的日期（{current.start}）。"})
    if current:
        current.end = on
        current.save(update_fields=["end"])
    Membership.objects.create(member=member, organization=to, start=on, note=note)
    changes = model_update(instance=member, fields=["organization"], data={"organization": to})
    audit_changes(by=by, action="member.transfer", obj=member, changes=changes, note=note)
    return member


@transaction.atomic
def member_confirm_full(*, by: Actor, member: Member, on: dt.date) -> Member:
    """预备党员转正 on `on`. A date in the past gives the member 表决权 at the meetings already on
    record from `on` (the voting_rights_changed receivers bring them up to date, each auditing what it
    changes)."""
    MEMBER_CATEGORY.check(member, Member.Category.FULL)
    _not_future(on, "full_on")
    if on < member.joined_on:
        raise ValidationError({"full_on": "转正日期不能早于入党日期。"})
    audited_transition(by=by, action="member.confirm_full", workflow=MEMBER_CATEGORY, instance=member,
                       to=Member.Category.FULL, values={"full_on": on})
    _voting_rights_changed(by=by, member=member, start=on, end=None,
                           reason=f"{member.name}于{on:%Y-%m-%d}转为正式党员，此后有表决权")
    return member


def _voting_rights_changed(*, by: Actor, member: Member, start: dt.date, end: dt.date | None, reason: str):
    voting_rights_changed.send(sender=Member, by=by, member=member, start=start, end=end, reason=reason)


@transaction.atomic
def member_leave(*, by: Actor, member: Member, status: str, on: dt.date, note: str = "") -> Member:
    """A member leaves the roster (转出本系统、去世、出党): the stay ends, the record stays."""
    if status not in MEMBER_ROSTER.moves[Member.Status.ACTIVE]:
        raise ValidationError({"status": "请选择离开花名册的原因。"})
    MEMBER_ROSTER.check(member, status)
    _not_future(on, "on")
    posts = list(Appointment.objects.filter(member=member, end__isnull=True).select_related("organization"))
    if any(p.start > on for p in posts):
        raise ValidationError({"on": "日期不能早于其现任党内职务的任职日期。"})
    Membership.objects.filter(member=member, end__isnull=True).update(end=on)
    # Whoever leaves the roster leaves their posts too (配齐配强 then shows the gap).
    Appointment.objects.filter(pk__in=[p.pk for p in posts]).update(end=on, version=F("version") + 1)
    audited_transition(by=by, action="member.leave", workflow=MEMBER_ROSTER, instance=member, to=status, note=note,
                       after_extra={"appointments_ended": [f"{p.organization.name}{p.get_role_display()}"
                                                           for p in posts]})
    return member


def probation_clean(*, start: dt.date | None, end: dt.date | None) -> dict[str, str]:
    """The problems with a 留党察看's dates, keyed by field, in the words the page, the API and
    `member_probation_record` show: not after today, the end after the start, at most the rule's
    years (discipline.probation_max_years, 《中国共产党纪律处分条例》) where the rule data has it in
    effect on `start`. Empty when none."""
    errors = {}
    if start and start > _today():
        errors["start"] = "日期不能晚于今天。"
    if start and end and end <= start:
        errors["end"] = "留党察看期满日期应晚于开始日期。"
    elif start and end and (rule := _rule_on("discipline.probation_max_years", start)):  # none before the rule
        if end > add_years(start, int(rule.value)):
            errors["end"] = f"留党察看期限不能超过{rule.value}年（{rule.citation}）。"
    return errors


@transaction.atomic
def member_bulk_leave(*, by: Actor, leaves: list[tuple[Member, str, dt.date, str]]) -> list[Member]:
    """`member_leave` for many members at once (a workbook's 已转出/已去世 rows): each (member,
    status, on, note) checked as there, their open stays and posts ended on their day, a few
    statements in all; one audit entry per member, as `member_leave` writes it."""
    if not leaves:
        return []
    for i, (member, status, on, _note) in enumerate(leaves):
        with _refused_row(i):
            if status not in MEMBER_ROSTER.moves[Member.Status.ACTIVE]:
                raise ValidationError({"status": "请选择离开花名册的原因。"})
            MEMBER_ROSTER.check(member, status)
            _not_future(on, "on")
    day = {member.pk: on for member, _status, on, _note in leaves}
    ids = list(day)
    posts: dict[int, list[Appointment]] = {}
    stays: list[Membership] = []
    for chunk in _chunks(ids):
        for post in Appointment.objects.filter(member_id__in=chunk, end__isnull=True).select_related("organization"):
            if post.start > day[post.member_id]:
                raise _refused(ValidationError({"on": "日期不能早于其现任党内职务的任职日期。"}), ids.index(post.member_id))
            post.end, post.version = day[post.member_id], post.version + 1
            posts.setdefault(post.member_id, []).append(post)
        stays += Membership.objects.filter(member_id__in=chunk, end__isnull=True)
    for stay in stays:
        stay.end = day[stay.member_id]
    Membership.objects.bulk_update(stays, ["end"], batch_size=500)
    Appointment.objects.bulk_update([p for held in posts.values() for p in held], ["end", "version"], batch_size=500)
    now = timezone.now()
    for member, status, _on, _note in leaves:
        member.status, member.updated_at, member.version = status, now, member.version + 1
    Member.objects.bulk_update([m for m, *_ in leaves], ["status", "updated_at", "version"], batch_size=500)
    audit_record_many(by=by, items=[
        AuditItem("member.leave", member, before={"status": Member.Status.ACTIVE.value}, note=note, after={
            "status": status, "appointments_ended": [f"{p.organization.name}{p.get_role_display()}"
                                                     for p in posts.get(member.pk, ())]})
        for member, status, _on, note in leaves])
    return [m for m, *_ in leaves]


@transaction.atomic
def member_probation_record(*, by: Actor, member: Member, start: dt.date, end: dt.date,
                            document_number: str = "", note: str = "") -> ProbationPeriod:
    """Record a 留党察看 period: from `start` until `end` (the day rights come back) the member has
    no 表决权: meetings recorded or corrected in the period count them so, and meetings already on
    record in it are brought up to date by the voting_rights_changed receivers (each auditing what it
    changes). At most the rule's years (《中国共产党纪律处分条例》: 留党察看期限最长不得超过二年)."""
    if errors := probation_clean(start=start, end=end):
        raise ValidationError(errors)
    if member.status != Member.Status.ACTIVE:
        raise ValidationError({"member": "只能对在册党员记录留党察看。"})
    if start < member.joined_on:
        raise ValidationError({"start": f"留党察看开始日期不能早于入党日期（{member.joined_display}）。"})
    if ProbationPeriod.objects.filter(member=member, start__lt=end, end__gt=start).exists():
        raise ValidationError({"start": f"{member.name}在该期间已有留党察看记录。"})
    period = ProbationPeriod.objects.create(member=member, start=start, end=end,
                                            document_number=document_number.strip(), note=note.strip())
    audit_record(by=by, action="member.probation", obj=member,
                 after={"start": start.isoformat(), "end": end.isoformat(), "document_number": period.document_number,
                        "note": period.note}, note=period.note)
    _voting_rights_changed(by=by, member=member, start=start, end=end,
                           reason=f"{member.name}受留党察看处分（{start:%Y-%m-%d}至{end:%Y-%m-%d}），期间没有表决权")
    return period


def member_reveal_id_number(*, by: Actor, member: Member, reason: str) -> str:
    """Return the full ID number and record who asked and why (a sensitive read is audited)."""
    if len(reason.strip()) < 2:
        raise ValidationError({"reason": "请填写查看完整身份证号的事由。"})
    with transaction.atomic():
        audit_record(by=by, action="member.reveal_id_number", obj=member, note=reason.strip())
    return member.id_number
