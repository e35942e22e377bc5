"""Results computed from the records, kept until the records change.

A city-wide party office's reminders are computed from the whole city (3,325 organisations, 2.4
million attendance rows: seconds), yet they change only when something is recorded. Every write
goes through a service that appends to the audit chain (DESIGN.md, "one door"); the chain's head
counts the entries that changed records (`AuditHead.data_seq`: not log-ins, failed log-ins,
searches or exports, which change no page), so a result kept under that number is never older
than the last write, and the first read after a write computes afresh. The rules' generation and
the day are part of the version or key too (rules read anew, or midnight, change reminders
without a write).

Each key has one slot holding (format, version, result): a result kept under an older version is
replaced, not left beside the new one, so a process keeps at most one result per key. A slot that
does not open (written by another release, sealed under a key no longer configured) is a miss.

The audit area registers the version (`register_version`); core knows nothing of the chain. The
cache is Django's (`settings.CACHES`): per process by default, shared when a deployment points
CACHES at a shared backend (see README, 部署). A result that names people (reminders, a page of
the member list) is `personal`: in a shared backend it is stored sealed with the field key
(core.crypto), as the records it came from are, never as plain text in the cache table."""

import hashlib
import logging
import pickle
import re
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from dangjian.core import crypto, rules

T = TypeVar("T")
FORMAT = 1  # the slot's layout: bump it when (format, version, result) changes shape
KEY_LENGTH = 120
SAFE_KEY = re.compile(r"[A-Za-z0-9_.:-]+")  # what every backend takes as a key (memcached, varchar(255))
TIMEOUT = 600  # seconds: a bound on staleness for changes made outside the services (a shell)

log = logging.getLogger(__name__)
_version: Callable[[], object] | None = None


def register_version(source: Callable[[], object]) -> None:
    """`source()` returns the records' version (one indexed read), set once by the audit app."""
    global _version
    _version = source


def data_version() -> str:
    return f"{_version() if _version else 'none'}.{rules.generation()}"


def slot(key: str) -> str:
    """The cache key `remember` keeps `key`'s result under: `key` itself when short and plain,
    else its kind (the part before the first colon) and a digest (parts taken from a request)."""
    if len(key) <= KEY_LENGTH and SAFE_KEY.fullmatch(key):
        return key
    kind = key.split(":", 1)[0]
    return f"{kind if SAFE_KEY.fullmatch(kind) else 'key'}:{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}"


def remember(key: str, compute: Callable[[], T], *, personal: bool = False) -> T:
    """`compute()`, or what it returned for `key` since the last write. `personal`: the result
    names people; a shared backend stores it sealed (see the module's docstring)."""
    name, version = slot(key), data_version()
    seal = personal and not isinstance(caches["default"], LocMemCache)  # a process's memory is no store
    kept = _open(cache.get(name), name, sealed=seal)
    if kept is not None and kept[:2] == (FORMAT, version):
        return kept[2]
    result = compute()
    kept = (FORMAT, version, result)
    cache.set(name, crypto.provider().encrypt(pickle.dumps(kept), context=name) if seal else kept, TIMEOUT)
    return result


def _open(stored, name: str, *, sealed: bool) -> tuple | None:
    """The slot's (format, version, result), or None when empty or unreadable."""
    if stored is None:
        return None
    try:
        kept = pickle.loads(crypto.provider().decrypt_bytes(stored, context=name)) if sealed else stored
    except Exception as error:  # any slot that does not open is a miss, never an error page
        log.warning("datacache: %s does not open (%s): computed afresh", name, type(error).__name__)
        return None
    return kept if isinstance(kept, tuple) and len(kept) == 3 else None
