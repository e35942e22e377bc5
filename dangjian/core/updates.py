"""The one way a service changes fields of an existing row (HackSoft's `model_update`).

`model_update` sets only the named fields that `data` carries, so a form that does not show a
field can never clear it; it compares *values*, not representations, so saving an unchanged form
changes nothing and writes nothing; and it returns what changed, which is what the audit trail
records (see `dangjian.audit.services.audited_update`). Like the rest of `core`, it imports nothing
from the areas."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


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


def model_update(*, instance: models.Model, fields: list[str], data: dict) -> Changes:
    """Set those of `fields` that `data` has a key for, save only if a value really changed, and
    return the changes.

    Keys of `data` outside `fields` are ignored (a form's cleaned data may carry more), and fields
    absent from `data` keep their values. The save names only the changed fields, plus any
    `auto_now` field (e.g. `updated_at`), so a concurrent edit of other fields is not overwritten.
    No query at all when nothing changed. Validation is the calling service's job, before this."""
    assert instance.pk is not None, "model_update changes saved rows; create them with the model"
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
        instance.save(update_fields=[*changes, *stamps])
    return changes
