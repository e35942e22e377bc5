"""Reminders from organisational life: what falls due this period and what is missing this year."""

from django.urls import reverse

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core.todos import Todo, register
from dangjian.orglife import selectors
from dangjian.orglife.models import MeetingKind

PERIOD_WORDS = {"month": "本月", "quarter": "本季度", "year": "本年度"}
# How far ahead of a period's end its unrecorded meeting is shown as falling due.
REMIND_DAYS = {"month": 10, "quarter": 31, "year": 45}


@register
def orglife_todos(user, today):
    if not policy.has_perm(user, Perm.RECORD_MEETINGS):
        return []
    table = selectors.compliance(policy.organizations(user, Perm.RECORD_MEETINGS), year=today.year, today=today)
    items = []
    for row in table.rows:
        missing = row.missing
        about = {"area": "组织生活", "organization_id": row.org.pk, "organization": row.org.name}
        if missing:
            names = "、".join(dict.fromkeys(c.requirement.label for c in missing))
            text = f"今年有 {len(missing)} 期未开展（{names}）"
            items.append(Todo(title=f"{row.org.name}：{text}",
                              url=reverse("orglife:calendar", args=[row.org.pk]) + f"?year={today.year}",
                              level="danger", kind="orglife.missing", kind_label="今年有未开展的组织生活",
                              text=text, **about))
        for cell in row.cells:
            if cell.state == "due" and (cell.end - today).days <= REMIND_DAYS[cell.requirement.period]:
                kind = cell.requirement.kind or MeetingKind.ORGANIZATIONAL_LIFE_MEETING
                url = reverse("orglife:meeting_create") + f"?organization={row.org.pk}&kind={kind}"
                text = f"{PERIOD_WORDS[cell.requirement.period]}{cell.requirement.label}尚未记录"
                items.append(Todo(title=f"{row.org.name}：{text}", url=url, due=cell.end, level="warning",
                                  kind=f"orglife.due.{cell.requirement.key}", kind_label=text, text=text, **about))
    return items
