"""GB/T 9704-2012 document layout, for every .docx the platform writes (meeting minutes now, the
annual 党建工作情况报告 next): the page, the faces, paragraphs, the title, the four heading levels,
label tables and page numbers. Values and their reasons: shared/reference/report-format-gbt9704.md.

Knows nothing of any area's records: callers pass text. Only python-docx below it.
"""

from dangjian.core.documents.fonts import (
    ALT_NAMES,
    BODY_SIZE,
    FANGSONG,
    HEITI,
    KAITI,
    LATIN,
    PAGE_NUMBER_SIZE,
    SONGTI,
    TABLE_SIZE,
    TITLE_SIZE,
    XIAOBIAOSONG,
    add_font_alternatives,
    set_rfonts,
)
from dangjian.core.documents.page import CHAR, LINE, LINE_PITCH, add_page_numbers, docx_bytes, new_document
from dangjian.core.documents.tables import LABEL_TABLE_COLUMNS, add_label_table, fill_cell
from dangjian.core.documents.text import (
    HEADING_FACES,
    add_heading,
    add_paragraph,
    add_run,
    add_title,
    chinese_number,
    heading_number,
    off_grid,
    text_lines,
)

__all__ = [
    "ALT_NAMES", "BODY_SIZE", "CHAR", "FANGSONG", "HEADING_FACES", "HEITI", "KAITI", "LABEL_TABLE_COLUMNS", "LATIN",
    "LINE", "LINE_PITCH", "PAGE_NUMBER_SIZE", "SONGTI", "TABLE_SIZE", "TITLE_SIZE", "XIAOBIAOSONG",
    "add_font_alternatives", "add_heading", "add_label_table", "add_page_numbers", "add_paragraph", "add_run",
    "add_title", "chinese_number", "docx_bytes", "fill_cell", "heading_number", "new_document", "off_grid",
    "set_rfonts", "text_lines",
]
