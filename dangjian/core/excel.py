"""Shared spreadsheet helpers: formula-safe cell values for every export."""

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value):
    """Text that a spreadsheet would run as a formula is written as literal text (ASVS 1.2.10)."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
