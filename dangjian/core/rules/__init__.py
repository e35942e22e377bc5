"""Rules as data: frequencies, thresholds and term lengths with their source and effective date.

`rule(code, on=date)` returns the entry in effect on that date. National defaults ship in
national.toml; a deployment adds stricter entries in the file named by settings.RULES_OVERRIDE_FILE.
The files are read once per process (they change with a deployment, not at run time).
"""

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NATIONAL_FILE = Path(__file__).with_name("national.toml")
LOCAL_FILE = Path(__file__).with_name("local.toml")  # local practice, labelled (each entry says whose: `basis`)
OPTIONAL_KEYS = ("article", "quote", "basis", "national_minimum")


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    value: int | float | str | dict | list
    source: str
    effective_from: dt.date
    article: str = ""
    quote: str = ""
    basis: str = ""
    national_minimum: object = None


def _read(path: Path) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ImproperlyConfigured(f"Rules file {path} cannot be read: {exc}") from exc
    rules = []
    for entry in data.get("rule", []):
        missing = {"code", "label", "value", "source", "effective_from"} - entry.keys()
        if missing:
            raise ImproperlyConfigured(f"Rule in {path} lacks {sorted(missing)}: {entry}")
        if not isinstance(entry["effective_from"], dt.date):
            raise ImproperlyConfigured(f"Rule {entry['code']} in {path}: effective_from must be a date")
        rules.append(Rule(**{k: entry[k] for k in ("code", "label", "value", "source", "effective_from",
                                                   *OPTIONAL_KEYS) if k in entry}))
    return rules


@cache
def all_rules() -> tuple[Rule, ...]:
    rules = _read(NATIONAL_FILE)
    if LOCAL_FILE.exists():
        rules += _read(LOCAL_FILE)
    if settings.RULES_OVERRIDE_FILE:
        rules += _read(Path(settings.RULES_OVERRIDE_FILE))
    return tuple(sorted(rules, key=lambda r: (r.code, r.effective_from)))


@cache
def _by_code() -> dict[str, tuple[Rule, ...]]:
    index: dict[str, list[Rule]] = {}
    for r in all_rules():
        index.setdefault(r.code, []).append(r)
    return {code: tuple(entries) for code, entries in index.items()}


def rule(code: str, *, on: dt.date | None = None) -> Rule:
    """The entry for `code` in effect on `on` (default today); KeyError if the code is unknown."""
    on = on or dt.date.today()
    in_effect = [r for r in _by_code().get(code, ()) if r.effective_from <= on]
    if not in_effect:
        raise KeyError(f"No rule {code!r} in effect on {on}")
    return in_effect[-1]


def value(code: str, *, on: dt.date | None = None):
    return rule(code, on=on).value


def reload() -> None:
    """Forget the rules read so far (after the override file changes, in tests)."""
    all_rules.cache_clear()
    _by_code.cache_clear()
