"""Dates in the forms people type into forms and spreadsheets."""

import datetime as dt
import re

_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?\s*$")
_COMPACT_RE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def parse_date(value) -> dt.date:
    """Accept 2022-3-1, 2022/03/01, 2022.03.01, 2022年3月1日, 20220301 or a date/datetime object.

    Raises ValueError with a Chinese message naming the accepted forms.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    match = _DATE_RE.match(text) or _COMPACT_RE.match(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise ValueError(f"日期“{text}”不存在，请核对年月日。") from None
    raise ValueError(f"无法识别日期“{text}”，请写成 2022-3-1、2022年3月1日 或 2022.03.01。")


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")
