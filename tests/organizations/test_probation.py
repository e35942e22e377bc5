"""留党察看 recorded from the member page and through the API (issue 9 follow-up): the same service,
the same Chinese messages naming the rule (discipline.probation_max_years, 纪律处分条例), nothing
saved on bad input, and the periods listed on the member page."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from dangjian.audit.models import AuditEntry
from dangjian.organizations.models import Member, ProbationPeriod


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ordinary(bureau) -> Member:
    return Member.objects.filter(organization=bureau.branch_a).order_by("pk").first()


def page(bureau, member=None):
    return reverse("organizations:member_probation", args=[(member or ordinary(bureau)).pk])


def api(client, member, body):
    return client.post(f"/api/members/{member.pk}/probation", data=json.dumps(body), content_type="application/json")


def counts():
    return ProbationPeriod.objects.count(), AuditEntry.objects.count()


def test_a_secretary_records_a_probation_from_the_member_page_and_sees_it_listed(bureau, client_for):
    member = ordinary(bureau)
    client = client_for("branch_secretary")
    detail = client.get(member.get_absolute_url()).content.decode()
    assert page(bureau) in detail  # offered with 转接 and 离开花名册

    response = client.post(page(bureau), {"start": "2026-03-01", "end": "2027-03-01",
                                          "document_number": "交纪〔2026〕5号", "note": "违反组织纪律"})

    assert response.status_code == 302 and response.url == member.get_absolute_url()
    period = ProbationPeriod.objects.get(member=member)
    assert (period.start, period.end, period.document_number, period.note) == (
        dt.date(2026, 3, 1), dt.date(2027, 3, 1), "交纪〔2026〕5号", "违反组织纪律")
    entry = AuditEntry.objects.get(action="member.probation")
    assert entry.actor == bureau.users["branch_secretary"] and entry.after["note"] == "违反组织纪律"
    listed = client.get(member.get_absolute_url()).content.decode()
    assert "2026-03-01 至 2027-03-01" in listed and "交纪〔2026〕5号" in listed and "违反组织纪律" in listed


def test_the_page_is_offered_only_to_those_who_may_change_members(bureau, client_for):
    member = ordinary(bureau)
    for persona in ("leader", "discipline"):
        client = client_for(persona)
        assert page(bureau) not in client.get(member.get_absolute_url()).content.decode()
        # Pages answer 404 to a member visible but not the reader's to change (tests/access).
        assert client.post(page(bureau), {"start": "2026-03-01", "end": "2027-03-01"}).status_code == 404
    assert client_for("sibling_secretary").get(page(bureau)).status_code == 404
    assert not ProbationPeriod.objects.exists()


@pytest.mark.parametrize(("form", "field_message"), [
    ({"start": "2026-03-01", "end": "2028-09-01"}, "留党察看期限不能超过2年（《中国共产党纪律处分条例》"),
    ({"start": "2026-03-01", "end": "2026-03-01"}, "留党察看期满日期应晚于开始日期。"),
    ({"start": "2099-01-01", "end": "2099-06-01"}, "日期不能晚于今天。"),
    ({"start": "2026-03-01", "end": ""}, "请填写"),
    ({"start": "三月", "end": "2027-03-01"}, "日期"),
])
def test_bad_dates_on_the_page_say_why_in_chinese_and_save_nothing(bureau, client_for, form, field_message):
    client = client_for("party_office")  # logging in is audited: count after it
    before = counts()
    response = client.post(page(bureau), form)
    assert response.status_code == 200
    text = response.content.decode()
    assert field_message in text and "未保存任何内容" in text
    assert counts() == before


def test_one_submission_lists_the_rule_with_the_other_problems(bureau, client_for):
    client = client_for("party_office")
    response = client.post(page(bureau), {"start": "2026-03-01", "end": "2028-09-01", "document_number": "号" * 101})
    text = response.content.decode()
    assert "留党察看期限不能超过2年" in text and "100" in text
    assert not ProbationPeriod.objects.exists()


def test_an_overlapping_period_is_refused_on_the_page(bureau, client_for):
    client = client_for("party_office")
    assert client.post(page(bureau), {"start": "2026-03-01", "end": "2027-03-01"}).status_code == 302
    before = counts()
    response = client.post(page(bureau), {"start": "2026-09-01", "end": "2027-09-01"})
    assert "在该期间已有留党察看记录" in response.content.decode()
    assert counts() == before


def test_the_api_records_a_probation_through_the_same_service(bureau, client_for):
    member = ordinary(bureau)
    response = api(client_for("branch_secretary"), member,
                   {"start": "2026-03-01", "end": "2027-03-01", "document_number": " 交纪〔2026〕5号 ", "note": "违纪"})
    assert response.status_code == 201, response.content
    period = ProbationPeriod.objects.get(member=member)
    assert response.json() == {"id": period.pk, "member": member.pk, "start": "2026-03-01", "end": "2027-03-01",
                               "document_number": "交纪〔2026〕5号", "note": "违纪"}
    assert AuditEntry.objects.filter(action="member.probation", object_id=str(member.pk)).count() == 1


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"start": "2026-03-01", "end": "2028-09-01"}, "end", "留党察看期限不能超过2年（《中国共产党纪律处分条例》"),
    ({"start": "2026-03-01", "end": "2026-02-01"}, "end", "留党察看期满日期应晚于开始日期。"),
    ({"start": "2099-01-01", "end": "2099-06-01"}, "start", "日期不能晚于今天。"),
    ({"start": "1970-01-01", "end": "1971-01-01"}, "start", "留党察看开始日期不能早于入党日期"),  # before the rule too
])
def test_the_api_answers_422_with_the_pages_messages_and_saves_nothing(bureau, client_for, body, field, message):
    client = client_for("party_office")
    before = counts()
    response = api(client, ordinary(bureau), body)
    assert response.status_code == 422, response.content
    assert message in response.json()["errors"][field]
    assert counts() == before


def test_the_api_refuses_a_probation_for_a_member_off_the_roster(bureau, client_for):
    member = ordinary(bureau)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.DECEASED)
    client = client_for("party_office")
    before = counts()
    response = api(client, member, {"start": "2026-03-01", "end": "2027-03-01"})
    assert response.status_code == 422 and "在册党员" in response.json()["detail"]
    assert counts() == before


def test_a_period_begun_before_the_regulations_entry_is_held_to_the_party_constitutions_two_years():
    from dangjian.organizations.services import probation_clean

    # 2017: before the 条例's entry in the rule data (2018-10-01); 党章 第三十九条 says the same.
    too_long = probation_clean(start=dt.date(2017, 7, 1), end=dt.date(2019, 7, 2))
    assert too_long == {"end": "留党察看期限不能超过2年（《中国共产党章程》（2012年修改；第七章 党的纪律）第三十九条）。"}
    assert probation_clean(start=dt.date(2017, 7, 1), end=dt.date(2019, 7, 1)) == {}
    assert "纪律处分条例" in probation_clean(start=dt.date(2019, 7, 1), end=dt.date(2021, 7, 2))["end"]
