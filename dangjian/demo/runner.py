"""Build the demo bureau: run the steps in order, in one transaction, once.

Building is idempotent: if the bureau exists (its root organisation), nothing is written and the
figures are read back from the records, so a second `manage.py demo` prints the same report. There
is no wipe: the audit trail is append-only, so the demo is built on an empty database and kept.
The build is deterministic: each step draws from its own `random.Random(SEED + place in STEPS)`
and nothing reads the clock but the one `today` (default `timezone.localdate()`)."""

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.core.demo_context import DemoContext
from dangjian.demo import logins
from dangjian.organizations import demo as organizations_demo
from dangjian.orglife import demo as orglife_demo

SEED = 2022
# Who the demo's audit entries name: the platform setting itself up, not a person (and not "demo").
DEMO_ACTOR = "系统初始化"


class DemoStep(Protocol):
    """What each step module exposes (an area's `demo.py`, or `logins`)."""

    def step(self, ctx: DemoContext) -> None: ...
    def counts(self, *, today: dt.date | None = None) -> dict[str, int]: ...
    def summary(self, counts: dict[str, int]) -> str: ...


# In the order things depend on each other: the bureau, its log-ins, then its organisational life.
STEPS: tuple[DemoStep, ...] = (organizations_demo, logins, orglife_demo)


class DemoConflict(Exception):
    """The database holds accounts with the demo's user names but no demo bureau."""


@dataclass
class DemoResult:
    created: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def demo_exists() -> bool:
    return organizations_demo.bureau_exists()


def build_demo(*, today: dt.date | None = None) -> DemoResult:
    """Build the demo bureau in one transaction, unless it already exists (then nothing is
    written). `today` must not be after the real today: the services refuse future dates."""
    if demo_exists():
        return DemoResult(created=False, counts=demo_counts(today=today))
    taken = logins.usernames_taken()
    if taken:
        raise DemoConflict(f"演示账号用户名已被占用：{'、'.join(taken)}。请在空数据库上生成演示数据。")
    started = time.perf_counter()
    ctx = DemoContext(today=today or timezone.localdate(), seed=SEED, by=Actor.system(DEMO_ACTOR))
    with transaction.atomic():
        for place, step in enumerate(STEPS):
            ctx.rng = random.Random(ctx.seed + place)
            step.step(ctx)
    return DemoResult(created=True, seconds=time.perf_counter() - started, counts=demo_counts(today=ctx.today))


def demo_counts(*, today: dt.date | None = None) -> dict[str, int]:
    """Every step's figures, computed from the records (what the command prints and the tests check)."""
    counts: dict[str, int] = {}
    for step in STEPS:
        counts.update(step.counts(today=today))
    return counts


def format_counts(counts: dict[str, int]) -> str:
    """The report: each step's summary lines, in order."""
    return "\n".join(text for step in STEPS if (text := step.summary(counts)))
