"""The home page's to-do list. Each area registers a provider: (user, today) -> list[Todo].
Providers compute from records in queries, so nothing depends on a scheduled job having run."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Todo:
    title: str
    url: str
    due: dt.date | None = None
    level: str = "info"  # "danger" overdue or breaking a rule, "warning" due soon, "info"
    area: str = ""


_providers: list[Callable] = []


def register(provider: Callable) -> Callable:
    _providers.append(provider)
    return provider


def todos_for(user, today: dt.date) -> list[Todo]:
    items = [todo for provider in _providers for todo in provider(user, today)]
    order = {"danger": 0, "warning": 1, "info": 2}
    return sorted(items, key=lambda t: (order.get(t.level, 3), t.due or dt.date.max, t.title))
