import datetime as dt
import re

from django.urls import reverse

from dangjian.audit.models import AuditEntry
from dangjian.organizations.models import Member, Membership, Organization
from tests.factories import valid_id_number


def _member_post(bureau, **over):
    data = {"name": "钱七", "gender": "male", "ethnicity": "汉族", "id_number": valid_id_number(dt.date(1988, 8, 8)),
            "birth_date": "1988-08-08", "joined_on": "2012-07-01", "full_on": "2013-07-01", "category": "full",
            "education": "bachelor", "post": "科员", "unit": bureau.office.pk, "organization": bureau.branch_a.pk,
            "phone": "13611112222"}
    data.update(over)
    return data


def test_branch_secretary_registers_a_member(bureau, client_for):
    response = client_for("branch_secretary").post(reverse("organizations:member_create"), _member_post(bureau))
    member = Member.objects.get(name="钱七")
    assert response.status_code == 302 and response.url == member.get_absolute_url()
    assert Membership.objects.filter(member=member, organization=bureau.branch_a).exists()


def test_a_bad_member_form_says_what_to_fix_in_chinese_and_saves_nothing(bureau, client_for):
    client = client_for("branch_secretary")
    before = (Member.objects.count(), AuditEntry.objects.count())
    bad = _member_post(bureau, id_number="330102198808080000", joined_on="2030-01-01", phone="123", full_on="")
    response = client.post(reverse("organizations:member_create"), bad)
    page = response.content.decode()
    assert response.status_code == 200
    assert "身份证号校验位不正确" in page
    assert "入党日期不能晚于今天" in page
    assert "电话号码格式不正确" in page
    assert "未保存任何内容" in page
    assert (Member.objects.count(), AuditEntry.objects.count()) == before


def test_a_secretary_cannot_register_into_a_sibling_branch(bureau, client_for):
    response = client_for("branch_secretary").post(reverse("organizations:member_create"),
                                                   _member_post(bureau, organization=bureau.branch_b.pk))
    assert response.status_code == 200
    assert not Member.objects.filter(name="钱七").exists()


def test_every_problem_is_listed_in_one_submission(bureau, client_for):
    # A missing birth date (refused by the form field) does not hide the ID and phone problems.
    bad = _member_post(bureau, birth_date="", id_number="330102198808080000", phone="123")
    page = client_for("branch_secretary").post(reverse("organizations:member_create"), bad).content.decode()
    assert "身份证号校验位不正确" in page and "电话号码格式不正确" in page and "请填写此项" in page


def test_an_unreadable_date_gets_a_chinese_message(bureau, client_for):
    response = client_for("branch_secretary").post(reverse("organizations:member_create"),
                                                   _member_post(bureau, birth_date="三月"))
    assert "请输入有效日期" in response.content.decode()


def test_transfer_through_the_page_keeps_history(bureau, client_for):
    url = reverse("organizations:member_transfer", args=[bureau.member_b.pk])
    response = client_for("party_office").post(url, {"to": bureau.branch_a.pk, "on": "2026-02-01", "note": "调动"})
    assert response.status_code == 302
    assert Membership.objects.filter(member=bureau.member_b).count() == 2


def test_id_numbers_are_masked_in_every_page_for_every_role(bureau, client_for):
    full_ids = set(Member.objects.values_list("id_number", flat=True))
    for persona in ("party_office", "branch_secretary", "leader", "discipline", "member"):
        client = client_for(persona)
        for url in (reverse("organizations:members"),
                    reverse("organizations:member_detail", args=[bureau.member_a.pk])):
            page = client.get(url).content.decode()
            assert not (set(re.findall(r"\d{17}[\dX]", page)) & full_ids), (persona, url)


def test_revealing_an_id_number_needs_a_reason_and_is_audited(bureau, client_for):
    client = client_for("party_office")
    url = reverse("organizations:member_reveal", args=[bureau.member_a.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "核对党费基数"})
    assert bureau.member_a.id_number in response.content.decode()
    entry = AuditEntry.objects.get(action="member.reveal_id_number")
    assert entry.note == "核对党费基数" and entry.actor_name == "dangban"
    # A leader may read the record but not unmask it.
    assert client_for("leader").post(url, {"reason": "看看"}).status_code == 404


def test_leader_sees_masked_phones_secretary_sees_full(bureau, client_for):
    url = reverse("organizations:member_detail", args=[bureau.member_a.pk])
    assert bureau.member_a.phone in client_for("branch_secretary").get(url).content.decode()
    assert bureau.member_a.phone not in client_for("leader").get(url).content.decode()


def test_party_office_founds_and_restructures_an_organisation(bureau, client_for):
    client = client_for("party_office")
    response = client.post(reverse("organizations:create"), {
        "parent": bureau.general_branch.pk, "kind": "branch", "code": "ZH", "name": "智慧交通处党支部",
        "founded_on": "2026-03-01", "note": "机构改革新设"})
    org = Organization.objects.get(code="ZH")
    assert response.status_code == 302
    response = client.post(reverse("organizations:restructure", args=[org.pk]),
                           {"name": "智慧交通与科技处党支部", "on": "2026-06-01", "note": ""})
    assert response.status_code == 200 and "请说明调整内容" in response.content.decode()
    response = client.post(reverse("organizations:restructure", args=[org.pk]),
                           {"name": "智慧交通与科技处党支部", "on": "2026-06-01", "note": "更名"})
    org.refresh_from_db()
    assert response.status_code == 302 and org.name == "智慧交通与科技处党支部"


def test_home_shows_the_to_do_list(bureau, client_for):
    from dangjian.organizations.models import Appointment

    Appointment.objects.filter(organization=bureau.branch_b).update(end=dt.date(2025, 1, 1))
    page = client_for("party_office").get("/").content.decode()
    assert "待办" in page and "第二党支部：未配备书记" in page
    # The branch secretary of A is not reminded about branch B.
    assert "第二党支部" not in client_for("branch_secretary").get("/").content.decode()


def test_pages_load_nothing_from_another_host(bureau, client_for):
    client = client_for("party_office")
    for url in ("/", reverse("organizations:tree"), reverse("organizations:members"), reverse("reports:metrics"),
                reverse("access:login")):
        page = client.get(url).content.decode()
        assert not re.search(r"""(src|href)=["']https?://""", page), url


def test_party_office_adds_a_unit_and_ends_an_appointment(bureau, client_for):
    from dangjian.organizations.models import Appointment, Unit

    client = client_for("party_office")
    response = client.post(reverse("organizations:unit_create"), {
        "parent": bureau.bureau_unit.pk, "kind": "branch_office", "code": "CX", "name": "城西分局",
        "organization": bureau.branch_b.pk})
    assert response.status_code == 302 and Unit.objects.get(code="CX").organization == bureau.branch_b
    duplicate = client.post(reverse("organizations:unit_create"), {"kind": "department", "code": "CX", "name": "x"})
    assert "编码 CX 已被使用" in duplicate.content.decode()
    appointment = Appointment.objects.get(organization=bureau.branch_a, role="secretary")
    url = reverse("organizations:appointment_end", args=[bureau.branch_a.pk, appointment.pk])
    early = client.post(url, {"end": "2020-01-01"})
    assert "免职日期不能早于任职日期" in early.content.decode()
    assert client.post(url, {"end": "2026-01-31"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.end == dt.date(2026, 1, 31)


def test_only_a_top_level_grant_may_start_a_new_unit_tree(bureau, client_for):
    from django.test import Client

    from dangjian.access.roles import Role
    from dangjian.organizations.models import Unit
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user("zong", Role.PARTY_OFFICE, bureau.general_branch))
    response = client.post(reverse("organizations:unit_create"), {"kind": "department", "code": "NEWROOT", "name": "x"})
    assert "请选择上级单位" in response.content.decode() and not Unit.objects.filter(code="NEWROOT").exists()
    response = client_for("party_office").post(reverse("organizations:unit_create"),
                                               {"kind": "bureau", "code": "NEWROOT", "name": "市水务局"})
    assert response.status_code == 302 and Unit.objects.get(code="NEWROOT").depth == 1


def test_dissolve_confirm_and_leave_pages(bureau, client_for):
    from dangjian.organizations.models import Member, Organization
    from tests.factories import MemberFactory

    client = client_for("party_office")
    refused = client.post(reverse("organizations:dissolve", args=[bureau.branch_b.pk]), {"on": "2026-06-01"})
    assert "在册党员" in refused.content.decode()
    probationer = MemberFactory(organization=bureau.branch_a, category="probationary", full_on=None,
                                joined_on=dt.date(2025, 3, 1))
    assert client.post(reverse("organizations:member_confirm_full", args=[probationer.pk]),
                       {"on": "2026-03-01"}).status_code == 302
    assert Member.objects.get(pk=probationer.pk).category == "full"
    for member in Member.objects.filter(organization=bureau.branch_b):
        assert client.post(reverse("organizations:member_leave", args=[member.pk]),
                           {"status": "transferred_out", "on": "2026-05-01"}).status_code == 302
    assert client.post(reverse("organizations:dissolve", args=[bureau.branch_b.pk]),
                       {"on": "2026-06-01", "note": "机构改革"}).status_code == 302
    assert Organization.objects.get(pk=bureau.branch_b.pk).dissolved_on == dt.date(2026, 6, 1)
    assert client_for("branch_secretary").get(
        reverse("organizations:dissolve", args=[bureau.branch_a.pk])).status_code == 404
