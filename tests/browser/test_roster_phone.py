"""The roster on a phone (390 px wide): every member's name stays on one line, the page does not
scroll sideways, and the names come in pinyin order."""

import pytest
from playwright.sync_api import expect

from dangjian.organizations.models import Organization
from tests.browser.test_login import PASSWORD, log_in
from tests.factories import MemberFactory, make_org, make_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NAMES = ["欧阳晓明", "赵子龙", "安宁", "白雪", "诸葛孔明", "买买提·艾力", "司马相如"]


def test_member_names_are_not_wrapped_a_character_a_line_on_a_phone(browser, live_server, live_bureau,
                                                                     screenshot_dir):
    long_branch = make_org(live_bureau.general_branch, Organization.Kind.BRANCH,
                           "交通运输综合行政执法支队第三大队机关第一党支部", code="LONG")
    long_cell = make_org(long_branch, Organization.Kind.CELL, "第一中队党小组", code="LONG1")
    unit = make_unit(live_bureau.bureau_unit, name="交通运输综合行政执法支队第三大队", organization=long_branch)
    for i, name in enumerate(NAMES):
        MemberFactory(name=name, organization=long_cell if i % 2 else long_branch, unit=unit,
                      post="交通运输综合行政执法支队第三大队副大队长")

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "dangban", PASSWORD)
        page.goto(f"{live_server.url}/organizations/members/")
        names = page.locator("#member-rows a.member-name")
        expect(names.first).to_be_visible()
        page.screenshot(path=str(screenshot_dir / "roster-phone.png"), full_page=True)

        # An inline link that wraps has one client rect per line: every name must have exactly one.
        lines = names.evaluate_all("links => links.map(a => [a.textContent.trim(), a.getClientRects().length])")
        assert lines and all(count == 1 for _, count in lines), lines
        shown = [name for name, _ in lines]
        assert [n for n in shown if n in NAMES] == ["安宁", "白雪", "买买提·艾力", "欧阳晓明", "司马相如", "赵子龙",
                                                      "诸葛孔明"]
        # the page does not scroll sideways, and 电话 (the last column shown) is on the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        table = page.locator("#member-table")
        box = table.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        phone_header = page.locator("#member-table thead th", has_text="电话")
        header_box = phone_header.bounding_box()
        assert header_box["x"] + header_box["width"] <= PHONE["width"]
        expect(page.locator("#member-total")).to_have_text(f"共 {8 + len(NAMES)} 人")
    finally:
        context.close()
