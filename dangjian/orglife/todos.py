"""Reminders from organisational life: what falls due this period and what is missing this year, and
members who have missed 组织生活 for months (党章 第九条: six months is 自行脱党)."""

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core import rules
from dangjian.core.dates import add_months
from dangjian.core.todos import Todo, register
from dangjian.organizations.models import Member
from dangjian.organizations.selectors import label_organizations
from dangjian.orglife import selectors
from dangjian.orglife.models import Attendance, MeetingKind

PERIOD_WORDS = {"month": "本月", "quarter": "本季度", "year": "本年度"}
# How far ahead of a period's end its unrecorded meeting is shown as falling due.
REMIND_DAYS = {"month": 10, "quarter": 31, "year": 45}


@register
def orglife_todos(user, today):
    if not policy.has_perm(user, Perm.RECORD_MEETINGS):
        return []
    table = selectors.compliance(policy.organizations(user, Perm.RECORD_MEETINGS), year=today.year, today=today)
    record_url = reverse("orglife:meeting_create")  # once: a city-wide user's thousands of reminders
    items = []
    for row in table.rows:
        missing = row.missing
        about = {"area": "组织生活", "organization_id": row.org.pk, "organization": row.org.name}
        if missing:
            names = "、".join(dict.fromkeys(c.requirement.label for c in missing))
            text = f"今年有 {len(missing)} 期未开展（{names}）"
            items.append(Todo(title=f"{row.org.name}：{text}",
                              url=reverse("orglife:calendar", args=[row.org.pk]) + f"?year={today.year}",
                              level="danger", kind="orglife.missing", kind_label="今年有未开展的组织生活",
                              text=text, **about))
        for cell in row.cells:
            if cell.state == "due" and (cell.end - today).days <= REMIND_DAYS[cell.requirement.period]:
                kind = cell.requirement.kind or MeetingKind.ORGANIZATIONAL_LIFE_MEETING
                url = f"{record_url}?organization={row.org.pk}&kind={kind}"
                text = f"{PERIOD_WORDS[cell.requirement.period]}{cell.requirement.label}尚未记录"
                items.append(Todo(title=f"{row.org.name}：{text}", url=url, due=cell.end, level="warning",
                                  kind=f"orglife.due.{cell.requirement.key}", kind_label=text, text=text, **about))
    return items


# ---------------------------------------------------------------- 自行脱党 (党章 第九条)

# Absences that have a 正当理由: they do not count towards the months without 组织生活.
EXCUSED = (Attendance.AbsenceReason.OFFICIAL, Attendance.AbsenceReason.SICK)
# Shown from this many months without 组织生活 (a warning), as 自行脱党 from the rule's figure (danger).
LAPSE_WARN_MONTHS = 3


@dataclass(frozen=True)
class Lapse:
    member: Member
    since: dt.date  # the last meeting attended (or excused), else the first one on record they missed
    months: int  # whole months since then
    limit: int  # the rule's figure (6)


def lapsed_members(user, today: dt.date) -> list[Lapse]:
    """Members (in the scope where `user` records meetings) who have missed their organisation's
    meetings without a 正当理由 for LAPSE_WARN_MONTHS or more. Counts only meetings they were expected
    at (their attendance rows), so a branch that records no meetings flags no one. One query.

    党费 is not recorded on the platform, so only the 组织生活 part of the rule is checked."""
    limit = int(rules.value("member.lapse_months", on=today))
    accounted = Q(attendances__present=True) | Q(attendances__absence_reason__in=EXCUSED)
    scope = policy.members(user, Perm.RECORD_MEETINGS).filter(status=Member.Status.ACTIVE)
    # Most members were at a meeting in the last LAPSE_WARN_MONTHS: they cannot be flagged, so they
    # are left out before anything is aggregated (the aggregate then reads the few others' rows,
    # not the scope's whole attendance history: a city's 2.4 million rows).
    recent = dt.datetime.combine(add_months(today, -LAPSE_WARN_MONTHS) + dt.timedelta(days=1), dt.time.min,
                                 tzinfo=timezone.get_current_timezone())
    seen = Q(present=True) | Q(absence_reason__in=EXCUSED)
    if connection.vendor == "postgresql":
        # NOT EXISTS per member: PostgreSQL anti-joins from the scope's members (city user 322 ms at
        # scale 1; the NOT IN below hashed the city's 210,000 recent rows: 700 ms).
        scope = scope.filter(~Exists(Attendance.objects.filter(seen, member_id=OuterRef("pk"),
                                                               meeting__starts_at__gte=recent)))
    else:
        # SQLite runs a NOT EXISTS per member walking the member's attendance from its first row
        # (city user 177 ms at scale 0.1): instead, NOT IN those present (or excused) at the scope's
        # own meetings lately, read once through the meetings' (organisation, kind, time) index (12 ms).
        # Someone seen lately only elsewhere is not left out; their whole attendance below tells.
        scope = scope.exclude(pk__in=Attendance.objects.filter(
            seen, meeting__starts_at__gte=recent,
            meeting__organization__in=policy.organization_ids(user, Perm.RECORD_MEETINGS)).values("member_id"))
    members = (scope
               .only("pk", "name", "name_key", "organization")
               .annotate(last_accounted=Max("attendances__meeting__starts_at", filter=accounted),
                         last_expected=Max("attendances__meeting__starts_at"),
                         first_expected=Min("attendances__meeting__starts_at"))
               .filter(last_expected__isnull=False).select_related("organization")
               .order_by("organization__path", "name_key", "pk"))
    found = []
    for m in members:
        if m.last_accounted and m.last_expected <= m.last_accounted:
            continue  # nothing missed since
        since = timezone.localdate(m.last_accounted or m.first_expected)
        months = _whole_months(since, today)
        if months >= LAPSE_WARN_MONTHS:
            found.append(Lapse(m, since, months, limit))
    return found


def _whole_months(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


@register
def lapse_todos(user, today):
    if not policy.has_perm(user, Perm.RECORD_MEETINGS):
        return []
    lapses = lapsed_members(user, today)
    label_organizations([lapse.member.organization for lapse in lapses])
    rule = rules.rule("member.lapse_months", on=today)
    items = []
    for lapse in lapses:
        m, org = lapse.member, lapse.member.organization
        due = add_months(lapse.since, lapse.limit)
        reached = lapse.months >= lapse.limit
        text = (f"{m.name} 已连续 {lapse.months} 个月未参加组织生活（{lapse.since:%Y-%m-%d} 起），"
                + (f"满 {lapse.limit} 个月无正当理由的，视为自行脱党（{rule.source}{rule.article}），请核实情况"
                   if reached else f"满 {lapse.limit} 个月（{due:%Y-%m-%d}）无正当理由的，视为自行脱党，请及时谈心谈话"))
        items.append(Todo(title=f"{org.display_name}：{text}", url=reverse("organizations:member_detail", args=[m.pk]),
                          due=due, level="danger" if reached else "warning", area="组织生活",
                          organization_id=org.pk, organization=org.display_name, kind="member.lapse",
                          kind_label="党员连续多月未参加组织生活", text=text))
    return items
