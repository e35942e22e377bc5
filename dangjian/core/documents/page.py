"""The GB/T 9704 page: A4, 天头 37 / 订口 28 / 右 26 / 下 35 mm, a 156 × 225 mm 版心 of 22 lines of
28 characters, and page numbers "— 1 —" (reference §1.1, §1.3, §1.5, §2.2, §2.4)."""

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips

from dangjian.core.documents.fonts import (
    ALT_NAMES,
    FANGSONG,
    PAGE_NUMBER_SIZE,
    SONGTI,
    add_font_alternatives,
    set_rfonts,
)

CHAR = 320  # 1 字 of 三号 = 16 pt = 320 twips
LINE_PITCH = 579  # twips: 28.95 pt, exactly 22 lines in the 225 mm 版心 (reference §1.3; 580 gives only 21)
LINE = Twips(LINE_PITCH)
PAGE_NUMBER_MODES = ("outer", "centre")


def new_document(*, page_numbers: str = "outer", font_alternatives=tuple(ALT_NAMES)):
    """A blank GB/T 9704 document: A4 with the standard margins, 仿宋_GB2312 三号 by default with
    Times New Roman for Latin, every run condensed by 0.25 pt (28 字 per 156 mm line), exact 28.95 pt
    lines on a 22-line grid, widow control off (every full page carries 22 lines), the fallback faces
    of `font_alternatives` in the font table, and page numbers (see `add_page_numbers`)."""
    doc = Document()
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_rfonts(rpr, FANGSONG)
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
    # 25 mm puts the page number's 一字线 7 mm below the 版心 (measured in LibreOffice, reference §1.5)
    section.header_distance, section.footer_distance = Mm(15), Mm(25)
    grid = section._sectPr.find(qn("w:docGrid"))
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH))
    add_font_alternatives(doc, font_alternatives)
    add_page_numbers(doc, mode=page_numbers)
    return doc


def add_page_numbers(doc, *, mode: str = "outer") -> None:
    """"— 1 —" in 4号宋体 (digits too). "outer" is GB/T 9704 §7.5: odd pages on the right, even pages
    on the left, each one character in from the edge (odd and even footers). "centre" is the usual
    single-sided variant for internal paper."""
    if mode not in PAGE_NUMBER_MODES:
        raise ValueError(f"page numbers are {' or '.join(PAGE_NUMBER_MODES)}, not {mode!r}")
    section = doc.sections[0]
    if mode == "centre":
        _page_number(section.footer, WD_ALIGN_PARAGRAPH.CENTER)
        return
    doc.settings.odd_and_even_pages_header_footer = True  # <w:evenAndOddHeaders/>
    odd = _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    odd.paragraph_format.right_indent = Twips(280)  # 空一字 of 14 pt
    even = _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    even.paragraph_format.left_indent = Twips(280)


def _page_number(footer, align):
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.alignment = align
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    p.paragraph_format.first_line_indent = Twips(0)

    def field_run(text=None):
        run = p.add_run(text) if text else p.add_run()
        run.font.size = PAGE_NUMBER_SIZE
        set_rfonts(run._r.get_or_add_rPr(), SONGTI, latin=SONGTI)
        return run

    field_run("— ")  # 一字线 (U+2014), never Word's "-1-" hyphen format
    for kind, payload in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        r = field_run()._r
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = payload
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = payload  # the cached result, shown until the field is updated
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r.append(el)
    field_run(" —")
    return p


def docx_bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
