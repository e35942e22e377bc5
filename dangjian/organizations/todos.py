"""Reminders from the organisations area: terms ending, missing secretaries, branch rules."""

from django.urls import reverse

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core.todos import Todo, register
from dangjian.organizations.selectors import organization_rows


@register
def organization_todos(user, today):
    if not (policy.has_perm(user, Perm.MANAGE_ORGANIZATIONS) or policy.has_perm(user, Perm.MANAGE_MEMBERS)):
        return []
    items = []
    for row in organization_rows(user, today=today):
        url = reverse("organizations:detail", args=[row.org.pk])
        for finding in row.findings:
            items.append(Todo(title=f"{row.org.name}：{finding.text}", url=url, due=finding.due,
                              level=finding.level, area="党组织"))
    return items
