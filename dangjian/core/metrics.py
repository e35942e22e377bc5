"""The metric registry: the seam between the areas and the annual report.

An area registers each figure it owns with a key, a Chinese label, the permission its records need
and a selector. The selector takes the organisations whose records count (a queryset the caller has
already cut to what the reader may see: `access.policy.organizations_under(user, metric.permission,
scope)`) and a period, and returns a MetricValue: the number and the queryset of records behind it,
so every figure can be clicked through, and the click shows only records the figure counted.
A source that is not connected returns value=None, shown as 缺数 (missing), never as 0.

It lives in `core` (below every area) so that each area can register its figures without importing
the reports area, which reads them.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import QuerySet


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    def __str__(self):
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class Column:
    """One column of the drill-down table: an attribute path on the record and its heading."""

    attr: str
    label: str


@dataclass
class MetricValue:
    value: int | None
    records: QuerySet | None = None
    total: int | None = None  # for "x of y" figures, e.g. secretaries in place of organisations
    note: str = ""

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    area: str
    unit: str
    selector: Callable[..., MetricValue]
    permission: str  # the access permission the records behind the figure need (an access.roles.Perm)
    columns: tuple[Column, ...] = field(default=())
    description: str = ""

    def compute(self, *, organizations: QuerySet, period: Period) -> MetricValue:
        """The figure over `organizations`, which the caller has scoped (see the module docstring)."""
        return self.selector(organizations=organizations, period=period)


_registry: dict[str, Metric] = {}


def register(*, key: str, label: str, area: str, permission: str, unit: str = "个", columns=(),
             description: str = ""):
    """Decorator: register `selector(*, organizations, period) -> MetricValue` under `key`. `permission`
    is what a reader needs on an organisation for its records to count and show."""

    def decorate(selector):
        if key in _registry:
            raise ValueError(f"Metric {key!r} is registered twice")
        _registry[key] = Metric(key=key, label=label, area=area, unit=unit, selector=selector, permission=permission,
                                columns=tuple(Column(*c) for c in columns), description=description)
        return selector

    return decorate


def metrics() -> list[Metric]:
    return list(_registry.values())


def get(key: str) -> Metric:
    return _registry[key]
