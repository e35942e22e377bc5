"""Query counts of list pages and selectors are pinned and do not grow with the data."""

import datetime as dt

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.core import metrics as registry
from dangjian.core.metrics import Period
from dangjian.organizations.models import Organization
from tests.factories import MemberFactory, bulk_members, make_org, subtree
from tests.pages import listed_members


def _count(client, url, **params):
    cache.clear()  # the computed page, not one kept since the last write (core.datacache)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_member_list_query_count_is_the_same_at_50_and_5000_members(bureau, client_for):
    client = client_for("party_office")
    url = reverse("organizations:members")
    # A member of the cell whose name sorts first in pinyin (安), so that the first page holds a cell
    # member at 50 members and at 5,000 alike: both counts then include the cells' branches.
    MemberFactory(name="安家", organization=bureau.cell_a)
    bulk_members(bureau.branch_a, 41)  # with the fixture's 8 and 安家: 50
    small = _count(client, url)
    bulk_members(bureau.branch_b, 4950, start=20_000)
    large = _count(client, url)
    deep = _count(client, url, q="批量")
    # session, user, role assignments, one page of members (joined with organisation and unit), the
    # total (共 N 人: one COUNT), the branches of the cells on the page (skipped when none is), the
    # organisations for the filter (the sliding session is saved at most once a minute: not here).
    assert small == large == 8  # and the data version (core.datacache): the page is kept until the next write
    assert deep == 6  # the searched page holds no cell members


def test_member_list_deep_page_is_reached_by_cursor(bureau, client_for):
    bulk_members(bureau.branch_a, 120)
    client = client_for("party_office")
    first = client.get(reverse("organizations:members"))
    assert first.status_code == 200
    next_url = first.context["next_url"]
    second = client.get(reverse("organizations:members") + next_url)
    keys_first = [(m.name_key, m.pk) for m in listed_members(first)]
    keys_second = [(m.name_key, m.pk) for m in listed_members(second)]
    assert len(keys_first) == 50 and len(keys_second) == 50
    assert keys_first[-1] < keys_second[0]  # the second page goes on in pinyin order


def test_tree_query_count_does_not_grow_with_organisations(bureau, client_for):
    client = client_for("party_office")
    url = reverse("organizations:tree")
    small = _count(client, url)
    for i in range(60):
        branch = make_org(bureau.general_branch, Organization.Kind.BRANCH, f"扩展支部{i}", code=f"EX{i:03d}")
        bulk_members(branch, 5, start=30_000 + i * 10)
    assert _count(client, url) == small


def test_home_todos_query_count_does_not_grow(bureau, client_for):
    client = client_for("party_office")
    small = _count(client, "/")
    for i in range(30):
        make_org(bureau.general_branch, Organization.Kind.BRANCH, f"新支部{i}", code=f"NB{i:03d}")
    assert _count(client, "/") == small


def test_each_metric_selector_runs_a_fixed_number_of_queries(bureau):
    from dangjian.core.cursors import page_after
    from dangjian.reports.views import DRILL_PAGE

    period = Period.year(2026)
    counts_small = {}
    for metric in registry.metrics():
        with CaptureQueriesContext(connection) as ctx:
            result = metric.compute(organizations=subtree(bureau.root), period=period)
            page_after(result.records, after=None, size=DRILL_PAGE)  # the drill-down's first page
        counts_small[metric.key] = len(ctx.captured_queries)
    bulk_members(bureau.branch_b, 300, start=40_000)
    for i in range(20):
        make_org(bureau.general_branch, Organization.Kind.BRANCH, f"M{i}", code=f"MB{i:03d}",
                 founded_on=dt.date(2026, 2, 1))
    for metric in registry.metrics():
        with CaptureQueriesContext(connection) as ctx:
            result = metric.compute(organizations=subtree(bureau.root), period=period)
            page_after(result.records, after=None, size=DRILL_PAGE)  # the drill-down's first page
        assert len(ctx.captured_queries) == counts_small[metric.key], metric.key


def test_metric_pages_query_count_is_fixed(bureau, client_for):
    client = client_for("party_office")
    list_small = _count(client, reverse("reports:metrics"), year=2026)
    detail_small = _count(client, reverse("reports:metric_detail", args=["organizations.full_members"]), year=2026)
    bulk_members(bureau.branch_b, 300, start=50_000)
    assert _count(client, reverse("reports:metrics"), year=2026) == list_small
    assert _count(client, reverse("reports:metric_detail", args=["organizations.full_members"]), year=2026) == detail_small
