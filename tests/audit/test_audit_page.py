"""The audit administrator reads the trail in words: role names, the labels of choices, the names
of the organisations, members, units and accounts an entry refers to, 是/否 and Chinese dates —
never the codes and ids the entries keep. The names come in one query per page."""

import datetime as dt
import html
import re

from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.access import services as access
from dangjian.access.roles import Role
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations import services as org
from dangjian.organizations.models import Appointment, Member, Organization, Unit
from dangjian.orglife import services as life
from dangjian.orglife.models import MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.factories import bulk_members, make_user, valid_id_number

K = Organization.Kind


def _secretary(b) -> Actor:
    user = b.users["branch_secretary"]
    return Actor(user=user, name=user.username, roles=(Role.BRANCH_SECRETARY,), ip="10.0.0.8")


def _demo_like_trail(b) -> None:
    """One of each kind of entry the demo and daily work write, by a person and by the system."""
    person, system = _secretary(b), Actor.system("系统初始化")
    today = timezone.localdate()
    new = org.organization_create(by=system, parent=b.general_branch, code="GB1-9", name="第九党支部", kind=K.BRANCH,
                                  founded_on=dt.date(2020, 1, 6), document_number="交党〔2020〕1号")
    org.organization_restructure(by=system, organization=new, on=today, note="划归机关党委", parent=b.committee)
    org.organization_renew_term(by=system, organization=new, on=today, note="换届选举")
    org.unit_create(by=system, parent=b.bureau_unit, code="U-9", name="科技处", kind=Unit.Kind.DEPARTMENT,
                    organization=new)
    birth = dt.date(1990, 3, 8)
    member = org.member_create(by=person, data=dict(
        name="王五", gender="male", birth_date=birth, id_number=valid_id_number(birth), joined_on=dt.date(2015, 7, 1),
        full_on=None, category="probationary", education="bachelor", post="科员", unit=b.office,
        organization=b.branch_a, phone="13800009999"))
    org.member_confirm_full(by=person, member=member, on=dt.date(2016, 7, 1))
    org.member_update(by=person, member=member, data={"post": "副科长", "unit": b.east})
    org.member_transfer(by=person, member=member, to=b.branch_b, on=today, note="工作调动")
    # A branch with no 正式党员 yet has a 书记 but no 委员 (支部工作条例 第二十条).
    appointment = org.appointment_create(by=system, organization=new, member=member, role=Appointment.Role.SECRETARY,
                                         start=today)
    org.member_leave(by=person, member=member, status=Member.Status.TRANSFERRED_OUT, on=today, note="调出本系统")
    assert Appointment.objects.get(pk=appointment.pk).end == today
    org.organization_dissolve(by=system, organization=new, on=today, note="机构撤并")
    user = access.user_create(by=system, username="wangwu", full_name="王五", password="Xy7!pass-word",
                              member=None)
    access.role_grant(by=system, user=user, role=Role.BRANCH_SECRETARY, organization=b.branch_b)
    life.meeting_record(by=person, data=MeetingInput(
        organization=b.cell_a, kind=MeetingKind.CELL_MEETING, topics="学习",
        starts_at=dt.datetime.combine(today - dt.timedelta(days=1), dt.time(9), tzinfo=timezone.get_current_timezone())))
    life.contact_point_set(by=system, leader=b.member_b, organization=b.branch_a, year=today.year)


def _cells(page: str, cls: str) -> list[str]:
    found = re.findall(rf'<td class="{cls}">(.*?)</td>', page, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", cell)) for cell in found]


def _raw_codes(entries) -> set[str]:
    """What must not be read on the page: the keys and code values the entries keep."""
    codes = {"True", "False", "None"}
    for entry in entries:
        codes |= {code for code in entry.roles.split(",") if code}
        model = apps.get_model(entry.object_type) if entry.object_type else None
        choices = {f.name for f in model._meta.concrete_fields if f.choices} if model else set()
        for side in (entry.before or {}, entry.after or {}):
            codes |= set(side)
            codes |= {value for key, value in side.items() if key in choices}
    return codes


def test_audit_admin_reads_the_trail_in_words_without_a_raw_code(bureau, client_for):
    _demo_like_trail(bureau)
    entries = list(AuditEntry.objects.all())
    assert len(entries) >= 15
    page = client_for("audit_admin").get(reverse("audit:search")).content.decode()
    changes, roles, actors = _cells(page, "changes"), _cells(page, "roles"), _cells(page, "actor")
    text = " ".join(changes + roles + actors)
    leftovers = {code for code in _raw_codes(entries) if re.search(rf"(?<![\w]){re.escape(code)}(?![\w])", text)}
    assert leftovers == set()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", " ".join(changes))  # dates in Chinese
    # The words a reader needs, where the trail keeps codes and ids.
    assert "支部书记/组织委员" in roles and "系统" in roles
    for words in ("党组织：第一党支部 → 第二党支部",  # member.transfer keeps organisation ids
                  "会议类型：党小组会", "党组织：第一党小组",  # meeting.record: kind code, organisation id
                  "党员类别：预备党员 → 正式党员",  # a choice
                  "工作单位：办公室 → 城东分局",  # a unit id
                  "角色：支部书记/组织委员", "党组织：第二党支部", "账号：王五",  # role.grant keeps codes
                  "含下级：是", "所在位置：第一党总支之下 → 局机关党委之下",  # the tree's path
                  f"撤销日期：— → {timezone.localdate():%Y}年", "同时免去职务：第九党支部书记"):
        assert _norm(words) in _norm(text), words


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _count(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("audit:search"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_names_every_row_in_one_query_however_many_entries(bureau, client_for):
    client = client_for("audit_admin")
    _demo_like_trail(bureau)
    few = _count(client)
    # Many more entries, by many people, about many organisations, members and units: the page
    # still reads the names of all it shows in one query.
    for i in range(30):
        user = make_user(f"extra{i}", Role.BRANCH_SECRETARY, bureau.branch_a)
        by = Actor(user=user, name=user.username, roles=(Role.BRANCH_SECRETARY,))
        for member in bulk_members(bureau.branch_a, 3, start=70_000 + i * 10):
            org.member_transfer(by=by, member=member, to=bureau.branch_b, on=timezone.localdate())
    assert AuditEntry.objects.count() > 100
    many = _count(client)
    # session, account, the session's authenticator (second factor), grants, entries, the one names
    # query (the session is saved at most once a minute: not by these page views)
    assert (few, many) == (6, 6)


def test_a_meeting_edit_names_each_changed_part_and_its_fields(bureau, client_for):
    """Attendance, guests and agenda items are kept in the entry by id with their fields' codes; the
    page names the member (or item) and the fields, and shows choices by their labels."""
    system = Actor.system("系统初始化")
    when = timezone.make_aware(dt.datetime(2026, 3, 2, 9))
    meeting = life.meeting_record(by=system, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=when, topics="主题党日"))
    life.meeting_update(by=system, meeting=meeting, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=when, topics="主题党日",
        absences={bureau.member_a.pk: ("official", "赴省厅培训")}))
    page = client_for("audit_admin").get(reverse("audit:search"), {"action": "meeting.update"})
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.content.decode())))
    assert f"出缺席 · {bureau.member_a.name}" in text
    assert "缺席原因 公差" in text and "说明 赴省厅培训" in text
    for raw in ("absence_reason", "official", "present", f"{bureau.member_a.pk}："):
        assert raw not in text, raw
