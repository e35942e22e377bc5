"""The sheet reader and writer every import and export uses (花名册, 台账, 问题清单, 整改台账…).

- `reader`: open an uploaded workbook, read a sheet by header names, collect `RowError`s by sheet,
  row and column (see its docstring for the contract).
- `cells`: parse one cell as text, a key (code or choice label), a number kept as text, or a date.
- `writer`: `safe_cell` (formula-safe values) and `SheetWriter` (a write-only sheet with a bold header).

Knows no model and imports no other area: an area's importer checks rows against its own records.
"""

from dangjian.core.excel.cells import CellError
from dangjian.core.excel.reader import RowError, RowErrors, Sheet, open_workbook, read_sheet
from dangjian.core.excel.writer import SheetWriter, safe_cell, workbook_bytes, write_only_workbook

__all__ = [
    "CellError", "RowError", "RowErrors", "Sheet", "SheetWriter", "open_workbook", "read_sheet", "safe_cell",
    "workbook_bytes", "write_only_workbook",
]
