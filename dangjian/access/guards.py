"""The one decision before a change: "not visible → 404, visible but not yours to change → 403".

    org = get_for_change(user, policy.get_organization, pk, Perm.RECORD_MEETINGS,
                         can=policy.can_on_organization, field="organization",
                         refused=lambda org: f"您无权记录“{org.name}”的会议。")

The getter is one of the policy's detail getters (`get_organization`, `get_unit`, `get_member`, or
`get_record` with its model bound); it raises Http404 outside the caller's view, so a record's
existence is never revealed. `can` is the matching `policy.can_on_*`, decided from the caller's
cached grants (no query). A refusal only tells the caller what they can already read.

The exceptions are Django's own (`Http404`, `PermissionDenied`), so a page shows its 404 or 403
page unchanged; they also carry a Chinese message and the request field at fault, which the API
turns into its JSON error in one place (`dangjian.api.errors`). Pages that never tell the two
cases apart (the page doctrine: 404 for both) pass `hide=True`.
"""

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.http import Http404

from dangjian.access.roles import Perm

T = TypeVar("T")


class NotVisible(Http404):
    """Unknown, or outside the caller's scope (the two are never told apart)."""

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class NotYours(PermissionDenied):
    """Visible to the caller, but not theirs to change."""

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def get_visible(user, getter: Callable[..., T], pk, *, field: str | None = None, missing: str = "") -> T:
    """`getter(user, pk)`, its Http404 carrying `missing` and `field` (for a record named in a body)."""
    try:
        return getter(user, pk)
    except Http404:
        raise NotVisible(missing, field) from None


def get_for_change(user, getter: Callable[..., T], pk, perm: Perm, *, can: Callable[[object, T, Perm], bool],
                   field: str | None = None, missing: str = "", refused: str | Callable[[T], str] = "",
                   hide: bool = False) -> T:
    """The record `pk` if the caller may see it and holds `perm` on it.

    Not visible → `NotVisible(missing, field)` (404). Visible but `can(user, record, perm)` is false →
    `NotYours(refused, field)` (403), or `NotVisible` with `hide=True`. `refused` may be a function of
    the record, to name it in the message. Queries: the getter's one."""
    record = get_visible(user, getter, pk, field=field, missing=missing)
    if not can(user, record, perm):
        if hide:
            raise NotVisible(missing, field)
        raise NotYours(refused(record) if callable(refused) else refused, field)
    return record
