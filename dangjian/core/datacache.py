"""Results computed from the records, kept until the records change.

A city-wide party office's reminders are computed from the whole city (3,325 organisations, 2.4
million attendance rows: seconds), yet they change only when something is recorded. Every write
goes through a service that appends to the audit chain (DESIGN.md, "one door"), so the chain's head
is a number that moves with every write: a result cached under it is never older than the last
write, and the first read after a write computes afresh. The rules' generation and the day are part
of the key too (a rule read anew, or midnight, changes reminders without a write).

The audit area registers the head (`register_version`); core knows nothing of the chain. The
cache is Django's (`settings.CACHES`): per process by default, shared when a deployment points
CACHES at a shared backend (see README, 部署). A result that names people (reminders, a page of
the member list) is `personal`: in a shared backend it is stored sealed with the field key
(core.crypto), as the records it came from are, never as plain text in the cache table."""

import hashlib
import pickle
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from dangjian.core import crypto, rules

T = TypeVar("T")
KEY_LENGTH = 120
TIMEOUT = 600  # seconds: a bound on staleness for changes made outside the services (a shell)

_version: Callable[[], object] | None = None


def register_version(source: Callable[[], object]) -> None:
    """`source()` returns the records' version (one indexed read), set once by the audit app."""
    global _version
    _version = source


def data_version() -> str:
    return f"{_version() if _version else 'none'}.{rules.generation()}"


def remember(key: str, compute: Callable[[], T], *, personal: bool = False) -> T:
    """`compute()`, or what it returned for `key` since the last write. `personal`: the result
    names people; a shared backend stores it sealed (see the module's docstring)."""
    if len(key) > KEY_LENGTH or not key.isascii() or " " in key:  # parts from a request: varchar(255), no spaces
        key = f"{key.split(':', 1)[0]}:{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}"
    full_key = f"{key}:{data_version()}"
    seal = personal and not isinstance(caches["default"], LocMemCache)  # a process's memory is no store
    found = cache.get(full_key)
    if found is not None and not seal:
        return found
    if found is not None:
        try:
            return pickle.loads(crypto.provider().decrypt_bytes(found, context=full_key))
        except crypto.DecryptionError:  # sealed under a key no longer configured: computed afresh
            pass
    found = compute()
    cache.set(full_key, crypto.provider().encrypt(pickle.dumps(found), context=full_key) if seal else found, TIMEOUT)
    return found
