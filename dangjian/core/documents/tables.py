"""Label tables: the grid of 会议时间 | … | 主持人 | … that heads a record (labels in 黑体, values in
仿宋, 四号, fixed column widths that hold in Word, WPS and LibreOffice)."""

from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.shared import Mm, Pt, Twips

from dangjian.core.documents.fonts import FANGSONG, HEITI, TABLE_SIZE
from dangjian.core.documents.text import add_run, off_grid

# The 156 mm 版心 split four ways: label, value, label, value.
LABEL_TABLE_COLUMNS = (Mm(40), Mm(38), Mm(40), Mm(38))


def fill_cell(cell, lines: list[str], *, label: bool = False) -> None:
    """Fill a table cell: a label centred in 黑体, a value left in 仿宋, one paragraph per line, off
    the line grid at 22 pt."""
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
        off_grid(p)
        if line:
            add_run(p, line, face=HEITI if label else FANGSONG, size=TABLE_SIZE)


def add_label_table(doc, rows: list[tuple], *, columns=LABEL_TABLE_COLUMNS):
    """A four-column table of labels and values. Rows are (label, value), the value spanning the
    three other columns, or (label, value, label, value); a value is a string or a list of lines."""
    table = doc.add_table(rows=0, cols=4)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout fixed: the widths below hold in Word, WPS and LibreOffice
    for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, columns, strict=True):
        grid_col.w = width
    for spec in rows:
        row = table.add_row()
        row.height, row.height_rule = Mm(10), WD_ROW_HEIGHT_RULE.AT_LEAST
        cells = row.cells
        for cell, width in zip(cells, columns, strict=True):
            cell.width = width
        if len(spec) == 2:
            value_cell = cells[1].merge(cells[3])
            pairs = [(cells[0], spec[0]), (value_cell, spec[1])]
        else:
            pairs = list(zip(cells, spec, strict=True))
        for position, (cell, value) in enumerate(pairs):
            lines = value if isinstance(value, list) else [value]
            fill_cell(cell, [str(v) for v in lines], label=position % 2 == 0)
    return table
