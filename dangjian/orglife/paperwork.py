"""The paperwork organisational life produces, made from the records (never typed twice):

- `meeting_minutes_docx`: one meeting's 会议记录 as .docx, on a GB/T 9704 page (A4, 版心 156 × 225 mm,
  仿宋_GB2312 三号 body, 方正小标宋简体 二号 title), ready to print, sign and file;
- `ledger_xlsx`: an organisation's yearly 组织生活台账 as .xlsx: every meeting of it and of the
  organisations under it, the 三会一课 completion table against the rule data, and attendance per member.

Both read a fixed number of queries whatever the number of attendees, meetings or members, and
neither writes anything. Page and font values follow shared/reference/report-format-gbt9704.md.
"""

import datetime as dt
import io
import re
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips
from lxml import etree
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

from dangjian.core.excel import safe_cell
from dangjian.organizations.models import Organization
from dangjian.orglife import selectors
from dangjian.orglife.models import AgendaItem, Attendance, Guest, Meeting, MeetingKind

# ---------------------------------------------------------------- shared wording


def _absence_text(name: str, reason: str, note: str) -> str:
    """王五（公差） or 王五（病假，住院）."""
    label = Attendance.AbsenceReason(reason).label if reason in Attendance.AbsenceReason.values else "未说明原因"
    note = note.strip()
    return f"{name}（{label}，{note}）" if note else f"{name}（{label}）"


def _guest_text(name: str, role: str) -> str:
    label = Guest.Role(role).label if role in Guest.Role.values else Guest.Role.OTHER.label
    return f"{name}（{label}）"


def _amount_text(amount: Decimal) -> str:
    """50.00 -> "50", 12.50 -> "12.5": 万元 figures as people write them."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _vote_text(item: AgendaItem) -> str:
    return f"赞成{item.votes_for}票、反对{item.votes_against}票、弃权{item.votes_abstain}票"


# ---------------------------------------------------------------- 会议记录 (.docx)

FANGSONG, HEITI, XIAOBIAOSONG, SONGTI, LATIN = "仿宋_GB2312", "黑体", "方正小标宋简体", "宋体", "Times New Roman"
# What Word uses when a face is missing (fontTable w:altName). Windows ships 仿宋 and 宋体 but neither
# 仿宋_GB2312 (since Windows 7) nor the 方正 faces. LibreOffice resolves missing faces through
# fontconfig instead (the aliases in the reference, §3.1).
ALT_NAMES = {FANGSONG: "仿宋", XIAOBIAOSONG: "宋体"}
BODY_SIZE, TITLE_SIZE, TABLE_SIZE = Pt(16), Pt(22), Pt(14)  # 三号, 二号, 四号 (tables may go one size down)
CHAR = 320  # 1 字 of 三号 = 16 pt = 320 twips
LINE = Twips(579)  # 28.95 pt: exactly 22 lines in the 225 mm 版心 (reference §1.3; 580 gives only 21)
# The 156 mm 版心 split for the header table: label, value, label, value.
TABLE_COLUMNS = (Mm(40), Mm(38), Mm(40), Mm(38))
# Children of w:pPr that come after w:snapToGrid (CT_PPr's sequence): Word refuses them out of order.
_AFTER_SNAP_TO_GRID = ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                       "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                       "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # text pasted from Word can carry these

# Title of the record per kind; the organisation's name goes in front. Where the kind would repeat
# the organisation ("第一党小组党小组会"), the usual shorter form is used.
_TITLES = {
    MeetingKind.GENERAL_MEETING: "党员大会会议记录",
    MeetingKind.CELL_MEETING: "会议记录",
    MeetingKind.PARTY_LECTURE: "党课记录",
    MeetingKind.THEME_DAY: "主题党日活动记录",
    MeetingKind.LEADING_GROUP_MEETING: "会议记录",
    MeetingKind.CENTRAL_GROUP_STUDY: "理论学习中心组学习记录",
    MeetingKind.SPECIAL_MEETING: "专题会议记录",
    MeetingKind.DEMOCRATIC_LIFE_MEETING: "民主生活会会议记录",
    MeetingKind.ORGANIZATIONAL_LIFE_MEETING: "组织生活会会议记录",
}
_COMMITTEE_TITLES = {Organization.Kind.BRANCH: "支委会会议记录", Organization.Kind.GENERAL_BRANCH: "委员会会议记录"}


def minutes_title(meeting: Meeting) -> str:
    """第一党支部党员大会会议记录, 第一党支部支委会会议记录, 市交通运输局党组会议记录…"""
    org = meeting.organization
    if meeting.kind == MeetingKind.COMMITTEE_MEETING:
        suffix = _COMMITTEE_TITLES.get(org.kind, "会议记录")  # 局机关党委 + 会议记录
    else:
        suffix = _TITLES.get(meeting.kind, f"{meeting.get_kind_display()}会议记录")
    return f"{org.name}{suffix}"


def _meeting_time(value: dt.datetime) -> str:
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _set_rfonts(rpr, east_asia: str, latin: str = LATIN) -> None:
    """Name the faces explicitly. python-docx's font.name writes only w:ascii/w:hAnsi, so Chinese
    text would fall to the theme font; theme attributes are dropped because they win over names."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)  # rFonts is the first child of rPr
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _run(paragraph, text: str, *, face: str = FANGSONG, size=BODY_SIZE, bold: bool | None = None):
    run = paragraph.add_run(_XML_UNSAFE.sub("", text))
    run.font.size = size
    if bold is not None:
        run.font.bold = bold
    _set_rfonts(run._r.get_or_add_rPr(), face)
    return run


def _off_grid(paragraph) -> None:
    """Keep a paragraph off the document line grid: LibreOffice otherwise gives a line whose glyphs
    are taller than 28.95 pt two grid rows (reference §2.5)."""
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    paragraph._p.get_or_add_pPr().insert_element_before(snap, *_AFTER_SNAP_TO_GRID)


def _para(doc_or_cell, text: str = "", *, face: str = FANGSONG, size=BODY_SIZE, bold: bool | None = None,
          indent_chars: int = 2, align=None, line=LINE, keep_with_next: bool = False):
    p = doc_or_cell.add_paragraph()
    pf = p.paragraph_format
    pf.first_line_indent = Twips(CHAR * indent_chars) if indent_chars else Twips(0)
    if indent_chars:  # Word and WPS show "首行缩进 2 字符"
        p._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), str(100 * indent_chars))
    if align is not None:
        p.alignment = align
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = line
    if keep_with_next:
        pf.keep_with_next = True
    if text:
        _run(p, text, face=face, size=size, bold=bold)
    return p


def _font_table_alt_names(doc) -> None:
    part = next(rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    for name, alt in ALT_NAMES.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt_name = etree.SubElement(font, qn("w:altName"))
        alt_name.set(qn("w:val"), alt)
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "modern" if name == FANGSONG else "roman")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number(section) -> None:
    """"— 1 —" centred in 4号宋体 (the single-sided variant of GB/T 9704 §7.5, reference §2.4)."""
    footer = section.footer
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    p.paragraph_format.first_line_indent = Twips(0)

    def field_run(text=None):
        run = p.add_run(text) if text else p.add_run()
        run.font.size = Pt(14)
        _set_rfonts(run._r.get_or_add_rPr(), SONGTI, latin=SONGTI)
        return run

    field_run("— ")
    for kind, payload in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        r = field_run()._r
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = payload
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = payload
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r.append(el)
    field_run(" —")


def _new_document():
    """A blank GB/T 9704 page: A4, 天头 37 / 订口 28 / 右 26 / 下 35 mm, 仿宋_GB2312 三号 by default,
    22 lines of 28 characters, widow control off (reference §2.2)."""
    doc = Document()
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_rfonts(rpr, FANGSONG)
    rpr.find(qn("w:sz")).set(qn("w:val"), "32")
    rpr.find(qn("w:szCs")).set(qn("w:val"), "32")
    rpr.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    condense = OxmlElement("w:spacing")  # -0.25 pt per character: 28 字 per 156 mm line
    condense.set(qn("w:val"), "-5")
    rpr.find(qn("w:sz")).addprevious(condense)
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    widow = OxmlElement("w:widowControl")
    widow.set(qn("w:val"), "0")
    ppr.insert(0, widow)
    normal = doc.styles["Normal"].paragraph_format
    normal.space_before = normal.space_after = Pt(0)
    normal.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.line_spacing = LINE
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(25)
    grid = section._sectPr.find(qn("w:docGrid"))
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), "579")
    _font_table_alt_names(doc)
    _page_number(section)
    return doc


def _cell_text(cell, lines: list[str], *, label: bool = False) -> None:
    """Fill a table cell: a label centred in 黑体, a value left in 仿宋, one paragraph per line."""
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    lines = lines or [""]
    for index, line in enumerate(lines):
        p = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        pf = p.paragraph_format
        pf.first_line_indent = Twips(0)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(22)
        pf.space_before = pf.space_after = Pt(0)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER if label else WD_ALIGN_PARAGRAPH.LEFT
        _off_grid(p)
        if line:
            _run(p, line, face=HEITI if label else FANGSONG, size=TABLE_SIZE)


def _header_table(doc, rows: list[tuple]) -> None:
    """Rows are (label, value) spanning the table or (label, value, label, value); a value is a
    string or a list of lines."""
    table = doc.add_table(rows=0, cols=4)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout fixed: the widths below hold in Word, WPS and LibreOffice
    for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, TABLE_COLUMNS, strict=True):
        grid_col.w = width
    for spec in rows:
        row = table.add_row()
        row.height, row.height_rule = Mm(10), WD_ROW_HEIGHT_RULE.AT_LEAST
        cells = row.cells
        for cell, width in zip(cells, TABLE_COLUMNS, strict=True):
            cell.width = width
        if len(spec) == 2:
            value_cell = cells[1].merge(cells[3])
            pairs = [(cells[0], spec[0]), (value_cell, spec[1])]
        else:
            pairs = list(zip(cells, spec, strict=True))
        for position, (cell, value) in enumerate(pairs):
            lines = value if isinstance(value, list) else [value]
            _cell_text(cell, [str(v) for v in lines], label=position % 2 == 0)


def _text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def meeting_minutes_docx(meeting: Meeting) -> bytes:
    """The 会议记录 of one meeting as a .docx: the header table (time, place, host, recorder,
    lecturer, 应到/实到, absentees with reasons, guests, study themes, topics), the minutes, the
    agenda items with their votes and rule flags (提示), and the signature lines.

    Five queries whatever the size of the meeting: the meeting with its organisation and people,
    its attendance with the members, its guests, its agenda items with 应到/实到 (decision_items),
    its study themes. The meeting passed in is only used for its primary key."""
    meeting = (Meeting.objects.select_related("organization", "host", "recorder", "lecturer")
               .get(pk=meeting.pk))
    attendances = list(Attendance.objects.filter(meeting=meeting).select_related("member")
                       .order_by("member__name", "member_id"))
    guests = list(Guest.objects.filter(meeting=meeting).order_by("id"))
    items = list(selectors.decision_items(AgendaItem.objects.filter(meeting=meeting)).order_by("order"))
    tags = list(meeting.study_tags.order_by("name").values_list("name", flat=True))

    present = [a for a in attendances if a.present]
    absent = [a for a in attendances if not a.present]
    lecturer = meeting.lecturer.name if meeting.lecturer else meeting.lecturer_name

    heading = minutes_title(meeting)
    doc = _new_document()
    doc.core_properties.title = heading
    doc.core_properties.author = meeting.organization.name  # not "python-docx"
    title = _para(doc, heading, face=XIAOBIAOSONG, size=TITLE_SIZE, indent_chars=0,
                  align=WD_ALIGN_PARAGRAPH.CENTER)
    _off_grid(title)
    _para(doc)  # 标题下空一行

    rows: list[tuple] = [
        ("会议时间", _meeting_time(meeting.starts_at)),
        ("会议地点", meeting.place or "—"),
        ("主持人", meeting.host.name if meeting.host else "—", "记录人", meeting.recorder.name if meeting.recorder else "—"),
    ]
    if meeting.kind == MeetingKind.PARTY_LECTURE or lecturer:
        rows.append(("授课人", lecturer or "—"))
    rows += [
        ("应到人数", f"{len(attendances)}人", "实到人数", f"{len(present)}人"),
        ("出席人员", "、".join(a.member.name for a in present) or "无"),
        ("缺席人员及原因", "、".join(_absence_text(a.member.name, a.absence_reason, a.note) for a in absent) or "无"),
        ("列席人员", "、".join(_guest_text(g.name, g.role) for g in guests) or "无"),
        ("学习主题", "、".join(tags) or "—"),
        ("会议议题", _text_lines(meeting.topics) or ["—"]),
    ]
    _header_table(doc, rows)

    _para(doc)
    _para(doc, "会议内容", face=HEITI, keep_with_next=True)
    for line in _text_lines(meeting.minutes) or ["（未录入会议内容）"]:
        _para(doc, line)

    if items:
        _para(doc)
        _para(doc, "议题及表决情况", face=HEITI, keep_with_next=True)
    for item in items:
        passed, flags = selectors.decision_flags(item)
        _para(doc, f"{item.order}. {item.title}", bold=True, keep_with_next=True)
        facts = f"类别：{item.get_category_display()}"
        if item.amount is not None:
            facts += f"；金额：{_amount_text(item.amount)}万元"
        _para(doc, f"{facts}。")
        if passed is None:
            _para(doc, f"表决结果：未记录表决（应到{item.expected}人，实到{item.present}人）。")
        else:
            outcome = "通过" if passed else "未通过"
            _para(doc, f"表决结果：{_vote_text(item)}（应到{item.expected}人，实到{item.present}人），{outcome}。")
        for index, line in enumerate(_text_lines(item.decision)):
            _para(doc, f"决定：{line}" if index == 0 else line)
        for flag in flags:
            _para(doc, f"提示：{flag.text}（依据：{flag.source}）")

    _para(doc)
    _para(doc)
    _para(doc, "主持人（签字）：　　　　记录人（签字）：", indent_chars=2)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- 组织生活台账 (.xlsx)

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
MONTHS = [f"{m}月" for m in range(1, 13)]


def ledger_xlsx(organization: Organization, year: int) -> bytes:
    """The 组织生活台账 of `organization` and the organisations under it (its 党小组) for `year`:
    "会议台账" (one row per meeting, by time), "完成情况" (each compliance requirement by month:
    ✓n held n times, ✗ missing, 进行中 period under way, — not required or not yet due; quarterly
    and yearly periods span their months) and "出勤统计" (per member expected at least once).

    A fixed number of queries whatever the number of meetings: the meetings with 应到/实到 and
    their organisation and host, the absences, the guests, the study themes, the attendance per
    member, and the four of selectors.compliance (the fourth only when a secretary is in post)."""
    orgs = Organization.objects.filter(path__startswith=organization.path)
    meetings = selectors.meetings_in_year(Meeting.objects.filter(organization__in=orgs.values("pk")), year)
    in_scope = meetings.values("pk")
    rows = list(selectors.meeting_rows(meetings).select_related("host").order_by("starts_at", "pk"))
    absences: dict[int, list[str]] = defaultdict(list)
    for a in (Attendance.objects.filter(meeting__in=in_scope, present=False)
              .order_by("member__name", "member_id").values("meeting_id", "member__name", "absence_reason", "note")):
        absences[a["meeting_id"]].append(_absence_text(a["member__name"], a["absence_reason"], a["note"]))
    guests: dict[int, list[str]] = defaultdict(list)
    for g in Guest.objects.filter(meeting__in=in_scope).order_by("id").values("meeting_id", "name", "role"):
        guests[g["meeting_id"]].append(_guest_text(g["name"], g["role"]))
    tags: dict[int, list[str]] = defaultdict(list)
    for t in (Meeting.study_tags.through.objects.filter(meeting__in=in_scope)
              .order_by("studytag__name").values("meeting_id", "studytag__name")):
        tags[t["meeting_id"]].append(t["studytag__name"])
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
