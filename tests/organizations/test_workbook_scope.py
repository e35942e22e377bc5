"""Whose import it is: a party-office officer granted one 总支 imports a workbook from the page, and
every row is checked against that grant. The leaks closed here: founding a top-level 党组, putting
a member into a branch of another 总支, replacing the secretary of a branch out of scope. Each is
refused with its sheet, row and column, and nothing at all is written. The operator's command on
the server stays unscoped."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dangjian.access.roles import Role
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Member, Membership, Organization, Unit
from dangjian.organizations.workbook import import_roster, import_workbook
from tests.factories import MemberFactory, make_org, make_user
from tests.organizations.test_workbook import ORGS, ROSTER, person, xlsx

K = Organization.Kind
BY = Actor.system("test-scope")
OUT_OF_SCOPE = "不存在或不在您的管理范围内"
APPOINTMENTS = ["党组织编码", "身份证号", "职务", "任职日期"]


@pytest.fixture
def other(bureau):
    """A second 总支 under the same 机关党委, with a branch, its secretary and its members:
    outside a grant on the first 总支."""
    gb2 = make_org(bureau.committee, K.GENERAL_BRANCH, "第二党总支", code="GB2")
    branch_c = make_org(gb2, K.BRANCH, "第三党支部", code="BC")
    secretary = MemberFactory(name="王书记", organization=branch_c)
    MemberFactory.create_batch(2, organization=branch_c)
    Appointment.objects.create(organization=branch_c, member=secretary, role=Appointment.Role.SECRETARY,
                               start=dt.date(2024, 1, 1))
    return branch_c


@pytest.fixture
def gb_officer(bureau):
    """党办 officer granted the 第一党总支 and everything under it."""
    return make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch)


def counts() -> tuple[int, ...]:
    return (Member.objects.count(), Membership.objects.count(), Organization.objects.count(),
            Unit.objects.count(), Appointment.objects.count(), AuditEntry.objects.count())


def where(result) -> list[tuple[str, int, str]]:
    return [(e.sheet, e.row, e.column) for e in result.errors]


# ---------------------------------------------------------------- the three leaks


def test_general_branch_officer_cannot_found_a_top_level_leading_group(bureau, other, gb_officer):
    rows = [ORGS[0], ["NB1", "新党支部", "党支部", "GB1", "2024-1-1"],  # in scope: under their 总支
            ["NLG", "某局党组", "党组", "", "2024-1-1"]]
    before = counts()

    result = import_workbook(xlsx({"党组织": rows}), by=BY, user=gb_officer)

    assert where(result) == [("党组织", 3, "上级编码")]
    assert "顶层党组织" in result.errors[0].message
    assert counts() == before  # not even the row in scope


def test_general_branch_officer_cannot_found_an_organisation_under_a_parent_out_of_scope(bureau, other, gb_officer):
    rows = [ORGS[0], ["NGB", "新党总支", "党总支", "OC", "2024-1-1"],   # under the 机关党委, above them
            ["NBC", "新党支部", "党支部", "GB2", "2024-1-1"]]           # under the other 总支
    before = counts()

    result = import_workbook(xlsx({"党组织": rows}), by=BY, user=gb_officer)

    assert where(result) == [("党组织", 2, "上级编码"), ("党组织", 3, "上级编码")]
    assert all(OUT_OF_SCOPE in e.message for e in result.errors)
    assert counts() == before


def test_general_branch_officer_cannot_put_a_member_into_a_branch_of_another_general_branch(
        bureau, other, gb_officer):
    inside = person(41, org="BB", unit="")
    by_code = person(42, org="", unit="")
    by_name = person(43, org="第三党支部", unit="")
    header = [*ROSTER, "所在党组织编码"]
    rows = [header, [*inside, ""], [*by_code, "BC"], [*by_name, ""]]
    before = counts()

    result = import_workbook(xlsx({"花名册": rows}), by=BY, user=gb_officer)

    assert where(result) == [("花名册", 3, "所在党组织编码"), ("花名册", 4, "所在党组织")]
    assert all(OUT_OF_SCOPE in e.message for e in result.errors)
    assert "第三党支部" not in result.errors[0].message  # the code's owner is not named
    assert counts() == before
    assert not Member.objects.with_id_numbers(inside[4], by_code[4], by_name[4]).exists()


def test_general_branch_officer_cannot_replace_the_secretary_of_a_branch_out_of_scope(bureau, other, gb_officer):
    newcomer = person(44, org="BB", unit="")
    rows = {"花名册": [ROSTER, newcomer],
            "任职": [APPOINTMENTS, ["BC", newcomer[4], "书记", dt.date(2024, 6, 1)]]}
    before = counts()

    result = import_workbook(xlsx(rows), by=BY, user=gb_officer)

    assert where(result) == [("任职", 2, "党组织编码")]
    assert OUT_OF_SCOPE in result.errors[0].message
    assert "王书记" not in str(result.errors)  # who holds the post out of scope is not told
    assert counts() == before
    assert Appointment.objects.get(organization=other, role="secretary", end__isnull=True).member.name == "王书记"


def test_an_appointment_cannot_name_a_member_out_of_scope(bureau, other, gb_officer):
    outsider = Member.objects.filter(organization=other).exclude(name="王书记").first()
    rows = [APPOINTMENTS, ["BB", outsider.id_number, "委员", dt.date(2024, 6, 1)]]
    before = counts()

    result = import_workbook(xlsx({"任职": rows}), by=BY, user=gb_officer)

    assert where(result) == [("任职", 2, "身份证号")]
    assert OUT_OF_SCOPE in result.errors[0].message and outsider.name not in result.errors[0].message
    assert counts() == before


def test_a_member_already_registered_elsewhere_is_refused_and_not_moved(bureau, other, gb_officer):
    outsider = Member.objects.filter(organization=other).first()
    row = person(45, org="BB", unit="")
    row[4] = outsider.id_number
    before = counts()

    result = import_roster(xlsx({"花名册": [ROSTER, row]}), by=BY, user=gb_officer)

    assert where(result) == [("花名册", 2, "身份证号")]
    assert counts() == before
    assert Member.objects.get(pk=outsider.pk).organization == other


def test_a_reference_out_of_scope_reads_exactly_as_one_to_nothing(bureau, other, gb_officer):
    rows = [APPOINTMENTS, ["BC", bureau.member_b.id_number, "委员", "2024-6-1"],
            ["ZZZ", bureau.member_b.id_number, "委员", "2024-6-1"]]

    result = import_workbook(xlsx({"任职": rows}), by=BY, user=gb_officer)

    existing, missing = (e.message for e in result.errors)
    assert existing.replace("BC", "ZZZ") == missing


def test_units_need_manage_units_and_a_top_level_unit_needs_a_top_level_grant(bureau, other, gb_officer):
    rows = [["编码", "名称", "类型", "上级编码", "服务党组织编码"],
            ["NU1", "新处室", "处室", bureau.office.code, "BA"],               # in scope: served by branch A
            ["NU2", "另一处室", "处室", bureau.bureau_unit.code, ""],          # 局机关 is served by the 党组
            ["NU3", "新局", "局机关", "", ""],                                 # top level
            ["NU4", "某处室", "处室", bureau.office.code, "BC"]]               # served by a branch out of scope
    before = counts()

    result = import_workbook(xlsx({"单位": rows}), by=BY, user=gb_officer)

    assert where(result) == [("单位", 3, "上级编码"), ("单位", 4, "上级编码"), ("单位", 5, "服务党组织编码")]
    assert counts() == before
    assert import_workbook(xlsx({"单位": rows[:2]}), by=BY, user=gb_officer).created == {"单位": 1}


# ---------------------------------------------------------------- grants without descendants


def test_a_grant_without_descendants_on_a_general_branch_cannot_import_members_into_its_branches(bureau):
    officer = make_user("zongzhi_only", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    before = counts()

    result = import_roster(xlsx({"花名册": [ROSTER, person(46, org="BA", unit="")]}), by=BY, user=officer)

    assert where(result) == [("花名册", 2, "所在党组织")]
    assert OUT_OF_SCOPE in result.errors[0].message
    assert counts() == before


def test_a_grant_without_descendants_may_found_a_branch_but_not_fill_it(bureau):
    officer = make_user("zongzhi_only", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    orgs = [ORGS[0], ["NB1", "新党支部", "党支部", "GB1", "2024-1-1"]]
    sheets = {"党组织": orgs, "花名册": [ROSTER, person(47, org="NB1", unit="")],
              "任职": [APPOINTMENTS, ["NB1", bureau.member_b.id_number, "委员", "2024-6-1"]]}
    before = counts()

    result = import_workbook(xlsx(sheets), by=BY, user=officer)

    # The new branch will not be theirs once founded: its grant covers the 总支 alone.
    assert where(result) == [("花名册", 2, "所在党组织"), ("任职", 2, "党组织编码"), ("任职", 2, "身份证号")]
    assert counts() == before
    assert import_workbook(xlsx({"党组织": orgs}), by=BY, user=officer).created == {"党组织": 1}


# ---------------------------------------------------------------- in scope, and the operator


def test_an_import_inside_the_officers_general_branch_succeeds(bureau, other, gb_officer):
    newcomer, second = person(48, org="NB1", unit="NU1"), person(49, org="BB", unit="城东分局")
    sheets = {
        "党组织": [ORGS[0], ["NB1", "新党支部", "党支部", "GB1", "2024-1-1"]],
        "单位": [["编码", "名称", "类型", "上级编码", "服务党组织编码"], ["NU1", "新处室", "处室", bureau.office.code, "NB1"]],
        "花名册": [ROSTER, newcomer, second],
        "任职": [APPOINTMENTS, ["NB1", newcomer[4], "书记", "2024-6-1"], ["BB", second[4], "书记", "2024-6-1"]],
    }

    result = import_workbook(xlsx(sheets), by=BY, user=gb_officer)

    assert result.ok, result.errors
    assert result.created == {"党组织": 1, "单位": 1, "花名册": 2, "任职": 2}
    assert Appointment.objects.get(organization=bureau.branch_b, role="secretary", end__isnull=True
                                   ).member.id_number == second[4]


def test_the_import_page_checks_rows_against_the_logged_in_user(bureau, other, gb_officer):
    client = Client()
    client.force_login(gb_officer)
    upload = xlsx({"党组织": [ORGS[0], ["NLG", "某局党组", "党组", "", "2024-1-1"]]})
    upload.name = "bureau.xlsx"
    before = counts()

    response = client.post(reverse("organizations:member_import"), {"file": upload})

    assert response.status_code == 200
    assert where(response.context["result"]) == [("党组织", 2, "上级编码")]
    assert counts() == before


def test_the_command_on_the_server_is_unscoped(bureau, other, tmp_path):
    newcomer = person(51, org="BC", unit="")  # a 正式党员 (person(50) is 预备: no 被选举权)
    sheets = {"党组织": [ORGS[0], ["NLG", "某局党组", "党组", "", "2024-1-1"]],
              "花名册": [ROSTER, newcomer],
              "任职": [APPOINTMENTS, ["BC", newcomer[4], "书记", "2024-6-1"]]}
    path = tmp_path / "bureau.xlsx"
    path.write_bytes(xlsx(sheets).getvalue())

    call_command("import_workbook", str(path))

    assert Organization.objects.get(code="NLG").depth == 1
    assert Appointment.objects.get(organization=other, role="secretary", end__isnull=True
                                   ).member.id_number == newcomer[4]


def test_an_officer_granted_the_top_level_organisation_may_found_a_top_level_unit(bureau):
    rows = [["编码", "名称", "类型", "上级编码", "服务党组织编码"], ["NU9", "新局", "局机关", "", "LG"]]
    result = import_workbook(xlsx({"单位": rows}), by=BY, user=bureau.users["party_office"])
    assert result.created == {"单位": 1}  # as on the 添加单位 page
