"""Meetings lose nothing on edit, what is typed is what is saved, and the audit trail names exactly
what changed. Each case of the walkthrough (issue 7) is replayed through the real page (the form as
a browser sends it, tests/formdata.py) or the API: the 党组会 whose decisions vanished when only its
place was changed, the guest "李明 市委党校教授" saved as "李明 列席", the study theme split at its
space, the negative vote reported out of sight, the empty form that took two rounds."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Member
from dangjian.orglife import services
from dangjian.orglife.models import AgendaItem, Meeting, MeetingKind
from dangjian.orglife.services import AgendaInput, GuestInput, MeetingInput
from tests.formdata import form_data

NOW = dt.datetime(2026, 11, 30, 10, 0)
BY = Actor.system("测试")
TAG_WITH_SPACE = "学习贯彻 党的二十届四中全会精神"


def at(y, m, d, h=9):
    return dt.datetime(y, m, d, h, 30, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def leading_group(bureau) -> list[Member]:
    """The 党组: its secretary 李四 and two members, so votes of 3 are possible."""
    others = list(Member.objects.filter(organization=bureau.branch_b).exclude(pk=bureau.member_b.pk)[:2])
    for member in others:
        Appointment.objects.create(organization=bureau.root, member=member, role=Appointment.Role.COMMITTEE_MEMBER,
                                   start=dt.date(2024, 1, 1))
    return [bureau.member_b, *others]


@pytest.fixture
def party_group_meeting(bureau, leading_group) -> Meeting:
    """A 党组会 as the demo has them: two items decided, each with its 决定, a guest with a title."""
    return services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=at(2026, 11, 20),
        topics="研究重大事项", place="局机关六楼党组会议室", host=bureau.member_b, minutes="一、研究事项\n二、部署工作",
        study_tags=[TAG_WITH_SPACE], absences={leading_group[2].pk: ("official", "在省厅开会")},
        guests=[GuestInput(name="李明", title="市委党校教授")],
        agenda=[AgendaInput(title="研究中层干部轮岗交流方案", category="key_appointment", votes_for=2, votes_against=0,
                            votes_abstain=0, decision="会议同意轮岗交流方案，由分管领导牵头组织实施。"),
                AgendaInput(title="研究智慧交通指挥中心建设项目", category="large_fund", amount=Decimal("380.5"),
                            votes_for=1, votes_against=0, votes_abstain=1, chair_spoke_last=False,
                            decision="会议同意项目建设方案。\n资金从年度预算中列支。")]))


def _rows(queryset) -> dict:
    """Every concrete field of every row, by primary key (identity included)."""
    fields = [f.attname for f in queryset.model._meta.concrete_fields]
    return {row["id"]: row for row in queryset.values(*fields)}


def _edit_page(client, meeting) -> dict:
    response = client.get(reverse("orglife:meeting_edit", args=[meeting.pk]))
    assert response.status_code == 200
    return form_data(response.content, "meeting-form")


def _post_edit(client, meeting, data):
    return client.post(reverse("orglife:meeting_edit", args=[meeting.pk]), data)


def _row_prefix(data: dict, prefix: str, pk: int) -> str:
    """The formset prefix ("agenda-1") of the row that carries record `pk`."""
    return next(key[:-3] for key, values in data.items()
                if key.startswith(prefix) and key.endswith("-id") and values == [str(pk)])


# ---------------------------------------------------------------- nothing lost on edit

@time_machine.travel(NOW, tick=False)
def test_changing_only_the_place_of_a_party_group_meeting_keeps_every_decision(bureau, client_for,
                                                                               party_group_meeting):
    meeting = party_group_meeting
    items, attendance, guests = (_rows(meeting.agenda_items.all()), _rows(meeting.attendances.all()),
                                 _rows(meeting.guests.all()))
    client = client_for("party_office")
    data = _edit_page(client, meeting)
    data["place"] = ["五楼小会议室"]
    assert _post_edit(client, meeting, data).status_code == 302

    meeting.refresh_from_db()
    assert meeting.place == "五楼小会议室"
    # Every agenda item, attendance row and guest is the same row with the same values.
    assert _rows(meeting.agenda_items.all()) == items
    assert _rows(meeting.attendances.all()) == attendance
    assert _rows(meeting.guests.all()) == guests
    assert meeting.study_tag_names() == [TAG_WITH_SPACE]
    [entry] = AuditEntry.objects.filter(action="meeting.update")
    assert (entry.before, entry.after) == ({"place": "局机关六楼党组会议室"}, {"place": "五楼小会议室"})


@time_machine.travel(NOW, tick=False)
def test_a_decision_is_edited_in_place_and_the_trail_names_only_that_decision(bureau, client_for,
                                                                              party_group_meeting):
    meeting = party_group_meeting
    first, second = meeting.agenda_items.order_by("order")
    client = client_for("party_office")
    data = _edit_page(client, meeting)
    data[f"{_row_prefix(data, 'agenda-', second.pk)}-decision"] = ["会议同意项目建设方案，资金从年度预算中列支。"]
    assert _post_edit(client, meeting, data).status_code == 302

    second.refresh_from_db()
    assert second.decision == "会议同意项目建设方案，资金从年度预算中列支。"
    assert AgendaItem.objects.get(pk=first.pk).decision == "会议同意轮岗交流方案，由分管领导牵头组织实施。"
    [entry] = AuditEntry.objects.filter(action="meeting.update")
    assert entry.before == {"agenda": {str(second.pk): {"decision": "会议同意项目建设方案。\n资金从年度预算中列支。"}}}
    assert entry.after == {"agenda": {str(second.pk): {"decision": "会议同意项目建设方案，资金从年度预算中列支。"}}}


@time_machine.travel(NOW, tick=False)
def test_removing_one_item_and_adding_another_keeps_the_identity_of_the_rest(bureau, client_for,
                                                                             party_group_meeting):
    meeting = party_group_meeting
    first, second = meeting.agenda_items.order_by("order")
    client = client_for("party_office")
    data = _edit_page(client, meeting)
    data[f"{_row_prefix(data, 'agenda-', first.pk)}-DELETE"] = ["on"]
    data |= {"agenda-2-title": ["研究节能降耗工作方案"], "agenda-2-category": ["ordinary"],
             "agenda-2-decision": ["会议同意。"]}
    assert _post_edit(client, meeting, data).status_code == 302

    kept, added = meeting.agenda_items.order_by("order")
    assert kept.pk == second.pk and kept.order == 1 and kept.amount == Decimal("380.50")  # renumbered in place
    assert (added.order, added.title, added.decision) == (2, "研究节能降耗工作方案", "会议同意。")
    assert not AgendaItem.objects.filter(pk=first.pk).exists()
    [entry] = AuditEntry.objects.filter(action="meeting.update")
    assert entry.before["agenda"][str(first.pk)]["title"] == "研究中层干部轮岗交流方案"
    assert entry.after["agenda"][str(first.pk)] is None
    assert (entry.before["agenda"][str(second.pk)], entry.after["agenda"][str(second.pk)]) == ({"order": 2}, {"order": 1})
    assert entry.before["agenda"][str(added.pk)] is None and entry.after["agenda"][str(added.pk)]["decision"] == "会议同意。"


@time_machine.travel(NOW, tick=False)
def test_a_field_the_page_does_not_render_is_kept(bureau, client_for, party_group_meeting):
    # A browser sends nothing for a box that is not on the page (a trimmed-down template, an older
    # cached page): the record keeps those values rather than being emptied.
    meeting = party_group_meeting
    client = client_for("party_office")
    data = _edit_page(client, meeting)
    row = _row_prefix(data, "agenda-", meeting.agenda_items.order_by("order").first().pk)
    for name in ("minutes", "study_tags", "host", f"{row}-decision", f"{row}-votes_for", "guests-0-title"):
        del data[name]
    data["place"] = ["五楼"]
    assert _post_edit(client, meeting, data).status_code == 302
    meeting.refresh_from_db()
    assert (meeting.minutes, meeting.host_id, meeting.study_tag_names()) == (
        "一、研究事项\n二、部署工作", bureau.member_b.pk, [TAG_WITH_SPACE])
    item = meeting.agenda_items.order_by("order").first()
    assert (item.decision, item.votes_for) == ("会议同意轮岗交流方案，由分管领导牵头组织实施。", 2)
    assert meeting.guests.get().title == "市委党校教授"
    [entry] = AuditEntry.objects.filter(action="meeting.update")
    assert set(entry.after) == {"place"}


@time_machine.travel(NOW, tick=False)
def test_a_service_caller_that_leaves_fields_out_clears_nothing(bureau, party_group_meeting):
    meeting = party_group_meeting
    items, attendance, guests = (_rows(meeting.agenda_items.all()), _rows(meeting.attendances.all()),
                                 _rows(meeting.guests.all()))
    services.meeting_update(by=BY, meeting=meeting, data=MeetingInput(
        organization=meeting.organization, kind=meeting.kind, starts_at=meeting.starts_at, topics=meeting.topics,
        place="五楼"))  # no minutes, host, tags, absences, guests or agenda given
    meeting.refresh_from_db()
    assert (meeting.minutes, meeting.host_id) == ("一、研究事项\n二、部署工作", bureau.member_b.pk)
    assert meeting.study_tag_names() == [TAG_WITH_SPACE]
    assert (_rows(meeting.agenda_items.all()), _rows(meeting.attendances.all()), _rows(meeting.guests.all())) == (
        items, attendance, guests)


@time_machine.travel(NOW, tick=False)
def test_an_item_given_by_id_keeps_the_fields_its_caller_does_not_give(bureau, party_group_meeting):
    meeting = party_group_meeting
    first, second = meeting.agenda_items.order_by("order")
    services.meeting_update(by=BY, meeting=meeting, data=MeetingInput(
        organization=meeting.organization, kind=meeting.kind, starts_at=meeting.starts_at, topics=meeting.topics,
        agenda=[AgendaInput(id=first.pk, title="研究中层干部轮岗交流方案（修订）", category="key_appointment"),
                AgendaInput(id=second.pk, title=second.title, category=second.category)]))
    first.refresh_from_db()
    assert first.title == "研究中层干部轮岗交流方案（修订）"
    assert (first.votes_for, first.decision) == (2, "会议同意轮岗交流方案，由分管领导牵头组织实施。")


@time_machine.travel(NOW, tick=False)
def test_an_item_of_another_meeting_cannot_be_edited_through_this_one(bureau, party_group_meeting):
    other = services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=at(2026, 11, 21), topics="研究",
        agenda=[AgendaInput(title="别的议题", category="ordinary", decision="别的决定")]))
    foreign = other.agenda_items.get()
    with pytest.raises(Exception, match="不属于这次会议"):
        services.meeting_update(by=BY, meeting=party_group_meeting, data=MeetingInput(
            organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=at(2026, 11, 20),
            topics="研究重大事项", agenda=[AgendaInput(id=foreign.pk, title="改掉", category="ordinary")]))
    foreign.refresh_from_db()
    assert (foreign.meeting_id, foreign.title) == (other.pk, "别的议题")


@time_machine.travel(NOW, tick=False)
def test_moving_the_date_keeps_absences_of_people_still_expected(bureau, client_for):
    meeting = services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=at(2026, 11, 20), topics="学习",
        absences={bureau.member_a.pk: ("sick", "住院")}))
    row = meeting.attendances.get(member=bureau.member_a)
    client = client_for("branch_secretary")
    data = _edit_page(client, meeting)
    data["starts_at"] = ["2026-11-21T09:30"]
    assert _post_edit(client, meeting, data).status_code == 302
    row.refresh_from_db()  # the same row, still absent with its reason and note
    assert (row.present, row.absence_reason, row.note) == (False, "sick", "住院")


# ---------------------------------------------------------------- typed is saved

FREE_TEXT = {
    "place": "局机关 六楼 党组会议室（东）",
    "lecturer_name": "王 教授",
    "topics": "一、传达 学习\n二、研究 “三重一大” 事项",
    "minutes": "会议由 李四 主持。\n\n  与会同志逐项表决。",
}


@time_machine.travel(NOW, tick=False)
def test_every_free_text_field_of_the_meeting_form_reads_back_as_typed(bureau, client_for, leading_group):
    client = client_for("party_office")
    response = client.get(reverse("orglife:meeting_create"), {"organization": bureau.root.pk,
                                                              "kind": "leading_group_meeting"})
    data = form_data(response.content, "meeting-form")
    absent = leading_group[1]
    data |= {name: [value] for name, value in FREE_TEXT.items()} | {
        "organization": [str(bureau.root.pk)], "kind": ["leading_group_meeting"], "starts_at": ["2026-11-20T09:30"],
        "study_tags": [f"{TAG_WITH_SPACE}\n学习贯彻党的二十大精神"],
        f"absent_{absent.pk}": ["official"], f"note_{absent.pk}": ["在 省厅 开会"],
        "guests-0-name": ["李明 市委党校教授"], "guests-1-name": ["张华"], "guests-1-title": ["市委党校 教授"],
        "guests-1-role": ["lecturer"],
        "agenda-0-title": ["研究 “智慧交通” 项目"], "agenda-0-category": ["major_project"],
        "agenda-0-votes_for": ["2"], "agenda-0-votes_against": ["0"], "agenda-0-votes_abstain": ["0"],
        "agenda-0-decision": ["会议同意 项目方案。\n由 分管领导 牵头。"]}
    response = client.post(reverse("orglife:meeting_create"), data)
    assert response.status_code == 302, response.content.decode()
    meeting = Meeting.objects.get()
    for name, value in FREE_TEXT.items():
        assert getattr(meeting, name) == value.strip(), name
    assert meeting.study_tag_names() == [TAG_WITH_SPACE, "学习贯彻党的二十大精神"]  # whole, in the order typed
    assert meeting.attendances.get(member=absent).note == "在 省厅 开会"
    assert list(meeting.guests.order_by("id").values_list("name", "role", "title")) == [
        ("李明 市委党校教授", "other", ""), ("张华", "lecturer", "市委党校 教授")]
    item = meeting.agenda_items.get()
    assert (item.title, item.decision) == ("研究 “智慧交通” 项目", "会议同意 项目方案。\n由 分管领导 牵头。")

    # The edit page shows each of them as typed, and saving it unchanged changes nothing.
    page = client.get(reverse("orglife:meeting_edit", args=[meeting.pk])).content.decode()
    assert TAG_WITH_SPACE in page and "市委党校 教授" in page and "由 分管领导 牵头。" in page
    assert _post_edit(client, meeting, _edit_page(client, meeting)).status_code == 302
    assert not AuditEntry.objects.filter(action="meeting.update").exists()


@time_machine.travel(NOW, tick=False)
def test_every_free_text_field_of_the_api_reads_back_as_typed(bureau, client_for, leading_group):
    body = {"organization": bureau.root.pk, "kind": "leading_group_meeting", "starts_at": "2026-11-20T09:30:00+08:00",
            **FREE_TEXT, "study_tags": [TAG_WITH_SPACE, "学习贯彻党的二十大精神"],
            "absences": [{"member": leading_group[1].pk, "reason": "official", "note": "在 省厅 开会"}],
            "guests": [{"name": "李明", "title": "市委党校 教授"}, {"name": "王 五", "role": "supervisor"}],
            "agenda": [{"title": "研究 “智慧交通” 项目", "category": "ordinary", "decision": "会议同意 项目方案。\n由 分管领导 牵头。"}]}
    client = client_for("party_office")
    response = client.post("/api/meetings", json.dumps(body, ensure_ascii=False), content_type="application/json")
    assert response.status_code == 201, response.content
    out = client.get(f"/api/meetings/{response.json()['id']}").json()
    for name, value in FREE_TEXT.items():
        assert out[name] == value.strip(), name
    assert out["study_tags"] == [TAG_WITH_SPACE, "学习贯彻党的二十大精神"]
    assert [a["note"] for a in out["attendances"] if not a["present"]] == ["在 省厅 开会"]
    assert [(g["name"], g["role"], g["title"]) for g in out["guests"]] == [
        ("李明", "other", "市委党校 教授"), ("王 五", "supervisor", "")]
    assert out["agenda_items"][0]["decision"] == "会议同意 项目方案。\n由 分管领导 牵头。"


@time_machine.travel(NOW, tick=False)
def test_the_api_corrects_items_by_id_and_refuses_an_id_of_another_meeting(bureau, client_for, party_group_meeting):
    meeting = party_group_meeting
    first, second = meeting.agenda_items.order_by("order")
    client = client_for("party_office")
    got = client.get(f"/api/meetings/{meeting.pk}").json()
    agenda = [{k: item[k] for k in ("id", "title", "category", "amount", "votes_for", "votes_against",
                                    "votes_abstain", "chair_spoke_last", "decision")} for item in got["agenda_items"]]
    agenda[0]["decision"] = "会议同意，即日起实施。"
    body = {"organization": bureau.root.pk, "kind": got["kind"], "starts_at": got["starts_at"], "topics": got["topics"],
            "place": got["place"], "host": got["host"], "minutes": got["minutes"], "study_tags": got["study_tags"],
            "absences": [{"member": a["member"], "reason": a["absence_reason"], "note": a["note"]}
                         for a in got["attendances"] if not a["present"]],
            "guests": [{k: g[k] for k in ("id", "name", "role", "title", "member")} for g in got["guests"]],
            "agenda": agenda}
    response = client.put(f"/api/meetings/{meeting.pk}", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert [i["id"] for i in response.json()["agenda_items"]] == [first.pk, second.pk]
    assert AgendaItem.objects.get(pk=first.pk).decision == "会议同意，即日起实施。"
    [entry] = AuditEntry.objects.filter(action="meeting.update")
    assert entry.after == {"agenda": {str(first.pk): {"decision": "会议同意，即日起实施。"}}}

    stranger = services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=at(2026, 11, 21), topics="研究",
        agenda=[AgendaInput(title="别的议题", category="ordinary")])).agenda_items.get()
    body["agenda"][1]["id"] = stranger.pk
    response = client.put(f"/api/meetings/{meeting.pk}", json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and "不属于这次会议" in response.json()["detail"]
    assert AgendaItem.objects.filter(meeting=meeting).count() == 2


# ---------------------------------------------------------------- errors that can be seen

def _new_form(client, bureau, **fields) -> dict:
    response = client.get(reverse("orglife:meeting_create"), {"organization": bureau.branch_a.pk,
                                                              "kind": "committee_meeting"})
    data = form_data(response.content, "meeting-form")
    data |= {"organization": [str(bureau.branch_a.pk)], "kind": ["committee_meeting"],
             "starts_at": ["2026-11-20T09:30"], "topics": ["研究发展党员工作"]}
    return data | {name: [value] for name, value in fields.items()}


def _summary(html: str) -> str:
    match = re.search(r'id="form-errors".*?</ul>', html, re.S)
    assert match, "no error summary at the top of the form"
    return match.group(0)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("vote", "message"), [("-1", "票数不能为负数"), ("三", "票数请填整数")])
def test_a_bad_vote_is_reported_at_the_top_and_its_row_is_marked(bureau, client_for, vote, message):
    client = client_for("branch_secretary")
    response = client.post(reverse("orglife:meeting_create"), _new_form(
        client, bureau, **{"agenda-0-title": "接收预备党员", "agenda-0-category": "ordinary", "agenda-0-votes_for": vote,
                           "agenda-0-votes_against": "0", "agenda-0-votes_abstain": "0"}))
    html = response.content.decode()
    assert response.status_code == 200 and not Meeting.objects.exists()
    summary = _summary(html)
    assert "第 1 行赞成" in summary and message in summary and 'href="#id_agenda-0-votes_for"' in summary
    assert re.search(r'<fieldset class="[^"]*table-danger[^"]*" id="agenda-row-1"', html)
    assert not re.search(r'<fieldset class="[^"]*table-danger[^"]*" id="agenda-row-2"', html)


@time_machine.travel(NOW, tick=False)
def test_more_votes_than_members_present_marks_the_row_from_the_service_check(bureau, client_for):
    client = client_for("branch_secretary")
    response = client.post(reverse("orglife:meeting_create"), _new_form(
        client, bureau, **{"agenda-1-title": "接收预备党员", "agenda-1-category": "ordinary", "agenda-1-votes_for": "9",
                           "agenda-1-votes_against": "0", "agenda-1-votes_abstain": "0"}))
    html = response.content.decode()
    assert "超过实到人数" in _summary(html)
    assert re.search(r'<fieldset class="[^"]*table-danger[^"]*" id="agenda-row-2"', html)


@time_machine.travel(NOW, tick=False)
def test_an_empty_form_reports_every_missing_field_on_the_first_submit(bureau, client_for):
    client = client_for("branch_secretary")
    data = form_data(client.get(reverse("orglife:meeting_create")).content, "meeting-form")
    summary = _summary(client.post(reverse("orglife:meeting_create"), data).content.decode())
    for message in ("请选择党组织", "请选择会议类型", "请填写会议时间", "请填写会议议题或主题"):
        assert message in summary, message
    assert not Meeting.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_missing_topic_and_a_future_date_are_reported_together(bureau, client_for):
    client = client_for("branch_secretary")
    summary = _summary(client.post(reverse("orglife:meeting_create"), _new_form(
        client, bureau, topics="", starts_at="2026-12-20T09:30")).content.decode())
    assert "请填写会议议题或主题" in summary and "会议时间不能晚于现在" in summary


@time_machine.travel(NOW, tick=False)
def test_required_fields_are_marked_and_empty_choices_say_please_choose(bureau, client_for):
    html = client_for("branch_secretary").get(reverse("orglife:meeting_create")).content.decode()
    for label in ("党组织", "会议类型", "会议时间", "议题/主题"):
        assert re.search(rf'>{re.escape(label)} <span class="text-danger" title="必填">\*</span></label>', html), label
    assert "---------" not in html and "–" not in html and "—</option>" not in html
    assert html.count(">请选择…</option>") >= 5  # organisation, kind, host, recorder, lecturer, categories


@time_machine.travel(NOW, tick=False)
def test_a_guest_row_without_a_name_is_reported_and_nothing_saved(bureau, client_for):
    client = client_for("branch_secretary")
    response = client.post(reverse("orglife:meeting_create"), _new_form(client, bureau, **{
        "guests-0-title": "市委党校教授"}))
    assert "请填写列席人员姓名" in _summary(response.content.decode())
    assert not Meeting.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_delete_page_button_says_delete(bureau, client_for, party_group_meeting):
    html = client_for("party_office").get(reverse("orglife:meeting_delete", args=[party_group_meeting.pk])
                                          ).content.decode()
    assert re.search(r'<button type="submit" class="btn btn-danger">删除</button>', html)
    assert ">保存<" not in html


@time_machine.travel(NOW, tick=False)
def test_reloading_the_attendance_keeps_the_absences_already_marked(bureau, client_for):
    member = bureau.member_a
    response = client_for("branch_secretary").get(reverse("orglife:meeting_expected"), {
        "organization": bureau.branch_a.pk, "kind": "theme_day", "starts_at": "2026-11-21T09:30",
        f"absent_{member.pk}": "sick", f"note_{member.pk}": "住院", f"absent_{bureau.member_b.pk}": "official"})
    html = response.content.decode()
    select = re.search(rf'<select[^>]*name="absent_{member.pk}".*?</select>', html, re.S).group(0)
    assert '<option value="sick" selected>' in select
    assert f'name="note_{member.pk}" value="住院"' in html
    assert f"absent_{bureau.member_b.pk}" not in html  # not expected at branch A: dropped


def test_the_form_sends_the_marked_absences_with_the_reload(bureau, client_for):
    html = client_for("branch_secretary").get(reverse("orglife:meeting_create")).content.decode()
    include = re.search(r'<div id="attendance"[^>]*hx-include="([^"]*)"', html).group(1)
    assert "#attendance select" in include and "#attendance input" in include


# ---------------------------------------------------------------- the decision everywhere

@time_machine.travel(NOW, tick=False)
def test_the_decision_is_shown_on_the_meeting_the_register_and_in_the_ledger(bureau, client_for, party_group_meeting):
    import io

    from openpyxl import load_workbook

    client = client_for("party_office")
    detail = client.get(party_group_meeting.get_absolute_url()).content.decode()
    assert "会议同意轮岗交流方案，由分管领导牵头组织实施。" in detail
    assert "李明" in detail and "市委党校教授" in detail
    register = client.get(reverse("orglife:decisions"), {"year": 2026}).content.decode()
    assert "会议同意轮岗交流方案，由分管领导牵头组织实施。" in register
    ledger = load_workbook(io.BytesIO(client.get(reverse("orglife:ledger", args=[bureau.root.pk]),
                                                 {"year": 2026}).content))
    sheet = ledger["议题决定"]
    header = [c.value for c in sheet[1]]
    decisions = [row[header.index("决定")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert decisions == ["会议同意轮岗交流方案，由分管领导牵头组织实施。", "会议同意项目建设方案。\n资金从年度预算中列支。"]
    meetings = ledger["会议台账"]
    header = [c.value for c in meetings[1]]
    assert meetings.cell(2, header.index("列席人员") + 1).value == "李明（市委党校教授）"


@time_machine.travel(NOW, tick=False)
def test_the_minutes_carry_the_guest_as_typed_and_the_themes_in_order(bureau, client_for, party_group_meeting):
    import io

    from docx import Document

    response = client_for("party_office").get(reverse("orglife:meeting_minutes", args=[party_group_meeting.pk]))
    doc = Document(io.BytesIO(response.content))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "李明（市委党校教授）" in cells and TAG_WITH_SPACE in cells
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "决定：会议同意轮岗交流方案，由分管领导牵头组织实施。" in text
