"""Runs, paragraphs, the title and the headings of a GB/T 9704 document (reference §1.2, §2.3,
§2.5): body paragraphs indented two characters, headings 一、 in 黑体, （一） in 楷体, 1. and （1）
in 仿宋, the title in 小标宋 kept off the line grid."""

import re
from collections.abc import Sequence

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Twips

from dangjian.core.documents.fonts import BODY_SIZE, FANGSONG, HEITI, KAITI, TITLE_SIZE, XIAOBIAOSONG, set_rfonts
from dangjian.core.documents.page import CHAR, LINE

# Children of w:pPr that come after w:snapToGrid, and after w:outlineLvl (CT_PPr's sequence): Word
# refuses them out of order.
_AFTER_OUTLINE_LVL = ("w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_SNAP_TO_GRID = ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                       "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl",
                       *_AFTER_OUTLINE_LVL)
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # text pasted from Word can carry these


def add_run(paragraph, text: str, *, face: str = FANGSONG, size=BODY_SIZE, bold: bool | None = None):
    """A run of `text` in `face` (east-asian) with Times New Roman for Latin; characters XML cannot
    hold are dropped."""
    run = paragraph.add_run(_XML_UNSAFE.sub("", text))
    run.font.size = size
    if bold is not None:
        run.font.bold = bold
    set_rfonts(run._r.get_or_add_rPr(), face)
    return run


def off_grid(paragraph) -> None:
    """Keep a paragraph off the document line grid: LibreOffice otherwise gives a line whose glyphs
    are taller than 28.95 pt two grid rows (reference §2.5)."""
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    paragraph._p.get_or_add_pPr().insert_element_before(snap, *_AFTER_SNAP_TO_GRID)


def add_paragraph(container, text: str = "", *, face: str = FANGSONG, size=BODY_SIZE, bold: bool | None = None,
                  indent_chars: int = 2, align=None, line=LINE, keep_with_next: bool = False):
    """A paragraph of a document (or a table cell): first line indented `indent_chars` 字 (左空二字 by
    default), exact line spacing, with `text` as one run. An empty paragraph is a blank line."""
    p = container.add_paragraph()
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
        add_run(p, text, face=face, size=size, bold=bold)
    return p


def add_title(doc, lines: str | Sequence[str], *, blank_after: bool = True) -> list:
    """The title (GB/T 9704 §7.3.1): 二号小标宋, centred, one paragraph per line as the caller split
    it (organisation on the first line, "关于…的报告" on the second), off the line grid; then the
    blank line 标题下空一行."""
    lines = [lines] if isinstance(lines, str) else list(lines)
    paragraphs = []
    for index, line in enumerate(lines):
        p = add_paragraph(doc, line, face=XIAOBIAOSONG, size=TITLE_SIZE, indent_chars=0,
                          align=WD_ALIGN_PARAGRAPH.CENTER, keep_with_next=index + 1 < len(lines))
        off_grid(p)
        paragraphs.append(p)
    if blank_after:
        add_paragraph(doc)
    return paragraphs


HEADING_FACES = {1: HEITI, 2: KAITI, 3: FANGSONG, 4: FANGSONG}
_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 99 -> 九十九 (headings are numbered below 100)."""
    if not 1 <= n <= 99:
        raise ValueError(f"heading numbers run from 1 to 99, not {n}")
    tens, units = divmod(n, 10)
    return (("" if tens == 1 else _DIGITS[tens]) + "十" if tens else "") + (_DIGITS[units] if units else "")


def heading_number(level: int, n: int) -> str:
    """The numbering GB/T 9704 §7.3.3 gives each level: 一、 （一） 1. （1）."""
    if level == 1:
        return f"{chinese_number(n)}、"
    if level == 2:
        return f"（{chinese_number(n)}）"
    if level == 3:
        return f"{n}."
    if level == 4:
        return f"（{n}）"
    raise ValueError(f"GB/T 9704 has four heading levels, not {level}")


def add_heading(doc, level: int, text: str, *, number: int | None = None, bold: bool | None = None,
                body: str = ""):
    """A heading at `level` (1–4) in its face (黑体, 楷体, 仿宋, 仿宋), indented two characters like
    the body, numbered with `heading_number` when `number` is given. The standard bolds nothing; many
    offices bold levels 2 and 3, hence `bold`. With `body`, the text runs on in 仿宋 in the same
    paragraph (一、总体情况。今年以来……); a heading on its own line is kept with the next paragraph.
    The paragraph carries its outline level, which feeds Word's navigation pane."""
    if level not in HEADING_FACES:
        raise ValueError(f"GB/T 9704 has four heading levels, not {level}")
    label = f"{heading_number(level, number)}{text}" if number is not None else text
    p = add_paragraph(doc, label, face=HEADING_FACES[level], bold=bold, keep_with_next=not body)
    if body:
        add_run(p, body)
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), str(level - 1))
    p._p.get_or_add_pPr().insert_element_before(outline, *_AFTER_OUTLINE_LVL)
    return p


def text_lines(text: str) -> list[str]:
    """The non-blank lines of text typed into a box, each stripped: one paragraph each."""
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]
