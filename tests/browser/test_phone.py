"""The daily organisational-life pages on a 390x844 phone, in a real browser: the meeting list shows
each meeting as a small card with its 实到/应到 in view, the compliance matrix and a branch's calendar
open on this month, and no name or label is squeezed to one character a line.

"This month" is November 2030 (time-machine moves the server's clock; the browser's clock is not
read): a month late in the year but not the last, which the pages as they were showed only after
scrolling sideways (the matrix, the calendar's month strip) or past ten cards (the calendar)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from dangjian.access.models import User
from dangjian.orglife.models import Attendance, Meeting
from tests.browser.test_login import PASSWORD, log_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE_WIDTH = 390

# Text nodes (of two characters or more) inside `root` whose lines hold fewer than two characters
# on average: a name squeezed into a one-character column. Hidden text has no lines and is skipped.
SQUEEZED_TEXT = """(root) => {
  const squeezed = [];
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text.length < 2) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (lines.size > 1 && text.length / lines.size < 2) squeezed.push(`${text} (${lines.size} lines)`);
  }
  return squeezed;
}"""

# Where an element is, as the user sees it: its box, and the part of its scrolling box (the nearest
# ancestor with overflow) left free by a sticky first column.
BOXES = """(selector) => {
  const el = document.querySelector(selector);
  const r = el.getBoundingClientRect();
  const box = el.closest("[data-scroll-month]");
  const out = {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: el.textContent.trim()};
  if (box) {
    const b = box.getBoundingClientRect();
    const first = box.querySelector("th, td");
    const sticky = first && getComputedStyle(first).position === "sticky" ? first.getBoundingClientRect().right : b.left;
    Object.assign(out, {boxLeft: b.left, boxRight: b.left + box.clientWidth, freeLeft: sticky,
                        scrollLeft: box.scrollLeft, scrollable: box.scrollWidth > box.clientWidth});
  }
  return out;
}"""


@pytest.fixture
def november_2030(live_bureau):
    """The server's clock in mid-November 2030, ticking. The personas changed their passwords that
    day, so the password age rule (PASSWORD_MAX_AGE_DAYS) does not send them to the change page."""
    with time_machine.travel(dt.datetime(2030, 11, 16, 10, 0, tzinfo=SHANGHAI), tick=True):
        User.objects.update(password_changed_at=timezone.now())
        yield


@pytest.fixture
def long_names(live_bureau):
    """Organisation names as long as real ones (the demo bureau's run to 11 characters)."""
    for org, name in ((live_bureau.branch_a, "城东分局运输服务中心第一党支部"),
                      (live_bureau.cell_a, "城东分局运输服务中心第一党小组"),
                      (live_bureau.branch_b, "交通执法支队第三党支部")):
        org.name = name
        org.save(update_fields=["name"])
    return live_bureau


def _meeting(org, kind, day, topics, members, absent=0):
    meeting = Meeting.objects.create(organization=org, kind=kind, topics=topics,
                                     starts_at=dt.datetime(2030, 11, day, 14, 30, tzinfo=SHANGHAI))
    Attendance.objects.bulk_create(Attendance(meeting=meeting, member=m, present=i >= absent,
                                              absence_reason="" if i >= absent else "official")
                                   for i, m in enumerate(members))
    return meeting


def _assert_not_squeezed(page, root):
    squeezed = page.evaluate(SQUEEZED_TEXT, root)
    assert squeezed == [], f"text wrapped about one character a line in {root}: {squeezed}"


def _assert_this_month_in_view(page, selector, width):
    where = page.evaluate(BOXES, selector)
    assert where["text"].startswith("11月"), where
    assert where["freeLeft"] - 1 <= where["left"] and where["right"] <= where["boxRight"] + 1, (
        f"this month is not in view on load: {where}")
    assert 0 <= where["left"] and where["right"] <= width, where


def test_secretary_reads_the_meeting_list_on_a_phone_with_attendance_in_view(phone_page, live_server, long_names,
                                                                              november_2030, screenshot_dir):
    bureau = long_names
    members = list(bureau.branch_a.members.all()) + MemberFactory.create_batch(16, organization=bureau.branch_a)
    _meeting(bureau.branch_a, "general_meeting", 3, "学习贯彻党的二十届四中全会精神，讨论接收预备党员", members, absent=2)
    _meeting(bureau.cell_a, "cell_meeting", 10, "交流岗位练兵和服务群众情况", [bureau.member_a])
    _meeting(bureau.branch_a, "theme_day", 12, "走访辖区公交站点，收集群众出行意见", members[:12], absent=1)
    page = phone_page

    log_in(page, live_server.url, "shuji_a", PASSWORD)
    page.goto(f"{live_server.url}/orglife/")
    rows = page.locator("#meeting-table tbody tr")
    expect(rows).to_have_count(3)
    page.screenshot(path=str(screenshot_dir / "phone-meetings.png"), full_page=True)

    _assert_not_squeezed(page, "#meeting-table")
    figures = page.locator("#meeting-table td[data-label='实到/应到']")
    assert figures.all_inner_texts() == ["11/12", "1/1", "17/19"]
    assert figures.first.evaluate("td => getComputedStyle(td, '::before').content") == '"实到/应到 "'  # labelled
    for i in range(3):
        box = figures.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, f"实到/应到 of row {i} is off screen: {box}"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH  # nothing to scroll sideways to
    expect(rows.first).to_contain_text("城东分局运输服务中心第一党支部")
    expect(rows.first).to_contain_text("主题党日")


def test_meeting_list_on_a_tablet_keeps_names_whole_and_shortens_the_topics(page_at, live_server, long_names,
                                                                            november_2030):
    """From md up the list is the desktop table: the topics give way (truncated), not the names."""
    bureau = long_names
    _meeting(bureau.branch_a, "central_group_study", 3, "学习贯彻党的二十届四中全会精神，研讨全面从严治党" * 2,
             list(bureau.branch_a.members.all()))
    page = page_at(800, 900)
    log_in(page, live_server.url, "shuji_a", PASSWORD)
    page.goto(f"{live_server.url}/orglife/")
    expect(page.locator("#meeting-table thead")).to_be_visible()

    _assert_not_squeezed(page, "#meeting-table")
    figures = page.locator("#meeting-table td[data-label='实到/应到']").bounding_box()
    assert figures["x"] + figures["width"] <= 800 - 16, f"实到/应到 is off screen: {figures}"
    assert page.locator(".table-responsive").evaluate("box => box.scrollWidth <= box.clientWidth")


def test_party_office_opens_the_matrix_on_a_phone_at_this_month_with_names_in_view(phone_page, live_server,
                                                                                  long_names, november_2030,
                                                                                  screenshot_dir):
    page = phone_page
    log_in(page, live_server.url, "dangban", PASSWORD)
    page.goto(f"{live_server.url}/orglife/matrix/")
    page.screenshot(path=str(screenshot_dir / "phone-matrix.png"))

    where = page.evaluate(BOXES, "#compliance-matrix th[data-current-month]")
    assert where["scrollable"], "the matrix fits a phone: nothing here tests the scrolling"
    _assert_this_month_in_view(page, "#compliance-matrix th[data-current-month]", PHONE_WIDTH)
    _assert_not_squeezed(page, "#compliance-matrix")

    # The names stay where they are while the months scroll under them.
    names = page.locator("#compliance-matrix tbody td:first-child")
    before = names.first.bounding_box()
    page.locator("[data-scroll-month]").evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    after = names.first.bounding_box()
    assert after["x"] == before["x"] and after["x"] + after["width"] <= PHONE_WIDTH / 2
    expect(names.first).to_be_visible()


def test_matrix_wider_than_a_desktop_window_opens_at_this_month(page_at, live_server, live_bureau, november_2030):
    page = page_at(800, 900)  # a desktop layout (md and up) narrower than the twelve months
    log_in(page, live_server.url, "dangban", PASSWORD)
    page.goto(f"{live_server.url}/orglife/matrix/")

    assert page.evaluate(BOXES, "#compliance-matrix th[data-current-month]")["scrollable"]
    _assert_this_month_in_view(page, "#compliance-matrix th[data-current-month]", 800)


def test_matrix_of_another_year_marks_no_month_and_opens_on_january(phone_page, live_server, live_bureau, november_2030):
    page = phone_page
    log_in(page, live_server.url, "dangban", PASSWORD)
    page.goto(f"{live_server.url}/orglife/matrix/?year=2029")

    expect(page.locator("#compliance-matrix th").nth(1)).to_have_text("1月")
    expect(page.locator("[data-current-month]")).to_have_count(0)
    assert page.locator("[data-scroll-month]").evaluate("box => box.scrollLeft") == 0


def test_secretary_opens_the_branch_calendar_on_a_phone_at_this_month(phone_page, live_server, long_names,
                                                                      november_2030, screenshot_dir):
    bureau = long_names
    _meeting(bureau.branch_a, "committee_meeting", 8, "研究发展党员工作", list(bureau.branch_a.members.all())[:3])
    page = phone_page
    log_in(page, live_server.url, "shuji_a", PASSWORD)
    page.goto(f"{live_server.url}/orglife/calendar/{bureau.branch_a.pk}/")
    page.screenshot(path=str(screenshot_dir / "phone-calendar.png"))

    card = page.locator(".card[data-current-month]")
    expect(card).to_have_attribute("data-month", "11")
    box = card.bounding_box()
    assert 0 <= box["y"] < 844 - 100 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, (
        f"this month's card is not in view on load: {box}")
    assert box["y"] < page.locator("#month-1").bounding_box()["y"]  # first, before January
    expect(card).to_contain_text("11月8日 支委会")
    _assert_this_month_in_view(page, ".month-strip [data-current-month]", PHONE_WIDTH)
    _assert_not_squeezed(page, "main")

    # Every other month is one tap away.
    page.locator(".month-strip").get_by_role("link", name="1月", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/orglife/calendar/{bureau.branch_a.pk}/#month-1")
    first = page.locator("#month-1").bounding_box()
    assert 0 <= first["y"] < 844, first


def test_secretary_fills_the_meeting_form_on_a_phone(phone_page, live_server, long_names, screenshot_dir):
    """The meeting form at 390 px: the page does not scroll sideways, an agenda item's 议题 box is wide
    enough to type in, the 类别 list says 请选择…, and no label is squeezed a character a line."""
    page = phone_page
    log_in(page, live_server.url, "shuji_a", PASSWORD)
    page.goto(f"{live_server.url}/orglife/meetings/new/?organization={long_names.branch_a.pk}&kind=committee_meeting")
    page.screenshot(path=str(screenshot_dir / "phone-meeting-form.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    title = page.locator("#agenda-input input[name$='-title']").first
    assert title.bounding_box()["width"] >= 0.6 * PHONE_WIDTH
    category = page.locator("#agenda-input select[name$='-category']").first
    assert category.bounding_box()["width"] >= 0.4 * PHONE_WIDTH
    assert category.evaluate("s => s.options[s.selectedIndex].text") == "请选择…"
    _assert_not_squeezed(page, "#meeting-form")
