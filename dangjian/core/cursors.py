"""The one keyset cursor: where a page ends, as an opaque URL-safe string that the next request
hands back (`after=`). Used by the member list (page and API), the meeting list, the decision
register (API), the contact points and a figure's records (`page_after`: the cursor is the last
row's id). `page_links` gives a paged page its links, with the filters kept.

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

from django.db.models import Q, QuerySet, Subquery
from django.http import QueryDict

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


# A cursor of `page_after`: the id of the last row shown.
PK_CURSOR = (int,)


def after_id(cursor: str | None) -> int | None:
    """The id a `PK_CURSOR` holds (a page's `after=`), or None for the first page: a page given a
    damaged cursor starts again at the first page."""
    try:
        position = decode_cursor(cursor, PK_CURSOR)
    except BadCursor:
        return None
    return position[0] if position else None


def page_after(rows: QuerySet, *, after: int | None, size: int) -> tuple[list, tuple[int] | None]:
    """One page of `rows` in their own ordering, after the row whose id is `after` (the last one
    of the page before; None: the first page). Returns the page and the position to continue
    after (`PK_CURSOR`, for `encode_cursor`), or None at the end.

    For lists whose ordering is not one indexed key (the contact points, a figure's records): the
    position is the anchor row's own values, read by the database (`field > (SELECT field … WHERE
    id = after)`, uncorrelated subqueries evaluated once), so the cursor is the id whatever the
    ordering's types. The ordering must be fields in ascending order that are never NULL; the id
    breaks ties. An id from outside the caller's list only moves them within it (the page is cut
    from `rows`). An anchor deleted since its page was shown leaves nothing to compare with: the
    list starts again at its first page (one query more, only when a page after an anchor is empty).

    The page is cut on the bare rows (their ids in order, LIMIT size + 1) and only the rows kept
    are read with `rows`' annotations, in the same query: per-row counts are computed for the page
    alone, also where the database would compute them for every row before sorting (SQLite)."""
    order = list(rows.query.order_by) or list(rows.model._meta.ordering)
    if not all(isinstance(f, str) and not f.startswith(("-", "?")) for f in order):
        raise ValueError("page_after pages an ascending ordering of field names")
    if any(f.split("__")[0] in rows.query.annotations for f in order):
        raise ValueError("page_after orders by fields, not by annotations")
    if not order or order[-1] not in ("pk", rows.model._meta.pk.name):
        order.append("pk")
    cut = rows.order_by(*order).select_related(None)
    # The page is chosen on the bare rows: no annotation is read to order or cut them, and leaving
    # them out spares compiling each (a page's per-row counts) a second time for the subquery.
    cut.query.annotations = {}
    if after is not None:
        anchor = rows.model._base_manager.filter(pk=after)

        def at(field):
            return after if field in ("pk", rows.model._meta.pk.name) else Subquery(anchor.values(field)[:1])

        later = Q()
        for i, field in enumerate(order):
            later |= Q(**{f: at(f) for f in order[:i]}, **{f"{field}__gt": at(field)})
        cut = cut.filter(later)
    page = list(rows.filter(pk__in=cut.values("pk")[: size + 1]).order_by(*order))
    if not page and after is not None and not rows.model._base_manager.filter(pk=after).exists():
        return page_after(rows, after=None, size=size)
    return page[:size], ((page[size - 1].pk,) if len(page) > size else None)


def page_links(query: QueryDict, next_position: Sequence[Value] | None, *, at_start: bool,
               param: str = "after") -> dict[str, str]:
    """The links of a keyset-paged page, every other parameter of `query` (the filters) kept:
    `next_url` to the page after `next_position` (none at the end) and `first_url` back to the first
    page (none on it). For the template include `_pager.html`."""
    kept = query.copy()
    kept.pop(param, None)
    base = kept.urlencode()
    return {
        "next_url": f"?{base}{'&' if base else ''}{param}={encode_cursor(next_position)}" if next_position else "",
        "first_url": "" if at_start else f"?{base}",
    }
