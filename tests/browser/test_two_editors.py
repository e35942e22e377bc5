"""Two people edit one meeting at once, each in their own browser (issue 11, item 6): the party
office saves first; the branch secretary, saving second, is told who changed which fields when,
keeps what they typed, and overwrites nothing."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.orglife import services
from dangjian.orglife.models import Meeting, MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.browser.test_login import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_second_editor_of_a_meeting_is_told_and_nothing_is_overwritten(page, page_at, live_server, live_bureau,
                                                                           screenshot_dir):
    starts_at = timezone.localtime().replace(hour=9, minute=30, second=0, microsecond=0) - dt.timedelta(days=3)
    meeting = services.meeting_record(by=Actor.system("测试"), data=MeetingInput(
        organization=live_bureau.branch_a, kind=MeetingKind.COMMITTEE_MEETING, starts_at=starts_at,
        topics="研究发展党员工作", place="三楼会议室", minutes="一、研究事项"))
    url = f"{live_server.url}/orglife/meetings/{meeting.pk}/edit/"
    office, secretary = page, page_at(1280, 900)  # two browser contexts: their own cookies
    log_in(office, live_server.url, "dangban", PASSWORD)
    log_in(secretary, live_server.url, "shuji_a", PASSWORD)
    office.goto(url)
    secretary.goto(url)  # both have the form open on version 1

    office.locator("#id_place").fill("四楼会议室")
    office.locator("#meeting-form button[type=submit]").click()
    expect(office.locator("body")).to_contain_text("已记录")

    secretary.locator("#id_minutes").fill("一、研究事项\n二、书记补充的记录")
    secretary.locator("#meeting-form button[type=submit]").click()
    errors = secretary.locator("#form-errors")
    expect(errors).to_contain_text("该记录已被 dangban")
    expect(errors).to_contain_text("以下字段已变：地点；请核对后重新提交")
    expect(secretary.locator("#id_minutes")).to_have_value("一、研究事项\n二、书记补充的记录")  # their input kept
    expect(secretary.locator("#id_place")).to_have_value("三楼会议室")  # as they read it: the message says to check
    secretary.screenshot(path=str(screenshot_dir / "two-editors-second-told.png"), full_page=True)

    meeting = Meeting.objects.get(pk=meeting.pk)
    assert (meeting.place, meeting.minutes, meeting.version) == ("四楼会议室", "一、研究事项", 2)
    [entry] = AuditEntry.objects.filter(action="meeting.update", object_id=str(meeting.pk))
    assert entry.actor_name == "dangban" and entry.after == {"place": "四楼会议室"}
