"""Reminders from the organisations area: terms ending, missing secretaries, branch rules."""

from django.urls import reverse

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core.todos import Todo, register
from dangjian.organizations.selectors import organization_rows

# The heading of each kind of finding when the home page groups reminders by kind.
KIND_LABELS = {
    "term.expired": "任期已届满，应换届",
    "organization.no_secretary": "未配备书记",
    "branch.min_full_members": "正式党员人数不足",
    "branch.max_members": "党员人数超过一般上限",
    "branch.committee_threshold": "支部委员会人数不符合规定",
    "term.reminder_months": "任期即将届满，请筹备换届",
    "term.extended": "任期届满，已批准延期换届",
    "branch.no_committee": "正式党员不足7人的党支部不设委员",
    "general_branch.max_members": "党总支党员超过100人，宜设基层党委",
    "general_branch.committee_size": "总支委员会人数不符合规定",
    "organ_committee.committee_size": "党委委员人数不符合规定",
    "organ_committee.discipline": "机关党委未设纪委或纪检委员",
    "cell.no_leader": "党小组未明确组长",
}


@register
def organization_todos(user, today):
    if not (policy.has_perm(user, Perm.MANAGE_ORGANIZATIONS) or policy.has_perm(user, Perm.MANAGE_MEMBERS)):
        return []
    items = []
    for row in organization_rows(user, today=today):
        if not row.findings:
            continue  # most organisations: no URL reversed for them (a city's 3,325 took 80 ms)
        url = reverse("organizations:detail", args=[row.org.pk])
        for finding in row.findings:
            items.append(Todo(title=f"{row.org.name}：{finding.text}", url=url, due=finding.due,
                              level=finding.level, area="党组织", organization_id=row.org.pk,
                              organization=row.org.name, kind=finding.code,
                              kind_label=KIND_LABELS.get(finding.code, finding.text), text=finding.text))
    return items
