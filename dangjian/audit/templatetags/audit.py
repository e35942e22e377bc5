from django import template

from dangjian.audit.actions import action_label as _action_label

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    """An audit action's Chinese name (as registered by its area), or its code."""
    return _action_label(code)
