"""The organisation tree page is bounded (issue 11: a city's tree was a 1.3 MB page): it shows the
first levels that fit in TREE_BUDGET rows, a node below them opens on demand (htmx, or a page
without JavaScript), and a search box finds an organisation by name."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.access.models import RoleAssignment
from dangjian.organizations.models import Organization
from dangjian.organizations.views import TREE_BUDGET, TREE_SEARCH_LIMIT
from tests.factories import MemberFactory, make_org, make_user

K = Organization.Kind


def build_city(general_branches: int, branches_each: int, prefix: str = "") -> Organization:
    """A 机关党委 with general branches, each with branches (bulk: treebeard's paths written here)."""
    root = make_org(None, K.ORGAN_COMMITTEE, f"{prefix}城市机关党委", code=f"{prefix}CITY")
    generals = [Organization(path=Organization._get_path(root.path, 2, g + 1), depth=2, numchild=branches_each,
                             code=f"{prefix}G{g:03d}", name=f"{prefix}第{g}党总支", kind=K.GENERAL_BRANCH,
                             founded_on=dt.date(2015, 1, 1)) for g in range(general_branches)]
    Organization.objects.bulk_create(generals)
    branches = [Organization(path=Organization._get_path(general.path, 3, b + 1), depth=3, numchild=0,
                             code=f"{prefix}G{g:03d}B{b:03d}", name=f"{prefix}第{g}总支第{b}支部", kind=K.BRANCH,
                             founded_on=dt.date(2015, 1, 1))
                for g, general in enumerate(generals) for b in range(branches_each)]
    Organization.objects.bulk_create(branches, batch_size=1000)
    Organization.objects.filter(pk=root.pk).update(numchild=general_branches)
    root.refresh_from_db()
    return root


def office_of(root: Organization):
    user = make_user(f"office-{root.code}")
    RoleAssignment.objects.create(user=user, role="party_office", organization=root)
    return user


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-org="([^"]+)"', page)


@pytest.fixture
def city(db):
    return build_city(30, 100)  # 3,031 organisations


def test_a_3000_organisation_tree_page_is_as_big_as_a_300_organisation_one(db, client):
    small = build_city(30, 9, prefix="S")  # 301 organisations (over the budget: the same two levels shown)
    client.force_login(office_of(small))
    small_page = client.get(reverse("organizations:tree")).content.decode()
    big = build_city(30, 100)
    client.force_login(office_of(big))
    big_page = client.get(reverse("organizations:tree")).content.decode()
    assert len(_rows(big_page)) == len(_rows(small_page)) == 31 <= TREE_BUDGET  # the root and its 总支
    assert len(big_page.encode()) < 1.05 * len(small_page.encode())
    assert len(big_page.encode()) < 60_000
    assert big_page.count('class="tree-toggle') == 30  # each 总支 opens on demand


def test_a_node_opens_on_demand_with_its_children_only(city, client):
    client.force_login(office_of(city))
    general = Organization.objects.get(code="G007")
    MemberFactory(organization=Organization.objects.get(code="G007B003"))
    tree = client.get(reverse("organizations:tree")).content.decode()
    url = reverse("organizations:tree_children", args=[general.pk])
    assert f'hx-get="{url}" hx-target="closest tr" hx-swap="afterend"' in tree
    assert re.search(r'<tr data-org="G007">.*?<td class="text-end">1</td>', tree, re.S)  # the subtree's member
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    rows = _rows(fragment)
    assert rows == [f"G007B{b:03d}" for b in range(TREE_BUDGET)]  # 100 children: exactly one batch
    assert "更多下级党组织" not in fragment
    # without JavaScript the same link opens the children on a page
    page = client.get(url).content.decode()
    assert "第7党总支的下级党组织" in page and _rows(page) == rows


def test_a_node_with_more_children_than_the_budget_loads_them_in_batches(db, client):
    root = build_city(1, TREE_BUDGET + 20)
    client.force_login(office_of(root))
    general = Organization.objects.get(code="G000")
    url = reverse("organizations:tree_children", args=[general.pk])
    first = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert len(_rows(first)) == TREE_BUDGET
    more = re.search(r'hx-get="([^"]+)" hx-target="closest tr" hx-swap="outerHTML">第0党总支：更多下级党组织', first)
    rest = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()
    assert _rows(first) + _rows(rest) == [f"G000B{b:03d}" for b in range(TREE_BUDGET + 20)]


def test_a_bureau_sized_tree_is_shown_whole(bureau, client_for):
    page = client_for("party_office").get(reverse("organizations:tree")).content.decode()
    visible = Organization.objects.filter(dissolved_on__isnull=True).count()
    assert len(_rows(page)) == visible and "tree-toggle" not in page


def test_search_finds_organisations_by_name_within_scope_and_at_most_fifty(city, client, bureau, client_for):
    client.force_login(office_of(city))
    page = client.get(reverse("organizations:tree"), {"q": "第7总支第1"}).content.decode()
    assert _rows(page) == ["G007B001"] + [f"G007B{b:03d}" for b in range(10, 20)]
    page = client.get(reverse("organizations:tree"), {"q": "支部"}).content.decode()
    assert len(_rows(page)) == TREE_SEARCH_LIMIT and "仅显示前 50 个" in page
    assert "第一党支部" not in page  # the bureau's branches are outside this user's scope
    page = client.get(reverse("organizations:tree"), {"q": "<b>没有"}).content.decode()
    assert "没有名称含“&lt;b&gt;没有”的党组织" in page
    # a secretary's search stays within their branch
    page = client_for("branch_secretary").get(reverse("organizations:tree"), {"q": "支部"}).content.decode()
    assert "第二党支部" not in page and "第一党支部" in page


def test_children_of_an_organisation_outside_the_scope_are_not_found(city, bureau, client_for):
    general = Organization.objects.get(code="G007")
    response = client_for("party_office").get(reverse("organizations:tree_children", args=[general.pk]),
                                              headers={"HX-Request": "true"})
    assert response.status_code == 404


def test_tree_page_query_count_does_not_grow_with_the_tree(db, client):
    small, big = build_city(3, 5, prefix="S"), build_city(30, 100)
    counts = []
    for root in (small, big):
        client.force_login(office_of(root))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("organizations:tree")).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_an_opened_node_s_children_open_in_turn(city, client):
    # Review finding: the fragment marked its rows closed one level too high, so a child with
    # children of its own (a branch with a 党小组 here) had no toggle and could not be opened.
    client.force_login(office_of(city))
    general = Organization.objects.get(code="G007")
    branch = Organization.objects.get(code="G007B003")
    cell = make_org(branch, K.CELL, "第一党小组", code="G007B003X")
    fragment = client.get(reverse("organizations:tree_children", args=[general.pk]),
                          headers={"HX-Request": "true"}).content.decode()
    deeper = reverse("organizations:tree_children", args=[branch.pk])
    assert f'hx-get="{deeper}"' in fragment
    assert fragment.count('class="tree-toggle') == 1  # only the branch that has a 党小组
    cells = client.get(deeper, headers={"HX-Request": "true"}).content.decode()
    assert _rows(cells) == [cell.code]
