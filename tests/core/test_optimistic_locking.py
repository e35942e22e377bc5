"""Optimistic locking (issue 11, item 6): two people open the same record; the first saves; the
second is told who changed what and when, keeps what they typed, and overwrites nothing. Through the
one mechanism (`core.updates`: a version counted on every write, `UPDATE … WHERE version = ?`), in
each service that edits a record, on the edit pages and in the API (409)."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core.updates import Conflict, bump_version, model_update
from dangjian.organizations import services as org_services
from dangjian.organizations.models import Appointment, Member, Organization, Unit
from dangjian.orglife import services as life
from dangjian.orglife.models import Meeting, MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.factories import make_unit
from tests.formdata import form_data

NOW = dt.datetime(2026, 11, 30, 10, 0)  # UTC: 18:00 in Beijing, as the messages say
FIRST = Actor.system("王五")
SECOND = Actor.system("赵六")


def _at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 30, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def meeting(bureau) -> Meeting:
    return life.meeting_record(by=FIRST, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.COMMITTEE_MEETING, starts_at=_at(20),
        topics="研究发展党员工作", place="三楼会议室", minutes="一、研究事项"))


def _input(meeting: Meeting, **changes) -> MeetingInput:
    """The meeting as its edit form would send it, with `changes`."""
    return MeetingInput(**{"organization": meeting.organization, "kind": meeting.kind, "starts_at": meeting.starts_at,
                           "topics": meeting.topics, "place": meeting.place, "minutes": meeting.minutes} | changes)


def _updates(obj) -> int:
    return AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk),
                                     action__endswith="update").count()


# ---------------------------------------------------------------- the mechanism

def test_every_edit_counts_one_version_and_an_unchanged_save_writes_nothing(bureau, django_assert_num_queries):
    member = bureau.member_a
    assert member.version == 1
    with django_assert_num_queries(1):  # one UPDATE: the changed field, updated_at and the version
        changes = model_update(instance=member, fields=["post"], data={"post": "副科长"}, expected_version=1)
    assert changes == {"post": (changes["post"][0], "副科长")}  # the counter is not a change of the diff
    member.refresh_from_db()
    assert (member.post, member.version) == ("副科长", 2)
    with django_assert_num_queries(0):  # unchanged: no query, no new version
        assert model_update(instance=member, fields=["post"], data={"post": "副科长"}, expected_version=2) == {}
    member.refresh_from_db()
    assert member.version == 2


def test_a_stale_version_is_refused_and_nothing_is_written(bureau):
    member = bureau.member_a
    model_update(instance=member, fields=["post"], data={"post": "副科长"})  # someone else's save
    with pytest.raises(Conflict) as caught:  # the second writer's form read version 1
        model_update(instance=Member.objects.get(pk=member.pk), fields=["post"], data={"post": "科员"},
                     expected_version=1)
    assert isinstance(caught.value, ValidationError) and (caught.value.expected, caught.value.current) == (1, 2)
    member.refresh_from_db()
    assert (member.post, member.version) == ("副科长", 2)


def test_the_database_decides_when_the_row_changed_after_it_was_read(bureau):
    """Both writers loaded version 1 (the in-memory check passes for both); the conditional UPDATE
    lets only the first through."""
    first, second = Member.objects.get(pk=bureau.member_a.pk), Member.objects.get(pk=bureau.member_a.pk)
    model_update(instance=first, fields=["post"], data={"post": "副科长"}, expected_version=1)
    with pytest.raises(Conflict):
        model_update(instance=second, fields=["post"], data={"post": "处长"}, expected_version=1)
    assert Member.objects.get(pk=bureau.member_a.pk).post == "副科长"


def test_a_writer_that_read_no_version_still_counts_one(bureau):
    """A transfer or a status move reads no version: its write happens (as before) and still makes
    every open form stale, even from a copy loaded before someone else's save."""
    old_copy = Member.objects.get(pk=bureau.member_a.pk)
    model_update(instance=Member.objects.get(pk=bureau.member_a.pk), fields=["post"], data={"post": "副科长"})
    model_update(instance=old_copy, fields=["ethnicity"], data={"ethnicity": "回族"})
    assert old_copy.version == 3
    assert Member.objects.get(pk=bureau.member_a.pk).version == 3


def test_bump_version_refuses_a_stale_version(bureau):
    with pytest.raises(Conflict):
        bump_version(bureau.member_a, 5)
    assert Member.objects.get(pk=bureau.member_a.pk).version == 1


# ---------------------------------------------------------------- each service that edits a record

@time_machine.travel(NOW, tick=False)
def test_meeting_update_refuses_the_second_writer_and_names_who_when_and_what(bureau, meeting):
    read = meeting.version
    life.meeting_update(by=FIRST, meeting=meeting, data=_input(meeting, place="四楼会议室", topics="研究党费收缴"),
                        expected_version=read)
    with pytest.raises(Conflict) as caught:
        life.meeting_update(by=SECOND, meeting=meeting, data=_input(meeting, minutes="赵六的记录"),
                            expected_version=read)
    message = caught.value.messages[0]
    assert message.startswith("该记录已被 王五 于 18:00 修改，以下字段已变：")
    assert "地点" in message and "议题/主题" in message and message.endswith("；请核对后重新提交。")
    meeting.refresh_from_db()
    assert (meeting.place, meeting.minutes, meeting.version) == ("四楼会议室", "一、研究事项", read + 1)
    assert _updates(meeting) == 1


@time_machine.travel(NOW, tick=False)
def test_a_change_of_a_meetings_parts_only_is_a_new_version_too(bureau, meeting):
    data = _input(meeting, absences={bureau.member_a.pk: ("sick", "")})  # the secretary, on the committee
    life.meeting_update(by=FIRST, meeting=meeting, data=data, expected_version=1)
    assert Meeting.objects.get(pk=meeting.pk).version == 2
    with pytest.raises(Conflict, match="出缺席"):
        life.meeting_update(by=SECOND, meeting=meeting, data=_input(meeting, place="五楼"), expected_version=1)


@time_machine.travel(NOW, tick=False)
def test_member_update_refuses_the_second_writer(bureau):
    first, second = Member.objects.get(pk=bureau.member_b.pk), Member.objects.get(pk=bureau.member_b.pk)
    org_services.member_update(by=FIRST, member=first, data={"post": "副处长"}, expected_version=1)
    with pytest.raises(Conflict, match="该记录已被 王五 于 18:00 修改，以下字段已变：职务；"):
        org_services.member_update(by=SECOND, member=second, data={"phone": "13900001111"}, expected_version=1)
    member = Member.objects.get(pk=bureau.member_b.pk)
    assert (member.post, member.phone != "13900001111", member.version) == ("副处长", True, 2)
    assert _updates(member) == 1


@time_machine.travel(NOW, tick=False)
def test_the_message_names_the_writer_not_someone_who_only_read_the_record(bureau):
    first, second = Member.objects.get(pk=bureau.member_b.pk), Member.objects.get(pk=bureau.member_b.pk)
    org_services.member_update(by=FIRST, member=first, data={"post": "副处长"}, expected_version=1)
    org_services.member_reveal_id_number(by=Actor.system("查阅人"), member=first, reason="核对身份")
    with pytest.raises(Conflict) as refused:
        org_services.member_update(by=SECOND, member=second, data={"phone": "13900001111"}, expected_version=1)
    assert "该记录已被 王五 于 18:00 修改，以下字段已变：职务；" in str(refused.value)
    assert "查阅人" not in str(refused.value)


@time_machine.travel(NOW, tick=False)
def test_unit_update_refuses_the_second_writer(bureau):
    unit = make_unit(bureau.bureau_unit, Unit.Kind.BRANCH_OFFICE, "城西分局", organization=bureau.branch_b)
    second = Unit.objects.get(pk=unit.pk)
    org_services.unit_update(by=FIRST, unit=unit, name="城西分局（新）", organization=bureau.branch_b,
                             expected_version=1)
    with pytest.raises(Conflict, match="名称"):
        org_services.unit_update(by=SECOND, unit=second, name="城南分局", organization=bureau.branch_a,
                                 expected_version=1)
    unit.refresh_from_db()
    assert (unit.name, unit.organization_id, unit.version) == ("城西分局（新）", bureau.branch_b.pk, 2)


@time_machine.travel(NOW, tick=False)
def test_organization_restructure_refuses_the_second_writer(bureau):
    org = bureau.branch_b
    second = Organization.objects.get(pk=org.pk)
    org_services.organization_restructure(by=FIRST, organization=org, on=dt.date(2026, 11, 1), note="更名",
                                          name="第二党支部（综合）", expected_version=1)
    with pytest.raises(Conflict, match="名称"):
        org_services.organization_restructure(by=SECOND, organization=second, on=dt.date(2026, 11, 1), note="更名",
                                              name="第二党支部（业务）", expected_version=1)
    org.refresh_from_db()
    assert (org.name, org.version) == ("第二党支部（综合）", 2)
    assert org.events.filter(note="更名").count() == 1


@time_machine.travel(NOW, tick=False)
def test_appointment_end_refuses_a_stale_version(bureau):
    post = Appointment.objects.get(organization=bureau.branch_b, role=Appointment.Role.SECRETARY)
    Appointment.objects.filter(pk=post.pk).update(version=2)  # someone changed it since it was read
    with pytest.raises(Conflict):
        org_services.appointment_end(by=SECOND, appointment=post, on=dt.date(2026, 11, 1), expected_version=1)
    post.refresh_from_db()
    assert post.end is None


# ---------------------------------------------------------------- the edit pages

def _page(client, url: str, form_id: str | None = None) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.content, form_id)


def _both_open_then_save(first_client, second_client, url: str, first_changes: dict, second_changes: dict,
                         form_id: str | None = None):
    """Both open the page; the first saves their changes; the second's save is answered (returned)."""
    first, second = _page(first_client, url, form_id), _page(second_client, url, form_id)
    assert first["version"] == second["version"]
    assert first_client.post(url, first | first_changes).status_code == 302
    response = second_client.post(url, second | second_changes)
    assert response.status_code == 200
    return response


@time_machine.travel(NOW, tick=False)
def test_the_second_person_saving_a_meeting_page_is_told_and_overwrites_nothing(bureau, client_for, meeting):
    url = reverse("orglife:meeting_edit", args=[meeting.pk])
    secretary = client_for("branch_secretary")
    response = _both_open_then_save(client_for("party_office"), secretary, url, {"place": ["四楼会议室"]},
                                    {"minutes": ["赵六补充的记录"]}, "meeting-form")
    page = response.content.decode()
    assert "该记录已被 dangban 于 18:00 修改，以下字段已变：地点；请核对后重新提交。" in page
    assert "赵六补充的记录" in page  # what they typed is still in the form
    meeting.refresh_from_db()
    assert (meeting.place, meeting.minutes) == ("四楼会议室", "一、研究事项")
    [entry] = AuditEntry.objects.filter(action="meeting.update")
    assert entry.after == {"place": "四楼会议室"}
    # The form now carries the version saved meanwhile: having checked, they may submit again.
    again = form_data(response.content, "meeting-form")
    assert again["version"] == ["2"]
    assert secretary.post(url, again).status_code == 302
    meeting.refresh_from_db()
    assert (meeting.place, meeting.minutes, meeting.version) == ("三楼会议室", "赵六补充的记录", 3)


@time_machine.travel(NOW, tick=False)
def test_saving_an_unchanged_meeting_page_writes_nothing(bureau, client_for, meeting):
    url = reverse("orglife:meeting_edit", args=[meeting.pk])
    client = client_for("branch_secretary")
    assert client.post(url, _page(client, url, "meeting-form")).status_code == 302
    assert Meeting.objects.get(pk=meeting.pk).version == 1
    assert not AuditEntry.objects.filter(action="meeting.update").exists()


@time_machine.travel(NOW, tick=False)
def test_the_second_person_saving_a_member_page_is_told(bureau, client_for):
    url = reverse("organizations:member_edit", args=[bureau.member_b.pk])
    response = _both_open_then_save(client_for("party_office"), client_for("party_office"), url,
                                    {"post": ["副处长"]}, {"ethnicity": ["回族"]})
    assert "以下字段已变：职务；请核对后重新提交。" in response.content.decode()
    member = Member.objects.get(pk=bureau.member_b.pk)
    assert (member.post, member.ethnicity) == ("副处长", "汉族")


@time_machine.travel(NOW, tick=False)
def test_two_officers_recording_one_term_renewal_the_second_is_told(bureau, client_for):
    """换届 and 延期换届 pages carry the organisation's version too: the second officer's term dates
    do not replace the first's."""
    branch = bureau.branch_b
    renew = reverse("organizations:renew_term", args=[branch.pk])
    other = client_for("party_office")
    response = _both_open_then_save(client_for("party_office"), other, renew, {"on": ["2026-11-20"]},
                                    {"on": ["2026-11-25"]})
    assert "以下字段已变：本届任期开始、本届任期届满；请核对后重新提交。" in response.content.decode()
    branch.refresh_from_db()
    assert branch.term_start == dt.date(2026, 11, 20)
    assert branch.events.filter(kind="term_renewed").count() == 1

    extend = reverse("organizations:extend_term", args=[branch.pk])
    stale = _page(other, extend)
    Organization.objects.filter(pk=branch.pk).update(version=branch.version + 1)  # saved meanwhile
    response = other.post(extend, stale | {"extended_to": ["2030-01-20"], "approved_by": ["局机关党委"],
                                           "document_number": ["交机党〔2026〕9号"], "approved_on": ["2026-11-28"]})
    assert response.status_code == 200 and "请核对后重新提交" in response.content.decode()
    assert Organization.objects.get(pk=branch.pk).term_extended_to is None


@time_machine.travel(NOW, tick=False)
def test_a_tampered_version_gets_a_chinese_message_not_an_error_page(bureau, client_for, meeting):
    url = reverse("orglife:meeting_edit", args=[meeting.pk])
    client = client_for("branch_secretary")
    for bad in ("abc", "0", "99999999999"):
        response = client.post(url, _page(client, url, "meeting-form") | {"version": [bad], "place": ["别处"]})
        assert response.status_code == 200
        assert "记录版本无效" in response.content.decode()
    assert Meeting.objects.get(pk=meeting.pk).place == "三楼会议室"


# ---------------------------------------------------------------- the API

def _meeting_body(got: dict) -> dict:
    return {"organization": got["organization"], "kind": got["kind"], "starts_at": got["starts_at"],
            "topics": got["topics"], "place": got["place"], "minutes": got["minutes"], "version": got["version"]}


@time_machine.travel(NOW, tick=False)
def test_the_api_answers_409_to_the_second_writer_of_a_meeting(bureau, client_for, meeting):
    office, secretary = client_for("party_office"), client_for("branch_secretary")
    url = f"/api/meetings/{meeting.pk}"
    first, second = office.get(url).json(), secretary.get(url).json()
    assert first["version"] == 1
    response = office.put(url, json.dumps(_meeting_body(first) | {"place": "四楼会议室"}), content_type="application/json")
    assert response.status_code == 200 and response.json()["version"] == 2
    response = secretary.put(url, json.dumps(_meeting_body(second) | {"minutes": "赵六的记录"}),
                             content_type="application/json")
    assert response.status_code == 409
    assert response.json()["detail"] == "该记录已被 dangban 于 18:00 修改，以下字段已变：地点；请核对后重新提交。"
    assert response.json()["errors"] == {"version": response.json()["detail"]}
    meeting.refresh_from_db()
    assert (meeting.place, meeting.minutes) == ("四楼会议室", "一、研究事项")


@time_machine.travel(NOW, tick=False)
def test_the_api_answers_409_to_the_second_writer_of_a_member(bureau, client_for):
    client = client_for("party_office")
    url = f"/api/members/{bureau.member_b.pk}"
    read = client.get(url).json()["version"]
    ok = client.patch(url, json.dumps({"post": "副处长", "version": read}), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == read + 1
    late = client.patch(url, json.dumps({"post": "处长", "version": read}), content_type="application/json")
    assert late.status_code == 409 and "职务" in late.json()["detail"]
    assert Member.objects.get(pk=bureau.member_b.pk).post == "副处长"
    bad = client.patch(url, json.dumps({"post": "处长", "version": 0}), content_type="application/json")
    assert bad.status_code == 422 and "version" in bad.json()["errors"]


def test_the_openapi_schema_documents_the_version_and_the_409(client_for, bureau):
    schema = client_for("party_office").get("/api/openapi.json").json()
    put = schema["paths"]["/api/meetings/{meeting_id}"]["put"]
    assert "409" in put["responses"] and "version" in put["description"]
    body = schema["components"]["schemas"]
    assert "version" in body["MeetingUpdateIn"]["properties"] and "version" in body["MemberUpdateIn"]["properties"]
    assert "version" in body["MeetingDetailOut"]["required"] and "version" in body["MemberOut"]["required"]


def test_leaving_the_roster_counts_a_version_on_the_posts_it_ends(bureau):
    """A post ended by a member's leaving (or an organisation's dissolving) is a write: an edit
    form open on it is out of date."""
    post = Appointment.objects.filter(end__isnull=True, member__status=Member.Status.ACTIVE).select_related("member").first()
    before = post.version
    org_services.member_leave(by=Actor.system("测试"), member=post.member, status=Member.Status.TRANSFERRED_OUT,
                 on=max(post.start, timezone.localdate()), note="调出")
    post.refresh_from_db()
    assert post.end is not None and post.version == before + 1
