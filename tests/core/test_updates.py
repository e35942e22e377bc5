"""The audit diff is exact: an edit logs the fields whose values changed and nothing else; a value
shown another way (another time zone, CRLF, 1.5 vs 1.50, an instance vs its id) is no change; a
field the caller did not give keeps its value. Also the transition helper's refusals."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core.transitions import Workflow, transition
from dangjian.core.updates import model_update
from dangjian.organizations import services as org_services
from dangjian.organizations.models import Member, Organization, OrganizationEvent
from dangjian.orglife import services
from dangjian.orglife.models import AgendaItem, Meeting, MeetingKind
from dangjian.orglife.services import AgendaInput, MeetingInput

NOW = dt.datetime(2026, 11, 30, 10, 0)
UTC = dt.UTC


def shanghai(y, m, d, h=14, minute=30):
    return dt.datetime(y, m, d, h, minute, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def by(bureau):
    return Actor(user=bureau.users["branch_secretary"], name="shuji_a", roles=("branch_secretary",))


def _entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


# ---------------------------------------------------------------- model_update itself

def test_model_update_sets_only_given_fields_and_returns_the_changes(bureau, django_assert_num_queries):
    member = bureau.member_a
    phone, post = member.phone, member.post
    with django_assert_num_queries(1):  # one UPDATE naming the changed field and updated_at
        changes = model_update(instance=member, fields=["post", "phone", "education"], data={"post": "副科长"})
    assert changes == {"post": (post, "副科长")}
    member.refresh_from_db()
    assert (member.post, member.phone) == ("副科长", phone)


def test_model_update_ignores_keys_outside_fields(bureau):
    member = bureau.member_a
    assert model_update(instance=member, fields=["post"], data={"name": "别人", "post": member.post}) == {}
    member.refresh_from_db()
    assert member.name == "张三"


def test_an_unchanged_value_in_another_form_is_no_change_and_no_query(bureau, django_assert_num_queries):
    member = bureau.member_a
    data = {"post": f"  {member.post}\r\n", "unit": bureau.office.pk, "organization": bureau.cell_a,
            "joined_on": member.joined_on.isoformat(), "education": member.education}
    with django_assert_num_queries(0):
        assert model_update(instance=member, fields=list(data), data=data) == {}


def test_model_update_bumps_auto_now_only_when_something_changed(bureau):
    member = bureau.member_a
    stamp = Member.objects.get(pk=member.pk).updated_at
    model_update(instance=member, fields=["post"], data={"post": member.post})
    assert Member.objects.get(pk=member.pk).updated_at == stamp
    model_update(instance=member, fields=["post"], data={"post": "处长"})
    assert Member.objects.get(pk=member.pk).updated_at > stamp


@time_machine.travel(NOW, tick=False)
def test_datetimes_compare_as_instants_and_decimals_by_value(bureau):
    meeting = services.meeting_record(by=Actor.system("test"), data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.COMMITTEE_MEETING, starts_at=shanghai(2026, 11, 27),
        topics="研究", agenda=[AgendaInput(title="经费", category="life_arrangement", amount=Decimal("1.5"))]))
    meeting = Meeting.objects.get(pk=meeting.pk)
    same_instant = shanghai(2026, 11, 27).astimezone(UTC)
    assert model_update(instance=meeting, fields=["starts_at"], data={"starts_at": same_instant}) == {}
    naive_local = dt.datetime(2026, 11, 27, 14, 30)  # read in the current time zone, as forms do
    assert model_update(instance=meeting, fields=["starts_at"], data={"starts_at": naive_local}) == {}
    item = AgendaItem.objects.get(meeting=meeting)
    assert model_update(instance=item, fields=["amount"], data={"amount": "1.50"}) == {}
    assert model_update(instance=item, fields=["amount"], data={"amount": Decimal("2")}) == {
        "amount": (Decimal("1.50"), Decimal("2"))}


def test_many_to_many_fields_are_not_set_by_model_update(bureau):
    meeting_field_owner = Meeting(pk=1)
    with pytest.raises(TypeError):
        model_update(instance=meeting_field_owner, fields=["study_tags"], data={"study_tags": []})


# ---------------------------------------------------------------- services: the entry names what changed

def test_editing_one_member_field_logs_exactly_that_field(bureau, by):
    member = bureau.member_a
    data = {f: getattr(member, f) for f in org_services.MEMBER_FIELDS if f not in ("organization", "status")}
    org_services.member_update(by=by, member=member, data={**data, "post": "副科长"})
    [entry] = _entries("member.update")
    assert (entry.before, entry.after) == ({"post": "科员"}, {"post": "副科长"})


def test_saving_an_unchanged_member_form_writes_no_entry(bureau, client_for):
    member = bureau.member_a
    client = client_for("branch_secretary")
    url = reverse("organizations:member_edit", args=[member.pk])
    form = client.get(url).context["form"]
    post = {name: form[name].value() for name in form.fields}
    post = {k: ("" if v is None else v.isoformat() if hasattr(v, "isoformat") else v) for k, v in post.items()}
    assert client.post(url, post).status_code == 302
    assert _entries("member.update") == []


def test_a_field_the_caller_does_not_give_keeps_its_value(bureau, by):
    member = bureau.member_a
    phone, education = member.phone, member.education
    org_services.member_update(by=by, member=member, data={"post": "副科长"})  # no phone, no education
    member.refresh_from_db()
    assert (member.post, member.phone, member.education) == ("副科长", phone, education)
    [entry] = _entries("member.update")
    assert set(entry.after) == {"post"}


def test_a_changed_phone_is_logged_masked(bureau, by):
    org_services.member_update(by=by, member=bureau.member_a, data={"phone": "13900001111"})
    [entry] = _entries("member.update")
    assert entry.after == {"phone": "139****1111"} and set(entry.before) == {"phone"}


def test_unit_update_logs_only_the_organisation_when_only_it_changes(bureau, by):
    org_services.unit_update(by=by, unit=bureau.office, name=" 办公室 ", organization=bureau.branch_b)
    [entry] = _entries("unit.update")
    assert (entry.before, entry.after) == ({"organization": bureau.branch_a.pk}, {"organization": bureau.branch_b.pk})
    org_services.unit_update(by=by, unit=bureau.office, name="办公室", organization=bureau.branch_b)
    assert len(_entries("unit.update")) == 1


# ---------------------------------------------------------------- meetings: 会议时间 and the rest

def _input(meeting, **changes):
    base = dict(organization=meeting.organization, kind=meeting.kind, starts_at=meeting.starts_at,
                topics=meeting.topics, place=meeting.place, minutes=meeting.minutes,
                study_tags=[t.name for t in meeting.study_tags.all()])
    return MeetingInput(**(base | changes))


@time_machine.travel(NOW, tick=False)
def test_the_same_meeting_time_in_another_time_zone_is_not_a_change(bureau, by):
    meeting = services.meeting_record(by=by, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=shanghai(2026, 11, 27), topics="学习"))
    meeting = Meeting.objects.get(pk=meeting.pk)  # as loaded from the database: in UTC
    services.meeting_update(by=by, meeting=meeting, data=_input(meeting, starts_at=shanghai(2026, 11, 27)))
    services.meeting_update(by=by, meeting=meeting, data=_input(meeting, starts_at=meeting.starts_at.astimezone(UTC)))
    assert _entries("meeting.update") == []


@time_machine.travel(NOW, tick=False)
def test_editing_the_place_of_a_meeting_logs_exactly_the_place(bureau, by):
    meeting = services.meeting_record(by=by, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=shanghai(2026, 11, 27), topics="学习",
        place="三楼会议室"))
    services.meeting_update(by=by, meeting=meeting, data=_input(meeting, place="五楼会议室"))
    [entry] = _entries("meeting.update")
    assert (entry.before, entry.after) == ({"place": "三楼会议室"}, {"place": "五楼会议室"})


@time_machine.travel(NOW, tick=False)
def test_an_absence_added_is_logged_as_attendance_only(bureau, by):
    meeting = services.meeting_record(by=by, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=shanghai(2026, 11, 27), topics="学习"))
    services.meeting_update(by=by, meeting=meeting, data=_input(
        meeting, absences={bureau.member_a.pk: ("sick", "住院")}))
    [entry] = _entries("meeting.update")
    pk = str(bureau.member_a.pk)  # the attendance row of that member, only the fields that changed
    assert entry.before == {"attendance": {pk: {"present": True, "absence_reason": "", "note": ""}}}
    assert entry.after == {"attendance": {pk: {"present": False, "absence_reason": "sick", "note": "住院"}}}


@time_machine.travel(NOW, tick=False)
def test_saving_an_unchanged_meeting_form_logs_no_change(bureau, client_for):
    client = client_for("branch_secretary")
    fields = {"organization": bureau.branch_a.pk, "kind": "theme_day", "starts_at": "2026-11-27T14:30",
              "topics": "学习贯彻党的二十大精神", "study_tags": "学习贯彻党的二十大精神", "place": "三楼会议室",
              "minutes": "一、传达文件\n二、交流发言", f"absent_{bureau.member_a.pk}": "sick",
              f"note_{bureau.member_a.pk}": "住院", "agenda-TOTAL_FORMS": "3", "agenda-INITIAL_FORMS": "0"}
    assert client.post(reverse("orglife:meeting_create"), fields).status_code == 302
    meeting = Meeting.objects.get()
    # The browser sends the textarea back with CRLF line breaks.
    again = fields | {"minutes": "一、传达文件\r\n二、交流发言"}
    assert client.post(reverse("orglife:meeting_edit", args=[meeting.pk]), again).status_code == 302
    assert _entries("meeting.update") == []
    assert client.post(reverse("orglife:meeting_edit", args=[meeting.pk]),
                       fields | {"starts_at": "2026-11-27T15:00"}).status_code == 302
    [entry] = _entries("meeting.update")
    assert set(entry.after) == {"starts_at"}
    assert entry.after["starts_at"] == "2026-11-27T15:00:00+08:00"


# ---------------------------------------------------------------- transitions

@time_machine.travel(NOW, tick=False)
def test_leaving_the_roster_twice_is_refused_in_chinese(bureau, by):
    member = Member.objects.filter(organization=bureau.branch_a).exclude(pk=bureau.member_a.pk).first()
    org_services.member_leave(by=by, member=member, status=Member.Status.DECEASED, on=dt.date(2026, 5, 1))
    with pytest.raises(ValidationError, match=f"{member.name}已不在册"):
        org_services.member_leave(by=by, member=member, status=Member.Status.LEFT, on=dt.date(2026, 6, 1))
    [entry] = _entries("member.leave")
    assert (entry.before, entry.after) == ({"status": "active"}, {"status": "deceased", "appointments_ended": []})


@time_machine.travel(NOW, tick=False)
def test_dissolving_writes_the_event_and_names_only_the_date_in_the_trail(bureau, by):
    Member.objects.filter(organization=bureau.branch_b).update(status=Member.Status.TRANSFERRED_OUT)
    org_services.organization_dissolve(by=by, organization=bureau.branch_b, on=dt.date(2026, 6, 1))
    assert OrganizationEvent.objects.filter(organization=bureau.branch_b, kind="dissolved").count() == 1
    [entry] = _entries("organization.dissolve")
    assert entry.before == {"dissolved_on": None}
    assert entry.after == {"dissolved_on": "2026-06-01", "appointments_ended": ["李四（书记）"]}


def test_the_transition_table_refuses_moves_it_does_not_list(bureau):
    org = Organization.objects.get(pk=bureau.branch_a.pk)
    flow = Workflow(subject="党组织", field=None, labels={"live": "存续", "dissolved": "已撤销"},
                    state=lambda o: "dissolved" if o.dissolved_on else "live", moves={"live": frozenset({"dissolved"})})
    with pytest.raises(ValidationError, match="当前为“存续”，不能改为“存续”"):
        transition(workflow=flow, instance=org, to="live")
    with pytest.raises(ValueError):  # values that do not reach the state are a programming error
        transition(workflow=flow, instance=org, to="dissolved", values={"name": "改名"})
