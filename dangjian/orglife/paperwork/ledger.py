"""An organisation's yearly 组织生活台账 as .xlsx, read through the access policy."""

import io
from collections import defaultdict

from django.db.models import Count, Q
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core.excel import safe_cell
from dangjian.organizations.models import Organization
from dangjian.orglife import selectors
from dangjian.orglife.models import FORM_LABELS, AgendaItem, Attendance, Guest, Meeting, MeetingAlsoCounts
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


class _Cells:
    """Cells for the ledger's sheets in its handful of formats (a named style, maybe a number
    format and a fill), each format worked out once through openpyxl's own setters on the first
    cell that needs it and copied to every other cell of that format.

    Why: each setter looks up or hashes openpyxl's style objects, and ws.merge_cells re-borders
    every cell of the range the same way; over the bureau's ~15,000 cells and ~250 merged periods
    that cost six times the ledger's SQL. The file is the same: every cell ends with the style
    ids the setters would have given it."""

    def __init__(self):
        self._formats: dict[tuple, StyleArray] = {}
        self._merged: dict[tuple, tuple[StyleArray, ...]] = {}

    def new(self, ws, value, *, style: str = "台账正文", number_format: str | None = None,
            fill: str | None = None) -> Cell:
        """A cell for ws.append. Text is formula-escaped and stripped of characters a spreadsheet
        cannot hold, as in _put; `fill` is a compliance state with a colour (see _FILLS)."""
        if isinstance(value, str):
            value = safe_cell(value)
        key = (style, number_format, fill)
        known = self._formats.get(key)
        if known is not None:
            return Cell(ws, value=value, style_array=known)
        cell = Cell(ws, value=value)
        cell.style = style
        if number_format:
            cell.number_format = number_format
        if fill:
            cell.fill = _FILLS[fill]
        self._formats[key] = StyleArray(cell._style)
        return cell

    def append_merged(self, ws, row: list[Cell], spans: list[range]) -> None:
        """Append `row` (its cells for columns 1, 2, ...) with each span of columns merged, as
        ws.merge_cells would leave it. The first merge of a kind (its first cell's format and its
        width) goes through ws.merge_cells; the others copy the formats that gave the first, inner
        and last cells (on one row: the inner cells keep the top and bottom borders, the last one
        the right border too)."""
        learning = set()
        for span in spans:
            known = self._merged.get((tuple(row[span[0] - 1]._style), len(span)))
            if known is None:
                learning.add(span[0])
                continue
            first, inner, last = known
            row[span[0] - 1]._style = StyleArray(first)
            for column in span[1:-1]:
                row[column - 1] = Cell(ws, style_array=inner)
            row[span[-1] - 1] = Cell(ws, style_array=last)
        keys = {span[0]: (tuple(row[span[0] - 1]._style), len(span)) for span in spans if span[0] in learning}
        ws.append(row)
        r = row[0].row
        for span in spans:
            if span[0] not in learning:
                # Into the set directly: merged_cells.add first compares the range with every
                # range so far, which over a bureau's ~250 merges cost more than the merging.
                # Each row's ranges are new and on their own row: none can be inside another.
                ws.merged_cells.ranges.add(CellRange(min_col=span[0], min_row=r, max_col=span[-1], max_row=r))
                continue
            ws.merge_cells(start_row=r, start_column=span[0], end_row=r, end_column=span[-1])
            self._merged[keys[span[0]]] = tuple(StyleArray(ws.cell(r, c)._style) for c in (span[0], span[1], span[-1]))


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


def _quorum_text(row) -> str:
    """The meeting's quorum as the ledger states it: empty where no rule applies."""
    quorum = selectors.row_quorum(row)
    if quorum is None:
        return ""
    return "达到" if quorum.met else f"未达到：{quorum.text}（{quorum.source}）"


def _rate(present: int, expected: int) -> float | None:
    return present / expected if expected else None


MEETING_HEADERS = [("序号", 6), ("日期", 12), ("会议类型", 16), ("党组织", 16), ("议题/主题", 40), ("学习主题", 22),
                   ("主持人", 10), ("应到", 7), ("实到", 7), ("出席率", 9), ("缺席人员及原因", 30), ("列席人员", 24),
                   ("记录状态", 10), ("法定人数", 30)]
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
    their organisation and host, the absences, the guests, the study themes, the forms each meeting
    also served (会议类型 says "主题党日（同时计为支部党员大会、党课）"), the agenda items with
    their meetings and 应到/实到, the attendance per
    member, and those of selectors.compliance (five, the secretaries' lectures only when one is in
    post and attendance only for a requirement asking a share present); plus
    the user's grants if this request has not loaded them yet."""
    orgs = policy.organizations_under(user, Perm.VIEW_MEETINGS, organization)
    meetings = selectors.meeting_list(user, organization=organization, year=year)
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
    also: dict[int, list[str]] = defaultdict(list)  # the other forms each session served
    for meeting_id, form in (MeetingAlsoCounts.objects.filter(meeting__in=in_scope)
                             .order_by("meeting_id", "id").values_list("meeting_id", "kind")):
        also[meeting_id].append(FORM_LABELS.get(form, form))
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
    cells = _Cells()
    labels: dict[tuple, tuple[str, str]] = {}  # (kind, organisation's kind, status) -> (type, status) as shown
    for n, m in enumerate(rows, start=1):
        # kind_label and get_status_display look through the choices each call: once per combination
        key = (m.kind, m.organization.kind, m.status)
        if key not in labels:
            labels[key] = (m.kind_label, m.get_status_display())
        kind_label, status_label = labels[key]
        ws.append([
            cells.new(ws, n, style="台账居中"),
            cells.new(ws, timezone.localtime(m.starts_at).date(), style="台账居中", number_format="yyyy-mm-dd"),
            cells.new(ws, f"{kind_label}（同时计为{'、'.join(also[m.pk])}）" if also[m.pk] else kind_label),
            cells.new(ws, m.organization.name),
            cells.new(ws, m.topics),
            cells.new(ws, "、".join(tags[m.pk])),
            cells.new(ws, m.host.name if m.host else ""),
            cells.new(ws, m.expected, style="台账居中"),
            cells.new(ws, m.present, style="台账居中"),
            cells.new(ws, _rate(m.present, m.expected), style="台账居中", number_format=_PERCENT),
            cells.new(ws, "、".join(absences[m.pk])),
            cells.new(ws, "、".join(guests[m.pk])),
            cells.new(ws, status_label, style="台账居中"),
            cells.new(ws, _quorum_text(m)),
        ])

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
        _put(ws, r, 9, "" if item.votes_for is None else f"{item.votes_for}/{item.votes_against}/{item.votes_abstain}",
             style="台账居中")
        _put(ws, r, 10, ("未表决" if item.votes_for is None else "表决无效" if passed is None
                         else "通过" if passed else "未通过"), style="台账居中")
        _put(ws, r, 11, item.decision)
        _put(ws, r, 12, "；".join(f.text for f in flags))

    ws = wb.create_sheet("完成情况")
    _sheet(ws, [("党组织", 16), ("要求", 22), *[(month, 7) for month in MONTHS], ("依据", 60)])
    r = 1
    for org_row in table.rows:
        by_requirement: dict[str, list[selectors.Cell]] = {}
        for cell in org_row.cells:
            by_requirement.setdefault(cell.requirement.key, []).append(cell)
        for period_cells in by_requirement.values():
            r += 1
            marks: dict[int, tuple[str, str | None]] = {}  # column -> (mark, state if it has a fill)
            spans: list[range] = []
            taken: set[int] = set()
            for cell in period_cells:
                mark = f"✓{cell.held}" if cell.state == "held" else COMPLIANCE_MARKS[cell.state]
                span = range(cell.start.month + 2, cell.end.month + 3)  # month m is column m + 2
                first = span[0] if not taken & set(span) else span[-1]  # a rule changed mid-period
                marks[first] = (mark, cell.state if cell.state in _FILLS else None)
                if first == span[0] and len(span) > 1:
                    spans.append(span)
                taken.update(span if first == span[0] else [first])
            sources = dict.fromkeys(c.requirement.source for c in period_cells)
            noted = [f"{c.end.month}月：已开展（{'；'.join(c.notes)}）" if c.state == "held" else "；".join(c.notes)
                     for c in period_cells if c.notes]
            row = [cells.new(ws, org_row.org.name), cells.new(ws, period_cells[-1].requirement.label)]
            for column in range(3, 15):
                mark, fill = marks.get(column, (None, None))
                row.append(cells.new(ws, mark, style="台账居中", fill=fill))
            row.append(cells.new(ws, "；".join([*noted, *sources])))
            cells.append_merged(ws, row, spans)
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
    for a in attendance:
        ws.append([
            cells.new(ws, a["member__name"]),
            cells.new(ws, a["expected"], style="台账居中"),
            cells.new(ws, a["present"], style="台账居中"),
            cells.new(ws, _rate(a["present"], a["expected"]), style="台账居中", number_format=_PERCENT),
        ])

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
