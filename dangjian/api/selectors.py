"""Reads behind the API's lists and details. Every queryset starts from `dangjian.access.policy`;
what is added here are the joins and correlated subqueries that let one page be one query, and the
per-caller masking of members' numbers (done in Python on rows already loaded: no query per row)."""

import base64
import binascii
import json

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Length, Substr

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.api.errors import ApiError
from dangjian.api.schemas import MAX_ID
from dangjian.core.identity import mask_id_number, mask_phone
from dangjian.organizations.models import Member, Organization, Unit
from dangjian.organizations.selectors import current_secretary_subquery


def _parent_id(model) -> Subquery:
    """The parent node's id from the materialised path (the path minus its last step)."""
    return Subquery(
        model.objects.filter(path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - model.steplen))
        .values("pk")[:1]
    )


def _subtree_members(category: str) -> Coalesce:
    """Active members of `category` in the organisation and every organisation under it."""
    counted = (
        Member.objects.filter(organization__path__startswith=OuterRef("path"), status=Member.Status.ACTIVE,
                              category=category)
        .order_by().values("category").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_figures(organizations: QuerySet[Organization]) -> QuerySet[Organization]:
    """Parent id, current secretary and subtree member counts, as correlated subqueries: one
    query for a whole page, each subquery an indexed lookup on `path`."""
    return organizations.annotate(
        parent_id=_parent_id(Organization),
        secretary=current_secretary_subquery(),
        full_count=_subtree_members(Member.Category.FULL),
        probationary_count=_subtree_members(Member.Category.PROBATIONARY),
    )


def organization_list(user, *, kind: str | None, parent: str | None, include_dissolved: bool) -> QuerySet:
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


def organization_out(org: Organization) -> dict:
    full, probationary = org.full_count, org.probationary_count
    return {
        "id": org.pk, "code": org.code, "name": org.name, "kind": org.kind, "parent": org.parent_id,
        "depth": org.depth, "founded_on": org.founded_on, "dissolved_on": org.dissolved_on,
        "term_start": org.term_start, "term_end": org.term_end, "secretary": org.secretary,
        "members": {"full": full, "probationary": probationary, "total": full + probationary},
    }


def unit_list(user, *, kind: str | None, parent: str | None) -> QuerySet[Unit]:
    units = policy.units(user)
    if kind:
        units = units.filter(kind=kind)
    if parent is not None:
        node = Unit.objects.filter(code=parent).values("path", "depth").first()
        units = units.filter(path__startswith=node["path"], depth=node["depth"] + 1) if node else units.none()
    return units.order_by("path")


def with_unit_joins(units: QuerySet[Unit]) -> QuerySet[Unit]:
    return units.select_related("organization").annotate(parent_id=_parent_id(Unit))


def unit_out(unit: Unit) -> dict:
    return {
        "id": unit.pk, "code": unit.code, "name": unit.name, "kind": unit.kind, "parent": unit.parent_id,
        "depth": unit.depth, "organization": unit.organization_id,
        "organization_name": unit.organization.name if unit.organization_id else None,
    }


def member_out(user, member: Member) -> dict:
    """A member as this caller may see them. `member.organization` and `member.unit` must be
    loaded (select_related); the permission checks use the caller's cached grants, no query.

    The ID number stays masked for everyone but the member themself: unmasking is a page action
    that asks for a reason and is audited, and the API has no such step. The birth date is given
    only with the full ID number, because the mask keeps the first 6 and last 4 characters and the
    8 in between *are* the birth date."""
    own = user.is_authenticated and user.member_id == member.pk
    return {
        "id": member.pk, "name": member.name, "gender": member.gender, "ethnicity": member.ethnicity,
        "birth_year": member.birth_date.year,
        "birth_date": member.birth_date if own else None,
        "id_number": member.id_number if own else mask_id_number(member.id_number),
        "joined_on": member.joined_on, "full_on": member.full_on, "category": member.category,
        "education": member.education, "post": member.post,
        "organization": member.organization_id, "organization_name": member.organization.name,
        "unit": member.unit_id, "unit_name": member.unit.name if member.unit_id else None,
        "phone": member.phone if policy.can_on_member(user, member, Perm.SEE_PHONE) else mask_phone(member.phone),
        "status": member.status, "updated_at": member.updated_at,
    }


# ---------------------------------------------------------------- keyset cursor

BAD_CURSOR = "翻页游标无效，请从第一页重新开始。"


def encode_cursor(position: tuple[str, int] | None) -> str | None:
    """(name, id) → an opaque URL-safe string. Not signed: a forged cursor only moves the caller
    elsewhere in their own scoped list."""
    if position is None:
        return None
    raw = json.dumps(list(position), ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> tuple[str, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, pk = json.loads(raw.decode())
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ApiError(422, BAD_CURSOR, {"after": BAD_CURSOR}) from None
    if not isinstance(name, str) or "\x00" in name or type(pk) is not int or not 0 <= pk <= MAX_ID:
        raise ApiError(422, BAD_CURSOR, {"after": BAD_CURSOR})
    return name, pk
