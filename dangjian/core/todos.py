"""The home page's to-do list. Each area registers a provider: (user, today) -> list[Todo].
Providers compute from records in queries, so nothing depends on a scheduled job having run.

A party office sees reminders for every branch of the bureau (dozens at once), so the page shows
them in groups: by what is to be done (the same reminder for 20 branches is one line, "本季度支部
党员大会尚未记录 20") or by organisation, the most urgent group first (`group_todos`)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from dangjian.core import datacache

LEVELS = {"danger": 0, "warning": 1, "info": 2}  # most urgent first


@dataclass(frozen=True)
class Todo:
    title: str  # the whole reminder, organisation included: "第一党支部：未配备书记"
    url: str
    due: dt.date | None = None
    level: str = "info"  # "danger" overdue or breaking a rule, "warning" due soon, "info"
    area: str = ""
    organization_id: int | None = None  # the organisation the reminder is about (None: not about one)
    organization: str = ""  # its name
    kind: str = ""  # what is to be done, as a stable code: "term.expired", "orglife.due.general_meeting"
    kind_label: str = ""  # its heading when reminders are grouped by kind: "任期已届满"
    text: str = ""  # the reminder without the organisation's name: "任期已于 2026-08-02 届满，应及时换届"

    @property
    def rank(self) -> tuple:
        """Most urgent first: level, then due date. Ties keep the providers' order, which is the
        organisation tree's (a kind's branches read as on the tree page, not by code point)."""
        return (LEVELS.get(self.level, 3), self.due or dt.date.max)


@dataclass
class TodoGroup:
    """Reminders of one kind (or of one organisation), most urgent first; the group's own urgency
    is its most urgent reminder's."""

    key: str
    label: str
    todos: list[Todo] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.todos[0].level

    @property
    def due(self) -> dt.date | None:
        return min((t.due for t in self.todos if t.due), default=None)

    @property
    def count(self) -> int:
        return len(self.todos)

    @property
    def query(self) -> str:
        return group_query(self.key)


def group_query(key: str) -> str:
    """The to-do page's query string that lists the reminders of the group `key`."""
    if key.startswith("org:"):
        return urlencode({"org": key[4:]})
    return urlencode({"kind": key})


@dataclass(frozen=True)
class GroupHead:
    """What the home page shows of a group: its urgency, earliest due date and count (a kind's
    group in a city holds thousands of reminders; the home page keeps none of them)."""

    key: str
    label: str
    level: str
    due: dt.date | None
    count: int

    @property
    def query(self) -> str:
        return group_query(self.key)


GROUPINGS = {"kind": "按事项", "organization": "按党组织"}


_providers: list[Callable] = []


def register(provider: Callable) -> Callable:
    _providers.append(provider)
    return provider


def todos_for(user, today: dt.date) -> list[Todo]:
    """Every provider's reminders for `user`, most urgent first (level, then due date; a stable
    sort, so each provider's tree order stays within a tie). Kept until the next write
    (core.datacache): a city-wide user's reminders take seconds to compute."""
    def compute():
        items = [todo for provider in _providers for todo in provider(user, today)]
        return sorted(items, key=lambda t: t.rank)

    return datacache.remember(f"todos:{user.pk}:{today.isoformat()}", compute, personal=True)


def group_todos(todos: list[Todo], *, by: str = "kind") -> list[TodoGroup]:
    """`todos` in groups by kind of reminder or by organisation (`by`: a key of GROUPINGS); within
    a group the most urgent first, and the groups ordered by their most urgent reminder, then by
    their earliest due date, then by size (the bigger first). A reminder without a kind or an
    organisation is a group of its own."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {sorted(GROUPINGS)}, not {by!r}")
    groups: dict[str, TodoGroup] = {}
    for todo in sorted(todos, key=lambda t: t.rank):
        if by == "kind":
            key, label = (todo.kind, todo.kind_label or todo.text or todo.title) if todo.kind else (todo.title, todo.title)
        else:
            key, label = ((f"org:{todo.organization_id}", todo.organization) if todo.organization_id is not None
                          else (todo.title, todo.title))
        groups.setdefault(key, TodoGroup(key, label)).todos.append(todo)
    return sorted(groups.values(), key=lambda g: (g.todos[0].rank[0], g.due or dt.date.max, -g.count, g.label))


# ---------------------------------------------------------------- bounded pages (issue 11)

HOME_URGENT = 10  # reminders listed on the home page; the rest are on the to-do page
HOME_ORGANIZATIONS = 10  # organisation groups shown on the home page when grouped by organisation
PAGE_SIZE = 50  # reminders per page of the to-do page


@dataclass
class TodoSummary:
    """What the home page shows of a user's reminders, whatever their number: the total, the most
    urgent few, and groups (by kind or by organisation) with their counts only. A city-wide user
    has thousands of reminders (issue 11 measured 7,799: a 3.3 MB home page); the groups of a
    kind are as many as there are kinds, those of organisations are cut at HOME_ORGANIZATIONS."""

    total: int
    urgent: list[Todo]
    groups: list[GroupHead]
    more_groups: int  # groups left off (organisations beyond HOME_ORGANIZATIONS)

    @property
    def rest(self) -> int:
        """Reminders not listed on the home page."""
        return self.total - len(self.urgent)


def summarise(todos: list[Todo], *, by: str = "kind") -> TodoSummary:
    """`todos` (most urgent first, as todos_for gives them) summarised for the home page."""
    groups = group_todos(todos, by=by)
    shown = groups if by == "kind" else groups[:HOME_ORGANIZATIONS]
    return TodoSummary(total=len(todos), urgent=todos[:HOME_URGENT],
                       groups=[GroupHead(g.key, g.label, g.level, g.due, g.count) for g in shown],
                       more_groups=len(groups) - len(shown))


def summary_for(user, today: dt.date, *, by: str = "kind") -> TodoSummary:
    """The home page's summary of `user`'s reminders, kept until the next write like the reminders
    themselves: a city-wide user's thousands of reminders are neither read back nor grouped for
    each visit (56 → 9 ms a served home page for a city-wide user on PostgreSQL)."""
    return datacache.remember(f"home:{user.pk}:{today.isoformat()}:{by}",
                              lambda: summarise(todos_for(user, today), by=by), personal=True)


def filter_todos(todos: list[Todo], *, kind: str = "", organization_id: int | None = None) -> list[Todo]:
    """The reminders of one kind and/or about one organisation (the to-do page's filters; a group's
    link on the home page). A group of a reminder without a kind is keyed by its title."""
    if kind:
        todos = [t for t in todos if (t.kind or t.title) == kind]
    if organization_id is not None:
        todos = [t for t in todos if t.organization_id == organization_id]
    return todos
