"""The one access policy. Every question ("what may this user see or change?") is answered here,
as a queryset or a Q filter, never as a Python list of ids. Views, the API, exports, metric
drill-downs and to-dos call these getters; a detail getter raises Http404 outside the caller's
scope, so a record's existence is not revealed.

The policy knows the two trees (organisations and units) and the members who belong to them.
Every other area *registers* the record types it keeps (`register(Meeting)` in its AppConfig), each
with the path from a record to the organisation it belongs to; `records(user, Meeting, perm)` then
scopes them without the policy importing the area.

Grants: a role on a node, with or without its descendants. Every scope below is built from
`organization_ids(user, perm)`, which honours `include_descendants=False`; to cut a scope to one
organisation's subtree use `organizations_under` / `records_under` (the grant, then the subtree),
never a bare `path__startswith` on an unscoped queryset.

Cost: one query per request for the caller's role assignments (cached on the user object); every
scoped list is then one query with `organization_id IN (subquery)` on the trees' indexed columns.
"""

from dataclasses import dataclass

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import ROLE_PERMISSIONS, THREE_ADMINS, Perm, second_factor_roles
from dangjian.organizations.models import Member, Organization, Unit

_NOTHING = Q(pk__in=[])


# ---------------------------------------------------------------- grants

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


# ---------------------------------------------------------------- the organisation tree

def organization_q(user, perm: Perm = Perm.VIEW_ORGANIZATIONS, prefix: str = "") -> Q:
    """Q selecting the organisations (through `prefix`) on which the user holds `perm`."""
    return _node_q(_org_grants(user, perm), prefix)


def organizations(user, perm: Perm = Perm.VIEW_ORGANIZATIONS) -> QuerySet[Organization]:
    return Organization.objects.filter(organization_q(user, perm))


def organization_ids(user, perm: Perm) -> QuerySet:
    """The ids of the organisations on which the user holds `perm`, as a subquery: the one way a
    record is scoped (`organization_id IN (…)` lets the record's own index drive the query)."""
    return organizations(user, perm).values("pk")


def organizations_under(user, perm: Perm, node: Organization) -> QuerySet[Organization]:
    """The organisations in `node`'s subtree on which the user holds `perm` (a grant without
    descendants on `node` gives `node` alone)."""
    return organizations(user, perm).filter(path__startswith=node.path)


def get_organization(user, pk, perm: Perm = Perm.VIEW_ORGANIZATIONS) -> Organization:
    try:
        return organizations(user, perm).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_on_organization(user, organization: Organization, perm: Perm) -> bool:
    """Whether `perm` holds on this organisation, decided from the cached grants (no query)."""
    return any(
        organization.path.startswith(node.path) if desc else node.pk == organization.pk
        for node, desc in _org_grants(user, perm)
    )


# ---------------------------------------------------------------- the unit tree

def units(user, perm: Perm = Perm.VIEW_UNITS) -> QuerySet[Unit]:
    """Units granted directly (unit liaisons) or served by an organisation in scope."""
    q = _node_q(_unit_grants(user, perm), "") | _node_q(_org_grants(user, perm), "organization__")
    return Unit.objects.filter(q)


def get_unit(user, pk, perm: Perm = Perm.VIEW_UNITS) -> Unit:
    try:
        return units(user, perm).get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# ---------------------------------------------------------------- members of the tree

def member_q(user, perm: Perm = Perm.VIEW_MEMBERS, prefix: str = "") -> Q:
    # organization_id IN (organisations in scope), not a join on the organisation's path: the
    # subquery lets the database use the (organization, status, name, id) index, so a branch
    # secretary's page reads their branch's rows, not every member of the city (bench/member_list.py).
    grants = _org_grants(user, perm)
    in_scope = Organization.objects.filter(_node_q(grants, "")).values("pk") if grants else None
    # Everyone who is a member may read their own record (not change it: that is the secretary's).
    own = user.member_id if perm == Perm.VIEW_MEMBERS and user.is_authenticated and user.member_id else None
    if own is None:
        return Q(**{f"{prefix}organization__in": in_scope}) if grants else _NOTHING
    if not grants:
        return Q(**{f"{prefix}pk": own})
    # Grants and the own record: `pk IN (scope UNION own)`, never `organization IN (…) OR pk = own`.
    # An OR across the subquery keeps PostgreSQL from the roster index: a secretary's page of 20
    # read and discarded the other 30,000 members of a city (bench/city_pages.py, issue 11).
    return Q(**{f"{prefix}pk__in": Member.objects.filter(organization__in=in_scope).values("pk")
                .union(Member.objects.filter(pk=own).values("pk"))})


def members(user, perm: Perm = Perm.VIEW_MEMBERS) -> QuerySet[Member]:
    return Member.objects.filter(member_q(user, perm))


def get_member(user, pk, perm: Perm = Perm.VIEW_MEMBERS) -> Member:
    try:
        return members(user, perm).select_related("organization", "unit").get(pk=pk)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_on_member(user, member: Member, perm: Perm) -> bool:
    """Whether `perm` holds on this member's organisation (e.g. VIEW, SEE_PHONE, UNMASK_ID, MANAGE)."""
    if user.is_authenticated and user.member_id == member.pk and perm in (Perm.VIEW_MEMBERS, Perm.SEE_PHONE,
                                                                          Perm.UNMASK_ID):
        return True  # a member reads their own record, numbers in full (as `member_q` says)
    return can_on_organization(user, member.organization, perm)


# ---------------------------------------------------------------- records the areas register

@dataclass(frozen=True)
class RecordType:
    model: type[Model]
    organization: str  # the lookup from a record to the organisation it belongs to
    select_related: tuple[str, ...] = ()


_record_types: dict[type[Model], RecordType] = {}


def register(model: type[Model], *, organization: str = "organization", select_related: tuple[str, ...] = ()) -> None:
    """Declare a record type an area keeps: scoped by the organisation at `organization` (a lookup
    such as "meeting__organization"); `select_related` is what its detail getter joins. Called by the
    area's AppConfig.ready(), so the policy never imports a later area."""
    existing = _record_types.get(model)
    spec = RecordType(model, organization, tuple(select_related))
    if existing is not None and existing != spec:
        raise ValueError(f"{model.__name__} is registered with the policy twice, differently")
    _record_types[model] = spec


def registered() -> dict[type[Model], RecordType]:
    return dict(_record_types)


def _record_type(model) -> RecordType:
    try:
        return _record_types[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not registered with access.policy") from None


def records(user, model: type[Model], perm: Perm) -> QuerySet:
    """The records of a registered type whose organisation is in the user's scope for `perm`."""
    spec = _record_type(model)
    if not _org_grants(user, perm):
        return model.objects.none()
    return model.objects.filter(**{f"{spec.organization}__in": organization_ids(user, perm)})


def records_under(user, model: type[Model], perm: Perm, node: Organization) -> QuerySet:
    """`records`, cut to `node`'s subtree (the grant first, then the subtree)."""
    spec = _record_type(model)
    if not _org_grants(user, perm):
        return model.objects.none()
    return model.objects.filter(**{f"{spec.organization}__in": organizations_under(user, perm, node).values("pk")})


def get_record(user, model: type[Model], pk, perm: Perm):
    """One registered record in scope, with its registered joins, or 404."""
    try:
        return records(user, model, perm).select_related(*_record_type(model).select_related).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_on_record(user, record, perm: Perm) -> bool:
    """Whether `perm` holds on the organisation a loaded record belongs to (no query when the
    organisation is loaded)."""
    organization = record
    for step in _record_type(type(record)).organization.split("__"):
        organization = getattr(organization, step)
    return can_on_organization(user, organization, perm)


# ---------------------------------------------------------------- accounts

def users_manageable(user) -> QuerySet[User]:
    return User.objects.all() if has_perm(user, Perm.MANAGE_USERS) else User.objects.none()


def second_factor_accounts(user) -> QuerySet[User]:
    """Accounts whose authenticator the security admin may reset: those that must pass the second
    factor (roles.second_factor_roles) and any with an app bound, each with `required` and `enrolled`."""
    if not has_perm(user, Perm.RESET_SECOND_FACTOR):
        return User.objects.none()
    required = RoleAssignment.objects.filter(user=OuterRef("pk"), role__in=second_factor_roles())
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (User.objects.annotate(required=Exists(required), enrolled=Exists(enrolled))
            .filter(Q(required=True) | Q(enrolled=True)).order_by("username"))


def accounts_bindable(user) -> QuerySet[User]:
    """Accounts the security admin may bind to a member: active, not yet bound, holding no 三员 role."""
    if not has_perm(user, Perm.MANAGE_ROLES):
        return User.objects.none()
    return (User.objects.filter(is_active=True, member__isnull=True, admin_account=False)
            .exclude(role_assignments__role__in=THREE_ADMINS).order_by("username"))


def members_bindable(user) -> QuerySet[Member]:
    """Members on the roll without an account, for the security admin's binding list. The page shows
    name and organisation only (no number, date or phone)."""
    if not has_perm(user, Perm.MANAGE_ROLES):
        return Member.objects.none()
    return (Member.objects.filter(status=Member.Status.ACTIVE, user__isnull=True)
            .select_related("organization").only("pk", "name", "organization__name").order_by("organization__path", "name_key"))


def bound_accounts(user) -> QuerySet[User]:
    if not has_perm(user, Perm.MANAGE_ROLES):
        return User.objects.none()
    return User.objects.filter(member__isnull=False).select_related("member__organization").order_by("username")
