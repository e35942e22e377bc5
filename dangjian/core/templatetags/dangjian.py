import datetime as dt
import functools
import html

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def org_picker(name: str, organizations, chosen, perm: str = "", label: str = "党组织", empty: str | None = None):
    """An organisation <select> for a filter form (GET): core.forms.org_picker_html."""
    from dangjian.core.forms import org_picker_html

    return org_picker_html(name, organizations, chosen, perm=perm, label=label, empty=empty)


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


@functools.lru_cache(maxsize=256)
def _escaped(text: str) -> str:
    """A rule's label or short label, escaped once per process: a badge repeats one of a dozen.
    (Django's escape is the standard library's behind a check for lazy strings.)"""
    return html.escape(text)


def compliance_badge(cell, *, org_pk: int, year: int, can_record: bool, meetings_url: str, create_url: str) -> str:
    """The HTML of one requirement-period badge of the compliance matrix and calendar: a ✓ badge
    linking to the period's meetings, a ✗ or … badge linking to recording one (when the reader may
    record), or a grey one for a period not yet due. `meetings_url` and `create_url` are reversed
    once by the caller: a matrix page has about a thousand badges, and reversing a URL for each
    cost more than the page's SQL. The rules' sources are listed once under the table, not in
    every badge."""
    rule = cell.requirement
    short = _escaped(cell.short)
    if cell.state == "held":
        kind = f"&amp;kind={rule.kind}" if rule.kind else ""
        times = f"×{cell.held}" if cell.held > 1 else ""
        notes = getattr(cell, "notes", None)
        held = f"已开展（{_escaped('；'.join(notes))}）" if notes else f"已开展 {cell.held} 次"
        via = f'data-via="{_escaped("；".join(notes))}" ' if notes else ""
        return (f'<a class="badge rounded-pill text-bg-success text-decoration-none" data-state="held" {via}'
                f'data-rule="{rule.key}" title="{_escaped(rule.label)}：{held}" '
                f'href="{meetings_url}?org={org_pk}&amp;year={year}{kind}">✓{short}{times}</a>')
    if cell.state in ("missing", "due"):
        style, mark, words = ("danger", "✗", "未开展") if cell.state == "missing" else ("warning", "…", "本期进行中，尚未记录")
        attrs = (f'class="badge rounded-pill text-bg-{style} text-decoration-none" data-state="{cell.state}" '
                 f'data-rule="{rule.key}" title="{_escaped(rule.label)}：{words}"')
        if not can_record:  # a reader who may not record sees the gap, not a link that leads nowhere
            return f'<span {attrs}>{mark}{short}</span>'
        return f'<a {attrs} href="{create_url}?organization={org_pk}&amp;kind={cell.create_kind}">{mark}{short}</a>'
    return (f'<span class="badge rounded-pill text-bg-light border text-muted" data-state="future" '
            f'data-rule="{rule.key}">{short}</span>')


@register.simple_tag
def compliance_cell(cell, org, year, can_record) -> str:
    """One badge (see compliance_badge). A view that prepared the badges for this organisation,
    year and reader (orglife.views._decorate) left them on the cell; otherwise it is built here."""
    prepared = getattr(cell, "html", None)
    if prepared is not None and cell.html_for == (org.pk, year, can_record):
        return prepared
    return mark_safe(compliance_badge(cell, org_pk=org.pk, year=year, can_record=can_record,
                                      meetings_url=reverse("orglife:meetings"),
                                      create_url=reverse("orglife:meeting_create")))
