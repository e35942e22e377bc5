"""The second factor in a real browser: an admin logs in, enrols an authenticator from the secret the
page shows (the code computed with django-otp's own TOTP, as an app would), reaches their page, logs
out, and on the next log-in enters the app's code."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.test_login import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(secret_text: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the secret typed in by hand (base32, spaces ignored)."""
    text = secret_text.replace(" ", "")
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    totp = TOTP(key, step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_an_admin_enrols_an_app_then_enters_its_code_at_the_next_log_in(page, live_server, live_bureau):
    log_in(page, live_server.url, "xitong", PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/accounts/otp/enrol/")))
    expect(page.locator("#otp-qr svg")).to_be_visible()
    secret = page.locator("#otp-secret").inner_text()

    page.locator("input[name=token]").fill("000000" if app_code(secret) != "000000" else "111111")
    page.locator("#otp-enrol-form button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("验证码不正确")

    page.locator("input[name=token]").fill(app_code(secret))
    page.locator("#otp-enrol-form button[type=submit]").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("body")).to_contain_text("验证器已绑定")
    page.goto(live_server.url + "/accounts/users/")
    expect(page.locator("h1")).to_contain_text("账号")

    page.locator("form[action='/accounts/logout/'] button").first.click()
    log_in(page, live_server.url, "xitong", PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/accounts/otp/verify/")))
    page.goto(live_server.url + "/accounts/users/")  # nothing before the code
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/accounts/otp/verify/")))
    # The code of the next step (the one just used cannot pass twice; the app's next is within tolerance).
    page.locator("input[name=token]").fill(app_code(secret, steps_ahead=1))
    page.locator("#otp-verify-form button[type=submit]").click()
    expect(page).to_have_url(live_server.url + "/accounts/users/")
