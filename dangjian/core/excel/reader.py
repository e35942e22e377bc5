"""Reading an uploaded .xlsx by header names, collecting every problem as a `RowError`.

Contract for importers built on it:
- `open_workbook(file, errors)` returns an openpyxl read-only workbook, or None with one error
  (in Chinese) that says the file is not a readable .xlsx. Close the workbook when done.
- `read_sheet(ws, name, headers, errors, required=..., required_one_of=..., aliases=...)` finds
  each column by its header text in row 1, in any order; headers are compared after dropping
  spaces, `*` and a trailing note in brackets ("身份证号*", "出生日期（选填）"), then through
  `aliases`. `extra` headers are read too (columns the importer checks without storing); a column
  in none of these is not read, and is listed in `Sheet.unknown` (or `Sheet.ignored` when it is one
  of `ignored`, columns known not to be stored) so the importer can say so. Rows blank in every column
  read are skipped; row numbers stay those Excel shows. It returns a `Sheet` whose rows map each
  canonical header to the raw cell value, or None when the sheet cannot be used (missing required
  header, duplicate header, damaged part, runaway size), with the reasons appended to `errors`.
- Per row, collect problems with `RowErrors(sheet, row, cells)`: the first problem per column is
  kept, and `emit` appends them as `RowError`s in the sheet's column order.
- Nothing here writes to the database or knows any model: parse cells with `dangjian.core.excel.cells`,
  check and write in the importing area, all or nothing.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from openpyxl import load_workbook
from openpyxl.worksheet import _reader as openpyxl_sheet_reader

from dangjian.core.excel.cells import display, is_blank, text


def _rows_let_go(iterparse):
    """openpyxl's read-only sheet parser (3.1) clears each <row> element once it has read it, but
    leaves the empty element in <sheetData>: ~75 bytes kept per row read, the one part of a
    streamed sheet that grew with its rows. This `iterparse` (wrapping the one openpyxl chose, so
    defusedxml's when installed) drops each row from <sheetData> once the parser has asked for the
    next element. Any other use is passed through unchanged."""

    def iterparse_rows_let_go(source, *args, **kwargs):
        if args or kwargs:
            yield from iterparse(source, *args, **kwargs)
            return
        data = None
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == openpyxl_sheet_reader.DATA_TAG:
                    data = element
                continue
            yield event, element
            if data is not None and len(data) and data[0] is element:
                del data[0]

    iterparse_rows_let_go.wrapped = iterparse
    return iterparse_rows_let_go


if not hasattr(openpyxl_sheet_reader.iterparse, "wrapped"):
    openpyxl_sheet_reader.iterparse = _rows_let_go(openpyxl_sheet_reader.iterparse)

# A guard against a sheet with a runaway used range: far more rows than a city's roster.
MAX_ROWS_PER_SHEET = 100_000
_HEADER_NOTE = re.compile(r"[（(][^）)]*[）)]$")


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded workbook. `row` is the Excel row number (the header is row 1;
    0 for a problem with the whole sheet or file); `column` is the header text as written in the
    file; `value` the cell as the person sees it."""

    sheet: str
    row: int
    column: str
    value: str
    message: str

    def __str__(self):
        if not self.sheet:
            return self.message
        if not self.row:
            return f"工作表「{self.sheet}」：{self.message}"
        where = f"「{self.column}」" if self.column else ""
        return f"工作表「{self.sheet}」第 {self.row} 行{where}：{self.message}"


@dataclass
class Sheet:
    name: str  # the name errors are reported under
    headers: tuple[str, ...]  # canonical headers, in the order a row's errors are reported
    columns: dict[str, str]  # canonical header -> header text as written in the file
    # (Excel row number, canonical header -> raw cell value): a list, or an iterator read once (stream=True)
    rows: Iterable[tuple[int, dict]]
    unknown: tuple[str, ...] = ()  # headers as written of the columns not read, in file order
    ignored: tuple[str, ...] = ()  # headers as written of the columns known and deliberately not read


class RowErrors:
    """The errors of one row: the first per column, reported in the sheet's column order."""

    def __init__(self, sheet: Sheet, row: int, cells: dict):
        self.sheet, self.row, self.cells = sheet, row, cells
        self.by_header: dict[str, tuple[str, str]] = {}
        self.marked: set[str] = set()  # columns whose problem the importer reports elsewhere

    def add(self, header: str, message: str, value=None) -> None:
        if header not in self.by_header and header not in self.marked:
            raw = self.cells.get(header) if value is None else value
            self.by_header[header] = (display(raw), message)

    def mark(self, header: str) -> None:
        """The row has a problem in `header` that is reported elsewhere (e.g. once for every row
        that shares it): the row is not clean, and no error of its own is emitted."""
        self.marked.add(header)

    def __contains__(self, header: str) -> bool:
        return header in self.by_header or header in self.marked

    def __bool__(self) -> bool:
        return bool(self.by_header or self.marked)

    def emit(self, into: list[RowError]) -> None:
        order = self.sheet.headers
        for header in sorted(self.by_header, key=lambda h: order.index(h) if h in order else len(order)):
            value, message = self.by_header[header]
            into.append(RowError(self.sheet.name, self.row, self.sheet.columns.get(header, header), value, message))


def canonical_header(value, aliases: Mapping[str, str] | None = None) -> str:
    """'身份证号*', ' 姓  名 ' and '出生日期（选填）' all name their column; then an alias, if any,
    gives the header it stands for."""
    header = _HEADER_NOTE.sub("", re.sub(r"\s+", "", text(value)).replace("*", "").replace("＊", ""))
    return (aliases or {}).get(header, header)


def open_workbook(file, errors: list[RowError]):
    """`file` is a path or a binary file object."""
    try:
        return load_workbook(file, read_only=True, data_only=True, keep_links=False)
    except Exception:  # not a zip, not OOXML, an .xls: all mean "not a readable .xlsx" to the person
        errors.append(RowError("", 0, "", "", "无法读取该文件：请上传 Excel 工作簿（.xlsx）。"
                                              "如果是 .xls 或 .et 文件，请先用 Excel 或 WPS 另存为 .xlsx。"))
        return None


def read_sheet(ws, name: str, headers: Sequence[str], errors: list[RowError], *, required: Sequence[str] = (),
               required_one_of: Sequence[Sequence[str]] = (), aliases: Mapping[str, str] | None = None,
               extra: Sequence[str] = (), ignored: Sequence[str] = (), stream: bool = False) -> Sheet | None:
    """Read one sheet's header row and data rows (blank rows skipped). `required` headers must be
    present; of each group in `required_one_of` at least one must be (the first is named when none
    is). None if the sheet is unusable; an empty sheet reads as a sheet with no rows.

    With `stream`, a usable sheet's `rows` is an iterator that parses each row as it is asked for
    (read it once, with the workbook still open): a file's largest sheet is never held whole. A
    runaway size or a damaged part found on the way is appended to `errors` then, and the rows stop."""
    headers = tuple(headers)
    header_errors: list[RowError] = []  # said once the whole sheet is read (a runaway size comes first)
    index, columns, unknown, skipped, missing, rows = {}, {}, [], [], [], []
    try:
        ws.reset_dimensions()  # some tools write a wrong used range; read what is really there
        # Streamed: each row becomes its cells as it is parsed; only the cells read are kept.
        parsed = ws.iter_rows(values_only=True)
        first = next(parsed, None)
        usable = first is not None and not all(is_blank(v) for v in first)
        if usable:
            index, columns, unknown, skipped = _header_row(first, name, headers, header_errors, aliases=aliases,
                                                           extra=extra, ignored=ignored)
            missing = [h for h in required if h not in index]
            missing += [group[0] for group in required_one_of if not any(h in index for h in group)]
        if stream and usable and not missing:
            errors.extend(header_errors)
            return Sheet(name, headers, columns, _data_rows(parsed, index, name, errors), tuple(unknown), tuple(skipped))
        for number, values in enumerate(parsed, start=2):
            if number > MAX_ROWS_PER_SHEET + 1:
                errors.append(_too_long(name))
                return None
            if not usable or missing:
                continue
            if (cells := _cells(values, index)) is not None:
                rows.append((number, cells))
    except Exception:  # a damaged sheet part: whatever the parser tripped on, the answer is the same
        errors.append(_damaged(name))
        return None
    if not usable:
        return Sheet(name, headers, {}, [])
    errors.extend(header_errors)
    for header in missing:
        errors.append(RowError(name, 1, header, "", f"缺少「{header}」列：请在第 1 行加上这一列的表头。"))
    if missing:
        return None
    return Sheet(name, headers, columns, rows, tuple(unknown), tuple(skipped))


def _cells(values, index: dict[str, int]) -> dict | None:
    """A data row's cells by canonical header; None when blank in every column read (a spacer, or
    a template row with only its 序号 filled in)."""
    cells = {h: values[i] if i < len(values) else None for h, i in index.items()}
    return None if all(is_blank(v) for v in cells.values()) else cells


def _too_long(name: str) -> RowError:
    return RowError(name, 0, "", "", f"超过 {MAX_ROWS_PER_SHEET} 行，请分成几个文件导入。")


def _damaged(name: str) -> RowError:
    return RowError(name, 0, "", "", "该工作表无法读取，文件可能已损坏：请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。")


def _data_rows(stream, index: dict[str, int], name: str, errors: list[RowError]):
    """`read_sheet(stream=True)`'s rows: (Excel row number, cells), parsed one at a time."""
    try:
        for number, values in enumerate(stream, start=2):
            if number > MAX_ROWS_PER_SHEET + 1:
                errors.append(_too_long(name))
                return
            if (cells := _cells(values, index)) is not None:
                yield number, cells
    except Exception:  # as read_sheet: a damaged part, whatever the parser tripped on
        errors.append(_damaged(name))


def _header_row(values, name: str, headers: tuple[str, ...], errors: list[RowError], *, aliases, extra, ignored):
    """Row 1: each known header's position and its text as written, and the columns not read."""
    index: dict[str, int] = {}
    columns: dict[str, str] = {}
    unknown, skipped = [], []
    for position, value in enumerate(values):
        header = canonical_header(value, aliases)
        if header not in headers and header not in extra:
            if header in ignored:
                skipped.append(text(value))
            elif header:
                unknown.append(text(value))
            continue
        if header in index:
            errors.append(RowError(name, 1, text(value), text(value),
                                   f"表头「{header}」出现了两次，请删去多余的一列。"))
            continue
        index[header], columns[header] = position, text(value)
    return index, columns, unknown, skipped


def renamed(errors: list[RowError], old: str, new: str) -> list[RowError]:
    """The errors reported under sheet name `old` moved to `new` (e.g. the sheet's title as the
    person sees it in the file, when it was read under a standard name)."""
    if old == new:
        return errors
    return [RowError(new if e.sheet == old else e.sheet, e.row, e.column, e.value, e.message) for e in errors]
