"""The home page is bounded however many reminders a user has (issue 11: a city-wide user had 7,799
on one 3.3 MB page): the most urgent ten listed, groups with counts only (organisations cut at ten),
and every reminder on the paged to-do page, filtered by kind or organisation."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache

from dangjian.core.todos import HOME_ORGANIZATIONS, HOME_URGENT, PAGE_SIZE, summarise, todos_for
from dangjian.organizations.models import Organization
from tests.factories import make_org

NOW = dt.datetime(2026, 6, 10, 9, 0)


@pytest.fixture
def many_branches(bureau):
    """40 more branches without a secretary or members: each has several reminders."""
    for i in range(40):
        make_org(bureau.general_branch, Organization.Kind.BRANCH, f"扩展支部{i:02d}", code=f"QX{i:03d}")
    return bureau


def _items(page: str, id_: str) -> list[str]:
    block = page.split(f'id="{id_}"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'todo-item">.*?<a href="[^"]+" class="flex-grow-1">([^<]+)</a>', block, re.S)


@time_machine.travel(NOW, tick=False)
def test_home_lists_the_ten_most_urgent_and_counts_the_rest(many_branches, client_for):
    todos = todos_for(many_branches.users["party_office"], NOW.date())
    assert len(todos) > 3 * PAGE_SIZE
    page = client_for("party_office").get("/").content.decode()
    assert _items(page, "todo-list") == [t.title for t in todos[:HOME_URGENT]]
    assert f'id="todo-total">{len(todos)}<' in page
    assert f"其余 {len(todos) - HOME_URGENT} 项待办" in page


@time_machine.travel(NOW, tick=False)
def test_home_page_size_does_not_grow_with_the_reminders(bureau, client_for):
    client = client_for("party_office")
    before = len(client.get("/", {"by": "organization"}).content)
    for i in range(40):
        make_org(bureau.general_branch, Organization.Kind.BRANCH, f"扩展支部{i:02d}", code=f"QX{i:03d}")
    cache.clear()  # the factory writes past the services, so the audit head (the cache's version) stays
    page = client.get("/", {"by": "organization"}).content.decode()
    assert len(page.encode()) < before * 1.3  # 40 branches, ~130 more reminders: a few lines more at most
    assert len(re.findall(r'todo-group"', page)) == HOME_ORGANIZATIONS
    groups = summarise(todos_for(bureau.users["party_office"], NOW.date()), by="organization")
    assert f"另有 {groups.more_groups} 个党组织有待办" in page and groups.more_groups > 30


@time_machine.travel(NOW, tick=False)
def test_the_todo_page_pages_every_reminder_most_urgent_first(many_branches, client_for):
    todos = todos_for(many_branches.users["party_office"], NOW.date())
    client = client_for("party_office")
    seen = []
    url = "/todos/"
    while url:
        page = client.get(url).content.decode()
        items = _items(page, "todo-page")
        assert 0 < len(items) <= PAGE_SIZE
        seen += items
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = "/todos/" + found.group(1).replace("&amp;", "&") if found else ""
    assert seen == [t.title for t in todos]


@time_machine.travel(NOW, tick=False)
def test_the_todo_page_filters_by_kind_and_by_organisation(many_branches, client_for):
    client = client_for("party_office")
    page = client.get("/todos/", {"kind": "organization.no_secretary"}).content.decode()
    items = _items(page, "todo-page")
    assert items and all(t.endswith("：未配备书记") for t in items)
    assert "待办事项 · 未配备书记" in page
    branch = Organization.objects.get(code="QX007")
    page = client.get("/todos/", {"org": branch.pk}).content.decode()
    items = _items(page, "todo-page")
    assert items and all(t.startswith("扩展支部07：") for t in items)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("params, message", [
    ({"org": "abc"}, "党组织参数无效"),
    ({"org": "99999999"}, "没有符合条件的待办事项"),
    ({"kind": "<script>"}, "没有符合条件的待办事项"),
    ({"page": "9999"}, ""),
    ({"page": "-1"}, ""),
])
def test_bad_filters_give_a_message_or_the_nearest_page_never_an_error(many_branches, client_for, params, message):
    response = client_for("party_office").get("/todos/", params)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "<script>" not in page.split("</head>", 1)[1].split('<script src=', 1)[0]


def test_a_user_sees_only_their_own_scope_on_the_todo_page(many_branches, client_for):
    page = client_for("sibling_secretary").get("/todos/").content.decode()
    assert "扩展支部" not in page
