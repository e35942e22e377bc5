"""A branch secretary records a 支委会 with attendance from the compliance matrix, in a real browser,
and the matrix cell turns from missing to held."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dangjian.organizations.models import Appointment
from dangjian.orglife.models import Meeting
from tests.browser.test_login import PASSWORD, log_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_secretary_records_a_committee_meeting_and_the_matrix_cell_turns_held(page, live_server, live_bureau,
                                                                             screenshot_dir):
    branch = live_bureau.branch_a
    for member in MemberFactory.create_batch(2, organization=branch):  # a committee of three: 支委会 monthly
        Appointment.objects.create(organization=branch, member=member, role="committee_member",
                                   start=dt.date(2020, 1, 1))
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    year, month = last_month.year, last_month.month
    cell = (f'tr[data-org="{branch.code}"] td[data-month="{month}"] '
            f'[data-rule="committee_meeting"]')

    log_in(page, live_server.url, "shuji_a", PASSWORD)
    page.goto(f"{live_server.url}/orglife/matrix/?year={year}")
    expect(page.locator(cell)).to_have_attribute("data-state", "missing")
    page.screenshot(path=str(screenshot_dir / "matrix-before.png"), full_page=True)

    page.locator(cell).click()
    expect(page.locator("#id_kind")).to_have_value("committee_meeting")
    # fill() fires the input's change event, which reloads the attendance table (htmx). A second
    # change while that request is in flight would queue another reload, which could land after the
    # absence is marked below and replace the table with unmarked rows: so one change only, then wait
    # for the table to show the date just typed and for htmx to have nothing in flight.
    page.locator("#id_starts_at").fill(f"{year}-{month:02d}-15T14:30")
    expect(page.locator("#attendance p")).to_contain_text(f"{year}年{month}月15日")
    page.wait_for_function("() => document.querySelector('.htmx-request') === null")
    page.locator("#id_topics").fill("研究发展党员和本月主题党日安排")
    absentee = page.locator("#attendance-input select").first
    expect(page.locator("#attendance-input tbody tr")).to_have_count(3)
    absentee.select_option("official")
    expect(absentee).to_have_value("official")  # still the row marked, not a reloaded one
    page.screenshot(path=str(screenshot_dir / "meeting-form.png"), full_page=True)
    page.locator("#meeting-form button[type=submit]").click()

    expect(page.locator("#attendance-figures")).to_contain_text("应到 3 人，实到 2 人")
    meeting = Meeting.objects.get(organization=branch, kind="committee_meeting")
    assert meeting.attendances.filter(present=False, absence_reason="official").count() == 1

    page.goto(f"{live_server.url}/orglife/matrix/?year={year}")
    expect(page.locator(cell)).to_have_attribute("data-state", "held")
    page.screenshot(path=str(screenshot_dir / "matrix-after.png"), full_page=True)


def test_an_absence_marked_survives_the_attendance_reload_when_the_date_changes(page, live_server, live_bureau):
    """The attendance table is reloaded (htmx) when the organisation, kind or date changes; the
    absences already marked are sent with the reload and kept for people still expected."""
    branch = live_bureau.branch_a
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    log_in(page, live_server.url, "shuji_a", PASSWORD)
    page.goto(f"{live_server.url}/orglife/meetings/new/?organization={branch.pk}&kind=theme_day")
    page.locator("#id_starts_at").fill(f"{last_month:%Y-%m}-10T14:30")
    expect(page.locator("#attendance p")).to_contain_text(f"{last_month.month}月10日")
    page.wait_for_function("() => document.querySelector('.htmx-request') === null")
    absentee = page.locator("#attendance-input select").first
    name = page.locator("#attendance-input tbody tr td").first.inner_text()
    absentee.select_option("sick")
    page.locator("#attendance-input input").first.fill("住院")

    page.locator("#id_starts_at").fill(f"{last_month:%Y-%m}-12T14:30")  # reloads the table
    expect(page.locator("#attendance p")).to_contain_text(f"{last_month.month}月12日")
    page.wait_for_function("() => document.querySelector('.htmx-request') === null")
    row = page.locator("#attendance-input tbody tr", has_text=name)
    expect(row.locator("select")).to_have_value("sick")
    expect(row.locator("input")).to_have_value("住院")
