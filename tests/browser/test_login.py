"""Logging in as a branch secretary, in a real browser: the home page's to-do list, the member list
scoped to their own branch, and the lockout after repeated wrong passwords."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Test@12345"


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def test_secretary_logs_in_and_sees_only_their_branch(page, live_server, live_bureau, screenshot_dir):
    log_in(page, live_server.url, "shuji_a", PASSWORD)

    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("body")).to_contain_text("待办")

    page.goto(live_server.url + "/organizations/members/")
    table = page.locator("table#member-table")
    expect(table).to_be_visible()
    expect(table).to_contain_text("张三")  # a member of 第一党支部 (in its 党小组)
    expect(table).not_to_contain_text("李四")  # a member of the sibling 第二党支部
    page.screenshot(path=str(screenshot_dir / "member-list.png"), full_page=True)


def test_five_wrong_passwords_lock_the_account(page, live_server, live_bureau):
    for _ in range(5):
        log_in(page, live_server.url, "shuji_a", "wrong-Password1")
        expect(page).not_to_have_url(live_server.url + "/")

    log_in(page, live_server.url, "shuji_a", PASSWORD)
    expect(page.locator("body")).to_contain_text(re.compile("锁定"))

    # Refused, not merely warned: the home page still sends us to the login page.
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/accounts/login/")))
