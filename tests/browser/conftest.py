"""Browser tests: Playwright (Python, sync API) driving Debian's chromium against pytest-django's
live_server.

* Chromium is /usr/bin/chromium from Debian (`scripts/ensure-chromium`); no browser is ever
  downloaded. If it is missing the tests fail, unless ALLOW_SKIP_BROWSER=1 says skipping is fine.
* Every test here is marked `browser` (see pyproject's markers) and runs with `transactional_db`:
  the live server answers from another thread, so data must be committed to be seen.
* Playwright's sync API keeps an asyncio loop "running" in the main thread from start() to stop(),
  and Django refuses ORM calls there (SynchronousOnlyOperation). DJANGO_ALLOW_ASYNC_UNSAFE is set
  while Playwright runs, and restored when it stops.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark everything under tests/browser as `browser`, whether or not the module says so."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


# --- Playwright and chromium ------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright():
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: run scripts/ensure-chromium (installs Debian's chromium)"
        if os.environ.get("ALLOW_SKIP_BROWSER") == "1":
            pytest.skip(f"{message}; skipped because ALLOW_SKIP_BROWSER=1")
        pytest.fail(f"{message}. Set ALLOW_SKIP_BROWSER=1 to skip the browser tests instead.", pytrace=False)

    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _open_page(browser, request, width: int, height: int):
    """A page in a fresh context (own cookies), in Chinese, at width x height; yields it, then leaves
    a screenshot in var/screenshots/failures/ if the test failed, and closes the context."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": height})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        target = SCREENSHOTS / "failures" / (request.node.name.replace("/", "_") + f"-{width}.png")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(target), full_page=True)
        except Exception:
            pass  # a failed screenshot must not hide the test's own failure
    context.close()


@pytest.fixture
def page(browser, live_server, request):
    """A page in a fresh context (own cookies), in Chinese, 1280x900. A failing test leaves a
    screenshot in var/screenshots/failures/."""
    yield from _open_page(browser, request, 1280, 900)


@pytest.fixture
def phone_page(browser, live_server, request):
    """As `page`, on a phone: 390x844 CSS pixels (a common phone's viewport)."""
    yield from _open_page(browser, request, 390, 844)


@pytest.fixture
def page_at(browser, live_server, request):
    """page_at(width, height) -> a page as `page`, at another size (each in its own context)."""
    opened = []

    def make(width: int, height: int):
        pages = _open_page(browser, request, width, height)
        opened.append(pages)
        return next(pages)

    yield make
    for pages in opened:
        next(pages, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


# --- data ---------------------------------------------------------------------------------------


@pytest.fixture
def live_bureau(transactional_db, bureau):
    """tests/conftest.py's bureau, committed so that the live server sees it. (tests/conftest.py
    also makes password hashing cheap and lifts the audit table's triggers for the final flush.)"""
    return bureau


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
