"""The home page summarises the reminders (a bounded page whatever the user's scope): the most
urgent few listed, then groups by what is to be done (default) or by organisation, the most urgent
group first, each with its count and a link to its reminders on the paged to-do page."""

import datetime as dt
import re

import pytest
import time_machine

from dangjian.core.todos import Todo, group_todos, todos_for
from dangjian.organizations.models import Appointment
from tests.factories import bulk_members

TODAY = dt.date(2026, 6, 10)


def _todo(org_id, org, kind, text, level="warning", due=None):
    return Todo(title=f"{org}：{text}", url=f"/o/{org_id}/", due=due, level=level, organization_id=org_id,
                organization=org, kind=kind, kind_label=text, text=text)


REMINDERS = [
    _todo(1, "第一支部", "orglife.due.general_meeting", "本季度支部党员大会尚未记录", due=dt.date(2026, 6, 30)),
    _todo(2, "第二支部", "orglife.due.general_meeting", "本季度支部党员大会尚未记录", due=dt.date(2026, 6, 30)),
    _todo(3, "第三支部", "orglife.due.general_meeting", "本季度支部党员大会尚未记录", due=dt.date(2026, 6, 30)),
    _todo(2, "第二支部", "organization.no_secretary", "未配备书记", level="danger"),
    _todo(3, "第三支部", "term.reminder_months", "任期将于 2026-07-01 届满", due=dt.date(2026, 7, 1)),
    _todo(1, "第一支部", "term.expired", "任期已于 2026-05-01 届满", level="danger", due=dt.date(2026, 5, 1)),
    _todo(4, "第四支部", "orglife.due.committee_meeting", "本月支部委员会会议尚未记录", due=dt.date(2026, 6, 30)),
]


def test_reminders_group_by_kind_most_urgent_first_with_counts():
    groups = group_todos(REMINDERS, by="kind")
    assert [(g.key, g.count, g.level) for g in groups] == [
        ("term.expired", 1, "danger"),            # danger, with a date passed
        ("organization.no_secretary", 1, "danger"),
        ("orglife.due.general_meeting", 3, "warning"),  # due 6-30, three branches: before the single one
        ("orglife.due.committee_meeting", 1, "warning"),
        ("term.reminder_months", 1, "warning"),   # due 7-1
    ]
    meetings = groups[2]
    assert meetings.label == "本季度支部党员大会尚未记录" and meetings.due == dt.date(2026, 6, 30)
    assert [t.organization for t in meetings.todos] == ["第一支部", "第二支部", "第三支部"]  # as provided


def test_reminders_group_by_organisation_the_most_urgent_organisation_first():
    groups = group_todos(REMINDERS, by="organization")
    assert [(g.label, g.count, g.level) for g in groups] == [
        ("第一支部", 2, "danger"), ("第二支部", 2, "danger"), ("第三支部", 2, "warning"), ("第四支部", 1, "warning"),
    ]
    assert [t.kind for t in groups[0].todos] == ["term.expired", "orglife.due.general_meeting"]  # urgent first


def test_a_reminder_about_no_organisation_or_kind_stands_alone():
    loose = Todo(title="请修改初始密码", url="/password/")
    assert [g.todos for g in group_todos([loose, loose], by="kind")] == [[loose, loose]]
    assert [g.label for g in group_todos([loose], by="organization")] == ["请修改初始密码"]
    with pytest.raises(ValueError):
        group_todos(REMINDERS, by="area")


# ---------------------------------------------------------------- the page and the providers


@pytest.fixture
def reminders(bureau):
    """Two branches without a secretary (danger), one branch over 50 members (warning), the
    committee's and branch A's terms expired (danger, dated)."""
    Appointment.objects.filter(organization__in=[bureau.branch_a, bureau.branch_b]).update(end=dt.date(2025, 1, 1))
    bulk_members(bureau.branch_b, 50)
    for org, end in ((bureau.committee, dt.date(2026, 3, 1)), (bureau.branch_a, dt.date(2026, 5, 1))):
        org.term_end = end
        org.save(update_fields=["term_end"])
    return bureau


@time_machine.travel(dt.datetime(2026, 6, 10, 9, 0), tick=False)
def test_providers_say_which_organisation_and_kind_each_reminder_is_about(reminders):
    todos = todos_for(reminders.users["party_office"], TODAY)
    no_secretary = [t for t in todos if t.kind == "organization.no_secretary"]
    assert {(t.organization_id, t.organization) for t in no_secretary} == {
        (reminders.branch_a.pk, "第一党支部"), (reminders.branch_b.pk, "第二党支部")}
    assert all(t.kind_label == "未配备书记" and t.text == "未配备书记" for t in no_secretary)
    assert all(t.kind and t.organization_id and t.text and t.title.endswith(t.text) for t in todos)
    orglife = [t for t in todos if t.area == "组织生活"]
    assert orglife and all(t.kind.startswith("orglife.") for t in orglife)


def _groups(page: str) -> list[tuple[str, int]]:
    """(heading, count) of each group of the home page's summary, in order."""
    return [(heading, int(count)) for count, heading in re.findall(
        r'<li class="list-group-item[^"]*todo-group" data-count="(\d+)">.*?<a class="flex-grow-1" href="[^"]+">([^<]+)</a>',
        page, re.S)]


@time_machine.travel(dt.datetime(2026, 6, 10, 9, 0), tick=False)
def test_party_office_home_shows_groups_most_urgent_first_with_counts(reminders, client_for):
    page = client_for("party_office").get("/").content.decode()
    groups = _groups(page)
    headings = [h for h, _ in groups]
    too_big = "党员人数超过一般上限"
    assert ("任期已届满，应换届", 2) in groups and ("未配备书记", 2) in groups
    assert (too_big, 1) in groups
    # danger before warning; among the dangers, the one with a date passed first
    assert headings.index("任期已届满，应换届") < headings.index("未配备书记") < headings.index(too_big)
    total = int(re.search(r'id="todo-total">(\d+)<', page).group(1))
    assert sum(c for _, c in groups) == total > len(groups)
    # a group says since when it is due and links to its reminders on the to-do page
    head, block = page.split("任期已届满，应换届", 1)
    assert 'href="/todos/?kind=term.expired"' in head.rsplit("<li", 1)[1]
    assert "3月1日已到期" in block.split("</li>", 1)[0]
    # the most urgent reminders are listed themselves, the expired terms first
    urgent = re.findall(r'todo-item">.*?<a href="[^"]+" class="flex-grow-1">([^<]+)</a>', page, re.S)
    assert urgent[:2] == ["局机关党委：任期已于 2026-03-01 届满，应及时换届", "第一党支部：任期已于 2026-05-01 届满，应及时换届"]


@time_machine.travel(dt.datetime(2026, 6, 10, 9, 0), tick=False)
def test_home_groups_by_organisation_on_request_and_ignores_a_bad_choice(reminders, client_for):
    client = client_for("party_office")
    by_org = client.get("/", {"by": "organization"}).content.decode()
    headings = [h for h, _ in _groups(by_org)]
    assert "第二党支部" in headings and "未配备书记" not in headings
    assert f'href="/todos/?org={reminders.branch_b.pk}">第二党支部</a>' in by_org
    assert re.search(r'class="btn btn-outline-secondary active" href="\?by=organization"', by_org)
    by_kind = client.get("/").content.decode()
    assert _groups(client.get("/", {"by": "<script>"}).content.decode()) == _groups(by_kind) != _groups(by_org)


def test_a_user_without_reminders_sees_no_grouping_switch(bureau, client_for):
    page = client_for("member").get("/").content.decode()
    assert "暂无待办事项" in page and "按党组织" not in page
