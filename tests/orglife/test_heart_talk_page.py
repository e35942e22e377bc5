"""The 登记谈心谈话 page: a secretary records a talk from the branch calendar and the gap there
closes; people outside the organisation are refused with a message and nothing is saved; only a
reader who may record meetings of the organisation reaches the page or sees its link."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from dangjian.audit.models import AuditEntry
from dangjian.organizations.models import Appointment, Member
from dangjian.orglife.models import HeartTalk

NOW = dt.datetime(2026, 12, 20, 10, 0)


def _committee(bureau) -> list[Member]:
    """第一党支部's committee: 张三 (secretary) and one of its members as 委员."""
    other = (Member.objects.filter(memberships__organization=bureau.branch_a, memberships__end__isnull=True)
             .exclude(pk=bureau.member_a.pk).order_by("pk").first())
    Appointment.objects.create(organization=bureau.branch_a, member=other,
                               role=Appointment.Role.COMMITTEE_MEMBER, start=dt.date(2024, 1, 1))
    return [bureau.member_a, other]


def _url(bureau):
    return reverse("orglife:heart_talk_create", args=[bureau.branch_a.pk])


def _calendar(client, bureau) -> str:
    return client.get(reverse("orglife:calendar", args=[bureau.branch_a.pk]), {"year": 2026}).content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_secretary_records_a_talk_and_the_calendar_gap_closes(bureau, client_for):
    first, second = _committee(bureau)
    client = client_for("branch_secretary")
    before = _calendar(client, bureau)
    assert f"{second.name}（支委）" in before
    assert _url(bureau) in before and "登记谈心谈话" in before
    page = client.get(_url(bureau))
    assert page.status_code == 200 and f'value="{second.pk}"' in page.content.decode()
    response = client.post(_url(bureau), {"held_on": "2026-05-10", "first": first.pk, "second": second.pk})
    assert response.status_code == 302
    talk = HeartTalk.objects.get()
    assert (talk.organization, talk.held_on, talk.first, talk.second) == (
        bureau.branch_a, dt.date(2026, 5, 10), first, second)
    assert AuditEntry.objects.filter(action="heart_talk.record").count() == 1
    after = client.get(response.url).content.decode()
    assert f"{second.name}（支委）" not in after and f"{first.name}（支委）" not in after
    assert "已登记" in after


@time_machine.travel(NOW, tick=False)
def test_a_talk_with_someone_outside_the_organisation_is_refused_and_nothing_saved(bureau, client_for):
    client = client_for("branch_secretary")
    page = client.get(_url(bureau)).content.decode()
    assert f'value="{bureau.member_b.pk}"' not in page  # 李四 of another branch is not offered
    response = client.post(_url(bureau), {"held_on": "2026-05-10", "first": bureau.member_a.pk,
                                          "second": bureau.member_b.pk})
    assert response.status_code == 200
    assert "所选谈话对象不是本党组织的党员" in response.content.decode()
    # The service's own checks reach the page: the same person twice, a day not yet come.
    response = client.post(_url(bureau), {"held_on": "2026-05-10", "first": bureau.member_a.pk,
                                          "second": bureau.member_a.pk})
    assert "谈话人和谈话对象不能是同一人" in response.content.decode()
    response = client.post(_url(bureau), {"held_on": "2026-12-21", "first": bureau.member_a.pk, "second": ""})
    html = response.content.decode()
    assert "请选择谈话对象" in html
    response = client.post(_url(bureau), {"held_on": "12/05/2026", "first": "x", "second": "x"})
    assert response.status_code == 200 and "请填写有效的日期" in response.content.decode()
    assert not HeartTalk.objects.exists()
    assert not AuditEntry.objects.filter(action="heart_talk.record").exists()


@time_machine.travel(NOW, tick=False)
def test_a_day_not_yet_come_is_refused_by_the_service_on_the_page(bureau, client_for):
    first, second = _committee(bureau)
    response = client_for("branch_secretary").post(
        _url(bureau), {"held_on": "2026-12-21", "first": first.pk, "second": second.pk})
    assert response.status_code == 200 and "谈话日期不能晚于今天" in response.content.decode()
    assert not HeartTalk.objects.exists()


@pytest.mark.parametrize("persona", ["inspection_office", "member", "sibling_secretary"])
@time_machine.travel(NOW, tick=False)
def test_a_reader_who_may_not_record_cannot_reach_the_page(bureau, client_for, persona):
    first, second = _committee(bureau)
    client = client_for(persona)
    assert client.get(_url(bureau)).status_code in (403, 404)
    assert client.post(_url(bureau), {"held_on": "2026-05-10", "first": first.pk,
                                      "second": second.pk}).status_code in (403, 404)
    assert not HeartTalk.objects.exists()


@pytest.mark.parametrize("persona", ["leader", "inspection_office", "discipline"])
@time_machine.travel(NOW, tick=False)
def test_the_link_is_absent_for_a_reader_who_may_not_record(bureau, client_for, persona):
    _committee(bureau)
    page = _calendar(client_for(persona), bureau)
    assert "年谈心谈话" in page or persona == "inspection_office"
    assert _url(bureau) not in page and "登记谈心谈话" not in page


# ---------------------------------------------------------------- the meeting form's 类别 by body

def test_the_category_select_groups_matters_by_the_body_that_decides_them(bureau, client_for):
    import re

    html = client_for("party_office").get(reverse("orglife:meeting_create")).content.decode()
    select = re.search(r'<select name="agenda-0-category".*?</select>', html, flags=re.S).group(0)
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, flags=re.S))
    assert list(groups) == ["党组（党委）会议", "局长办公会", "支部党员大会", "支部委员会会议"]
    assert 'value="major_matter"' in groups["党组（党委）会议"]
    assert 'value="major_matter"' not in groups["支部委员会会议"]
    assert 'value="admit_probationary"' in groups["支部党员大会"]
    assert 'value="member_development"' in groups["支部委员会会议"]
    assert 'value="member_development"' not in groups["党组（党委）会议"]
