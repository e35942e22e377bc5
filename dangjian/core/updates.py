"""The one way a service changes fields of an existing row (HackSoft's `model_update`).

`model_update` sets only the named fields that `data` carries, so a form that does not show a
field can never clear it; it compares *values*, not representations, so saving an unchanged form
changes nothing and writes nothing; and it returns what changed, which is what the audit trail
records (see `dangjian.audit.services.audited_update`). Like the rest of `core`, it imports nothing
from the areas.

Optimistic locking: a model with a `version` field (`VersionField`) counts its writes. Every
`model_update` that changes something adds one, so a form or API client that read version 3 and
sends `expected_version=3` is refused with `Conflict` if anyone wrote in between, instead of
silently overwriting what the other person saved. The counter is not a field of the diff: it never
appears in `Changes`, so the audit trail names only what people changed."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone

VERSION = "version"
STALE = "该记录已被他人修改；请刷新后核对再重新提交。"


class VersionField(models.PositiveIntegerField):
    """The write counter of optimistic locking: 1 when created, one more for each edit. Not
    editable (no form shows it as an input; the edit forms carry it as a hidden value)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", 1)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("verbose_name", "版本")
        super().__init__(*args, **kwargs)


class Conflict(ValidationError):
    """Someone else saved the record since the writer read it (version `expected`, now `current`).
    A ValidationError, so a form shows it like any refusal and nothing is saved; the API answers
    409. `dangjian.audit.services.stale` words it from the trail (who, when, which fields)."""

    def __init__(self, message: str = STALE, *, instance=None, expected: int | None = None,
                 current: int | None = None):
        super().__init__(message, code="conflict")
        self.instance, self.expected, self.current = instance, expected, current
        self.worded = message != STALE


class Changes(dict):
    """field name -> (before, after), in normalised values (FKs as ids, aware datetimes, stripped
    text). Empty, and so false, when nothing changed."""

    def before(self) -> dict[str, Any]:
        return {name: pair[0] for name, pair in self.items()}

    def after(self) -> dict[str, Any]:
        return {name: pair[1] for name, pair in self.items()}


def normalise(field: models.Field, value: Any) -> Any:
    """The value a field holds, as the database will hold it, in the form two values compare by:

    - a foreign key by the related row's id (an instance or an id are the same thing);
    - a datetime as an aware instant (a naive one is read in the current time zone, as forms do),
      so 09:00+08:00 and 01:00 UTC are equal;
    - text stripped and with one kind of line break (forms strip; browsers send textareas with
      CRLF), and None for a non-null text field is the empty string;
    - anything else through the field's own `to_python` (Decimals then compare by value, dates
      stay dates)."""
    if field.many_to_one or field.one_to_one:
        if isinstance(value, models.Model):
            value = value.pk
        return None if value is None else field.target_field.to_python(value)
    if isinstance(field, (models.CharField, models.TextField)):
        if value is None:
            return None if field.null else ""
        return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    value = field.to_python(value)
    if isinstance(value, dt.datetime) and settings.USE_TZ and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def is_versioned(instance: models.Model) -> bool:
    return any(f.name == VERSION for f in instance._meta.concrete_fields)


def check_version(instance: models.Model, expected_version: int | None) -> None:
    """Refuse (Conflict) if the row as loaded is not the version the writer read. No query: call it
    on a row just loaded (best `select_for_update`); `bump_version` checks again in the database."""
    if expected_version is not None and instance.version != expected_version:
        raise Conflict(instance=instance, expected=expected_version, current=instance.version)


def bump_version(instance: models.Model, expected_version: int | None = None, values: dict | None = None) -> None:
    """Count one write, with `values` (column -> value) if given, in one statement:
    `UPDATE … SET …, version = version + 1 WHERE id = ? AND version = ?`. With `expected_version`,
    no row matching means someone wrote since the writer read it: Conflict, and nothing written.
    Without one (a writer that read no version: a transfer, a status move), the write happens
    anyway and the counter still moves: from the version loaded (one query) or, if that is stale,
    from whatever the database holds (two more queries, to write and read it back)."""
    manager = type(instance)._base_manager
    values = values or {}
    expected = instance.version if expected_version is None else expected_version
    if manager.filter(pk=instance.pk, version=expected).update(**values, version=F(VERSION) + 1):
        instance.version = expected + 1
        return
    if expected_version is not None:
        current = manager.filter(pk=instance.pk).values_list(VERSION, flat=True).first()
        raise Conflict(instance=instance, expected=expected_version, current=current)
    manager.filter(pk=instance.pk).update(**values, version=F(VERSION) + 1)
    instance.version = manager.filter(pk=instance.pk).values_list(VERSION, flat=True).get()


def model_update(*, instance: models.Model, fields: list[str], data: dict,
                 expected_version: int | None = None) -> Changes:
    """Set those of `fields` that `data` has a key for, save only if a value really changed, and
    return the changes.

    On a versioned model, a save also counts one write (`bump_version`); with `expected_version`
    (the version the form or client read) the row is refused with `Conflict` if it is not that
    version any more, whether or not this writer changed anything.

    Keys of `data` outside `fields` are ignored (a form's cleaned data may carry more), and fields
    absent from `data` keep their values. The save names only the changed fields, plus any
    `auto_now` field (e.g. `updated_at`), so a concurrent edit of other fields is not overwritten.
    No query at all when nothing changed. Validation is the calling service's job, before this."""
    assert instance.pk is not None, "model_update changes saved rows; create them with the model"
    versioned = is_versioned(instance)
    if versioned:
        check_version(instance, expected_version)
    changes = Changes()
    for name in fields:
        if name not in data:
            continue
        field = instance._meta.get_field(name)
        if field.many_to_many or not field.concrete:
            raise TypeError(f"model_update sets plain fields and foreign keys, not {name!r}")
        before = normalise(field, getattr(instance, field.attname))
        after = normalise(field, data[name])
        if before == after:
            continue
        changes[name] = (before, after)
        if isinstance(data[name], models.Model):
            setattr(instance, name, data[name])  # keep the related instance the caller has loaded
        else:
            setattr(instance, field.attname, after)
    if changes:
        stamps = [f.name for f in instance._meta.concrete_fields
                  if getattr(f, "auto_now", False) and f.name not in changes]
        names = [*changes, *stamps]
        if versioned:
            # What `save(update_fields=names)` would write (each field's pre_save: the auto_now
            # stamp, a search hash), written by the one conditional UPDATE that counts the version.
            fields = [instance._meta.get_field(name) for name in names]
            bump_version(instance, expected_version, {f.attname: f.pre_save(instance, False) for f in fields})
        else:
            instance.save(update_fields=names)
    return changes
