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
def changes(values) -> str:
    """A before/after dict as "字段：值；…" for the audit pages."""
    if not isinstance(values, dict):
        return "" if values is None else str(values)
    return "；".join(f"{key}：{'—' if value in (None, '') else value}" for key, value in values.items())


@register.simple_tag
def compliance_cell(cell, org, year, can_record) -> str:
    """One requirement-period badge of the compliance matrix and calendar. A tag rather than an
    {% include %}, with the links built by hand: a matrix page renders thousands of these. The
    rules' sources are listed once under the table, not in every badge."""
    from django.urls import reverse
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    rule = cell.requirement
    short = escape(cell.short)
    if cell.state == "held":
        kind = f"&amp;kind={rule.kind}" if rule.kind else ""
        times = f"×{cell.held}" if cell.held > 1 else ""
        return mark_safe(
            f'<a class="badge rounded-pill text-bg-success text-decoration-none" data-state="held" '
            f'data-rule="{rule.key}" title="{escape(rule.label)}：已开展 {cell.held} 次" '
            f'href="{reverse("orglife:meetings")}?org={org.pk}&amp;year={year}{kind}">✓{short}{times}</a>')
    if cell.state in ("missing", "due"):
        style, mark, words = ("danger", "✗", "未开展") if cell.state == "missing" else ("warning", "…", "本期进行中，尚未记录")
        attrs = (f'class="badge rounded-pill text-bg-{style} text-decoration-none" data-state="{cell.state}" '
                 f'data-rule="{rule.key}" title="{escape(rule.label)}：{words}"')
        if not can_record:  # a reader who may not record sees the gap, not a link that leads nowhere
            return mark_safe(f'<span {attrs}>{mark}{short}</span>')
        href = f"{reverse('orglife:meeting_create')}?organization={org.pk}&amp;kind={cell.create_kind}"
        return mark_safe(f'<a {attrs} href="{href}">{mark}{short}</a>')
    return mark_safe(f'<span class="badge rounded-pill text-bg-light border text-muted" data-state="future" '
                     f'data-rule="{rule.key}">{short}</span>')
