"""Writing .xlsx: formula-safe cell values for every export, and a write-only sheet with a bold,
frozen header row (constant memory whatever the number of rows)."""

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"


def safe_cell(value):
    """Text that a spreadsheet would run as a formula is written as literal text (ASVS 1.2.10), and
    control characters pasted in from other programs (which openpyxl refuses) are dropped."""
    if isinstance(value, str):
        if value.startswith(_FORMULA_PREFIXES):
            value = "'" + value
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


class SheetWriter:
    """One sheet of a write-only workbook: a bold header row frozen at the top, then one row per
    `append`. Every value goes through `safe_cell`; dates get a date format; the columns named in
    `text_columns` (ID numbers, phones) are text cells, so Excel keeps every digit."""

    def __init__(self, workbook: Workbook, title: str, headers: Sequence[str], *,
                 widths: Mapping[str, int] | None = None, default_width: int = 12,
                 text_columns: Iterable[str] = ()):
        self.ws = workbook.create_sheet(title)
        self.headers = tuple(headers)
        self._text = {i for i, h in enumerate(self.headers) if h in set(text_columns)}
        for position, header in enumerate(self.headers, start=1):
            self.ws.column_dimensions[get_column_letter(position)].width = (widths or {}).get(header, default_width)
        self.ws.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = []
        for header in self.headers:
            cell = WriteOnlyCell(self.ws, value=safe_cell(header))
            cell.font = bold
            cells.append(cell)
        self.ws.append(cells)

    def append(self, values: Sequence) -> None:
        row = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(self.ws, value=safe_cell(value))
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            elif i in self._text:
                cell.number_format = TEXT_FORMAT
            row.append(cell)
        self.ws.append(row)


def write_only_workbook() -> Workbook:
    """An empty workbook in write-only mode; add sheets with `SheetWriter`."""
    return Workbook(write_only=True)


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
