"""The audited reveal on a member's page: the party office gives a reason and sees the full ID
number and, in the same swap, the full birth date where the page showed only the year."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_login import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_reveal_shows_the_number_and_the_birth_date(page, live_server, live_bureau):
    member = live_bureau.member_b
    log_in(page, live_server.url, "dangban", PASSWORD)
    page.goto(f"{live_server.url}/organizations/members/{member.pk}/")
    expect(page.locator("#birth-date")).to_have_text(f"{member.birth_date.year}年")

    page.locator("#id-number input[name=reason]").fill("核对档案")
    page.locator("#id-number button[type=submit]").click()

    expect(page.locator("#id-number code")).to_have_text(member.id_number)
    expect(page.locator("#birth-date")).to_have_text(f"{member.birth_date:%Y-%m-%d}")
