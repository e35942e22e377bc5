"""An organisation's yearly 组织生活台账 as .xlsx, read through the access policy."""

import io
from collections import defaultdict

from django.db.models import Count, Q
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core.excel import safe_cell
from dangjian.organizations.models import Organization
from dangjian.orglife import selectors
from dangjian.orglife.models import AgendaItem, Attendance, Guest, Meeting
from dangjian.orglife.paperwork.wording import absence_text, guest_text

COMPLIANCE_MARKS = {"missing": "✗", "due": "进行中", "future": "—", "exempt": "—"}
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FILLS = {"held": PatternFill("solid", fgColor="E2F0D9"), "missing": PatternFill("solid", fgColor="F8D7DA"),
          "due": PatternFill("solid", fgColor="FFF2CC")}
_PERCENT = "0.0%"


def _styles(wb: Workbook) -> None:
    header = NamedStyle(name="台账表头", font=Font(name="黑体", size=11, bold=True), border=_BORDER,
                        fill=PatternFill("solid", fgColor="D9D9D9"),
                        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
    body = NamedStyle(name="台账正文", font=Font(name="宋体", size=11), border=_BORDER,
                      alignment=Alignment(vertical="top", wrap_text=True))
    centred = NamedStyle(name="台账居中", font=Font(name="宋体", size=11), border=_BORDER,
                         alignment=Alignment(horizontal="center", vertical="top", wrap_text=True))
    for style in (header, body, centred):
        wb.add_named_style(style)


def _put(ws, row: int, column: int, value, *, style: str = "台账正文", number_format: str | None = None):
    """Every cell goes through here: text is formula-escaped and stripped of characters a
    spreadsheet cannot hold."""
    if isinstance(value, str):
        value = safe_cell(value)
    cell = ws.cell(row=row, column=column, value=value)
    cell.style = style
    if number_format:
        cell.number_format = number_format
    return cell


def _sheet(ws, headers: list[tuple[str, float]]) -> None:
    for column, (header, width) in enumerate(headers, start=1):
        _put(ws, 1, column, header, style="台账表头")
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _rate(present: int, expected: int) -> float | None:
    return present / expected if expected else None


MEETING_HEADERS = [("序号", 6), ("日期", 12), ("会议类型", 16), ("党组织", 16), ("议题/主题", 40), ("学习主题", 22),
                   ("主持人", 10), ("应到", 7), ("实到", 7), ("出席率", 9), ("缺席人员及原因", 30), ("列席人员", 24),
                   ("记录状态", 10)]
AGENDA_HEADERS = [("日期", 12), ("会议类型", 16), ("党组织", 16), ("序号", 6), ("议题", 36), ("类别", 14),
                  ("金额（万元）", 12), ("实到/应到", 10), ("赞成/反对/弃权", 14), ("结果", 8), ("决定", 40),
                  ("程序提示", 30)]
MONTHS = [f"{m}月" for m in range(1, 13)]


def ledger_xlsx(*, user, organization: Organization, year: int) -> bytes:
    """The 组织生活台账 of `organization` and the organisations under it (its 党小组) for `year`, as
    `user` may see it: "会议台账" (one row per meeting, by time), "议题决定" (one row per agenda
    item: vote, result, the decision as recorded, rule flags), "完成情况" (each compliance
    requirement by month: ✓n held n times, ✗ missing, 进行中 period under way, — not required or not
    yet due; quarterly and yearly periods span their months) and "出勤统计" (per member expected at
    least once).

    Every row is read through the access policy, intersected with `organization`'s subtree: a grant
    on a 总支 without its descendants gives the 总支's own meetings, never its branches' meetings or
    attendees, whatever organisation is asked for.

    A fixed number of queries whatever the number of meetings: the meetings with 应到/实到 and
    their organisation and host, the absences, the guests, the study themes, the agenda items with
    their meetings and 应到/实到, the attendance per
    member, and the four of selectors.compliance (the fourth only when a secretary is in post); plus
    the user's grants if this request has not loaded them yet."""
    subtree = Organization.objects.filter(path__startswith=organization.path)
    orgs = policy.organizations(user, Perm.VIEW_MEETINGS).filter(path__startswith=organization.path)
    meetings = selectors.meetings_in_year(
        policy.records(user, Meeting, Perm.VIEW_MEETINGS).filter(organization__in=subtree.values("pk")), year)
    in_scope = meetings.values("pk")
    rows = list(selectors.meeting_rows(meetings).select_related("host").order_by("starts_at", "pk"))
    absences: dict[int, list[str]] = defaultdict(list)
    for a in (Attendance.objects.filter(meeting__in=in_scope, present=False)
              .order_by("member__name", "member_id").values("meeting_id", "member__name", "absence_reason", "note")):
        absences[a["meeting_id"]].append(absence_text(a["member__name"], a["absence_reason"], a["note"]))
    guests: dict[int, list[str]] = defaultdict(list)
    for g in Guest.objects.filter(meeting__in=in_scope).order_by("id").values("meeting_id", "name", "role", "title"):
        guests[g["meeting_id"]].append(guest_text(g["name"], g["role"], g["title"]))
    tags: dict[int, list[str]] = defaultdict(list)
    for t in (Meeting.study_tags.through.objects.filter(meeting__in=in_scope)  # in the order typed
              .order_by("id").values("meeting_id", "studytag__name")):
        tags[t["meeting_id"]].append(t["studytag__name"])
    items = list(selectors.decision_items(AgendaItem.objects.filter(meeting__in=in_scope))
                 .order_by("meeting__starts_at", "meeting_id", "order"))
    attendance = list(Attendance.objects.filter(meeting__in=in_scope)
                      .values("member_id", "member__name")
                      .annotate(expected=Count("pk"), present=Count("pk", filter=Q(present=True)))
                      .order_by("member__name", "member_id"))
    table = selectors.compliance(orgs, year=year, today=timezone.localdate())

    wb = Workbook()
    wb.properties.title = f"{organization.name}{year}年组织生活台账"
    _styles(wb)

    ws = wb.active
    ws.title = "会议台账"
    _sheet(ws, MEETING_HEADERS)
    for n, m in enumerate(rows, start=1):
        r = n + 1
        _put(ws, r, 1, n, style="台账居中")
        _put(ws, r, 2, timezone.localtime(m.starts_at).date(), style="台账居中", number_format="yyyy-mm-dd")
        _put(ws, r, 3, m.kind_label)
        _put(ws, r, 4, m.organization.name)
        _put(ws, r, 5, m.topics)
        _put(ws, r, 6, "、".join(tags[m.pk]))
        _put(ws, r, 7, m.host.name if m.host else "")
        _put(ws, r, 8, m.expected, style="台账居中")
        _put(ws, r, 9, m.present, style="台账居中")
        _put(ws, r, 10, _rate(m.present, m.expected), style="台账居中", number_format=_PERCENT)
        _put(ws, r, 11, "、".join(absences[m.pk]))
        _put(ws, r, 12, "、".join(guests[m.pk]))
        _put(ws, r, 13, m.get_status_display(), style="台账居中")

    ws = wb.create_sheet("议题决定")
    _sheet(ws, AGENDA_HEADERS)
    for r, item in enumerate(items, start=2):
        meeting = item.meeting
        passed, flags = selectors.decision_flags(item)
        _put(ws, r, 1, timezone.localtime(meeting.starts_at).date(), style="台账居中", number_format="yyyy-mm-dd")
        _put(ws, r, 2, meeting.kind_label)
        _put(ws, r, 3, meeting.organization.name)
        _put(ws, r, 4, item.order, style="台账居中")
        _put(ws, r, 5, item.title)
        _put(ws, r, 6, item.get_category_display())
        _put(ws, r, 7, item.amount, style="台账居中", number_format="0.00")
        _put(ws, r, 8, f"{item.present}/{item.expected}", style="台账居中")
        _put(ws, r, 9, "" if passed is None else f"{item.votes_for}/{item.votes_against}/{item.votes_abstain}",
             style="台账居中")
        _put(ws, r, 10, "未表决" if passed is None else "通过" if passed else "未通过", style="台账居中")
        _put(ws, r, 11, item.decision)
        _put(ws, r, 12, "；".join(f.text for f in flags))

    ws = wb.create_sheet("完成情况")
    _sheet(ws, [("党组织", 16), ("要求", 22), *[(month, 7) for month in MONTHS], ("依据", 60)])
    r = 1
    for org_row in table.rows:
        by_requirement: dict[str, list[selectors.Cell]] = {}
        for cell in org_row.cells:
            by_requirement.setdefault(cell.requirement.key, []).append(cell)
        for cells in by_requirement.values():
            r += 1
            _put(ws, r, 1, org_row.org.name)
            _put(ws, r, 2, cells[-1].requirement.label)
            for column in range(3, 15):
                _put(ws, r, column, None, style="台账居中")
            taken: set[int] = set()
            for cell in cells:
                mark = f"✓{cell.held}" if cell.state == "held" else COMPLIANCE_MARKS[cell.state]
                span = range(cell.start.month + 2, cell.end.month + 3)  # month m is column m + 2
                first = span[0] if not taken & set(span) else span[-1]  # a rule changed mid-period
                written = _put(ws, r, first, mark, style="台账居中")
                if cell.state in _FILLS:
                    written.fill = _FILLS[cell.state]
                if first == span[0] and len(span) > 1:
                    ws.merge_cells(start_row=r, start_column=span[0], end_row=r, end_column=span[-1])
                taken.update(span if first == span[0] else [first])
            sources = dict.fromkeys(c.requirement.source for c in cells)
            _put(ws, r, 15, "；".join(sources))
    held, required = table.rate()
    r += 2
    summary = (f"已结束的考核周期 {required} 个，按要求完成 {held} 个（{held / required:.1%}）" if required
               else "本年度尚无已结束的考核周期")
    ws.cell(row=r, column=1, value=safe_cell(summary))
    ws.cell(row=r + 1, column=1,
            value="说明：✓n 已召开n次；✗ 未召开；进行中 本期未结束；— 不作要求（未成立、已撤销、未设支委会）或未到期。"
                  "季度、年度要求跨月合并显示。")

    ws = wb.create_sheet("出勤统计")
    _sheet(ws, [("姓名", 14), ("应到次数", 10), ("实到次数", 10), ("出席率", 10)])
    for r, a in enumerate(attendance, start=2):
        _put(ws, r, 1, a["member__name"])
        _put(ws, r, 2, a["expected"], style="台账居中")
        _put(ws, r, 3, a["present"], style="台账居中")
        _put(ws, r, 4, _rate(a["present"], a["expected"]), style="台账居中", number_format=_PERCENT)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
