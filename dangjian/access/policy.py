"""The one access policy. Every question ("what may this user see or change?") is answered here,
as a queryset or a Q filter, never as a Python list of ids. Views and the API call these getters;
a detail getter raises Http404 outside the caller's scope, so a record's existence is not revealed.

Cost: one query per request for the caller's role assignments (cached on the user object); every
scoped list is then a single query with path-prefix filters on the trees' indexed `path` columns.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import ROLE_PERMISSIONS, Perm
from dangjian.organizations.models import Member, Organization, Unit

_NOTHING = Q(pk__in=[])


def assignments(user) -> list[RoleAssignment]:
    """The user's grants with their nodes' paths, loaded once per request."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_role_assignments", None)
    if cached is None:
        cached = list(RoleAssignment.objects.filter(user=user).select_related("organization", "unit"))
        user._role_assignments = cached
    return cached


def roles(user) -> set[str]:
    return {a.role for a in assignments(user)}


def has_perm(user, perm: Perm) -> bool:
    """Whether the user holds `perm` anywhere (used to show menu entries and guard whole pages)."""
    return any(perm in ROLE_PERMISSIONS[a.role] for a in assignments(user))


def require_perm(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise Http404


def _node_q(grants, prefix: str) -> Q:
    q = _NOTHING
    for node, include_descendants in grants:
        if include_descendants:
            q |= Q(**{f"{prefix}path__startswith": node.path})
        else:
            q |= Q(**{f"{prefix}pk": node.pk})
    return q


def _org_grants(user, perm):
    return [(a.organization, a.include_descendants) for a in assignments(user)
            if a.organization_id and perm in ROLE_PERMISSIONS[a.role]]


def _unit_grants(user, perm):
    return [(a.unit, a.include_descendants) for a in assignments(user)
            if a.unit_id and perm in ROLE_PERMISSIONS[a.role]]


def organization_q(user, perm: Perm = Perm.VIEW_ORGANIZATIONS, prefix: str = "") -> Q:
    """Q selecting the organisations (through `prefix`) on which the user holds `perm`."""
    return _node_q(_org_grants(user, perm), prefix)


def organizations(user, perm: Perm = Perm.VIEW_ORGANIZATIONS) -> QuerySet[Organization]:
    return Organization.objects.filter(organization_q(user, perm))


def units(user, perm: Perm = Perm.VIEW_UNITS) -> QuerySet[Unit]:
    """Units granted directly (unit liaisons) or served by an organisation in scope."""
    q = _node_q(_unit_grants(user, perm), "") | _node_q(_org_grants(user, perm), "organization__")
    return Unit.objects.filter(q)


def member_q(user, perm: Perm = Perm.VIEW_MEMBERS, prefix: str = "") -> Q:
    # organization_id IN (organisations in scope), not a join on the organisation's path: the
    # subquery lets the database use the (organization, status, name, id) index, so a branch
    # secretary's page reads their branch's rows, not every member of the city (bench/member_list.py).
    grants = _org_grants(user, perm)
    q = Q(**{f"{prefix}organization__in": Organization.objects.filter(_node_q(grants, "")).values("pk")}) if grants else _NOTHING
    # Everyone who is a member may read their own record (not change it: that is the secretary's).
    if perm == Perm.VIEW_MEMBERS and user.is_authenticated and user.member_id:
        q |= Q(**{f"{prefix}pk": user.member_id})
    return q


def members(user, perm: Perm = Perm.VIEW_MEMBERS) -> QuerySet[Member]:
    return Member.objects.filter(member_q(user, perm))


def meetings(user, perm: Perm = Perm.VIEW_MEETINGS):
    """Meetings held by organisations on which the user holds `perm`."""
    from dangjian.orglife.models import Meeting

    grants = _org_grants(user, perm)
    if not grants:
        return Meeting.objects.none()
    return Meeting.objects.filter(organization__in=Organization.objects.filter(_node_q(grants, "")).values("pk"))


def get_meeting(user, pk, perm: Perm = Perm.VIEW_MEETINGS):
    from dangjian.orglife.models import Meeting

    try:
        return meetings(user, perm).select_related("organization", "host", "recorder", "lecturer").get(pk=pk)
    except (Meeting.DoesNotExist, ValueError):
        raise Http404 from None


def get_organization(user, pk, perm: Perm = Perm.VIEW_ORGANIZATIONS) -> Organization:
    try:
        return organizations(user, perm).get(pk=pk)
    except (Organization.DoesNotExist, ValueError):
        raise Http404 from None


def get_unit(user, pk, perm: Perm = Perm.VIEW_UNITS) -> Unit:
    try:
        return units(user, perm).get(pk=pk)
    except (Unit.DoesNotExist, ValueError):
        raise Http404 from None


def get_member(user, pk, perm: Perm = Perm.VIEW_MEMBERS) -> Member:
    try:
        return members(user, perm).select_related("organization", "unit").get(pk=pk)
    except (Member.DoesNotExist, ValueError):
        raise Http404 from None


def can_on_member(user, member: Member, perm: Perm) -> bool:
    """Whether `perm` holds on this member's organisation (e.g. SEE_PHONE, UNMASK_ID, MANAGE)."""
    if user.is_authenticated and user.member_id == member.pk and perm in (Perm.SEE_PHONE, Perm.UNMASK_ID):
        return True  # a member sees their own numbers in full
    return can_on_organization(user, member.organization, perm)


def can_on_organization(user, organization: Organization, perm: Perm) -> bool:
    """Whether `perm` holds on this organisation, decided from the cached grants (no query)."""
    return any(
        organization.path.startswith(node.path) if desc else node.pk == organization.pk
        for node, desc in _org_grants(user, perm)
    )


def users_manageable(user) -> QuerySet[User]:
    return User.objects.all() if has_perm(user, Perm.MANAGE_USERS) else User.objects.none()
