"""Rules as data: frequencies, thresholds, quorums and term lengths, each with the text it comes from.

Two layers ship with the platform, and a deployment may add a third:

- national.toml: what the party's regulations say, each entry citing the document (`source`), the
  article as read (`article`, or "未核实" where the text could not be read) and, preferably, a short
  `quote` of the words that set the rule;
- local.toml: local practice the regulations leave open (党课 every quarter, 中心组 monthly, the
  large-fund line…), each entry saying whose practice it is (`basis`) and, where a national floor
  exists, the floor (`national_minimum`);
- the deployment's file (settings.RULES_OVERRIDE_FILE, same format): may tighten any rule and loosen
  a local one, but never go below a national rule or a local rule's `national_minimum`. A file that
  tries stops start-up with ImproperlyConfigured naming the rule and the text it would break.

`rule(code, on=date)` returns the entry in effect on that date (the newest `effective_from` on or
before it; on the same date the override beats local beats national). The files are read once per
process (they change with a deployment, not at run time).
"""

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NATIONAL_FILE = Path(__file__).with_name("national.toml")
LOCAL_FILE = Path(__file__).with_name("local.toml")

NATIONAL, LOCAL, OVERRIDE = "national", "local", "override"
LAYER_LABELS = {NATIONAL: "国家规定", LOCAL: "本地做法", OVERRIDE: "本单位部署"}
LAYER_ORDER = {NATIONAL: 0, LOCAL: 1, OVERRIDE: 2}
UNVERIFIED = "未核实"

REQUIRED = ("code", "label", "value", "source", "effective_from")
OPTIONAL = ("article", "quote", "basis", "national_minimum", "stricter")
PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    value: int | float | str | dict | list
    source: str
    effective_from: dt.date
    article: str = ""
    quote: str = ""
    layer: str = NATIONAL
    basis: str = ""
    national_minimum: int | float | str | dict | None = None
    # Which way is stricter: "higher" (more meetings, a larger quorum: the default) or "lower"
    # (fewer days to enter a record, a smaller branch).
    stricter: str = "higher"

    @property
    def layer_label(self) -> str:
        return LAYER_LABELS[self.layer]

    @property
    def citation(self) -> str:
        """The source with its article: 《…》第十一条 (or the source alone)."""
        if self.article and self.article != UNVERIFIED and self.article not in self.source:
            return f"{self.source}{self.article}"
        return self.source


def _read(path: Path, layer: str) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ImproperlyConfigured(f"Rules file {path} cannot be read: {exc}") from exc
    rules = []
    for entry in data.get("rule", []):
        missing = set(REQUIRED) - entry.keys()
        if missing:
            raise ImproperlyConfigured(f"Rule in {path} lacks {sorted(missing)}: {entry}")
        unknown = entry.keys() - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            raise ImproperlyConfigured(f"Rule {entry['code']} in {path} has unknown keys {sorted(unknown)}")
        if not isinstance(entry["effective_from"], dt.date):
            raise ImproperlyConfigured(f"Rule {entry['code']} in {path}: effective_from must be a date")
        if layer == LOCAL and not str(entry.get("basis", "")).strip():
            raise ImproperlyConfigured(f"本地规则 {entry['code']}（{path}）须写明 basis：这是谁的做法。")
        if entry.get("stricter", "higher") not in ("higher", "lower"):
            raise ImproperlyConfigured(f"Rule {entry['code']} in {path}: stricter must be \"higher\" or \"lower\"")
        rules.append(Rule(layer=layer, **{k: entry[k] for k in (*REQUIRED, *OPTIONAL) if k in entry}))
    return rules


def strength(value) -> Fraction | None:
    """A rule value as one comparable number: a count or a share as is, a frequency as times a year.
    None when the value is not a number (a list of matter kinds, a wording)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Fraction(str(value))
    if isinstance(value, str):
        try:
            return Fraction(value)
        except ValueError:
            return None
    if isinstance(value, dict):
        if "min" in value and value.get("period") in PERIODS_PER_YEAR:
            return Fraction(value["min"]) * PERIODS_PER_YEAR[value["period"]]
        if "share" in value:
            return strength(value["share"])
    return None


def _below(value, floor, stricter: str) -> bool | None:
    """Whether `value` is less strict than `floor` (None: they cannot be compared)."""
    v, f = strength(value), strength(floor)
    if v is None or f is None:
        return None
    return v < f if stricter == "higher" else v > f


def _floor_message(entry: Rule, base: Rule, floor, path) -> str:
    side = "低于" if base.stricter == "higher" else "宽于"
    return (f"部署规则文件 {path}：规则 {entry.code}（{entry.label}）的值 {entry.value!r} {side}国家规定的最低要求 "
            f"{floor!r}（{base.citation}），部署文件只能放宽本地做法，不能放宽国家规定。")


def _check_override(entry: Rule, bases: list[Rule], path) -> None:
    """Refuse an override entry that loosens a national rule or goes below a local rule's
    national_minimum."""
    if not bases:
        raise ImproperlyConfigured(f"部署规则文件 {path}：没有编码为 {entry.code} 的国家规定或本地做法，无法覆盖。")
    in_effect = [b for b in bases if b.effective_from <= entry.effective_from] or bases[:1]
    base = in_effect[-1]
    if base.layer == NATIONAL:
        below = _below(entry.value, base.value, base.stricter)
        if below is None and entry.value != base.value:
            raise ImproperlyConfigured(f"部署规则文件 {path}：规则 {entry.code}（{entry.label}）是国家规定"
                                       f"（{base.citation}），不能改动。")
        if below:
            raise ImproperlyConfigured(_floor_message(entry, base, base.value, path))
    elif base.national_minimum is not None and _below(entry.value, base.national_minimum, base.stricter):
        raise ImproperlyConfigured(_floor_message(entry, base, base.national_minimum, path))


@cache
def all_rules() -> tuple[Rule, ...]:
    rules = _read(NATIONAL_FILE, NATIONAL) + _read(LOCAL_FILE, LOCAL)
    national_codes = {r.code for r in rules if r.layer == NATIONAL}
    for r in rules:
        if r.layer == LOCAL and r.code in national_codes:
            raise ImproperlyConfigured(f"规则 {r.code} 同时出现在国家规定和本地做法中：每条规则只属于一层。")
        if r.layer == LOCAL and r.national_minimum is not None and _below(r.value, r.national_minimum, r.stricter):
            raise ImproperlyConfigured(f"本地规则 {r.code} 的值低于其 national_minimum。")
    if settings.RULES_OVERRIDE_FILE:
        path = Path(settings.RULES_OVERRIDE_FILE)
        overrides = _read(path, OVERRIDE)
        by_code: dict[str, list[Rule]] = {}
        for r in sorted(rules, key=lambda r: r.effective_from):
            by_code.setdefault(r.code, []).append(r)
        for entry in overrides:
            bases = by_code.get(entry.code, [])
            _check_override(entry, bases, path)
            if bases:  # the override keeps the base's direction and floor
                entry_fields = {"stricter": bases[-1].stricter, "national_minimum": bases[-1].national_minimum}
                rules.append(Rule(**{**entry.__dict__, **entry_fields}))
    return tuple(sorted(rules, key=lambda r: (r.code, r.effective_from, LAYER_ORDER[r.layer])))


_generation = ""  # a digest of the rules in force: results computed from them are kept under it


def generation() -> str:
    """A digest of the rules as read (`reload`, a test's override): the same in every process
    that read the same rules, different once any rule differs (an override file changed and the
    app servers restarted one by one share a cache: neither reads the other's results)."""
    _by_code()
    return _generation


@cache
def _by_code() -> dict[str, tuple[Rule, ...]]:
    global _generation
    rules = all_rules()
    _generation = hashlib.blake2b(repr(rules).encode(), digest_size=8).hexdigest()
    index: dict[str, list[Rule]] = {}
    for r in rules:
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


def in_effect(on: dt.date | None = None) -> list[Rule]:
    """Every rule in effect on `on` (default today), one entry per code, in code order."""
    on = on or dt.date.today()
    found = []
    for entries in _by_code().values():
        current = [r for r in entries if r.effective_from <= on]
        if current:
            found.append(current[-1])
    return sorted(found, key=lambda r: r.code)


def reload() -> None:
    """Forget the rules read so far (after the override file changes, in tests)."""
    all_rules.cache_clear()
    _by_code.cache_clear()
