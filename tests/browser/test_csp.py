"""The Content-Security-Policy in a real browser: the pages work under it and chromium refuses nothing
on them (no "Refused to …" in the console, no securitypolicyviolation event), htmx included (its
attendance fragment, no inline indicator style). And the policy is enforced: an inline script or
style attribute put into a page is refused, and seen by the collector."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_login import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
                        location.pathname + " (" + (e.sourceFile || "") + ":" + e.lineNumber + ")");
});
"""


@pytest.fixture
def violations(page):
    """Everything chromium refuses on `page`, over all its navigations: securitypolicyviolation
    events and console messages about the CSP or the Permissions-Policy header."""
    found: list[str] = []
    page.context.expose_binding("__cspViolation", lambda source, text: found.append(text))
    page.context.add_init_script(LISTEN)

    def console(message):
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text or "Permissions-Policy" in text:
            found.append(f"console {message.type}: {text}")

    page.on("console", console)
    return found


def _settle(page):
    page.wait_for_load_state()
    page.wait_for_timeout(300)  # a violation event is delivered after the task that caused it


def test_pages_work_under_the_csp_and_nothing_is_refused(page, live_server, live_bureau, violations):
    branch = live_bureau.branch_a
    base = live_server.url
    log_in(page, base, "shuji_a", PASSWORD)
    expect(page.locator("body")).to_contain_text("待办")  # the home page
    _settle(page)

    # The meeting form: htmx reloads the attendance table when the date changes (a fragment swapped in).
    page.goto(f"{base}/orglife/meetings/new/?organization={branch.pk}")
    page.locator("#id_kind").select_option("general_meeting")
    day = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    page.locator("#id_starts_at").fill(f"{day:%Y-%m-%d}T14:30")
    expect(page.locator("#attendance p")).to_contain_text(f"{day.year}年{day.month}月{day.day}日")
    page.wait_for_function("() => document.querySelector('.htmx-request') === null")
    _settle(page)
    # A refused save: the error summary is focused by js/form-errors.js (no inline script any more).
    page.locator("#meeting-form button[type=submit]").click()
    expect(page.locator("#form-errors")).to_be_focused()
    _settle(page)

    # The compliance matrix and the branch's calendar: the year chooser submits itself (js/auto-submit.js).
    page.goto(f"{base}/orglife/matrix/")
    expect(page.locator("table").first).to_be_visible()
    _settle(page)
    page.goto(f"{base}/orglife/calendar/{branch.pk}/")
    chooser = page.locator("select[name=year]")
    other = chooser.locator("option:not([selected])").first.get_attribute("value")
    chooser.select_option(other)
    expect(page).to_have_url(f"{base}/orglife/calendar/{branch.pk}/?year={other}")
    _settle(page)

    # The contact points, the dropdown menu (Bootstrap's script) and an error page.
    page.goto(f"{base}/orglife/contact-points/")
    page.locator("a.dropdown-toggle").first.click()
    expect(page.locator(".dropdown-menu.show")).to_be_visible()
    page.goto(f"{base}/no-such-page/")
    expect(page.locator("#error-page")).to_be_visible()
    _settle(page)

    assert violations == []


def test_echarts_draws_a_chart_under_the_csp(page, live_server, live_bureau, violations):
    """No page draws a chart yet; the dashboards will, with the vendored ECharts: it paints on a
    canvas and sets its styles through the DOM, which the policy allows. Its tooltip in the default
    HTML mode would write style="…" attributes (refused), so charts use renderMode "richText"."""
    base = live_server.url
    log_in(page, base, "shuji_a", PASSWORD)
    page.add_script_tag(url=f"{base}/static/vendor/echarts/echarts.min.js")
    page.evaluate("""() => {
      const box = document.createElement("div");
      box.id = "chart"; box.className = "w-100"; document.querySelector("main").append(box);
      box.style.height = "300px";  // through the DOM: allowed
      const chart = echarts.init(box);
      chart.setOption({animation: false, tooltip: {trigger: "axis", renderMode: "richText"},
        xAxis: {type: "category", data: ["1月", "2月", "3月"]}, yAxis: {type: "value"},
        series: [{type: "bar", data: [3, 5, 2]}]});
      chart.dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 1});
    }""")
    expect(page.locator("#chart canvas")).to_have_count(1)
    _settle(page)
    assert violations == []


def test_inline_code_is_refused_and_reported(page, live_server, live_bureau, violations):
    """The collector and the policy themselves: an inline script and a style attribute, put into the
    page, are refused by chromium and reported."""
    log_in(page, live_server.url, "shuji_a", PASSWORD)
    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.__ran = true;";
      document.body.append(script);
      document.querySelector("main").insertAdjacentHTML("beforeend", '<div id="styled" style="width: 12px"></div>');
    }""")
    _settle(page)
    assert page.evaluate("() => window.__ran === undefined")
    assert page.evaluate("() => document.getElementById('styled').style.width") == ""
    assert any("script-src" in text for text in violations), violations
    assert any("style-src" in text for text in violations), violations
