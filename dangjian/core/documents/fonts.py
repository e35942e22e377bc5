"""Faces and sizes of a GB/T 9704 document, and how to name them so that Word, WPS and LibreOffice
all find them (reference §2.1–2.2, §3)."""

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from lxml import etree

FANGSONG, HEITI, KAITI, XIAOBIAOSONG, SONGTI = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
LATIN = "Times New Roman"  # digits and Latin letters in body text
# What Word uses when a face is missing (fontTable w:altName). Windows ships 仿宋, 楷体 and 宋体 but
# neither the _GB2312 faces (since Windows 7) nor the 方正 ones. LibreOffice resolves missing faces
# through fontconfig instead (deploy/fonts/64-gongwen.conf, reference §3.1).
ALT_NAMES = {FANGSONG: "仿宋", XIAOBIAOSONG: "宋体", KAITI: "楷体"}
_FAMILIES = {FANGSONG: "modern", KAITI: "modern"}  # the others are "roman"
# 三号 body, 二号 title, 四号 tables (tables may go one size down) and page numbers.
BODY_SIZE, TITLE_SIZE, TABLE_SIZE, PAGE_NUMBER_SIZE = Pt(16), Pt(22), Pt(14), Pt(14)


def set_rfonts(rpr, east_asia: str, latin: str = LATIN) -> None:
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


def add_font_alternatives(doc, faces=tuple(ALT_NAMES)) -> None:
    """Declare `faces` in the document's font table with the Windows face Word falls back to."""
    part = next(rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    for name in faces:
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt_name = etree.SubElement(font, qn("w:altName"))
        alt_name.set(qn("w:val"), ALT_NAMES[name])
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), _FAMILIES.get(name, "roman"))
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
