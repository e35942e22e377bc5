"""The audit trail in words, for the pages that show it. An entry keeps codes and ids (`kind:
cell_meeting`, `organization: 39`, `True`); a reader needs 党小组会, the organisation's name and 是.
The trail sits below every area and imports none: the entry's `object_type` names its model
(`apps.get_model`), whose fields give the Chinese field names (verbose names), the choices' labels
and, for a foreign key, the related model whose row the value names. Keys that are not fields (a
count, a fact a service added) take the names their area registered (`register_field_labels`).

Names of the rows an entry refers to (organisations, members, units, accounts, and the actors
themselves) are read for the whole page in one query (a UNION over the models involved), however
many entries and models the page shows."""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast
from django.utils import timezone

from dangjian.audit.actions import children, field_label

EMPTY = "—"
# What the trail's own actors are called when they have no role code of an area (Actor.system).
OWN_ROLES = {"system": "系统"}


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the side the entry does not have (a creation has no "before")
    after: str | None


def describe_entries(entries, *, role_labels: dict[str, str]) -> None:
    """Give each entry of one page `actor_label`, `role_names` and `changes` (Change rows in words).
    `role_labels` maps role codes to names (the access area's roles, passed by the page, since the
    trail does not import access). One query for the whole page, none when nothing needs a name."""
    wanted: dict[type, dict[str, set]] = {}
    plans = []
    actor_model = _actor_model()
    for entry in entries:
        model = _model(entry.object_type)
        if entry.actor_id is not None:
            _want(wanted, actor_model, "pk", entry.actor_id)
        before, after = entry.before or {}, entry.after or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            plans.append((entry, model, [("", before, after)]))
            continue
        keys = list(after) + [k for k in before if k not in after]
        for key in keys:
            parts = _children_of(entry.object_type, key)
            if parts is not None:
                _want_children(wanted, parts, before.get(key), after.get(key))
                continue
            field = _field(model, key)
            for value in (before.get(key), after.get(key)):
                lookup = _lookup(model, field, value)
                if lookup:
                    _want(wanted, *lookup)
        plans.append((entry, model, [(key, before.get(key, _MISSING) if before else _MISSING,
                                      after.get(key, _MISSING) if after else _MISSING) for key in keys]))
    names = _names(wanted)
    roles = dict(OWN_ROLES) | dict(role_labels)
    for entry, model, rows in plans:
        entry.role_names = "、".join(roles.get(code, code) for code in entry.roles.split(",") if code)
        person = names.get((actor_model, "pk", str(entry.actor_id))) if entry.actor_id is not None else None
        entry.actor_label = f"{person}（{entry.actor_name}）" if person and person != entry.actor_name else entry.actor_name
        entry.changes = []
        for key, old, new in rows:
            parts = _children_of(entry.object_type, key) if key else None
            if parts is not None:
                entry.changes += _child_changes(_label(entry.object_type, model, key), parts, old, new, names)
                continue
            entry.changes.append(Change(
                label=_label(entry.object_type, model, key) if key else "内容",
                before=None if old is _MISSING else _present(model, _field(model, key), old, names),
                after=None if new is _MISSING else _present(model, _field(model, key), new, names)))


class _Missing:
    pass


def key_labels(object_type: str, keys) -> list[str]:
    """The Chinese names of an entry's keys about `object_type` (fields, parts), each once, in the
    model's field order (PostgreSQL's jsonb keeps no key order), keys that are no field after."""
    model = _model(object_type)
    order = {f.name: n for n, f in enumerate(model._meta.get_fields())} if model is not None else {}
    keys = sorted(dict.fromkeys(keys), key=lambda key: order.get(key, len(order)))
    return list(dict.fromkeys(_label(object_type, model, key) for key in keys))


def _children_of(object_type: str, key: str):
    """(model of the parts, model whose ids key them) for a registered key, or None."""
    spec = children(object_type, key)
    if spec is None:
        return None
    model, keyed_by = _model(spec[0]), _model(spec[1])
    return (model, keyed_by) if model is not None and keyed_by is not None else None


def _part_ids(value) -> dict:
    return value if isinstance(value, dict) else {}


def _want_children(wanted, parts, old, new) -> None:
    model, keyed_by = parts
    for side in (_part_ids(old), _part_ids(new)):
        for pk, fields in side.items():
            if str(pk).isdigit():
                _want(wanted, keyed_by, "pk", int(pk))
            for name, value in (fields or {}).items():
                lookup = _lookup(model, _field(model, name), value)
                if lookup:
                    _want(wanted, *lookup)


def _child_changes(label: str, parts, old, new, names) -> list[Change]:
    """One Change per part that changed: "出缺席 · 张三", with the part's fields in words; a part
    that was added or removed shows （无） on the other side."""
    model, keyed_by = parts
    old, new = _part_ids(old), _part_ids(new)
    rows = []
    for pk in list(new) + [k for k in old if k not in new]:
        who = names.get((keyed_by, "pk", str(pk))) or f"{keyed_by._meta.verbose_name}（编号 {pk}）"
        rows.append(Change(label=f"{label} · {who}", before=_part_text(model, old.get(pk), names),
                           after=_part_text(model, new.get(pk), names)))
    return rows


def _part_text(model, fields, names) -> str:
    if not fields:
        return "（无）"
    return "；".join(f"{_label('', model, name)} {_present(model, _field(model, name), value, names)}"
                    for name, value in fields.items())


_MISSING = _Missing()


def _actor_model():
    from dangjian.audit.models import AuditEntry

    return AuditEntry._meta.get_field("actor").related_model


def _model(object_type: str):
    if not object_type:
        return None
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model, key: str):
    if model is None or not key:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def _label(object_type: str, model, key: str) -> str:
    registered = field_label(object_type, key)
    if registered:
        return registered
    field = _field(model, key)
    if field is None:
        return key
    if field.is_relation and field.auto_created and not field.concrete:  # a reverse relation: guests
        return str(field.related_model._meta.verbose_name_plural)
    if field.is_relation and str(field.verbose_name) == field.name.replace("_", " "):
        # A foreign key given no name of its own is named by what it points to (党组织, 党员).
        return str(field.related_model._meta.verbose_name)
    return str(field.verbose_name)


def _natural_key(model) -> str | None:
    """The column a service may have written instead of the id: an organisation's or unit's code,
    an account's user name."""
    for name in ("code", getattr(model, "USERNAME_FIELD", None)):
        if name:
            try:
                if model._meta.get_field(name).unique:
                    return name
            except FieldDoesNotExist:
                pass
    return None


def _name_field(model) -> str | None:
    for name in ("name", "full_name", "title"):
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        return name
    return None


def _is_tree_path(model, field) -> bool:
    # A materialised-path tree (treebeard MP_Node): the position is shown as the parent's name.
    return field is not None and field.name == "path" and hasattr(model, "steplen")


def _lookup(model, field, value):
    """(model, column, value) naming the row that `value` refers to, or None."""
    if value is None or value == "" or isinstance(value, (bool, list, dict)):
        return None
    if _is_tree_path(model, field) and isinstance(value, str) and len(value) > model.steplen:
        return model, "path", value[: -model.steplen]
    if field is None or not (field.many_to_one or field.one_to_one) or not field.concrete:
        return None
    related = field.related_model
    if isinstance(value, int):
        return related, "pk", value
    key = _natural_key(related)
    return (related, key, str(value)) if key else None


def _want(wanted, model, column, value) -> None:
    wanted.setdefault(model, {}).setdefault(column, set()).add(value)


def _names(wanted) -> dict:
    """{(model, column, value as text): name} for every row asked for, in one query."""
    if not wanted:
        return {}
    models_ = list(wanted)
    parts = []
    for index, model in enumerate(models_):
        condition = Q()
        for column, values in wanted[model].items():
            condition |= Q(**{f"{column}__in": values})
        key, name = _natural_key(model), _name_field(model)
        text = CharField()
        parts.append(
            model._base_manager.filter(condition).order_by().annotate(
                a_model=Value(index),
                a_pk=Cast("pk", text),
                a_key=Cast(F(key), text) if key else Value("", output_field=text),
                a_path=Cast(F("path"), text) if hasattr(model, "steplen") else Value("", output_field=text),
                a_name=Cast(F(name), text) if name else Value("", output_field=text),
            ).values_list("a_model", "a_pk", "a_key", "a_path", "a_name")
        )
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    found = {}
    for index, pk, key, path, name in query:
        model = models_[index]
        label = name or key or f"{model._meta.verbose_name}（编号 {pk}）"
        found[(model, "pk", pk)] = label
        if key:
            found[(model, _natural_key(model), key)] = label
        if path:
            found[(model, "path", path)] = label
    return found


def _present(model, field, value, names) -> str:
    """One value in words."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "；".join(_present(None, None, item, names) if not isinstance(item, list)
                        else "，".join(_present(None, None, part, names) for part in item if part not in (None, ""))
                        for item in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{_present(None, None, v, names)}" for k, v in value.items())
    if _is_tree_path(model, field):
        parent = names.get((model, "path", str(value)[: -model.steplen]))
        return f"{parent}之下" if parent else "最上级"
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    lookup = _lookup(model, field, value)
    if lookup:
        related, column, key = lookup
        return names.get((related, column, str(key))) or f"{related._meta.verbose_name}（编号 {value}）"
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        return _datetime(value)
    if isinstance(field, models.DateField) and isinstance(value, str):
        return _date(value)
    return str(value)


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _date(text: str) -> str:
    try:
        return chinese_date(dt.date.fromisoformat(text))
    except ValueError:
        return text


def _datetime(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{chinese_date(moment.date())} {moment:%H:%M}"
