"""Figures the organisations area gives the annual report (调整组建党组织N个, 配齐配强书记, 党员)."""

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from dangjian.access.roles import Perm
from dangjian.core.metrics import MetricValue, Period, register
from dangjian.organizations.models import Appointment, Member, Membership, Organization, OrganizationEvent
from dangjian.organizations.selectors import open_on

AREA = "党组织与党员"


def _live_on(day, prefix=""):
    return Q(**{f"{prefix}founded_on__lte": day}) & (
        Q(**{f"{prefix}dissolved_on__isnull": True}) | Q(**{f"{prefix}dissolved_on__gt": day})
    )


@register(
    key="organizations.founded_or_restructured", label="调整组建党组织", area=AREA, permission=Perm.VIEW_ORGANIZATIONS,
    columns=[("on", "日期"), ("get_kind_display", "事项"), ("organization.name", "党组织"), ("note", "说明"),
             ("document_number", "批复文号")],
    description="期间内成立或调整的党组织个数（同一组织多次调整只计一次）。",
)
def founded_or_restructured(*, organizations: QuerySet[Organization], period: Period) -> MetricValue:
    events = OrganizationEvent.objects.filter(
        organization__in=organizations.values("pk"), on__range=(period.start, period.end),
        kind__in=[OrganizationEvent.Kind.FOUNDED, OrganizationEvent.Kind.RESTRUCTURED],
    ).select_related("organization").order_by("on", "id")
    return MetricValue(value=events.values("organization").distinct().count(), records=events)


@register(
    key="organizations.secretaries_in_place", label="配齐书记的党组织", area=AREA, permission=Perm.VIEW_ORGANIZATIONS,
    columns=[("name", "党组织"), ("get_kind_display", "类型"), ("secretary_name", "书记")],
    description="期末存续的党组织（党小组除外）中配有书记的个数；斜线后为应配书记的党组织数。",
)
def secretaries_in_place(*, organizations: QuerySet[Organization], period: Period) -> MetricValue:
    day = period.end
    seated = Appointment.objects.filter(open_on(day), role=Appointment.Role.SECRETARY)
    orgs = (organizations.filter(_live_on(day))
            .exclude(kind=Organization.Kind.CELL)
            .annotate(secretary_name=Subquery(seated.filter(organization=OuterRef("pk")).values("member__name")[:1]))
            .order_by("path"))
    counts = orgs.aggregate(total=Count("pk"), seated=Count("pk", filter=Q(secretary_name__isnull=False)))
    return MetricValue(value=counts["seated"], total=counts["total"], records=orgs)


def _members_at(organizations: QuerySet[Organization], day):
    """Stays open at the end of the day in the organisations counted."""
    return (Membership.objects.filter(open_on(day), organization__in=organizations.values("pk"))
            .select_related("member", "organization").order_by("member__name", "member_id"))


def _full_on(day):
    # Full on `day` if confirmed by then, or recorded as full with no date (members who joined
    # before the roster kept confirmation dates). A 转正日期 known only to the month or year
    # (1985年11月) counts from its earliest possible day, the date stored (core/dates.py).
    return Q(member__full_on__lte=day) | Q(member__full_on__isnull=True, member__category=Member.Category.FULL)


MEMBER_COLUMNS = [("member.name", "姓名"), ("organization.name", "所在党组织"), ("member.joined_display", "入党日期"),
                  ("member.full_display", "转正日期")]


@register(key="organizations.full_members", label="正式党员", area=AREA, permission=Perm.VIEW_MEMBERS, unit="名",
          columns=MEMBER_COLUMNS,
          description="期末在册的正式党员人数。")
def full_members(*, organizations: QuerySet[Organization], period: Period) -> MetricValue:
    records = _members_at(organizations, period.end).filter(_full_on(period.end))
    return MetricValue(value=records.count(), records=records)


@register(key="organizations.probationary_members", label="预备党员", area=AREA, permission=Perm.VIEW_MEMBERS,
          unit="名", columns=MEMBER_COLUMNS,
          description="期末在册的预备党员人数。")
def probationary_members(*, organizations: QuerySet[Organization], period: Period) -> MetricValue:
    records = _members_at(organizations, period.end).exclude(_full_on(period.end))
    return MetricValue(value=records.count(), records=records)
