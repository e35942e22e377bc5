"""Field survival: for every model a page, the API or a service edits, a record with every field
filled keeps every field but the one an edit changes. The edit goes through the real page form, as
a browser sends it (tests/formdata.py), and through the API where there is one.

The comparison enumerates each model's concrete fields, so a field added later is compared without
anyone remembering to add it; and `_assert_filled` fails until the new field is filled here, so the
check never passes on an empty value. Exempt fields, each with its reason, are in EXEMPT."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.organizations import services as org_services
from dangjian.organizations.models import Appointment, Member, Organization, Unit
from dangjian.orglife import services as orglife_services
from dangjian.orglife.models import AgendaItem, Attendance, ContactPoint, Guest, Meeting, MeetingKind
from dangjian.orglife.services import AgendaInput, GuestInput, MeetingInput
from tests.factories import MemberFactory, make_org, make_unit
from tests.formdata import form_data

NOW = dt.datetime(2026, 11, 30, 10, 0)
BY = Actor.system("测试")

# Every model that a page, the API or a service edits (creating is not editing).
WRITABLE = ["organizations.Member", "organizations.Unit", "organizations.Organization", "organizations.Appointment",
            "orglife.Meeting", "orglife.AgendaItem", "orglife.Attendance", "orglife.Guest", "orglife.ContactPoint"]
EXEMPT = {
    "organizations.Member.updated_at": "auto_now: it moves on every real change, by design",
    "orglife.Attendance.has_vote": "derived: 表决权 on the meeting day, worked out from the member's status on every save",
    # Optimistic locking's write counter (core.updates): it moves on every real change, by design.
    "organizations.Member.version": "write counter: one more on every real change, by design",
    "organizations.Unit.version": "write counter: one more on every real change, by design",
    "organizations.Organization.version": "write counter: one more on every real change, by design",
    "organizations.Appointment.version": "write counter: one more on every real change, by design",
    "orglife.Meeting.version": "write counter: one more on every real change, by design",
}
# How each model is edited, and whether an edit path exists at all.
EDIT_PATHS = {
    "organizations.Member": "page member_edit; API PATCH /api/members/{id}",
    "organizations.Unit": "service unit_update only (no page or API edits a unit)",
    "organizations.Organization": "pages restructure (rename), renew_term and extend_term (term_extended_to only)",
    "organizations.Appointment": "page appointment_end",
    "orglife.Meeting": "page meeting_edit; API PUT /api/meetings/{id}",
    "orglife.AgendaItem": "within its meeting: page meeting_edit; API PUT /api/meetings/{id}",
    "orglife.Attendance": "within its meeting: page meeting_edit; API PUT /api/meetings/{id}",
    "orglife.Guest": "within its meeting: page meeting_edit; API PUT /api/meetings/{id}",
    "orglife.ContactPoint": "none: contact_point_set only creates; an edit of a meeting naming the leader must leave it",
}


def _values(instance) -> dict:
    """Every concrete field, read back from the database."""
    row = type(instance).objects.get(pk=instance.pk)
    return {f.name: getattr(row, f.attname) for f in row._meta.concrete_fields
            if f"{row._meta.label}.{f.name}" not in EXEMPT}


def _assert_filled(instance, *, empty_ok=()) -> dict:
    """Every field holds a value (a boolean: not its default), so that losing it would show."""
    values = _values(instance)
    for field in instance._meta.concrete_fields:
        if field.name not in values or field.name in empty_ok:
            continue
        value = values[field.name]
        if field.get_internal_type() == "BooleanField":
            assert value != field.default, f"{instance._meta.label}.{field.name} left at its default: fill it"
        else:
            assert value not in (None, ""), f"{instance._meta.label}.{field.name} is empty: fill it in this test"
    return values


def _assert_kept(instance, before: dict, changed: set[str]) -> None:
    after = _values(instance)
    lost = {name: (before[name], after[name]) for name in before if name not in changed and before[name] != after[name]}
    assert not lost, f"{instance._meta.label}: fields changed by an edit of {sorted(changed)}: {lost}"
    for name in changed:
        assert before[name] != after[name], f"{instance._meta.label}.{name}: the edit itself did not land"


def _browser_post(client, url: str, form_id: str | None = None, **changes):
    """GET the page, change the named fields as a person would, and submit it."""
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content, form_id)
    data |= {name: [value] for name, value in changes.items()}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def test_every_writable_model_is_covered_and_every_exemption_names_a_real_field():
    assert set(EDIT_PATHS) == set(WRITABLE)
    for label in EXEMPT:
        app_model, name = label.rsplit(".", 1)
        apps.get_model(app_model)._meta.get_field(name)


# ---------------------------------------------------------------- organisations

@pytest.fixture
def full_member(bureau) -> Member:
    member = MemberFactory(name="周全", organization=bureau.branch_a, unit=bureau.office, ethnicity="回族",
                           category=Member.Category.FULL, full_on=dt.date(2011, 7, 1), post="科长",
                           phone="13800001111", education=Member.Education.POSTGRADUATE)
    return member


@time_machine.travel(NOW, tick=False)
def test_member_edit_page_and_api_keep_every_other_field(bureau, client_for, full_member):
    before = _assert_filled(full_member)
    _browser_post(client_for("party_office"), reverse("organizations:member_edit", args=[full_member.pk]), post="副处长")
    _assert_kept(full_member, before, {"post"})

    before = _values(full_member)
    response = client_for("party_office").patch(f"/api/members/{full_member.pk}", json.dumps({"post": "处长"}),
                                                content_type="application/json")
    assert response.status_code == 200, response.content
    _assert_kept(full_member, before, {"post"})


@time_machine.travel(NOW, tick=False)
def test_unit_update_keeps_every_other_field(bureau):
    unit = make_unit(bureau.bureau_unit, Unit.Kind.BRANCH_OFFICE, "城西分局", organization=bureau.branch_b)
    before = _assert_filled(unit)
    org_services.unit_update(by=BY, unit=unit, name="城西分局（新）", organization=bureau.branch_b)
    _assert_kept(unit, before, {"name"})


@time_machine.travel(NOW, tick=False)
def test_restructure_and_renew_pages_keep_every_other_field_of_an_organisation(bureau, client_for):
    org = make_org(bureau.general_branch, Organization.Kind.BRANCH, "第三党支部", code="BC",
                   term_start=dt.date(2023, 5, 1), term_end=dt.date(2026, 5, 1), dissolved_on=dt.date(2026, 10, 1),
                   term_extended_to=dt.date(2027, 1, 1))
    make_org(org, Organization.Kind.CELL, "第三党支部第一党小组", code="BC1")  # numchild 1
    client = client_for("party_office")
    before = _assert_filled(org)
    _browser_post(client, reverse("organizations:restructure", args=[org.pk]), name="第三党支部（更名）",
                  on="2026-11-01", note="机构改革更名")
    _assert_kept(org, before, {"name"})

    before = _values(org)
    _browser_post(client, reverse("organizations:renew_term", args=[org.pk]), on="2026-06-01", note="按期换届")
    _assert_kept(org, before, {"term_start", "term_end", "term_extended_to"})  # a new term ends an extension


@time_machine.travel(NOW, tick=False)
def test_ending_an_appointment_keeps_every_other_field(bureau, client_for):
    appointment = Appointment.objects.get(organization=bureau.branch_a, member=bureau.member_a)
    before = _assert_filled(appointment, empty_ok={"end"})  # the field this edit fills
    _browser_post(client_for("party_office"), reverse("organizations:appointment_end",
                                                      args=[bureau.branch_a.pk, appointment.pk]), end="2026-11-01")
    _assert_kept(appointment, before, {"end"})


# ---------------------------------------------------------------- organisational life

@pytest.fixture
def full_meeting(bureau) -> Meeting:
    """A 党组会 with every field of it and of its parts filled."""
    colleague = MemberFactory(name="吴刚", organization=bureau.branch_b)
    Appointment.objects.create(organization=bureau.root, member=colleague, role=Appointment.Role.COMMITTEE_MEMBER,
                               start=dt.date(2024, 1, 1))
    ContactPoint.objects.create(leader=bureau.member_a, organization=bureau.branch_a, year=2026)
    at = dt.datetime(2026, 10, 9, 9, 30, tzinfo=timezone.get_current_timezone())
    meeting = orglife_services.meeting_record(
        by=Actor(user=bureau.users["party_office"], name="dangban"), entered_at=at + dt.timedelta(days=30),
        data=MeetingInput(
            organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=at, topics="研究重大事项",
            place="党组会议室", host=bureau.member_b, recorder=colleague, lecturer=bureau.member_a,
            lecturer_name="市委党校 王教授", minutes="一、研究事项\n二、部署工作", study_tags=["学习贯彻 党的二十届四中全会精神"],
            absences={colleague.pk: ("official", "在省厅开会")},
            guests=[GuestInput(name="张三", role=Guest.Role.SUPERVISOR, title="机关党委书记", member=bureau.member_a)],
            agenda=[AgendaInput(title="研究城东快速路项目", category="large_fund", amount=Decimal("380.50"),
                                votes_for=1, votes_against=0, votes_abstain=0, chair_spoke_last=False,
                                decision="会议同意项目方案。")]))
    # 民主评议党员 is a branch's, not a 党组会's (orglife.combinable.*): set as on a record imported
    # before the rule, which an edit keeps.
    Meeting.objects.filter(pk=meeting.pk).update(includes_appraisal=True, covers_year=2026)
    return meeting


def _parts(meeting):
    return [meeting.agenda_items.get(), meeting.attendances.get(present=False), meeting.guests.get()]


@time_machine.travel(NOW, tick=False)
def test_the_meeting_page_keeps_every_field_of_the_meeting_and_its_parts(bureau, client_for, full_meeting):
    meeting = full_meeting
    before = _assert_filled(meeting)
    parts = {part: _assert_filled(part) for part in _parts(meeting)}
    present = meeting.attendances.get(present=True)
    present_before = _assert_filled(present, empty_ok={"present", "absence_reason", "note"})  # the present row
    point = ContactPoint.objects.get()
    point_before = _assert_filled(point)
    client = client_for("party_office")
    url = reverse("orglife:meeting_edit", args=[meeting.pk])
    _browser_post(client, url, "meeting-form", place="五楼小会议室")
    _assert_kept(meeting, before, {"place"})
    for part, values in parts.items():
        _assert_kept(part, values, set())
    _assert_kept(present, present_before, set())
    _assert_kept(point, point_before, set())

    # One field of one part, through the same page: the rest of that row stays.
    item = meeting.agenda_items.get()
    before = _values(item)
    data = form_data(client.get(url).content, "meeting-form")
    prefix = next(k[:-3] for k, v in data.items() if k.startswith("agenda-") and k.endswith("-id") and v == [str(item.pk)])
    data[f"{prefix}-title"] = ["研究城东快速路项目（调整）"]
    assert client.post(url, data).status_code == 302
    _assert_kept(item, before, {"title"})


@time_machine.travel(NOW, tick=False)
def test_the_meeting_api_keeps_every_field_it_is_sent_back(bureau, client_for, full_meeting):
    meeting = full_meeting
    before = _values(meeting)
    parts = {part: _values(part) for part in _parts(meeting)}
    client = client_for("party_office")
    got = client.get(f"/api/meetings/{meeting.pk}").json()
    body = {name: got[name] for name in ("kind", "starts_at", "topics", "host", "recorder", "lecturer",
                                         "lecturer_name", "minutes", "study_tags", "includes_appraisal",
                                         "covers_year", "also_counts")}
    body |= {"organization": got["organization"], "place": "五楼小会议室",
             "absences": [{"member": a["member"], "reason": a["absence_reason"], "note": a["note"]}
                          for a in got["attendances"] if not a["present"]],
             "guests": [{k: g[k] for k in ("id", "name", "role", "title", "member")} for g in got["guests"]],
             "agenda": [{k: i[k] for k in ("id", "title", "category", "amount", "votes_for", "votes_against",
                                           "votes_abstain", "chair_spoke_last", "decision")}
                        for i in got["agenda_items"]]}
    response = client.put(f"/api/meetings/{meeting.pk}", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    _assert_kept(meeting, before, {"place"})
    for part, values in parts.items():
        _assert_kept(part, values, set())


@time_machine.travel(NOW, tick=False)
def test_agenda_items_and_attendance_models_are_those_the_meeting_edit_touches():
    # The parts compared above are every model that hangs off a meeting and is edited with it.
    edited_with_meeting = {AgendaItem, Attendance, Guest}
    children = {rel.related_model for rel in Meeting._meta.related_objects if rel.on_delete.__name__ == "CASCADE"}
    assert edited_with_meeting <= children
