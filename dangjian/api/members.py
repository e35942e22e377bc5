"""Member routes: list (keyset-paged), detail, create, update, transfer. Writes go through the
organisations services with `Actor.from_request`, so each lands in the audit trail."""

from django.http import Http404
from ninja import Path, Query, Router, Status

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.api import selectors
from dangjian.api.errors import ApiError
from dangjian.api.schemas import (
    MAX_ID,
    ErrorOut,
    MemberCreateIn,
    MemberFilters,
    MemberOut,
    MemberPage,
    MemberUpdateIn,
    TransferIn,
)
from dangjian.audit.services import Actor
from dangjian.organizations.models import Member, Organization
from dangjian.organizations.selectors import keyset_page, member_queryset
from dangjian.organizations.services import MEMBER_FIELDS, member_create, member_transfer, member_update

router = Router(tags=["党员"])
WRITE_RESPONSES = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# Roster text fields that are blank rather than null in the database.
BLANKABLE = ("ethnicity", "education", "post", "phone")
# What the API hands out masked, and what to say when a client sends the mask back as a value.
MASKED_BACK = {
    "id_number": "身份证号是脱敏后的（含*号），不能保存：请填写完整的18位号码；不修改就不要传这个字段。",
    "phone": "联系电话是脱敏后的（含*号），不能保存：请填写完整号码；不修改就不要传这个字段。",
}


def _refuse_masked_values(values: dict) -> None:
    """A client that copies a GET into a PATCH sends the masks back; say so plainly."""
    errors = {name: message for name, message in MASKED_BACK.items() if "*" in (values.get(name) or "")}
    if errors:
        raise ApiError(422, "".join(errors.values()), errors)


def _managed_organization(user, pk: int, field: str) -> Organization:
    """The organisation named in a request body, if the caller may manage its members.
    Unknown or outside the caller's scope → 404 (alike); visible but not managed → 403."""
    try:
        org = policy.get_organization(user, pk)
    except Http404:
        message = "所选党组织不存在，或不在您的权限范围内。"
        raise ApiError(404, message, {field: message}) from None
    if not policy.can_on_organization(user, org, Perm.MANAGE_MEMBERS):
        message = f"您无权管理“{org.name}”的党员。"
        raise ApiError(403, message, {field: message})
    return org


def _unit(user, pk: int | None):
    if pk is None:
        return None
    try:
        return policy.get_unit(user, pk)
    except Http404:
        message = "所选工作单位不存在，或不在您的权限范围内。"
        raise ApiError(404, message, {"unit": message}) from None


def _managed_member(user, pk: int) -> Member:
    """Outside the caller's view → 404; visible (e.g. a leader, or one's own record) but not
    theirs to manage → 403, which reveals nothing they cannot already read."""
    member = policy.get_member(user, pk)
    if not policy.can_on_member(user, member, Perm.MANAGE_MEMBERS):
        raise ApiError(403, "您可以查看该党员，但无权修改其信息。")
    return member


@router.get("/members", response=MemberPage, summary="党员列表",
            description="按姓名、id 排序，用 after 游标翻页（每页最多 200 条）。身份证号一律掩码（本人除外）。")
def member_list(request, filters: Query[MemberFilters]):
    # Queries: the caller's grants, the organisation filter's path (if given), the page. Masking
    # and phone permission are decided from the grants already loaded.
    user = request.user
    organization = None
    if filters.organization is not None:
        # Outside the scope on purpose: the list is cut to the scope anyway, so an unknown and an
        # out-of-scope organisation both give an empty list.
        organization = Organization.objects.filter(pk=filters.organization).only("path").first()
    members = member_queryset(user, q=filters.q.strip(), organization=organization,
                              category=filters.category or "", status="" if filters.status == "all" else filters.status)
    if filters.organization is not None and organization is None:
        members = members.none()
    rows, next_position = keyset_page(members, after=selectors.decode_cursor(filters.after), size=filters.limit)
    return {"items": [selectors.member_out(user, m) for m in rows], "next": selectors.encode_cursor(next_position)}


@router.get("/members/{member_id}", response={200: MemberOut, 404: ErrorOut}, summary="党员详情")
def member_detail(request, member_id: int = Path(..., ge=1, le=MAX_ID)):
    return selectors.member_out(request.user, policy.get_member(request.user, member_id))


@router.post("/members", response={201: MemberOut, **WRITE_RESPONSES}, summary="登记党员",
             description="须对所选党组织有“管理党员”权限。")
def member_create_view(request, payload: MemberCreateIn):
    user = request.user
    organization = _managed_organization(user, payload.organization, "organization")
    data = payload.dict(exclude={"organization", "unit", "since"})
    _refuse_masked_values(data)
    data.update(organization=organization, unit=_unit(user, payload.unit))
    member = member_create(by=Actor.from_request(request), data=data, since=payload.since)
    return Status(201, selectors.member_out(user, member))


@router.patch("/members/{member_id}", response={200: MemberOut, **WRITE_RESPONSES}, summary="修改党员信息",
              description="只改所传字段。所在党组织用 /transfer 转接；身份证号照常校验。")
def member_update_view(request, payload: MemberUpdateIn, member_id: int = Path(..., ge=1, le=MAX_ID)):
    user = request.user
    member = _managed_member(user, member_id)
    changes = payload.dict(exclude_unset=True)
    _refuse_masked_values(changes)
    for name in BLANKABLE:
        if name in changes and changes[name] is None:
            changes[name] = ""
    if "unit" in changes:
        changes["unit"] = _unit(user, changes["unit"])
    data = {name: getattr(member, name) for name in MEMBER_FIELDS} | changes
    member = member_update(by=Actor.from_request(request), member=member, data=data)
    return selectors.member_out(user, member)


@router.post("/members/{member_id}/transfer", response={200: MemberOut, **WRITE_RESPONSES},
             summary="组织关系转接", description="须对转出和转入的党组织都有“管理党员”权限。")
def member_transfer_view(request, payload: TransferIn, member_id: int = Path(..., ge=1, le=MAX_ID)):
    user = request.user
    member = _managed_member(user, member_id)
    to = _managed_organization(user, payload.to, "to")
    member = member_transfer(by=Actor.from_request(request), member=member, to=to, on=payload.on,
                             note=payload.note.strip())
    return selectors.member_out(user, member)
