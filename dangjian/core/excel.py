"""Shared spreadsheet helpers: formula-safe, writable cell values for every export."""

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value):
    """Text that a spreadsheet would run as a formula is written as literal text (ASVS 1.2.10), and
    control characters pasted in from other programs (which openpyxl refuses) are dropped."""
    if isinstance(value, str):
        if value.startswith(_FORMULA_PREFIXES):
            value = "'" + value
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value
