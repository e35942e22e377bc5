"""The organisations area's part of the JSON API: the two trees (party organisations, units) and the
member roster (list, detail, create, update, transfer, 留党察看). Mounted by `dangjian.api.main`, whose
docstring states the access rules every route follows. Member writes go through the organisations
services with `Actor.from_request`, so each lands in the audit trail.

The member list is the member page's selector (`selectors.member_queryset` + `keyset_page`) and
what a caller sees of a member's numbers is the page's decision too (`selectors.member_numbers`).
Operation ids are pinned to their names from before the API was split by area (clients generated
from the schema use them).
"""

import datetime as dt
from typing import Literal

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Length, Substr
from ninja import Path, Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from dangjian.access import policy
from dangjian.access.guards import get_for_change, get_visible
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor
from dangjian.core.api import DETAIL_ERRORS, MAX_ID, MAX_PAGE, READ_ERRORS, WRITE_ERRORS, ApiError, Id, Versioned, text
from dangjian.core.cursors import decode_cursor, encode_cursor
from dangjian.core.dates import Precision
from dangjian.organizations.models import Member, Organization, Unit
from dangjian.organizations.selectors import (
    MEMBER_CURSOR,
    current_secretary_subquery,
    keyset_page,
    member_numbers,
    member_queryset,
    under_path,
)
from dangjian.organizations.services import (
    MEMBER_FIELDS,
    MEMBER_PARTIAL_DATES,
    member_create,
    member_probation_record,
    member_transfer,
    member_update,
)

router = Router()

OrganizationKind = Literal[tuple(Organization.Kind.values)]
UnitKind = Literal[tuple(Unit.Kind.values)]
Gender = Literal[tuple(Member.Gender.values)]
Category = Literal[tuple(Member.Category.values)]
MemberStatus = Literal[tuple(Member.Status.values)]
DatePrecision = Literal[tuple(Precision.values)]
PRECISIONS = frozenset(MEMBER_PARTIAL_DATES.values())
Education = Literal[("", *Member.Education.values)]


# ---------------------------------------------------------------- organisations and units: shapes

class MemberCounts(Schema):
    full: int = Field(description="在册正式党员（含下级党组织）")
    probationary: int = Field(description="在册预备党员（含下级党组织）")
    total: int


class OrganizationOut(Schema):
    id: int
    code: str
    name: str
    kind: OrganizationKind
    parent: int | None = Field(description="上级党组织 id；顶层为 null")
    depth: int
    founded_on: dt.date
    dissolved_on: dt.date | None
    term_start: dt.date | None
    term_end: dt.date | None
    secretary: str | None = Field(description="现任书记姓名；未配备为 null")
    members: MemberCounts


class OrganizationPage(Schema):
    count: int
    items: list[OrganizationOut]


class OrganizationFilters(Schema):
    kind: OrganizationKind | None = None
    parent: text(32) | None = Field(None, description="上级党组织编码：只列其直接下级")
    include_dissolved: bool = Field(False, description="是否包含已撤销的党组织")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: UnitKind
    parent: int | None
    depth: int
    organization: int | None = Field(description="服务该单位的党组织 id")
    organization_name: str | None


class UnitPage(Schema):
    count: int
    items: list[UnitOut]


class UnitFilters(Schema):
    kind: UnitKind | None = None
    parent: text(32) | None = Field(None, description="上级单位编码：只列其直接下级")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)


# ---------------------------------------------------------------- members: shapes

class MemberOut(Schema):
    id: int
    name: str
    gender: Gender
    ethnicity: str
    birth_year: int
    birth_date: dt.date | None = Field(
        description="只对本人给出（其他人只有 birth_year）：出生日期就在身份证号掩去的部分里")
    id_number: str = Field(description="一律掩码（本人也不例外）；查看完整号码须在页面上填写事由并留痕")
    joined_on: dt.date = Field(description="入党日期；不完整时为可能的最早一天，见 joined_on_precision")
    joined_on_precision: DatePrecision = Field(description="day / month / year / unknown（不详）")
    full_on: dt.date | None
    full_on_precision: DatePrecision
    category: Category
    education: Education
    post: str
    organization: int
    organization_name: str
    unit: int | None
    unit_name: str | None
    phone: str = Field(description="有“查看完整电话”权限时为完整号码，否则为掩码")
    status: MemberStatus
    updated_at: dt.datetime
    version: Versioned.Out


class MemberPage(Schema):
    items: list[MemberOut]
    next: str | None = Field(description="下一页的游标（作为 after 传回）；没有下一页为 null")


class MemberFilters(Schema):
    organization: Id | None = Field(None, description="党组织 id：含其下级党组织的党员")
    category: Category | None = None
    status: Literal[(*Member.Status.values, "all")] = Field("active", description="默认只列在册党员")
    q: text(50) = Field("", description="按姓名、职务或工作单位名称查找")
    after: text(200) | None = Field(None, description="上一页返回的 next 游标")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class MemberCreateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organization: Id
    name: text(50)
    gender: Gender
    ethnicity: text(20) = "汉族"
    birth_date: dt.date
    id_number: text(30)
    joined_on: dt.date
    full_on: dt.date | None = None
    category: Category
    education: Education = ""
    post: text(100) = ""
    unit: Id | None = None
    phone: text(20) = ""
    since: dt.date | None = Field(None, description="转入本党组织的日期；默认为入党日期")


class MemberUpdateIn(Schema):
    """Only the fields sent are changed. The organisation changes by transfer, never here."""

    model_config = ConfigDict(extra="forbid")

    name: text(50) | None = None
    gender: Gender | None = None
    ethnicity: text(20) | None = None
    birth_date: dt.date | None = None
    id_number: text(30) | None = None
    joined_on: dt.date | None = None
    full_on: dt.date | None = None
    category: Category | None = None
    education: Education | None = None
    post: text(100) | None = None
    unit: Id | None = None
    phone: text(20) | None = None
    version: Versioned.In = None


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to: Id = Field(description="转入党组织 id")
    on: dt.date = Field(description="转接日期")
    note: text(200) = ""


class ProbationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: dt.date = Field(description="留党察看开始日期（不晚于今天）")
    end: dt.date = Field(description="留党察看期满日期（恢复党员权利之日，不含）；期限最长二年（纪律处分条例）")
    document_number: text(100) = Field("", description="处分决定文号")
    note: text(300) = ""


class ProbationOut(Schema):
    id: int
    member: int = Field(description="党员 id")
    start: dt.date
    end: dt.date = Field(description="期满日期：自此日起恢复表决权")
    document_number: str
    note: str


# ---------------------------------------------------------------- reads behind the trees
# Every queryset starts from `dangjian.access.policy`; what is added here are the joins and
# correlated subqueries that let one page be one query.

def _parent_id(model) -> Subquery:
    """The parent node's id from the materialised path (the path minus its last step)."""
    return Subquery(
        model.objects.filter(path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - model.steplen))
        .values("pk")[:1]
    )


def _subtree_members(user, category: str) -> Coalesce:
    """Active members of `category` in the organisation and every organisation under it that the
    caller may see (a grant without descendants counts the organisation's own members only, as the
    tree page does). The subtree as `organization_id IN (organisations in scope within the path
    range)`: an index range per row, not a LIKE on every organisation of the city."""
    subtree = policy.organizations(user, Perm.VIEW_ORGANIZATIONS).filter(under_path(OuterRef(OuterRef("path"))))
    counted = (
        Member.objects.filter(status=Member.Status.ACTIVE, category=category, organization__in=subtree.values("pk"))
        .order_by().values("category").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_figures(user, organizations: QuerySet[Organization]) -> QuerySet[Organization]:
    """Parent id, current secretary and subtree member counts (within the caller's scope), as
    correlated subqueries: one query for a whole page, each subquery an indexed lookup on `path`."""
    return organizations.annotate(
        parent_id=_parent_id(Organization),
        secretary=current_secretary_subquery(),
        full_count=_subtree_members(user, Member.Category.FULL),
        probationary_count=_subtree_members(user, Member.Category.PROBATIONARY),
    )


def _organizations(user, *, kind: str | None, parent: str | None, include_dissolved: bool) -> QuerySet:
    """The organisations in the caller's scope, filtered, in tree order (not yet annotated)."""
    orgs = policy.organizations(user)
    if not include_dissolved:
        orgs = orgs.filter(dissolved_on__isnull=True)
    if kind:
        orgs = orgs.filter(kind=kind)
    if parent is not None:
        # Looked up outside the scope on purpose: the result is still cut to the scope above, so an
        # unknown code and an out-of-scope code both give an empty list (nothing is revealed).
        node = Organization.objects.filter(code=parent).values("path", "depth").first()
        orgs = orgs.filter(path__startswith=node["path"], depth=node["depth"] + 1) if node else orgs.none()
    return orgs.order_by("path")


def _organization_out(org: Organization) -> dict:
    full, probationary = org.full_count, org.probationary_count
    return {
        "id": org.pk, "code": org.code, "name": org.name, "kind": org.kind, "parent": org.parent_id,
        "depth": org.depth, "founded_on": org.founded_on, "dissolved_on": org.dissolved_on,
        "term_start": org.term_start, "term_end": org.term_end, "secretary": org.secretary,
        "members": {"full": full, "probationary": probationary, "total": full + probationary},
    }


def _units(user, *, kind: str | None, parent: str | None) -> QuerySet[Unit]:
    units = policy.units(user)
    if kind:
        units = units.filter(kind=kind)
    if parent is not None:
        node = Unit.objects.filter(code=parent).values("path", "depth").first()
        units = units.filter(path__startswith=node["path"], depth=node["depth"] + 1) if node else units.none()
    return units.order_by("path")


def _with_unit_joins(units: QuerySet[Unit]) -> QuerySet[Unit]:
    return units.select_related("organization").annotate(parent_id=_parent_id(Unit))


def _unit_out(unit: Unit) -> dict:
    return {
        "id": unit.pk, "code": unit.code, "name": unit.name, "kind": unit.kind, "parent": unit.parent_id,
        "depth": unit.depth, "organization": unit.organization_id,
        "organization_name": unit.organization.name if unit.organization_id else None,
    }


# ---------------------------------------------------------------- organisations and units: routes

@router.get("/organizations", response={200: OrganizationPage, **READ_ERRORS}, tags=["党组织"], summary="党组织列表",
            description="权限范围内的党组织，按树的顺序；党员人数含下级党组织，只计在册党员。",
            operation_id="dangjian_api_organizations_organization_list")
def organization_list(request, filters: Query[OrganizationFilters]):
    # Queries: the caller's grants, the parent code (if given), the count, the page.
    orgs = _organizations(request.user, kind=filters.kind, parent=filters.parent,
                          include_dissolved=filters.include_dissolved)
    page = with_figures(request.user, orgs)[filters.offset: filters.offset + filters.limit]
    return {"count": orgs.count(), "items": [_organization_out(o) for o in page]}


@router.get("/organizations/{organization_id}", response={200: OrganizationOut, **DETAIL_ERRORS},
            tags=["党组织"], summary="党组织详情", operation_id="dangjian_api_organizations_organization_detail")
def organization_detail(request, organization_id: int = Path(..., ge=1, le=MAX_ID)):
    org = policy.get_organization(request.user, organization_id)
    return _organization_out(with_figures(request.user, Organization.objects.filter(pk=org.pk)).get())


@router.get("/units", response={200: UnitPage, **READ_ERRORS}, tags=["单位"], summary="单位列表",
            description="直接授予的单位（联络人），或由权限范围内党组织服务的单位。",
            operation_id="dangjian_api_organizations_unit_list")
def unit_list(request, filters: Query[UnitFilters]):
    units = _units(request.user, kind=filters.kind, parent=filters.parent)
    page = _with_unit_joins(units)[filters.offset: filters.offset + filters.limit]
    return {"count": units.count(), "items": [_unit_out(u) for u in page]}


@router.get("/units/{unit_id}", response={200: UnitOut, **DETAIL_ERRORS}, tags=["单位"], summary="单位详情",
            operation_id="dangjian_api_organizations_unit_detail")
def unit_detail(request, unit_id: int = Path(..., ge=1, le=MAX_ID)):
    unit = policy.get_unit(request.user, unit_id)
    return _unit_out(_with_unit_joins(Unit.objects.filter(pk=unit.pk)).get())


# ---------------------------------------------------------------- members: helpers

# Roster text fields that are blank rather than null in the database.
BLANKABLE = ("ethnicity", "education", "post", "phone")
# What the API hands out masked, and what to say when a client sends the mask back as a value.
MASKED_BACK = {
    "id_number": "身份证号是脱敏后的（含*号），不能保存：请填写完整的18位号码；不修改就不要传这个字段。",
    "phone": "联系电话是脱敏后的（含*号），不能保存：请填写完整号码；不修改就不要传这个字段。",
}


def member_out(user, member: Member) -> dict:
    """A member as this caller may see them (`selectors.member_numbers`). `member.organization`
    and `member.unit` must be loaded (select_related); the masking uses the caller's cached grants,
    no query."""
    numbers = member_numbers(user, member)
    return {
        "id": member.pk, "name": member.name, "gender": member.gender, "ethnicity": member.ethnicity,
        "birth_year": member.birth_date.year, "birth_date": numbers.birth_date, "id_number": numbers.id_number,
        "joined_on": member.joined_on, "full_on": member.full_on, "category": member.category,
        "joined_on_precision": member.joined_on_precision, "full_on_precision": member.full_on_precision,
        "education": member.education, "post": member.post,
        "organization": member.organization_id, "organization_name": member.organization.name,
        "unit": member.unit_id, "unit_name": member.unit.name if member.unit_id else None,
        "phone": numbers.phone, "status": member.status, "updated_at": member.updated_at,
        "version": member.version,
    }


def _refuse_masked_values(values: dict) -> None:
    """A client that copies a GET into a PATCH sends the masks back; say so plainly."""
    errors = {name: message for name, message in MASKED_BACK.items() if "*" in (values.get(name) or "")}
    if errors:
        raise ApiError(422, "".join(errors.values()), errors)


def _managed_organization(user, pk: int, field: str) -> Organization:
    """The organisation named in a request body, if the caller may manage its members."""
    return get_for_change(user, policy.get_organization, pk, Perm.MANAGE_MEMBERS, can=policy.can_on_organization,
                          field=field, missing="所选党组织不存在，或不在您的权限范围内。",
                          refused=lambda org: f"您无权管理“{org.name}”的党员。")


def _unit(user, pk: int | None):
    if pk is None:
        return None
    return get_visible(user, policy.get_unit, pk, field="unit", missing="所选工作单位不存在，或不在您的权限范围内。")


def _managed_member(user, pk: int) -> Member:
    """Outside the caller's view → 404; visible (e.g. a leader, or one's own record) but not
    theirs to manage → 403, which reveals nothing they cannot already read."""
    return get_for_change(user, policy.get_member, pk, Perm.MANAGE_MEMBERS, can=policy.can_on_member,
                          refused="您可以查看该党员，但无权修改其信息。")


# ---------------------------------------------------------------- members: routes

@router.get("/members", response={200: MemberPage, **READ_ERRORS}, tags=["党员"], summary="党员列表",
            description="按姓名拼音排序（同音同字按 id），用 after 游标翻页（每页最多 200 条）。身份证号一律掩码（本人也不例外）。",
            operation_id="dangjian_api_members_member_list")
def member_list(request, filters: Query[MemberFilters]):
    # Queries: the caller's grants, the organisation filter's path (if given), the page. Masking
    # and phone permission are decided from the grants already loaded.
    user = request.user
    after = decode_cursor(filters.after, MEMBER_CURSOR)
    organization = None
    if filters.organization is not None:
        # Outside the scope on purpose: the list is cut to the scope anyway, so an unknown and an
        # out-of-scope organisation both give an empty list.
        organization = Organization.objects.filter(pk=filters.organization).only("path").first()
    members = member_queryset(user, q=filters.q.strip(), organization=organization,
                              category=filters.category or "", status="" if filters.status == "all" else filters.status)
    if filters.organization is not None and organization is None:
        members = members.none()
    rows, next_position = keyset_page(members, after=after, size=filters.limit)
    return {"items": [member_out(user, m) for m in rows], "next": encode_cursor(next_position)}


@router.get("/members/{member_id}", response={200: MemberOut, **DETAIL_ERRORS}, tags=["党员"], summary="党员详情",
            operation_id="dangjian_api_members_member_detail")
def member_detail(request, member_id: int = Path(..., ge=1, le=MAX_ID)):
    return member_out(request.user, policy.get_member(request.user, member_id))


@router.post("/members", response={201: MemberOut, **WRITE_ERRORS}, tags=["党员"], summary="登记党员",
             description="须对所选党组织有“管理党员”权限。", operation_id="dangjian_api_members_member_create_view")
def member_create_view(request, payload: MemberCreateIn):
    user = request.user
    organization = _managed_organization(user, payload.organization, "organization")
    data = payload.dict(exclude={"organization", "unit", "since"})
    _refuse_masked_values(data)
    data.update(organization=organization, unit=_unit(user, payload.unit))
    member = member_create(by=Actor.from_request(request), data=data, since=payload.since)
    return Status(201, member_out(user, member))


@router.patch("/members/{member_id}", response={200: MemberOut, **WRITE_ERRORS}, tags=["党员"],
              summary="修改党员信息", description="只改所传字段。所在党组织用 /transfer 转接；身份证号照常校验。"
                                                   "传回读取时的 version，则他人在此期间已修改时答 409，不作任何修改。",
              operation_id="dangjian_api_members_member_update_view")
def member_update_view(request, payload: MemberUpdateIn, member_id: int = Path(..., ge=1, le=MAX_ID)):
    user = request.user
    member = _managed_member(user, member_id)
    changes = payload.dict(exclude_unset=True)
    expected_version = changes.pop("version", None)
    _refuse_masked_values(changes)
    for name in BLANKABLE:
        if name in changes and changes[name] is None:
            changes[name] = ""
    if "unit" in changes:
        changes["unit"] = _unit(user, changes["unit"])
    # Without the precisions: a date the caller changes is a full date, one it leaves keeps its own.
    data = {name: getattr(member, name) for name in MEMBER_FIELDS if name not in PRECISIONS} | changes
    member = member_update(by=Actor.from_request(request), member=member, data=data,
                           expected_version=expected_version)
    return member_out(user, member)


@router.post("/members/{member_id}/transfer", response={200: MemberOut, **WRITE_ERRORS}, tags=["党员"],
             summary="组织关系转接", description="须对转出和转入的党组织都有“管理党员”权限。",
             operation_id="dangjian_api_members_member_transfer_view")
def member_transfer_view(request, payload: TransferIn, member_id: int = Path(..., ge=1, le=MAX_ID)):
    user = request.user
    member = _managed_member(user, member_id)
    to = _managed_organization(user, payload.to, "to")
    member = member_transfer(by=Actor.from_request(request), member=member, to=to, on=payload.on,
                             note=payload.note.strip())
    return member_out(user, member)


@router.post("/members/{member_id}/probation", response={201: ProbationOut, **WRITE_ERRORS}, tags=["党员"],
             summary="记录留党察看", description="须有“管理党员”权限。期间该党员没有表决权；已记录的会议随之更新"
                                                 "（应到、实到有表决权人数，是否达到法定人数）。日期有误时答 422，说明与页面相同。",
             operation_id="dangjian_api_members_member_probation_view")
def member_probation_view(request, payload: ProbationIn, member_id: int = Path(..., ge=1, le=MAX_ID)):
    member = _managed_member(request.user, member_id)
    period = member_probation_record(by=Actor.from_request(request), member=member, start=payload.start,
                                     end=payload.end, document_number=payload.document_number,
                                     note=payload.note)
    return Status(201, {"id": period.pk, "member": member.pk, "start": period.start, "end": period.end,
                        "document_number": period.document_number, "note": period.note})
