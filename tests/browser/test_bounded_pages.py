"""Bounded pages in a real browser (issue 11), under the CSP: a searchable organisation picker
(htmx: typing fetches matches into the select, the form's attendance fragment follows the choice),
and the organisation tree opening a node on demand."""

import pytest
from playwright.sync_api import expect

from dangjian.organizations.models import Organization
from tests.browser.test_csp import _settle, violations  # noqa: F401  (a fixture)
from tests.browser.test_login import PASSWORD, log_in
from tests.organizations.test_tree_page import build_city, office_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_city(transactional_db):
    return build_city(3, 40)  # 124 organisations: pickers search, the tree opens on demand


@pytest.fixture
def base(page, live_server, live_city):
    """The site's address, with `page` logged in as the party office granted on the city's root."""
    log_in(page, live_server.url, office_of(live_city).username, PASSWORD)
    return live_server.url


def test_a_picker_finds_an_organisation_by_name_and_the_form_follows(page, base, violations):  # noqa: F811
    page.goto(f"{base}/organizations/members/new/")
    select = page.locator("select#id_organization")
    expect(select.locator("option")).to_have_count(1)  # 请选择… only: the list is long
    page.locator(".org-picker-search").fill("第2总支第1")
    wanted = Organization.objects.get(code="G002B001")
    expect(select.locator(f"option[value='{wanted.pk}']")).to_have_text("第2总支第1支部（城市机关党委）")
    expect(select.locator("option")).to_have_count(11)  # 第1支部 and 第10–19支部
    select.select_option(str(wanted.pk))
    expect(select).to_have_value(str(wanted.pk))
    page.locator(".org-picker-search").fill("没有这个")
    expect(select.locator("option")).to_have_text(["没有名称含“没有这个”的党组织"])
    _settle(page)

    # The meeting form reloads its attendance for the organisation found (the picker fires change).
    page.goto(f"{base}/orglife/meetings/new/")
    page.locator("#id_kind").select_option("theme_day")
    page.locator("#id_starts_at").fill("2026-03-02T14:30")
    page.locator(".org-picker-search").fill("第0总支第3支部")
    expect(page.locator("select#id_organization")).to_have_value(
        str(Organization.objects.get(code="G000B003").pk))
    expect(page.locator("#attendance p")).to_contain_text("第0总支第3支部 2026年3月2日 应到 0 人")
    page.wait_for_function("() => document.querySelector('.htmx-request') === null")
    _settle(page)
    assert violations == []


def test_the_tree_opens_a_node_on_demand(page, base, violations):  # noqa: F811
    page.goto(f"{base}/organizations/")
    rows = page.locator("#org-tree tbody tr[data-org]")
    expect(rows).to_have_count(4)  # the root and its three 总支
    page.locator("tr[data-org=G001] .tree-toggle").click()
    expect(rows).to_have_count(44)
    expect(page.locator("tr[data-org=G001] + tr")).to_have_attribute("data-org", "G001B000")
    _settle(page)
    assert violations == []
