"""GET routes for the two trees: party organisations and administrative units."""

from ninja import Path, Query, Router

from dangjian.access import policy
from dangjian.api import selectors
from dangjian.api.schemas import (
    MAX_ID,
    ErrorOut,
    OrganizationFilters,
    OrganizationOut,
    OrganizationPage,
    UnitFilters,
    UnitOut,
    UnitPage,
)
from dangjian.organizations.models import Organization

router = Router()


@router.get("/organizations", response=OrganizationPage, tags=["党组织"], summary="党组织列表",
            description="权限范围内的党组织，按树的顺序；党员人数含下级党组织，只计在册党员。")
def organization_list(request, filters: Query[OrganizationFilters]):
    # Queries: the caller's grants, the parent code (if given), the count, the page.
    orgs = selectors.organization_list(request.user, kind=filters.kind, parent=filters.parent,
                                       include_dissolved=filters.include_dissolved)
    page = selectors.with_figures(orgs)[filters.offset: filters.offset + filters.limit]
    return {"count": orgs.count(), "items": [selectors.organization_out(o) for o in page]}


@router.get("/organizations/{organization_id}", response={200: OrganizationOut, 404: ErrorOut},
            tags=["党组织"], summary="党组织详情")
def organization_detail(request, organization_id: int = Path(..., ge=1, le=MAX_ID)):
    org = policy.get_organization(request.user, organization_id)
    return selectors.organization_out(selectors.with_figures(Organization.objects.filter(pk=org.pk)).get())


@router.get("/units", response=UnitPage, tags=["单位"], summary="单位列表",
            description="直接授予的单位（联络人），或由权限范围内党组织服务的单位。")
def unit_list(request, filters: Query[UnitFilters]):
    units = selectors.unit_list(request.user, kind=filters.kind, parent=filters.parent)
    page = selectors.with_unit_joins(units)[filters.offset: filters.offset + filters.limit]
    return {"count": units.count(), "items": [selectors.unit_out(u) for u in page]}


@router.get("/units/{unit_id}", response={200: UnitOut, 404: ErrorOut}, tags=["单位"], summary="单位详情")
def unit_detail(request, unit_id: int = Path(..., ge=1, le=MAX_ID)):
    unit = policy.get_unit(request.user, unit_id)
    return selectors.unit_out(selectors.with_unit_joins(type(unit).objects.filter(pk=unit.pk)).get())
