"""The GB/T 9704 layout in dangjian.core.documents, on its own: what the annual report will build
on beyond what the meeting minutes already use (headings, a two-line title, odd/even page numbers)."""

import ast
import io
import pathlib

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from dangjian.core import documents as gw

PACKAGE = pathlib.Path(gw.__file__).parent


def reopen(doc):
    return Document(io.BytesIO(gw.docx_bytes(doc)))


def face(run) -> str:
    return run._r.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def test_the_documents_package_imports_nothing_from_the_areas():
    """core sits below every area: the layout must not reach into orglife, reports or the others."""
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                assert not name.startswith("dangjian.") or name.startswith("dangjian.core."), (path.name, name)


def test_heading_numbers_follow_the_four_levels():
    assert [gw.heading_number(level, 3) for level in (1, 2, 3, 4)] == ["三、", "（三）", "3.", "（3）"]
    assert [gw.chinese_number(n) for n in (1, 10, 11, 20, 21, 99)] == ["一", "十", "十一", "二十", "二十一", "九十九"]
    with pytest.raises(ValueError):
        gw.heading_number(5, 1)
    with pytest.raises(ValueError):
        gw.chinese_number(100)


def test_headings_use_heiti_kaiti_fangsong_with_outline_levels_and_stay_with_their_text():
    doc = gw.new_document()
    gw.add_heading(doc, 1, "总体情况", number=1)
    gw.add_heading(doc, 2, "强化政治建设", number=1, bold=True)
    gw.add_heading(doc, 3, "坚持理论学习", number=2, bold=True)
    gw.add_heading(doc, 4, "中心组学习", number=1, body="全年开展集中学习12次。")
    paragraphs = reopen(doc).paragraphs

    assert [p.text for p in paragraphs] == ["一、总体情况", "（一）强化政治建设", "2.坚持理论学习", "（1）中心组学习全年开展集中学习12次。"]
    assert [face(p.runs[0]) for p in paragraphs] == [gw.HEITI, gw.KAITI, gw.FANGSONG, gw.FANGSONG]
    assert [p.runs[0].font.bold for p in paragraphs] == [None, True, True, None]
    levels = [p._p.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) for p in paragraphs]
    assert levels == ["0", "1", "2", "3"]
    assert [p.paragraph_format.keep_with_next for p in paragraphs] == [True, True, True, None]
    assert all(p.paragraph_format.first_line_indent == Pt(32) for p in paragraphs)  # 左空二字 like the body
    run_on = paragraphs[3].runs
    assert (run_on[1].text, face(run_on[1])) == ("全年开展集中学习12次。", gw.FANGSONG)


def test_a_two_line_title_is_centred_xiaobiaosong_off_the_grid_then_a_blank_line():
    doc = gw.new_document()
    gw.add_title(doc, ["中共××局机关委员会", "关于2025年度党建工作情况的报告"])
    gw.add_paragraph(doc, "市直机关工委：", indent_chars=0)
    first, second, blank, addressee = reopen(doc).paragraphs[:4]
    for p in (first, second):
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert (face(p.runs[0]), p.runs[0].font.size) == (gw.XIAOBIAOSONG, Pt(22))
        assert p._p.pPr.find(qn("w:snapToGrid")).get(qn("w:val")) == "0"
    assert first.paragraph_format.keep_with_next and not second.paragraph_format.keep_with_next
    assert blank.text == "" and addressee.text == "市直机关工委："


def test_page_numbers_are_outside_on_odd_and_even_pages_by_default():
    doc = reopen(gw.new_document())
    section = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert odd.text == even.text == "— 1 —"
    assert (odd.alignment, odd.paragraph_format.right_indent) == (WD_ALIGN_PARAGRAPH.RIGHT, Pt(14))  # 空一字
    assert (even.alignment, even.paragraph_format.left_indent) == (WD_ALIGN_PARAGRAPH.LEFT, Pt(14))
    assert "PAGE" in section.footer._element.xml and "PAGE" in section.even_page_footer._element.xml
    assert {face(r) for r in odd.runs} == {gw.SONGTI}


def test_single_sided_paper_centres_the_page_number():
    doc = reopen(gw.new_document(page_numbers="centre"))
    assert not doc.settings.odd_and_even_pages_header_footer
    assert doc.sections[0].footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    with pytest.raises(ValueError):
        gw.new_document(page_numbers="left")


def test_the_font_table_names_a_windows_face_for_each_gb2312_face():
    doc = reopen(gw.new_document())
    blob = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")).blob.decode()
    for name, alternative in gw.ALT_NAMES.items():
        assert f'w:name="{name}"' in blob and f'w:val="{alternative}"' in blob


def test_label_table_spans_a_lone_value_and_splits_lines():
    doc = gw.new_document()
    gw.add_label_table(doc, [("会议时间", "2025年3月10日"), ("主持人", "张三", "记录人", "李四"),
                             ("议题", ["第一项", "第二项"])])
    table = reopen(doc).tables[0]
    assert [len({id(c._tc) for c in row.cells}) for row in table.rows] == [2, 4, 2]
    assert [p.text for p in table.rows[2].cells[1].paragraphs] == ["第一项", "第二项"]
    assert face(table.rows[1].cells[0].paragraphs[0].runs[0]) == gw.HEITI
    assert face(table.rows[1].cells[1].paragraphs[0].runs[0]) == gw.FANGSONG
