import datetime as dt

from django import template

register = template.Library()


@register.filter
def indent(depth: int) -> str:
    """Full-width spaces for a tree node's depth, for <option> labels."""
    return "　" * max(int(depth) - 1, 0)


@register.filter
def attr_path(obj, path: str):
    """Follow a dotted attribute path (calling get_*_display style methods) for drill-down tables."""
    for part in path.split("."):
        if obj is None:
            return ""
        obj = getattr(obj, part, "")
        if callable(obj):
            obj = obj()
    if isinstance(obj, dt.date):
        return obj.strftime("%Y-%m-%d")
    return "—" if obj in (None, "") else obj


@register.filter
def action_label(code: str) -> str:
    from dangjian.audit.actions import ACTION_LABELS

    return ACTION_LABELS.get(code, code)


@register.filter
def changes(values) -> str:
    """A before/after dict as "字段：值；…" for the audit pages."""
    if not isinstance(values, dict):
        return "" if values is None else str(values)
    return "；".join(f"{key}：{'—' if value in (None, '') else value}" for key, value in values.items())
