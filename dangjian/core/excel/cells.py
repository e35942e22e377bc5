"""Reading one cell as what its column holds. Each parser takes the raw value openpyxl gives (str,
int, float, bool, datetime or None) and returns a clean Python value, or raises `CellError` whose
message (Chinese) tells the person what to fix."""

import datetime as dt
import re
import unicodedata

from dangjian.core.dates import PartialDate, parse_date, parse_partial_date

# Excel keeps 15 significant digits of a number: a longer number in a numeric cell has lost digits.
_EXACT_NUMBER_LIMIT = 10**15
# What `safe_cell` puts before formula-like text, taken off again on the way back in.
_ESCAPED_FORMULA = re.compile(r"^'[=+\-@\t\r\0]")
_MIDNIGHT = re.compile(r"[ T]0{1,2}:00(:00)?$")  # "2022-03-01 00:00:00", as some tools write a date


class CellError(Exception):
    """A cell that cannot be read as what its column holds; the message says what to fix."""


def display(value) -> str:
    """A cell's value as the person sees it, for the error report."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value) -> str:
    """Free text (names, posts): trimmed, a number typed into it read as written, and the quote
    our own export puts before formula-like text taken off again so an export re-imports as it was."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime):
        value = value.date()
    result = str(value).strip()
    if _ESCAPED_FORMULA.match(result):
        result = result[1:]
    return result


def key(value) -> str:
    """Codes and choice labels: also folds full-width letters and digits (ＢＡ０１ → BA01)."""
    return unicodedata.normalize("NFKC", text(value)).strip()


def number_text(value, header: str) -> str:
    """ID numbers and phones are text. A number cell is read back as its digits while Excel kept
    them all; beyond 15 digits it did not, and only the person can restore them. Whitespace inside
    is dropped and full-width digits folded."""
    if isinstance(value, bool):
        raise CellError(f"「{header}」应填写号码。")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_NUMBER_LIMIT:
            return str(int(value))
        raise CellError(
            f"「{header}」被 Excel 存成了数字，超过15位的数字末尾已变成0或丢失，号码无法还原："
            f"请把「{header}」这一列设置为“文本”格式，重新填写完整号码后再导入。"
        )
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text(value)))


def date(value) -> dt.date | None:
    """A real date cell, or text in the forms `parse_date` reads; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # 20220301 typed into a number cell; a bare Excel serial (44621) is not guessed at.
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            value = str(int(value))
        else:
            raise CellError(f"“{display(value)}”不是日期：请写成 2022-3-1、2022年3月1日 或 2022.03.01，"
                            "或把单元格设为日期格式。")
    if not isinstance(value, str):
        raise CellError("请填写日期，如 2022-3-1。")
    return _typed_date(value, parse_date)


def _typed_date(value: str, parse):
    """Text typed into a date cell, read by `parse` (None when blank); its ValueError becomes the
    cell's error."""
    written = _MIDNIGHT.sub("", unicodedata.normalize("NFKC", value).strip())
    if not written:
        return None
    try:
        return parse(written)
    except ValueError as exc:
        raise CellError(str(exc)) from None


def partial_date(value) -> PartialDate | None:
    """A date that may be known only to the month or year, or 不详 (`parse_partial_date`); None for
    an empty cell. A number cell is read as typed where that is unambiguous: 1984 a year, 198411 a
    month, 1984.11 November; 1984.1 may have been typed 1984.10 (Excel drops the 0) and is refused."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = display(value)
        if re.fullmatch(r"\d{4}\.\d", shown):
            year, month = shown.split(".")
            raise CellError(f"“{shown}”被 Excel 存成了数字，分不清是{year}年{month}月还是{year}年{month}0月："
                            f"请写成 {year}年{month}月 或 {year}年{month}0月，或把这一列设为文本后重新填写。")
        if re.fullmatch(r"\d{4}(\.\d{2}|\d{2})?", shown):
            value = shown
    if not isinstance(value, str):
        day = date(value)
        return None if day is None else PartialDate(day)
    return _typed_date(value, parse_partial_date)
