"""Two years of organisational life for the demo bureau (临江市交通运输局): every live branch's
主题党日, 支委会, 党小组会, 党员大会, 党课 and 组织生活会; the 党组's 党组会 with 三重一大 items and votes,
理论学习中心组学习, 专题会议, 民主生活会 and the secretary's 党课; and the leaders' contact-point branches
(每周五下午参加定点联系党支部的学习活动), from 1 January of last year up to the day before `today`.

A step of the demo (`dangjian.demo.runner` runs it after the bureau and its log-ins exist). It
reads the bureau from the database: organisations, members, who belonged where and who held which
post on a day (`organizations.selectors`), who was expected at a meeting
(`services.expected_attendees`), and where each branch's people work (their unit), which sets the
rooms and the themes of its meetings. Every meeting goes through `services.meeting_record`
(validation, attendance, the audit entry) and every contact point through
`services.contact_point_set`. The step's generator `ctx.rng` drives every choice, so the same bureau
on the same day gets the same meetings.

The data is complete under the national rules except for these deliberate gaps, which the counts
report and the tests check:

- 公交运营监管处党支部 (GAP_BRANCH) skipped its 支委会 in two finished months of the current year
  (`committee_gap`), so compliance shows exactly two missing committee months.
- 智慧交通处党支部 and 开发区分局党支部 were founded this year (by the organisations step): their
  meetings start after founding, and compliance has no required period before it.
- One 党组会 decided an item with four of the seven 党组成员 away (no quorum), and at another one the
  chair did not speak last: `selectors.decision_flags` flags each.
- A few meetings were entered weeks after they were held (补录, status `late`).

On recording times: each meeting is recorded with `entered_at`, the time a secretary would have
entered it (a few hours to three days after it, 按时记录; the chosen few 15–45 days after, 补录), as a
paper ledger is transcribed; `meeting_record` judges lateness from that time.
"""

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.utils import timezone

from dangjian.organizations.models import Organization
from dangjian.orglife import selectors
from dangjian.orglife.demo.builder import _Builder
from dangjian.orglife.demo.data import MK, ROOT_CODE, K
from dangjian.orglife.models import AgendaItem, Attendance, ContactPoint, Guest, Meeting

if TYPE_CHECKING:
    from dangjian.core.demo_context import DemoContext


def step(ctx: "DemoContext") -> None:
    """Record the demo bureau's organisational life from 1 January of last year up to the day
    before `ctx.today`. Runs after the bureau exists, inside the demo's transaction."""
    _Builder(ctx).build()


COUNT_LABELS = [
    ("meetings", "会议"), ("meetings.theme_day", "主题党日"), ("meetings.committee_meeting", "支委会"),
    ("meetings.cell_meeting", "党小组会"), ("meetings.general_meeting", "党员大会"), ("meetings.party_lecture", "党课"),
    ("meetings.organizational_life_meeting", "组织生活会"), ("meetings.leading_group_meeting", "党组会"),
    ("meetings.central_group_study", "中心组学习"), ("meetings.special_meeting", "专题会议"),
    ("meetings.democratic_life_meeting", "民主生活会"), ("attendances", "出席记录"), ("absences", "其中缺席"),
    ("agenda_items", "议题"), ("sanzhongyida", "其中“三重一大”"), ("contact_points", "党建联系点"),
    ("contact_visits", "联系点领导参加学习"),
]
GAP_LABELS = [
    ("gap.committee_months", "支委会缺月"), ("gap.quorum_items", "未达法定人数议题"),
    ("gap.chair_not_last", "主持人未末位表态"), ("gap.late_meetings", "补录会议"),
    ("gap.new_branches", "年内新成立党支部"),
]


def counts(*, today: dt.date | None = None) -> dict[str, int]:
    """The demo's organisational-life figures, computed from the records (so a second run of the
    demo command prints the same). Empty if the demo bureau does not exist."""
    today = today or timezone.localdate()
    root = Organization.objects.filter(code=ROOT_CODE).first()
    if root is None:
        return {}
    meetings = Meeting.objects.filter(organization__path__startswith=root.path)
    by_kind = dict(meetings.order_by().values_list("kind").annotate(n=Count("id")))
    attendance = Attendance.objects.filter(meeting__in=meetings).aggregate(
        total=Count("id"), absent=Count("id", filter=Q(present=False)))
    items = selectors.decision_items(AgendaItem.objects.filter(meeting__in=meetings))
    quorum = chair = sanzhongyida = agenda = 0
    for item in items:
        agenda += 1
        sanzhongyida += item.category in selectors.SANZHONGYIDA
        _passed, flags = selectors.decision_flags(item)
        quorum += any(f.code in ("decision.quorum", "decision.quorum_strict") for f in flags)
        chair += any(f.code == "decision.chair_not_last" for f in flags)
    branches = Organization.objects.filter(path__startswith=root.path, kind=K.BRANCH)
    missing_committee = 0
    for year in (today.year - 1, today.year):
        table = selectors.compliance(branches, year=year, today=today)
        missing_committee += sum(1 for row in table.rows for c in row.missing if c.requirement.key == "committee_meeting")
    counts = {
        "meetings": sum(by_kind.values()),
        **{f"meetings.{kind}": by_kind.get(kind, 0) for kind in MK.values},
        "attendances": attendance["total"],
        "absences": attendance["absent"],
        "guests": Guest.objects.filter(meeting__in=meetings).count(),
        "agenda_items": agenda,
        "sanzhongyida": sanzhongyida,
        "contact_points": ContactPoint.objects.filter(organization__path__startswith=root.path).count(),
        "contact_visits": Guest.objects.filter(meeting__in=meetings, role=Guest.Role.CONTACT_LEADER).count(),
        "gap.committee_months": missing_committee,
        "gap.quorum_items": quorum,
        "gap.chair_not_last": chair,
        "gap.late_meetings": meetings.filter(status=Meeting.Status.LATE).count(),
        "gap.new_branches": branches.filter(founded_on__year=today.year).count(),
    }
    return counts


def summary(counts: dict[str, int]) -> str:
    """Two lines for the demo's report: the figures, then the deliberate gaps. Empty without them."""
    if "meetings" not in counts:
        return ""
    kinds = "，".join(f"{label} {counts[key]}" for key, label in COUNT_LABELS[1:11])
    rest = "，".join(f"{label} {counts[key]}" for key, label in COUNT_LABELS[11:])
    gaps = "，".join(f"{label} {counts[key]}" for key, label in GAP_LABELS)
    return (f"组织生活：会议 {counts['meetings']}（{kinds}），{rest}\n"
            f"有意留下的问题：{gaps}")
