"""Status transitions: a declarative table of allowed moves, and one function that checks a move,
sets the status, writes the event row and reports the move.

A `Workflow` names which moves are allowed from which state. The state is usually a `status`
field; where a model keeps its state in another form (an organisation is 撤销 once it has a
`dissolved_on`), the workflow reads it with `state` and the move sets the fields given in `values`.
Illegal moves are refused with a Chinese ValidationError, before anything is written.

`core` knows nothing of the audit trail: `on_moved` is told of each move (the audited wrapper,
`dangjian.audit.services.audited_transition`, writes the entry there)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from dangjian.core.updates import Changes, model_update


@dataclass(frozen=True)
class Workflow:
    subject: str  # what moves, for messages: "党员", "党组织"
    moves: Mapping[str, frozenset[str]]  # from state -> the states it may move to
    labels: Mapping[str, str]  # state -> its Chinese name
    field: str | None = "status"  # the field holding the state; None when `state` derives it
    state: Callable[[models.Model], str] | None = None
    # A message fitted to the case (e.g. "张三已不在册。"); default: the general one below.
    refusal: Callable[[models.Model, str, str], str] | None = None

    def state_of(self, instance: models.Model) -> str:
        return self.state(instance) if self.state else getattr(instance, self.field)

    def check(self, instance: models.Model, to: str) -> str:
        """Refuse a move the table does not allow; return the state moved from."""
        source = self.state_of(instance)
        if to not in self.moves.get(source, frozenset()):
            if self.refusal:
                message = self.refusal(instance, source, to)
            else:
                message = (f"{self.subject}“{instance}”当前为“{self.labels.get(source, source)}”，"
                           f"不能改为“{self.labels.get(to, to)}”。")
            raise ValidationError(message)
        return source


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    changes: Changes  # the fields the move set, before and after
    event: models.Model | None  # the event row written, if the workflow has an event table


def transition(
    *, workflow: Workflow, instance: models.Model, to: str, values: dict | None = None,
    event: Callable[[str, str], models.Model | None] | None = None,
    on_moved: Callable[[Move], Any] | None = None,
) -> models.Model | None:
    """Move `instance` to `to`: check the move against `workflow`, set the state field (and the
    `values` that go with the move, e.g. a date) through `model_update`, create the event row with
    `event(source, target)`, tell `on_moved`, and return the event row (None without one).

    Call inside the service's transaction: a refusal raises before any write, and a failure after
    it rolls the whole move back."""
    source = workflow.check(instance, to)
    values = dict(values or {})
    if workflow.field:
        values[workflow.field] = to
    changes = model_update(instance=instance, fields=list(values), data=values)
    if workflow.state_of(instance) != to:  # a derived state must follow from the values set
        raise ValueError(f"{workflow.subject}: the values {values} do not put the state at {to!r}")
    row = event(source, to) if event else None
    if on_moved:
        on_moved(Move(source, to, changes, row))
    return row
