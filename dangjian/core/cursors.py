"""The one keyset cursor: where a page ends, as an opaque URL-safe string that the next request
hands back (`after=`). Used by the member list (page and API), the meeting list and the decision
register (API).

A cursor is the unpadded URL-safe base64 of a JSON list of typed values, one per ordering column:
    encode_cursor(("张三", 42))                    → "WyLlvKDkuIkiLDQyXQ"
    decode_cursor("WyLlvKDkuIkiLDQyXQ", (str, int)) → ("张三", 42)
Types: `str` (no NUL), `int` (0 … 2**63-1, a BigAutoField's range) and `datetime` (aware; written
as ISO 8601; its year 1900 … 9000, so no value overflows the database's date range).

Decoding is strict: a cursor of the wrong shape, type or range raises `BadCursor` with one Chinese
message (the API answers 422 with it; pages start again at the first page). Cursors are not signed:
a forged one only moves the caller elsewhere in their own scoped list, because every list is cut to
the caller's scope before the cursor is applied.
"""

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence

BAD_CURSOR = "翻页游标无效，请从第一页重新开始。"
MAX_INT = 2**63 - 1  # the largest BigAutoField value: larger ints would overflow the database driver
MAX_LENGTH = 200  # longer strings are refused before decoding (the API's `after` is as long)
YEARS = (1900, 9000)

Value = str | int | dt.datetime


class BadCursor(ValueError):
    def __init__(self, message: str = BAD_CURSOR):
        super().__init__(message)
        self.message = message


def encode_cursor(values: Sequence[Value] | None) -> str | None:
    """The position `values` (in the list's ordering) → an opaque string; None stays None (no next page)."""
    if values is None:
        return None
    parts = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    raw = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None, types: Sequence[type]) -> tuple | None:
    """An opaque string → the typed position, or None for no cursor. Raises `BadCursor` unless the
    string decodes to exactly one value of each type in `types`, each within its bounds."""
    if not cursor:
        return None
    if len(cursor) > MAX_LENGTH:
        raise BadCursor
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor from None
    if not isinstance(parts, list) or len(parts) != len(types):
        raise BadCursor
    return tuple(_typed(part, kind) for part, kind in zip(parts, types, strict=True))


def _typed(value, kind: type) -> Value:
    if kind is str:
        if isinstance(value, str) and "\x00" not in value:
            return value
    elif kind is int:
        if type(value) is int and 0 <= value <= MAX_INT:
            return value
    elif kind is dt.datetime:
        if isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                raise BadCursor from None
            if moment.tzinfo is not None and moment.utcoffset() is not None and YEARS[0] <= moment.year <= YEARS[1]:
                return moment
    else:
        raise TypeError(f"a cursor holds str, int or datetime values, not {kind.__name__}")
    raise BadCursor
