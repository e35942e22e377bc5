"""Figures organisational life gives the annual report, each with the records behind it."""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from dangjian.access.roles import Perm
from dangjian.core.metrics import MetricValue, Period, register
from dangjian.organizations.models import Organization
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import selectors
from dangjian.orglife.models import (
    DEMOCRATIC_APPRAISAL,
    THREE_MEETINGS_ONE_LESSON,
    AgendaItem,
    ContactPoint,
    Meeting,
    MeetingKind,
)

AREA = "组织生活"
MEETING_COLUMNS = [("starts_at", "时间"), ("organization.name", "党组织"), ("kind_label", "类型"),
                   ("topics", "议题/主题"), ("present", "实到"), ("expected", "应到"), ("get_status_display", "记录")]
DECISION_COLUMNS = [("meeting.starts_at", "会议时间"), ("meeting.organization.name", "党组织"), ("title", "议题"),
                    ("get_category_display", "类别"), ("amount", "金额（万元）"), ("votes_for", "赞成"),
                    ("present", "实到"), ("expected", "应到")]


def _range(period: Period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(period.start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def _meetings(organizations: QuerySet[Organization], period: Period):
    start, end = _range(period)
    return Meeting.objects.filter(organization__in=organizations.values("pk"), starts_at__gte=start, starts_at__lt=end)


def _whole_years(period: Period) -> range | None:
    """The years a period spans when it is made of whole calendar years, else None."""
    if (period.start.month, period.start.day, period.end.month, period.end.day) == (1, 1, 12, 31):
        return range(period.start.year, period.end.year + 1)
    return None


def meetings_serving(organizations: QuerySet[Organization], period: Period, form: str) -> MetricValue:
    """The meetings that served `form` in the period: of that kind or also counted as it (one
    session, counted for each form it served). A yearly form (组织生活会, 民主评议, 民主生活会) over
    whole years counts by 所属年度: one held in January for the year before counts there."""
    years = _whole_years(period)
    if years is not None and form in orglife_rules.yearly_forms(period.end):
        start, end = _range(period)
        for_years = (Q(covers_year__in=list(years))
                     | Q(covers_year__isnull=True, starts_at__gte=start, starts_at__lt=end))
        meetings = Meeting.objects.filter(for_years, organization__in=organizations.values("pk"))
    else:
        meetings = _meetings(organizations, period)
    # United ids, not `kind = form OR EXISTS (also counted)`: the OR read every meeting of the scope's
    # period to test each (a city's 80,000 a year, 100 ms a figure); each half has its index, and
    # the figure counts the ids without reading the meetings.
    also = meetings.filter(also_counts__kind=form).values("pk")
    ids = meetings.filter(kind=form).values("pk").union(also)
    # The records are read a page at a time in time order (reports' drill-down). PostgreSQL: the OR
    # over the period's meetings in that order stops at the page, where `id IN (the union)` sorted
    # the scope's whole union (city user 74 → 9 ms a page at scale 1). SQLite plans the OR from the
    # (kind, starts_at) index, the whole city's meetings of the kind, and keeps the scope's (a
    # bureau's page 14 ms): the union starts from the scope's (organisation, kind, time) index (2 ms).
    records = meetings.filter(Q(kind=form) | Q(pk__in=also)) if connection.vendor == "postgresql" else \
        meetings.filter(pk__in=ids)
    return MetricValue(value=ids.count(), records=selectors.meeting_rows(records).order_by("starts_at", "id"))


def _register_kind(kind: MeetingKind) -> None:
    @register(key=f"orglife.meetings.{kind.value}", label=f"{kind.label}", area=AREA, unit="次",
              permission=Perm.VIEW_MEETINGS, columns=MEETING_COLUMNS,
              description=f"期间内召开的{kind.label}次数（含下级组织；同时作为{kind.label}开展的其他会议一并计入；"
                          "年度会议按所属年度计）。")
    def meetings_of_kind(*, organizations, period):
        return meetings_serving(organizations, period, kind.value)


for _kind in MeetingKind:
    _register_kind(_kind)


@register(key="orglife.meetings.democratic_appraisal", label="民主评议党员", area=AREA, unit="次",
          permission=Perm.VIEW_MEETINGS, columns=MEETING_COLUMNS,
          description="开展民主评议党员的会议次数（含下级组织；按所属年度计）。")
def democratic_appraisals(*, organizations, period):
    return meetings_serving(organizations, period, DEMOCRATIC_APPRAISAL)


def _register_study_tag(key: str, tag: str) -> None:
    @register(key=f"orglife.study.{key}", label=f"以“{tag}”为主题的学习", area=AREA, unit="次",
              permission=Perm.VIEW_MEETINGS, columns=MEETING_COLUMNS,
              description=f"期间内标注学习主题“{tag}”的会议次数（各类会议合计）。")
    def study_sessions(*, organizations, period):
        meetings = selectors.study_sessions(_meetings(organizations, period), tag)
        return MetricValue(value=meetings.count(), records=selectors.meeting_rows(meetings).order_by("starts_at"))


for _key, _tag in settings.ORGLIFE_STUDY_TAG_METRICS.items():
    _register_study_tag(_key, _tag)


@register(key="orglife.three_and_one_compliance", label="“三会一课”按规定开展", area=AREA, unit="期",
          permission=Perm.VIEW_MEETINGS, columns=MEETING_COLUMNS,
          description="已结束的应开展期次中按规定开展的期次 / 应开展期次（支部党员大会、支委会、党小组会、党课）。")
def three_and_one_compliance(*, organizations, period):
    table = selectors.compliance(organizations, year=period.end.year, today=min(timezone.localdate(), period.end))
    held, required = table.rate(selectors.THREE_AND_ONE_KEYS)
    records = selectors.meeting_rows(_meetings(organizations, period).filter(kind__in=THREE_MEETINGS_ONE_LESSON)
                                     ).order_by("starts_at", "id")
    return MetricValue(value=held, total=required, records=records)


def _decisions(organizations: QuerySet[Organization], period: Period):
    start, end = _range(period)
    return AgendaItem.objects.filter(meeting__organization__in=organizations.values("pk"),
                                     meeting__starts_at__gte=start, meeting__starts_at__lt=end)


def _register_category(category: AgendaItem.Category) -> None:
    @register(key=f"orglife.decisions.{category.value}", label=f"“三重一大”：{category.label}", area=AREA, unit="项",
              permission=Perm.VIEW_DECISIONS, columns=DECISION_COLUMNS,
              description=f"期间内集体研究的{category.label}议题数。")
    def decisions_of_category(*, organizations, period):
        items = _decisions(organizations, period).filter(category=category)
        return MetricValue(value=items.count(),
                           records=selectors.decision_items(items).order_by("meeting__starts_at", "order"))


for _category in (AgendaItem.Category.MAJOR_MATTER, AgendaItem.Category.KEY_APPOINTMENT,
                  AgendaItem.Category.MAJOR_PROJECT, AgendaItem.Category.LARGE_FUND):
    _register_category(_category)


@register(key="orglife.decisions_flagged", label="决策程序存在问题的议题", area=AREA, unit="项",
          permission=Perm.VIEW_DECISIONS, columns=DECISION_COLUMNS, description="到会人数不足、未记录表决、主持人未末位表态等被标记的议题数。")
def decisions_flagged(*, organizations, period):
    items = list(selectors.decision_items(_decisions(organizations, period)))
    flagged = [item.pk for item in items if selectors.decision_flags(item)[1]]
    records = selectors.decision_items(AgendaItem.objects.filter(pk__in=flagged)).order_by("meeting__starts_at")
    return MetricValue(value=len(flagged), records=records)


@register(key="orglife.contact_attendance", label="领导参加联系点支部活动", area=AREA, unit="次",
          permission=Perm.VIEW_MEETINGS, columns=[("leader.name", "领导"), ("organization.name", "联系党支部"), ("meetings_joined", "参加"),
                   ("meetings_held", "支部活动")],
          description="领导参加其党建联系点支部学习活动（主题党日、党课，见本地规则 contact_point.study_kinds）的次数 / 这些支部同期开展的次数。")
def contact_attendance(*, organizations, period):
    points = selectors.contact_points(
        ContactPoint.objects.filter(organization__in=organizations.values("pk")), year=period.end.year)
    rows = list(points)
    if not rows:
        return MetricValue(value=None, records=points, note="本年度未设置党建联系点")
    return MetricValue(value=sum(r.meetings_joined for r in rows), total=sum(r.meetings_held for r in rows),
                       records=points)
