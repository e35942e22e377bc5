import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.orglife import services
from dangjian.orglife.models import Meeting, MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.factories import bulk_branches

BY = Actor.system("test")
NOW = dt.datetime(2026, 11, 30, 10, 0)


def at(y, m, d, h=14):
    return dt.datetime(y, m, d, h, tzinfo=timezone.get_current_timezone())


def _meeting(org, kind=MeetingKind.THEME_DAY, when=None):
    return services.meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind,
                                                            starts_at=when or at(2026, 3, 6), topics="学习"))


PAGES = {
    "meetings": lambda b, m: reverse("orglife:meetings"),
    "meeting_detail": lambda b, m: reverse("orglife:meeting_detail", args=[m.pk]),
    "meeting_create": lambda b, m: reverse("orglife:meeting_create"),
    "meeting_edit": lambda b, m: reverse("orglife:meeting_edit", args=[m.pk]),
    "meeting_delete": lambda b, m: reverse("orglife:meeting_delete", args=[m.pk]),
    "minutes": lambda b, m: reverse("orglife:meeting_minutes", args=[m.pk]),
    "ledger": lambda b, m: reverse("orglife:ledger", args=[b.branch_a.pk]),
    "matrix": lambda b, m: reverse("orglife:matrix"),
    "calendar": lambda b, m: reverse("orglife:calendar", args=[b.branch_a.pk]),
    "decisions": lambda b, m: reverse("orglife:decisions"),
    "contact_points": lambda b, m: reverse("orglife:contact_points"),
}
_ = 404
MATRIX = {
    #                   list det  new  edit del  docx xlsx mat  cal  dec  contact
    "party_office":      [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "branch_secretary":  [200, 200, 200, 200, 200, 200, 200, 200, 200, _, 200],
    "sibling_secretary": [200, _, 200, _, _, _, _, 200, _, _, 200],
    "leader":            [200, 200, _, _, _, 200, 200, 200, 200, 200, 200],
    "inspection_office": [200, 200, _, _, _, 200, 200, 200, 200, 200, 200],
    "unit_liaison":      [_, _, _, _, _, _, _, _, _, _, _],
    "discipline":        [200, 200, _, _, _, 200, 200, 200, 200, 200, 200],
    "member":            [_, _, _, _, _, _, _, _, _, _, _],
    "sys_admin":         [_, _, _, _, _, _, _, _, _, _, _],
    "security_admin":    [_, _, _, _, _, _, _, _, _, _, _],
    "audit_admin":       [_, _, _, _, _, _, _, _, _, _, _],
    "no_role":           [_, _, _, _, _, _, _, _, _, _, _],
}
CASES = [(p, page, e) for p, row in MATRIX.items() for page, e in zip(PAGES, row, strict=True)]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("persona", "page", "expected"), CASES, ids=[f"{p}-{g}" for p, g, _ in CASES])
def test_orglife_permission_matrix(bureau, client_for, persona, page, expected):
    meeting = _meeting(bureau.branch_a)
    assert client_for(persona).get(PAGES[page](bureau, meeting)).status_code == expected


@time_machine.travel(NOW, tick=False)
def test_branch_secretary_records_a_meeting_through_the_form(bureau, client_for):
    client = client_for("branch_secretary")
    form = client.get(reverse("orglife:meeting_create"), {"organization": bureau.branch_a.pk, "kind": "theme_day"})
    assert "应到 4 人" in form.content.decode()
    response = client.post(reverse("orglife:meeting_create"), {
        "organization": bureau.branch_a.pk, "kind": "theme_day", "starts_at": "2026-11-27T14:30",
        "topics": "学习贯彻党的二十大精神", "study_tags": "学习贯彻党的二十大精神", "place": "三楼会议室",
        f"absent_{bureau.member_a.pk}": "sick", f"note_{bureau.member_a.pk}": "住院",
        "agenda-TOTAL_FORMS": "3", "agenda-INITIAL_FORMS": "0"})
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response.url == meeting.get_absolute_url()
    assert meeting.attendances.filter(present=True).count() == 3
    assert meeting.attendances.get(member=bureau.member_a).absence_reason == "sick"
    assert [t.name for t in meeting.study_tags.all()] == ["学习贯彻党的二十大精神"]
    detail = client.get(meeting.get_absolute_url()).content.decode()
    assert "应到 4 人，实到 3 人" in detail


@time_machine.travel(NOW, tick=False)
def test_a_future_meeting_in_the_form_is_explained_and_not_saved(bureau, client_for):
    response = client_for("branch_secretary").post(reverse("orglife:meeting_create"), {
        "organization": bureau.branch_a.pk, "kind": "theme_day", "starts_at": "2026-12-27T14:30", "topics": "x",
        "agenda-TOTAL_FORMS": "3", "agenda-INITIAL_FORMS": "0"})
    assert "会议时间不能晚于现在" in response.content.decode()
    assert not Meeting.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_secretary_cannot_record_for_a_sibling_branch(bureau, client_for):
    response = client_for("branch_secretary").post(reverse("orglife:meeting_create"), {
        "organization": bureau.branch_b.pk, "kind": "theme_day", "starts_at": "2026-11-27T14:30", "topics": "x",
        "agenda-TOTAL_FORMS": "3", "agenda-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and not Meeting.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_matrix_cell_turns_from_missing_to_held(bureau, client_for):
    client = client_for("branch_secretary")
    url = reverse("orglife:matrix") + "?year=2026"
    page = client.get(url).content.decode()
    cell = 'data-state="missing" data-rule="theme_day"'
    assert page.count(cell) == 10  # January to October
    _meeting(bureau.branch_a, when=at(2026, 5, 8))
    assert client.get(url).content.decode().count(cell) == 9


@time_machine.travel(NOW, tick=False)
def test_matrix_query_count_is_the_same_for_25_and_2000_branches(bureau, client_for):
    client = client_for("party_office")
    bulk_branches(bureau.general_branch, 23, prefix="SM")
    url = reverse("orglife:matrix")
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"year": 2026}).status_code == 200
    bulk_branches(bureau.general_branch, 1977, prefix="LG")
    cache.clear()  # bulk rows bypass the services (no audit entry): the kept page would be shown
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, {"year": 2026})
    assert response.status_code == 200 and response.context["next_url"]
    assert len(small.captured_queries) == len(large.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_list_pages_query_counts_do_not_grow(bureau, client_for):
    client = client_for("party_office")
    for i in range(2):
        _meeting(bureau.branch_a, when=at(2026, 3, 2 + i))

    def count(url, **params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params).status_code == 200
        return len(ctx.captured_queries)

    urls = [reverse("orglife:meetings"), reverse("orglife:calendar", args=[bureau.branch_a.pk]),
            reverse("orglife:decisions"), reverse("orglife:contact_points")]
    small = [count(u, year=2026) for u in urls]
    for i in range(20):
        _meeting(bureau.branch_a, when=at(2026, 4, 1 + i))
    assert [count(u, year=2026) for u in urls] == small


@time_machine.travel(NOW, tick=False)
def test_optional_attachments_are_checked_and_served_through_the_policy(bureau, client_for, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    meeting = _meeting(bureau.branch_a)
    client = client_for("branch_secretary")
    url = reverse("orglife:attachment_upload", args=[meeting.pk])
    client.post(url, {"file": SimpleUploadedFile("run.exe", b"MZ")})
    assert not meeting.attachments.exists()
    client.post(url, {"file": SimpleUploadedFile("签到表.pdf", b"%PDF-1.4")})
    attachment = meeting.attachments.get()
    download = reverse("orglife:attachment_download", args=[meeting.pk, attachment.pk])
    assert b"".join(client.get(download).streaming_content) == b"%PDF-1.4"
    assert client_for("sibling_secretary").get(download).status_code == 404
    assert client_for("sibling_secretary").post(url, {"file": SimpleUploadedFile("x.pdf", b"x")}).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_register_holds_sanzhongyida_items_by_default(bureau, client_for):
    from dangjian.orglife.services import AgendaInput

    services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=at(2026, 6, 1), topics="党组会",
        agenda=[AgendaInput(title="采购执法车", category="large_fund", amount=80, votes_for=1, votes_against=0,
                            votes_abstain=0),
                AgendaInput(title="通报工作", category="ordinary")]))
    client = client_for("discipline")
    page = client.get(reverse("orglife:decisions"), {"year": 2026}).content.decode()
    assert "采购执法车" in page and "通报工作" not in page
    everything = client.get(reverse("orglife:decisions"), {"year": 2026, "category": "all"}).content.decode()
    assert "通报工作" in everything


@time_machine.travel(NOW, tick=False)
def test_the_meeting_form_offers_only_leaders_in_scope(bureau, client_for):
    from dangjian.organizations.models import Appointment
    from dangjian.orglife.models import ContactPoint
    from tests.factories import MemberFactory, make_org

    other_bureau = make_org(None, "leading_group", "另一局党组", code="XX")
    stranger = MemberFactory(name="外局领导", organization=bureau.branch_b)
    Appointment.objects.create(organization=other_bureau, member=stranger, role="secretary", start=dt.date(2024, 1, 1))
    visitor = MemberFactory(name="联系点领导", organization=bureau.branch_b)
    ContactPoint.objects.create(leader=visitor, organization=bureau.branch_a, year=2026)
    page = client_for("branch_secretary").get(reverse("orglife:meeting_create"),
                                              {"organization": bureau.branch_a.pk}).content.decode()
    assert "联系点领导" in page and "外局领导" not in page


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("query", [{"year": "²"}, {"org": "²"}, {"month": "²", "before": "99999999999999999999999"},
                                   {"org": "abc", "year": "-1"}])
def test_odd_query_strings_do_not_break_pages(bureau, client_for, query):
    client = client_for("party_office")
    for url in (reverse("orglife:meetings"), reverse("orglife:matrix"), reverse("orglife:decisions"),
                reverse("reports:metrics"), reverse("orglife:meeting_expected")):
        assert client.get(url, query).status_code in (200, 404)
    assert client.get(reverse("organizations:member_export"), {"organization": "²"}).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_a_meeting_recorded_by_mistake_is_deleted_with_a_reason_on_the_record(bureau, client_for):
    from dangjian.audit.models import AuditEntry

    meeting = _meeting(bureau.branch_a)
    url = reverse("orglife:meeting_delete", args=[meeting.pk])
    assert client_for("sibling_secretary").post(url, {"reason": "重复录入"}).status_code == 404
    client = client_for("branch_secretary")
    assert "请说明删除原因" in client.post(url, {"reason": ""}).content.decode()
    assert client.post(url, {"reason": "重复录入"}).status_code == 302
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    entry = AuditEntry.objects.get(action="meeting.delete")
    assert entry.note == "重复录入" and entry.before["expected"] == 4
