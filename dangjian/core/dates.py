"""Dates in the forms people type into forms and spreadsheets."""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import models

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


# ---------------------------------------------------------------- incomplete dates
#
# Old members' dates are often known only to the month (1984年11月) or year (1984年), or not at all
# (不详). Such a date is stored as a pair: the DateField holds the *earliest* possible day (the 1st of
# the month, 1 January of the year) and a `…_precision` field says how much of it is known. Rules
# that need a day read the stored earliest day unless they say otherwise; `latest_day` gives the
# other end of the range for the rules that must not refuse what might be right.

class Precision(models.TextChoices):
    DAY = "day", "日"
    MONTH = "month", "月"
    YEAR = "year", "年"
    UNKNOWN = "unknown", "不详"


def precision_field(verbose_name: str) -> models.CharField:
    """The precision half of a (date, precision) pair; a date typed in full is DAY."""
    return models.CharField(verbose_name, max_length=7, choices=Precision.choices, default=Precision.DAY)


@dataclass(frozen=True)
class PartialDate:
    """A date known to the day, month or year, or not at all (`day` None). `day` is the earliest
    possible day."""

    day: dt.date | None
    precision: str = Precision.DAY

    @property
    def complete(self) -> bool:
        return self.precision == Precision.DAY

    @property
    def latest(self) -> dt.date | None:
        return latest_day(self.day, self.precision)

    def __str__(self) -> str:
        return show_date(self.day, self.precision)


UNKNOWN_WORDS = frozenset({"不详", "不祥", "未知", "空", "无", "不清楚", "—", "-", "－"})
_MONTH_RE = re.compile(r"^\s*(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*月?|(\d{2}))\s*$")
_YEAR_RE = re.compile(r"^\s*(\d{4})\s*年?\s*$")


def parse_partial_date(value) -> PartialDate:
    """Everything `parse_date` reads, and also 1984年11月, 1984-11, 1984.11, 1984/11, 198411 (a
    month), 1984年, 1984 (a year) and 不详 (unknown). Raises ValueError with a Chinese message:
    1984年13月 is refused, not guessed at."""
    if isinstance(value, dt.date):
        return PartialDate(parse_date(value))
    text = str(value or "").strip()
    if text in UNKNOWN_WORDS:
        return PartialDate(None, Precision.UNKNOWN)
    if (match := _YEAR_RE.match(text)):
        return PartialDate(_in_calendar(text, int(match[1]), 1), Precision.YEAR)
    if (match := _MONTH_RE.match(text)):
        return PartialDate(_in_calendar(text, int(match[1]), int(match[2] or match[3])), Precision.MONTH)
    try:
        return PartialDate(parse_date(text))
    except ValueError:
        if _DATE_RE.match(text) or _COMPACT_RE.match(text):
            raise
        raise ValueError(f"无法识别日期“{text}”，请写成 2022-3-1、2022年3月1日；只知道年月的写 1984年11月，"
                         "只知道年份的写 1984年，不知道的写“不详”。") from None


def _in_calendar(text: str, year: int, month: int) -> dt.date:
    if not 1 <= month <= 12:
        raise ValueError(f"日期“{text}”不存在：月份应为1～12。")
    if year < 1900:
        raise ValueError(f"日期“{text}”的年份不对，请核对。")
    return dt.date(year, month, 1)


def latest_day(day: dt.date | None, precision: str) -> dt.date | None:
    """The last day a (date, precision) pair may mean: the month's or year's last day."""
    if day is None or precision == Precision.UNKNOWN:
        return None
    if precision == Precision.YEAR:
        return dt.date(day.year, 12, 31)
    if precision == Precision.MONTH:
        return add_months(day.replace(day=1), 1) - dt.timedelta(days=1)
    return day


def show_date(day: dt.date | None, precision: str = Precision.DAY) -> str:
    """As typed: 2022-03-01, 1984年11月, 1984年, 不详 ("" for no date that is not 不详)."""
    if precision == Precision.UNKNOWN:
        return "不详"
    if day is None:
        return ""
    if precision == Precision.YEAR:
        return f"{day.year}年"
    if precision == Precision.MONTH:
        return f"{day.year}年{day.month}月"
    return day.strftime("%Y-%m-%d")


def whole_years(since: PartialDate, on: dt.date) -> int | None:
    """Whole years from `since` to `on` counted from its earliest possible day (党龄 counts so);
    None when `since` is unknown: a figure that cannot be decided is not guessed."""
    if since.day is None or since.precision == Precision.UNKNOWN:
        return None
    return on.year - since.day.year - ((on.month, on.day) < (since.day.month, since.day.day))
