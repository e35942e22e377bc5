"""The paperwork out of organisational life: a meeting's 会议记录 (.docx) a branch secretary prints
and signs, and the yearly 组织生活台账 (.xlsx) the party office checks."""

import datetime as dt
import io
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import load_workbook

from dangjian.access import policy
from dangjian.access.roles import Role
from dangjian.audit.services import Actor
from dangjian.orglife.models import AgendaItem, Attendance, Guest, MeetingKind
from dangjian.orglife.paperwork import ledger_xlsx, meeting_minutes_docx
from dangjian.orglife.services import AgendaInput, GuestInput, MeetingInput, meeting_record
from tests.factories import MemberFactory, make_user

SYSTEM = Actor.system("test")
LAST_YEAR = timezone.localdate().year - 1  # every month of it is over: compliance marks are final


def at(year: int, month: int, day: int, hour: int = 14, minute: int = 30) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=timezone.get_current_timezone())


def record(org, kind=MeetingKind.GENERAL_MEETING, *, starts_at, topics="学习党的二十届四中全会精神", **extra):
    return meeting_record(by=SYSTEM, data=MeetingInput(organization=org, kind=kind, starts_at=starts_at,
                                                       topics=topics, **extra))


@pytest.fixture
def general_meeting(bureau):
    """第一党支部's 党员大会: 7 expected (张三, 王五, 刘七, 孙八 and three others), 4 present: 王五
    away on official business, 刘七 on sick leave, 孙八 on personal leave; the contact-point leader
    sitting in; two agenda items: a project that passed (4 present is more than half of 7) and an
    appointment decided with too few members present (4 is less than two thirds of 7)."""
    wangwu = MemberFactory(name="王五", organization=bureau.branch_a)
    sick = MemberFactory(name="刘七", organization=bureau.branch_a)
    away = MemberFactory(name="孙八", organization=bureau.branch_a)
    return record(
        bureau.branch_a, starts_at=at(LAST_YEAR, 3, 10, 9, 0), place="局机关三楼会议室",
        topics="传达学习全会精神\n审议年度项目安排", host=bureau.member_a, recorder=bureau.member_a,
        minutes="张三同志传达了全会精神。\n\n与会党员结合工作实际作了交流发言。",
        study_tags=["学习贯彻党的二十大精神", "党纪学习教育"],
        absences={wangwu.pk: (Attendance.AbsenceReason.OFFICIAL, ""),
                  sick.pk: (Attendance.AbsenceReason.SICK, "住院治疗"),
                  away.pk: (Attendance.AbsenceReason.PERSONAL, "")},
        guests=[GuestInput(name="赵六", role=Guest.Role.CONTACT_LEADER)],
        agenda=[
            AgendaInput(title="关于接收刘明同志为中共预备党员的议题", category=AgendaItem.Category.ADMIT_PROBATIONARY,
                        votes_for=4, votes_against=0, votes_abstain=0,
                        decision="同意接收刘明同志为中共预备党员。"),
            AgendaInput(title="关于给予某同志党内警告处分的议题", category=AgendaItem.Category.DISCIPLINE,
                        votes_for=3, votes_against=1, votes_abstain=0),
        ],
    )


def docx_text(data: bytes) -> tuple[Document, str]:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = list({id(cell._tc): cell for cell in row.cells}.values())  # a merged cell once
            parts.append(" | ".join(cell.text for cell in cells))
    return doc, "\n".join(parts)


def east_asia_font(run, doc) -> str | None:
    """The east-asian face of a run: its own, else its style chain's, else the document default."""
    def ea(rpr):
        rfonts = None if rpr is None else rpr.find(qn("w:rFonts"))
        return None if rfonts is None else rfonts.get(qn("w:eastAsia"))
    if value := ea(run._r.rPr):
        return value
    style = run._parent.style
    while style is not None:
        if value := ea(style.element.rPr):
            return value
        style = style.base_style
    return ea(doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")))


# ---------------------------------------------------------------- 会议记录

def test_minutes_of_a_branch_general_meeting_show_who_came_who_was_away_and_the_votes(general_meeting):
    doc, text = docx_text(meeting_minutes_docx(general_meeting))

    title = next(p for p in doc.paragraphs if p.text.strip())
    assert title.text == "第一党支部党员大会会议记录"
    assert f"会议时间 | {LAST_YEAR}年3月10日 09:00" in text
    assert "会议地点 | 局机关三楼会议室" in text
    assert "主持人 | 张三 | 记录人 | 张三" in text
    assert "应到人数 | 7人 | 实到人数 | 4人" in text
    assert "缺席人员及原因 | 刘七（病假，住院治疗）、孙八（事假）、王五（公差）" in text
    assert "列席人员 | 赵六（联系点领导）" in text
    assert "学习贯彻党的二十大精神、党纪学习教育" in text  # in the order typed
    assert "传达学习全会精神\n审议年度项目安排" in text  # each topic on its own line
    assert "授课人" not in text  # only for 党课
    paragraphs = [p.text for p in doc.paragraphs]
    assert "张三同志传达了全会精神。" in paragraphs and "与会党员结合工作实际作了交流发言。" in paragraphs
    assert "1. 关于接收刘明同志为中共预备党员的议题" in paragraphs
    assert "类别：接收预备党员。" in paragraphs
    assert "表决结果：赞成4票、反对0票、弃权0票（应到7人，实到4人），通过。" in paragraphs
    assert "决定：同意接收刘明同志为中共预备党员。" in paragraphs
    # 3 of 7 is not more than half of those with 表决权 (支部工作条例 第十一条)
    assert "表决结果：赞成3票、反对1票、弃权0票（应到7人，实到4人），未通过。" in paragraphs
    # 4 of 7 present: quorate; the ⅔ rule is the 党组's, not a 党员大会's, so nothing is flagged
    assert "法定人数 | 有表决权的到会 4/7 人，达到法定人数（依据：《中国共产党支部工作条例（试行）》第十一条）" in text
    assert not any(p.startswith("提示：") for p in paragraphs)
    assert paragraphs[-1] == "主持人（签字）：　　　　记录人（签字）："


def test_minutes_are_on_an_a4_gbt9704_page_in_fangsong_with_a_xiaobiaosong_title(general_meeting):
    doc, _ = docx_text(meeting_minutes_docx(general_meeting))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert (grid.get(qn("w:type")), grid.get(qn("w:linePitch"))) == ("lines", "579")

    title = next(p for p in doc.paragraphs if p.text.strip())
    assert east_asia_font(title.runs[0], doc) == "方正小标宋简体"
    assert title.runs[0].font.size == Pt(22)
    body = next(p for p in doc.paragraphs if p.text == "张三同志传达了全会精神。")
    assert east_asia_font(body.runs[0], doc) == "仿宋_GB2312"
    assert body.runs[0].font.size == Pt(16)
    assert body.paragraph_format.first_line_indent == Pt(32)  # 左空二字
    assert body.paragraph_format.line_spacing.twips == 579
    # the document default is 仿宋 too, so text typed into it later in Word stays 仿宋
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    # Word falls back to faces Windows ships when the GB2312 / 方正 ones are missing
    font_table = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    assert 'w:name="仿宋_GB2312"' in font_table.blob.decode() and 'w:val="仿宋"' in font_table.blob.decode()
    assert "PAGE" in section.footer._element.xml


def test_party_lecture_minutes_name_the_lecturer(bureau):
    lecture = record(bureau.branch_a, MeetingKind.PARTY_LECTURE, starts_at=at(LAST_YEAR, 6, 28),
                     topics="学党史、悟思想", lecturer_name="市委党校王教授")
    doc, text = docx_text(meeting_minutes_docx(lecture))
    assert doc.paragraphs[0].text == "第一党支部党课记录"
    assert "授课人 | 市委党校王教授" in text
    assert "缺席人员及原因 | 无" in text
    assert "（未录入会议内容）" in text
    assert "议题及表决情况" not in text


def test_committee_and_cell_minutes_have_the_usual_titles(bureau):
    committee = record(bureau.branch_a, MeetingKind.COMMITTEE_MEETING, starts_at=at(LAST_YEAR, 4, 2))
    cell = record(bureau.cell_a, MeetingKind.CELL_MEETING, starts_at=at(LAST_YEAR, 4, 3))
    assert docx_text(meeting_minutes_docx(committee))[0].paragraphs[0].text == "第一党支部支委会会议记录"
    assert docx_text(meeting_minutes_docx(cell))[0].paragraphs[0].text == "第一党小组会议记录"


def test_minutes_survive_text_pasted_with_control_characters(bureau):
    meeting = record(bureau.branch_a, starts_at=at(LAST_YEAR, 5, 6), minutes="第一段\x0b内容\x07。\n第二段")
    doc, _ = docx_text(meeting_minutes_docx(meeting))
    assert "第一段内容。" in [p.text for p in doc.paragraphs]


def test_minutes_take_five_queries_whatever_the_size_of_the_meeting(bureau, general_meeting):
    small = record(bureau.branch_a, MeetingKind.COMMITTEE_MEETING, starts_at=at(LAST_YEAR, 2, 1))
    for i in range(12):
        MemberFactory(organization=bureau.branch_a, name=f"增补{i:02d}")
    large = record(bureau.branch_a, starts_at=at(LAST_YEAR, 9, 1), study_tags=[f"主题{i}" for i in range(5)],
                   guests=[GuestInput(name=f"列席{i}") for i in range(4)],
                   agenda=[AgendaInput(title=f"议题{i}", category=AgendaItem.Category.ELECTION, votes_for=9,
                                       votes_against=0, votes_abstain=0) for i in range(6)])
    counts = []
    for meeting in (small, general_meeting, large):
        with CaptureQueriesContext(connection) as ctx:
            meeting_minutes_docx(meeting)
        counts.append(len(ctx.captured_queries))
    # the meeting with organisation, host, recorder and lecturer; attendance with members; guests;
    # agenda items with 应到/实到; study themes
    assert counts == [5, 5, 5]


@pytest.mark.skipif(not shutil.which("soffice") and os.environ.get("REQUIRE_LIBREOFFICE") != "1", reason="LibreOffice (soffice) is not installed; CI installs "
                    "libreoffice-writer-nogui poppler-utils fonts-noto-cjk to run this rendering check")
def test_minutes_convert_to_a_pdf_with_libreoffice(general_meeting, tmp_path):
    source = tmp_path / "minutes.docx"
    source.write_bytes(meeting_minutes_docx(general_meeting))
    profile = pathlib.Path(tempfile.mkdtemp(prefix="lo-", dir=tmp_path)).as_uri()  # one profile per run
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "minutes.pdf"
    assert pdf.exists()  # soffice can exit 0 without writing anything
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", data)) >= 1
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)) >= 1
        assert "pts (A4)" in info
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        compact = re.sub(r"\s", "", text)  # pdftotext breaks lines where the page does
        assert "第一党支部党员大会会议记录" in compact and "应到人数7人实到人数4人" in compact
        assert "孙八（事假）" in compact and "赞成4票、反对0票、弃权0票" in compact


# ---------------------------------------------------------------- 组织生活台账

@pytest.fixture
def ledger_year(bureau, general_meeting):
    """Last year at 第一党支部: the general meeting in March, a theme day in April, a cell meeting in
    May; plus a 第二党支部 meeting and one the year before, which the ledger must leave out."""
    record(bureau.branch_a, MeetingKind.THEME_DAY, starts_at=at(LAST_YEAR, 4, 15), topics="=SUM(A1)",
           study_tags=["党纪学习教育"], host=bureau.member_a)
    record(bureau.cell_a, MeetingKind.CELL_MEETING, starts_at=at(LAST_YEAR, 5, 20), topics="党小组学习")
    record(bureau.branch_b, starts_at=at(LAST_YEAR, 3, 12), topics="第二支部的会")
    record(bureau.branch_a, starts_at=at(LAST_YEAR - 1, 12, 30), topics="上一年的会")
    return LAST_YEAR


def office_ledger(bureau, year: int) -> bytes:
    """第一党支部's ledger as the party office (granted on the 党组 with everything under it) sees it."""
    return ledger_xlsx(user=bureau.users["party_office"], organization=bureau.branch_a, year=year)


def sheets(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return wb["会议台账"], wb["完成情况"], wb["出勤统计"]


def row_values(ws, row: int) -> list:
    return [c.value for c in ws[row]]


def test_ledger_lists_the_branch_and_its_cells_meetings_of_the_year_in_time_order(bureau, ledger_year):
    meetings, _, _ = sheets(office_ledger(bureau, ledger_year))
    header = row_values(meetings, 1)
    assert header == ["序号", "日期", "会议类型", "党组织", "议题/主题", "学习主题", "主持人", "应到", "实到", "出席率",
                      "缺席人员及原因", "列席人员", "记录状态", "法定人数"]
    assert meetings.max_row == 4  # the header and three meetings: not 第二党支部's, not last year's
    first = dict(zip(header, row_values(meetings, 2), strict=True))
    assert first["序号"] == 1 and first["日期"].date() == dt.date(ledger_year, 3, 10)
    assert first["会议类型"] == "支部党员大会" and first["党组织"] == "第一党支部"
    assert (first["应到"], first["实到"]) == (7, 4)
    assert first["出席率"] == pytest.approx(4 / 7) and meetings.cell(2, 10).number_format == "0.0%"
    assert first["缺席人员及原因"] == "刘七（病假，住院治疗）、孙八（事假）、王五（公差）"
    assert first["列席人员"] == "赵六（联系点领导）" and first["主持人"] == "张三"
    assert first["学习主题"] == "学习贯彻党的二十大精神、党纪学习教育"  # in the order typed
    assert first["记录状态"] == "补录"  # recorded long after the meeting: accepted and marked
    kinds = [meetings.cell(r, 3).value for r in (2, 3, 4)]
    assert kinds == ["支部党员大会", "主题党日", "党小组会"]
    assert meetings.cell(4, 4).value == "第一党小组"  # the cell's own meeting names the cell


def test_ledger_escapes_a_topic_that_would_run_as_a_formula(bureau, ledger_year):
    meetings, _, _ = sheets(office_ledger(bureau, ledger_year))
    topic = meetings.cell(3, 5)
    assert topic.value == "'=SUM(A1)" and topic.data_type == "s"


def test_ledger_compliance_sheet_marks_held_and_missing_months(bureau, ledger_year):
    _, compliance, _ = sheets(office_ledger(bureau, ledger_year))
    assert row_values(compliance, 1) == ["党组织", "要求", *[f"{m}月" for m in range(1, 13)], "依据"]
    rows = {(compliance.cell(r, 1).value, compliance.cell(r, 2).value): r
            for r in range(2, compliance.max_row + 1) if compliance.cell(r, 2).value}
    general = rows[("第一党支部", "支部党员大会")]
    assert compliance.cell(general, 3).value == "✓1"  # Q1, shown across January to March
    assert f"C{general}:E{general}" in {str(r) for r in compliance.merged_cells.ranges}
    assert compliance.cell(general, 6).value == "✗"  # Q2: none held
    assert "支部工作条例" in compliance.cell(general, 15).value  # the rule's source
    theme = rows[("第一党支部", "主题党日")]
    assert [compliance.cell(theme, c).value for c in range(3, 7)] == ["✗", "✗", "✗", "✓1"]
    cell = rows[("第一党小组", "党小组会")]
    assert compliance.cell(cell, 7).value == "✓1" and compliance.cell(cell, 8).value == "✗"
    assert ("第二党支部", "支部党员大会") not in rows  # a sibling is not in 第一党支部's ledger
    # 第一党支部 has only a secretary, no committee: 支委会 is not required, so it has no row of ✗
    committee = rows.get(("第一党支部", "支部委员会会议"))
    assert committee is None or {compliance.cell(committee, c).value for c in range(3, 15)} == {"—"}


def test_ledger_compliance_shows_the_current_year_under_way_and_to_come(bureau):
    year = timezone.localdate().year
    _, compliance, _ = sheets(office_ledger(bureau, year))
    theme = next(r for r in range(2, compliance.max_row + 1) if compliance.cell(r, 2).value == "主题党日")
    this_month = timezone.localdate().month
    assert compliance.cell(theme, this_month + 2).value == "进行中"
    if this_month > 1:
        assert compliance.cell(theme, 3).value == "✗"
    if this_month < 12:
        assert compliance.cell(theme, 14).value == "—"


def test_ledger_attendance_sheet_counts_each_member_expected_at_least_once(bureau, ledger_year):
    _, _, attendance = sheets(office_ledger(bureau, ledger_year))
    assert row_values(attendance, 1) == ["姓名", "应到次数", "实到次数", "出席率"]
    by_name = {attendance.cell(r, 1).value: row_values(attendance, r) for r in range(2, attendance.max_row + 1)}
    # 张三 is in 第一党小组 too: expected at the general meeting, the theme day and the cell meeting
    assert by_name["张三"][1:3] == [3, 3] and by_name["张三"][3] == pytest.approx(1.0)
    assert by_name["王五"][1:3] == [2, 1] and by_name["王五"][3] == pytest.approx(0.5)
    assert attendance.cell(2, 4).number_format == "0.0%"
    assert "李四" not in by_name  # 第二党支部's member


def test_ledger_sheets_have_bold_headers_widths_and_frozen_header_row(bureau, ledger_year):
    for ws in sheets(office_ledger(bureau, ledger_year)):
        assert ws.freeze_panes == "A2"
        assert ws.cell(1, 1).font.bold
        assert ws.column_dimensions["A"].width >= 6 and ws.column_dimensions["B"].width >= 10


def test_ledger_query_count_is_the_same_for_3_and_30_meetings(bureau):
    def build(n: int, start_day: int):
        for i in range(n):
            day = at(LAST_YEAR, 1 + i % 12, start_day + i // 12)
            if i % 3 == 2:
                record(bureau.cell_a, MeetingKind.CELL_MEETING, starts_at=day, study_tags=[f"主题{i}"])
            else:
                record(bureau.branch_a, MeetingKind.THEME_DAY, starts_at=day, study_tags=["党纪学习教育"],
                       absences={bureau.member_a.pk: (Attendance.AbsenceReason.PERSONAL, "")},
                       guests=[GuestInput(name=f"列席{i}", role=Guest.Role.SUPERVISOR)])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            office_ledger(bureau, LAST_YEAR)
        return len(ctx.captured_queries)

    policy.assignments(bureau.users["party_office"])  # the user's grants: loaded once per request, earlier
    build(3, 1)
    small = count()
    build(27, 5)
    # meetings with 应到/实到, absences, guests, study themes, the forms each also served, agenda
    # items, attendance per member; compliance's organisations, meeting counts, "also counts as"
    # rows, posts and the secretary's lectures
    assert small == count() == 12


# ---------------------------------------------------------------- 台账 through the access policy

def all_text(data: bytes) -> str:
    return "\n".join(str(c.value) for ws in sheets(data) for row in ws.iter_rows() for c in row if c.value is not None)


@pytest.fixture
def general_branch_year(bureau, ledger_year):
    """The ledger year, plus a meeting of 第一党总支 itself (its committee: 李四 expected)."""
    record(bureau.general_branch, MeetingKind.COMMITTEE_MEETING, starts_at=at(ledger_year, 6, 3), topics="总支委员会议题")
    return ledger_year


def test_a_grant_on_the_general_branch_without_descendants_leaves_its_branches_out_of_the_ledger(
        bureau, general_branch_year):
    officer = make_user("zongzhi_only", Role.BRANCH_SECRETARY, bureau.general_branch, include_descendants=False)
    data = ledger_xlsx(user=officer, organization=bureau.general_branch, year=general_branch_year)
    meetings, compliance, _ = sheets(data)
    assert [meetings.cell(r, 5).value for r in range(2, meetings.max_row + 1)] == ["总支委员会议题"]
    assert {compliance.cell(r, 1).value for r in range(2, compliance.max_row + 1) if compliance.cell(r, 2).value} <= {
        "第一党总支"}
    text = all_text(data)
    for leaked in ("第一党支部", "第二党支部", "第一党小组", "传达学习全会精神", "第二支部的会", "王五", "刘七", "孙八", "张三"):
        assert leaked not in text, leaked


def test_a_grant_on_the_general_branch_with_descendants_gives_its_branches_meetings_and_attendees(
        bureau, general_branch_year):
    officer = make_user("zongzhi_all", Role.BRANCH_SECRETARY, bureau.general_branch)
    data = ledger_xlsx(user=officer, organization=bureau.general_branch, year=general_branch_year)
    meetings, _, attendance = sheets(data)
    topics = [meetings.cell(r, 5).value for r in range(2, meetings.max_row + 1)]
    assert topics == ["传达学习全会精神\n审议年度项目安排", "第二支部的会", "'=SUM(A1)", "党小组学习", "总支委员会议题"]
    assert {"王五", "刘七", "孙八", "张三", "李四"} <= {attendance.cell(r, 1).value for r in range(2, attendance.max_row + 1)}


def test_the_ledger_download_of_a_general_branch_officer_without_descendants_holds_only_the_general_branch(
        bureau, general_branch_year, client):
    client.force_login(make_user("zongzhi_only", Role.BRANCH_SECRETARY, bureau.general_branch,
                                 include_descendants=False))
    url = reverse("orglife:ledger", args=[bureau.general_branch.pk])
    response = client.get(url, {"year": general_branch_year})
    assert response.status_code == 200
    text = all_text(response.content)
    assert "总支委员会议题" in text and "王五" not in text and "第一党支部" not in text
    assert client.get(reverse("orglife:ledger", args=[bureau.branch_a.pk])).status_code == 404
