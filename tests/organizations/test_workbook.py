"""The bureau workbook and the 花名册: a party office loading a bureau, a branch secretary uploading
members, and exports that can be re-imported. Workbooks are built in memory with openpyxl."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Member, Membership, Organization, Unit
from dangjian.organizations.services import member_create
from dangjian.organizations.workbook import export_roster, import_roster, import_workbook
from dangjian.organizations.workbook import importer as importer_module
from tests.factories import MemberFactory, make_org, valid_id_number

K = Organization.Kind
OFFICER = Actor.system("test-party-office")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The bureau fixture creates a dozen log-ins; the production hasher takes a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ROSTER = ["姓名", "性别", "民族", "出生日期", "身份证号", "入党日期", "转正日期", "党员类别", "学历", "职务",
          "工作单位", "所在党组织", "联系电话"]
ORGS = [
    ["编码", "名称", "类型", "上级编码", "成立日期"],
    ["XLG", "市水务局党组", "党组", "", dt.date(2015, 1, 1)],
    ["XOC", "市水务局机关党委", "机关党委", "XLG", "2015-3-1"],
    ["XB1", "水务局第一党支部", "党支部", "XOC", "2016年5月4日"],
    ["XB2", "水务局第二党支部", "党支部", "XOC", "2016.05.04"],
]
UNITS = [
    ["编码", "名称", "类型", "上级编码", "服务党组织编码"],
    ["XU", "市水务局", "局机关", "", "XLG"],
    ["XU1", "水务局办公室", "处室", "XU", "XB1"],
    ["XU2", "水务局排水分局", "分局", "XU", "XB2"],
]


def xlsx(sheets: dict[str, list[list]]) -> io.BytesIO:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def person(i: int, *, org: str = "XB1", unit: str = "水务局办公室", joined="date") -> list:
    """Row i of a 花名册, valid. ID numbers are unique per i (a region per hundred rows)."""
    birth = dt.date(1970 + i % 20, 1 + i % 12, 1 + i % 28)
    male = i % 2 == 0
    joined_on = dt.date(birth.year + 25, 7, 1)
    joined_cell = {
        "date": joined_on,
        "dash": f"{joined_on.year}-{joined_on.month}-{joined_on.day}",
        "chinese": f"{joined_on.year}年{joined_on.month}月{joined_on.day}日",
        "dots": f"{joined_on.year}.{joined_on.month:02d}.{joined_on.day:02d}",
    }[joined]
    probationary = i % 10 == 0
    return [
        f"党员{i:04d}", "男" if male else "女", "汉族", birth,
        valid_id_number(birth, region=f"11{i // 100:04d}", seq=i % 100, male=male),
        joined_cell, None if probationary else dt.date(birth.year + 26, 7, 1),
        "预备党员" if probationary else "正式党员", "大学本科", "科员", unit, org, f"139{i:08d}",
    ]


def roster(n: int, **kwargs) -> list[list]:
    forms = ("date", "dash", "chinese", "dots")
    return [ROSTER] + [person(i, org="XB1" if i % 2 else "XB2", unit="水务局办公室" if i % 2 else "XU2",
                              joined=forms[i % 4], **kwargs) for i in range(n)]


def bad_checksum(id_number: str) -> str:
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


def counts() -> tuple[int, ...]:
    return (Member.objects.count(), Membership.objects.count(), Organization.objects.count(),
            Unit.objects.count(), Appointment.objects.count(), AuditEntry.objects.count())


# ---------------------------------------------------------------- all or nothing


def test_workbook_with_three_bad_rows_writes_nothing_and_names_exactly_those_rows(bureau):
    rows = roster(200)
    rows[10][4] = bad_checksum(rows[10][4])        # Excel row 11
    rows[56][5] = "2022-2-30"                      # Excel row 57
    rows[150][11] = "NOPE"                         # Excel row 151
    before = counts()

    result = import_workbook(xlsx({"党组织": ORGS, "单位": UNITS, "花名册": rows}), by=OFFICER, user=None)

    assert not result.ok
    assert result.created == {}
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [
        ("花名册", 11, "身份证号"), ("花名册", 57, "入党日期"), ("花名册", 151, "所在党组织"),
    ]
    assert "校验位" in result.errors[0].message
    assert result.errors[1].value == "2022-2-30" and "不存在" in result.errors[1].message
    assert "NOPE" in result.errors[2].message
    assert counts() == before  # no member, organisation, unit or audit entry


def test_clean_workbook_imports_every_sheet_through_the_services(bureau):
    appointments = [
        ["党组织编码", "身份证号", "职务", "任职日期"],
        ["XB1", person(1)[4], "书记", "2021-1-1"],
        ["XB1", person(3)[4], "委员", "2021-1-1"],
        ["BA", person(5)[4], "副书记", dt.date(2023, 1, 1)],  # an existing branch of the bureau
    ]
    rows = roster(200)
    rows[1][11] = "第一党支部"  # an existing organisation, by its exact name
    before_members, before_audit = Member.objects.count(), AuditEntry.objects.count()

    result = import_workbook(xlsx({"党组织": ORGS, "单位": UNITS, "花名册": rows, "任职": appointments}),
                             by=OFFICER, user=None)

    assert result.ok, result.errors
    assert result.created == {"党组织": 4, "单位": 3, "花名册": 200, "任职": 3}
    assert Member.objects.count() == before_members + 200
    imported = Member.objects.filter(pk__in=[m.pk for m in Member.objects.all() if m.id_number.startswith("11")])
    assert imported.count() == 200
    assert Membership.objects.filter(member__in=imported, end__isnull=True).count() == 200
    xb1 = Organization.objects.get(code="XB1")
    assert xb1.path.startswith(Organization.objects.get(code="XOC").path)
    assert Organization.objects.get(code="XOC").path.startswith(Organization.objects.get(code="XLG").path)
    assert Unit.objects.get(code="XU1").organization == xb1
    m = Member.objects.with_id_numbers(rows[1][4]).get()
    assert m.organization.code == "BA" and m.unit.code == "XU2"
    assert Membership.objects.get(member=m).organization == m.organization
    m1 = Member.objects.with_id_numbers(rows[2][4]).get()  # person(1): born 1971-02-02, unit by name
    assert (m1.category, m1.full_on, m1.education, m1.phone, m1.unit.code) == (
        "full", dt.date(1997, 7, 1), "bachelor", "13900000001", "XU1")
    assert Member.objects.with_id_numbers(rows[11][4]).get().category == "probationary"  # person(10)
    assert Appointment.objects.get(organization=xb1, role="secretary").member.id_number == person(1)[4]
    actions = list(AuditEntry.objects.order_by("seq")[before_audit:].values_list("action", flat=True))
    assert actions.count("member.create") == 200
    assert actions.count("organization.create") == 4 and actions.count("unit.create") == 3
    assert actions.count("appointment.create") == 3
    assert actions[-1] == "workbook.import"


def test_reimporting_the_same_workbook_creates_no_duplicates_and_says_so_once(bureau):
    appointments = [["党组织编码", "身份证号", "职务", "任职日期"], ["XB1", person(1)[4], "书记", "2021-1-1"]]
    sheets = {"党组织": ORGS, "单位": UNITS, "花名册": roster(200), "任职": appointments}
    assert import_workbook(xlsx(sheets), by=OFFICER, user=None).ok
    before = counts()

    again = import_workbook(xlsx(sheets), by=OFFICER, user=None)

    assert [str(e) for e in again.errors] == [
        "这个文件已经导入过：其中每一行都已在系统中（「党组织」4 行、「单位」3 行、「花名册」200 行、「任职」1 行），"
        "本次未导入任何数据。如要补充新的党组织、党员或任职，请只在表中保留新的行。"]
    assert counts() == before


def test_a_file_partly_imported_before_names_the_rows_already_there_once_per_sheet(bureau):
    assert import_workbook(xlsx({"党组织": ORGS, "单位": UNITS, "花名册": roster(30)}), by=OFFICER, user=None).ok
    before = counts()

    again = import_workbook(xlsx({"花名册": roster(31)}), by=OFFICER, user=None)  # one new member, row 32

    assert [str(e) for e in again.errors] == [
        "工作表「花名册」：第 2、3、4、5、6、7、8、9、10、11等 行共 30 行已在系统中（以前导入或录入过），"
        "请从表中删去这些行，只保留新的行。"]
    assert counts() == before
    assert import_workbook(xlsx({"花名册": [ROSTER, roster(31)[31]]}), by=OFFICER, user=None).ok


def test_a_code_taken_under_another_name_is_still_a_clash_on_its_row(bureau):
    assert import_workbook(xlsx({"党组织": ORGS}), by=OFFICER, user=None).ok
    renamed = [ORGS[0], ["XB1", "另一个党支部", "党支部", "XOC", "2016-5-4"]]

    again = import_workbook(xlsx({"党组织": renamed}), by=OFFICER, user=None)

    assert [(e.sheet, e.row, e.column) for e in again.errors] == [("党组织", 2, "编码")]
    assert "已被党组织“水务局第一党支部”使用" in again.errors[0].message


def test_a_service_refusing_a_row_mid_write_rolls_back_everything(bureau, monkeypatch):
    def refuse(**kwargs):
        from django.core.exceptions import ValidationError

        raise ValidationError({"start": "模拟：写入时被拒绝。"})

    monkeypatch.setattr(importer_module, "appointment_bulk_create", refuse)
    before = counts()
    appointments = [["党组织编码", "身份证号", "职务", "任职日期"], ["XB1", person(1)[4], "书记", "2021-1-1"]]

    result = import_workbook(xlsx({"党组织": ORGS, "单位": UNITS, "花名册": roster(20), "任职": appointments}),
                             by=OFFICER, user=None)

    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("任职", 2, "任职日期")]
    assert counts() == before  # the organisations, units and members written before it are gone too


def test_missing_required_header_names_the_sheet_and_header(bureau):
    rows = [[c for c in ROSTER if c != "身份证号"]]
    result = import_workbook(xlsx({"花名册": rows}), by=OFFICER, user=None)
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("花名册", 1, "身份证号")]
    assert "缺少「身份证号」列" in result.errors[0].message


def test_a_file_that_is_not_a_workbook_is_refused_politely(bureau):
    result = import_workbook(io.BytesIO(b"not a zip"), by=OFFICER, user=None)
    assert not result.ok and ".xlsx" in result.errors[0].message


# ---------------------------------------------------------------- cells as people fill them


def test_dates_are_accepted_as_date_cells_and_in_all_three_typed_forms(bureau):
    rows = [ROSTER] + [person(i, org="BA", unit="办公室", joined=form)
                       for i, form in enumerate(("date", "dash", "chinese", "dots"))]
    rows[2][3] = f"{rows[2][3]:%Y年%m月%d日}"  # a birth date typed as text too

    result = import_roster(xlsx({"花名册": rows}), by=OFFICER, user=None)

    assert result.ok, result.errors
    for row in rows[1:]:
        m = Member.objects.with_id_numbers(row[4]).get()
        birth = person(int(row[0][2:]))[3]
        assert m.joined_on == dt.date(birth.year + 25, 7, 1)
        assert m.birth_date == birth


def test_a_blank_birth_date_and_gender_are_read_from_the_id_number(bureau):
    row = person(7, org="BA", unit="")
    row[1], row[3] = None, None
    assert import_roster(xlsx({"花名册": [ROSTER, row]}), by=OFFICER, user=None).ok
    m = Member.objects.with_id_numbers(row[4]).get()
    assert m.birth_date == person(7)[3] and m.gender == "female"


def test_id_number_and_phone_stored_as_number_cells_are_read_as_text(bureau):
    row = person(8, org="BA", unit="")
    id_number = row[4]
    assert id_number[-1] != "X"
    row[4], row[12] = 987654321, 13800000000  # number cells; the ID is planted exactly below
    buffer = xlsx({"花名册": [ROSTER, row]})
    # openpyxl writes numbers with 16 significant digits; other tools write the exact integer.
    planted = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(planted, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                assert b"<v>987654321</v>" in data
                data = data.replace(b"<v>987654321</v>", f"<v>{id_number}</v>".encode())
            dst.writestr(item, data)
    planted.seek(0)

    result = import_roster(planted, by=OFFICER, user=None)

    assert result.ok, result.errors
    assert Member.objects.with_id_numbers(id_number).get().phone == "13800000000"


def test_an_id_number_that_excel_rounded_asks_for_a_text_column(bureau):
    row = person(9, org="BA", unit="")
    row[4] = float(row[4])  # what Excel keeps of an 18-digit number: 15 significant digits
    result = import_roster(xlsx({"花名册": [ROSTER, row]}), by=OFFICER, user=None)
    assert [(e.row, e.column) for e in result.errors] == [(2, "身份证号")]
    assert "文本" in result.errors[0].message
    assert not Member.objects.filter(name=row[0]).exists()


def test_the_same_id_number_twice_in_a_file_is_an_error_on_the_second_row(bureau):
    first, second = (person(i, org="BA", unit="") for i in (11, 12))
    third = [f"{first[0]}（重复）", *first[1:]]
    result = import_roster(xlsx({"花名册": [ROSTER, first, second, third]}), by=OFFICER, user=None)
    assert [(e.row, e.column) for e in result.errors] == [(4, "身份证号")]
    assert "第 2 行" in result.errors[0].message
    assert not Member.objects.filter(name__in=[first[0], second[0]]).exists()


def test_an_id_number_already_on_the_roster_is_refused(bureau):
    row = person(14, org="BA", unit="")
    row[4] = bureau.member_b.id_number
    result = import_roster(xlsx({"花名册": [ROSTER, row]}), by=OFFICER, user=None)
    assert [(e.row, e.column) for e in result.errors] == [(2, "身份证号")]
    assert "已登记" in result.errors[0].message


def test_headers_are_found_in_any_order_and_extra_columns_are_ignored(bureau):
    order = ["序号", "所在党组织", "身份证号", "姓名", "入党日期", "党员类别", "备注"]
    row = person(15, org="BA", unit="")
    values = dict(zip(ROSTER, row, strict=True)) | {"序号": 1, "备注": "=SUM(1,2)"}
    result = import_roster(xlsx({"名单": [order, [values[h] for h in order]]}), by=OFFICER, user=None)
    assert result.ok, result.errors
    assert Member.objects.with_id_numbers(row[4]).get().name == row[0]


def test_errors_in_a_sheet_not_named_huamingce_name_the_sheet_as_in_the_file(bureau):
    row = person(16, org="BA", unit="")
    row[7] = "积极分子"
    result = import_roster(xlsx({"2024年名单": [ROSTER, row]}), by=OFFICER, user=None)
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("2024年名单", 2, "党员类别")]


# ---------------------------------------------------------------- a branch secretary's upload


def test_branch_secretary_cannot_import_members_into_a_sibling_branch(bureau):
    inside = person(21, org="BA1", unit="")   # 第一党小组, inside branch A
    outside = person(22, org="BB", unit="")   # the sibling branch
    before = counts()

    secretary = bureau.users["branch_secretary"]
    result = import_roster(xlsx({"花名册": [ROSTER, inside, outside]}), by=OFFICER, user=secretary)

    assert [(e.row, e.column) for e in result.errors] == [(3, "所在党组织")]
    assert "不存在或不在您的管理范围内" in result.errors[0].message
    assert "第二党支部" not in result.errors[0].message  # nothing told about a branch out of scope
    assert counts() == before
    assert import_roster(xlsx({"花名册": [ROSTER, inside]}), by=OFFICER, user=secretary).ok


# ---------------------------------------------------------------- export


def _fresh_branch_with_members(bureau, n: int) -> Organization:
    branch = make_org(bureau.general_branch, K.BRANCH, "第九党支部", code="B9")
    for i in range(n):
        MemberFactory(organization=branch, unit=bureau.office if i % 2 else None,
                      id_number=valid_id_number(dt.date(1985, 6, 15), region="440305", seq=i))
    return branch


def test_export_then_reimport_gives_back_the_same_members(bureau):
    branch = make_org(bureau.general_branch, K.BRANCH, "第九党支部", code="B9")
    specs = [
        dict(name="王五", gender="male", category="full", full_on=dt.date(2011, 7, 1), education="postgraduate",
             post="处长", unit=bureau.office, phone="0571-87654321", ethnicity="回族"),
        dict(name="赵六", gender="female", category="probationary", full_on=None, education="", post="",
             unit=None, phone=""),
        dict(name='=HYPERLINK("http://x")', gender="male", category="full", full_on=None, education="bachelor",
             post="-科员", unit=bureau.east, phone="13912345678"),
    ]
    for i, spec in enumerate(specs):
        birth = dt.date(1980 + i, 2, 3)
        id_number = valid_id_number(birth, region="440305", male=spec["gender"] == "male")
        member_create(by=OFFICER, data=dict(spec, birth_date=birth, joined_on=dt.date(2010, 7, 1),
                                            organization=branch, id_number=id_number))
    fields = ["name", "gender", "ethnicity", "birth_date", "id_number", "joined_on", "full_on", "category",
              "education", "post", "unit_id", "organization_id", "phone", "status"]
    original = sorted(Member.objects.filter(organization=branch).values_list(*fields))
    content = export_roster(Member.objects.filter(organization=branch), reveal=True)
    Member.objects.filter(organization=branch).delete()

    result = import_roster(io.BytesIO(content), by=OFFICER, user=None)

    assert result.ok, result.errors
    assert result.created == {"花名册": 3}
    assert sorted(Member.objects.filter(organization=branch).values_list(*fields)) == original


def test_export_writes_a_formula_like_name_as_literal_text(bureau):
    MemberFactory(name='=HYPERLINK("http://x")', organization=bureau.branch_a)
    content = export_roster(Member.objects.filter(organization=bureau.branch_a), reveal=False)
    ws = load_workbook(io.BytesIO(content)).active
    names = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert not any(str(name).startswith("=") for name in names)


def test_masked_export_contains_no_full_id_number_or_phone(bureau):
    content = export_roster(Member.objects.all(), reveal=False)
    ws = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in ws[1]]
    cells = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert not [c for c in cells if re.search(r"\d{17}[\dX]", c)]
    assert not [c for c in cells if re.search(r"(?<!\d)1\d{10}(?!\d)", c)]
    id_column = [row[header.index("身份证号")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert len(id_column) == Member.objects.count() and all(re.fullmatch(r"\d{4}\*{12}\d[\dX]", v)
                                                            for v in id_column)


def test_export_writes_id_and_phone_as_text_cells(bureau):
    content = export_roster(Member.objects.all(), reveal=True)
    ws = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        id_cell, phone_cell = row[header.index("身份证号")], row[header.index("联系电话")]
        assert id_cell.number_format == "@" and id_cell.data_type == "s" and len(id_cell.value) == 18
        assert phone_cell.number_format == "@"


def test_export_query_count_does_not_grow_with_members(bureau):
    branch = _fresh_branch_with_members(bureau, 10)
    with CaptureQueriesContext(connection) as ten:
        export_roster(Member.objects.filter(organization=branch), reveal=False)
    for i in range(10, 100):
        MemberFactory(organization=branch, unit=bureau.east,
                      id_number=valid_id_number(dt.date(1985, 6, 15), region="440305", seq=i))
    with CaptureQueriesContext(connection) as hundred:
        content = export_roster(Member.objects.filter(organization=branch), reveal=False)
    assert load_workbook(io.BytesIO(content)).active.max_row == 101
    # One query: the members joined to their organisation and unit.
    assert len(ten) == len(hundred) == 1


# ---------------------------------------------------------------- the command


def test_import_command_on_a_bad_file_prints_each_error_and_exits_with_status_1(bureau, tmp_path, capsys):
    rows = roster(3)
    rows[2][4] = bad_checksum(rows[2][4])
    path = tmp_path / "bureau.xlsx"
    path.write_bytes(xlsx({"党组织": ORGS, "单位": UNITS, "花名册": rows}).getvalue())
    before = counts()

    with pytest.raises(CommandError) as exc:
        call_command("import_workbook", str(path))

    assert exc.value.returncode == 1
    assert "未写入任何数据" in str(exc.value)
    assert "工作表「花名册」第 3 行「身份证号」：身份证号校验位不正确" in capsys.readouterr().err
    assert counts() == before


def test_import_command_on_a_good_file_prints_counts(bureau, tmp_path, capsys):
    path = tmp_path / "bureau.xlsx"
    path.write_bytes(xlsx({"党组织": ORGS, "单位": UNITS, "花名册": roster(3)}).getvalue())

    call_command("import_workbook", str(path))

    out = capsys.readouterr().out
    assert "党组织：导入 4 行" in out and "花名册：导入 3 行" in out
    assert Member.objects.filter(organization__code__in=["XB1", "XB2"]).count() == 3
    entry = AuditEntry.objects.filter(action="workbook.import").get()
    assert entry.actor_name == "命令行导入"


# ---------------------------------------------------------------- more of the format


def test_organisation_rows_must_follow_their_parent_and_fit_the_tree(bureau):
    rows = [
        ORGS[0],
        ["YB1", "某党支部", "党支部", "YOC", "2016-5-4"],      # its parent comes later
        ["YOC", "某机关党委", "机关党委", "", "2015-3-1"],
        ["YC1", "某党小组", "党小组", "YOC", "2016-5-4"],      # a cell belongs under a branch
        ["YB2", "某党支部二", "支部", "YOC", "2016-5-4"],      # not a kind
    ]
    before = counts()
    result = import_workbook(xlsx({"党组织": rows}), by=OFFICER, user=None)
    assert [(e.row, e.column) for e in result.errors] == [(2, "上级编码"), (4, "上级编码"), (5, "类型")]
    assert "第 3 行" in result.errors[0].message
    assert "党小组不能设在机关党委之下" in result.errors[1].message
    assert counts() == before


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_excel(bureau):
    good, bad = person(31, org="BA", unit=""), person(32, org="BA", unit="")
    bad[7] = ""
    rows = [["序号", *ROSTER], [1, *good], [None] * 14, [2] + [None] * 13, [3, *bad]]
    result = import_roster(xlsx({"花名册": rows}), by=OFFICER, user=None)
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (5, "党员类别", "请填写党员类别：正式党员或预备党员。")]


def test_an_appointment_of_someone_not_on_any_roster_is_an_error(bureau):
    rows = [["党组织编码", "身份证号", "职务", "任职日期"],
            # BB has 4 正式党员: no 委员; 李四 is its 书记, so someone else is made 副书记.
            ["BB", Member.objects.filter(organization=bureau.branch_b).exclude(pk=bureau.member_b.pk)
             .first().id_number, "副书记", "2024-1-1"],
            ["BB", valid_id_number(region="440305", seq=99), "副书记", "2024-1-1"]]
    before = counts()
    result = import_workbook(xlsx({"任职": rows}), by=OFFICER, user=None)
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("任职", 3, "身份证号")]
    assert counts() == before
    assert import_workbook(xlsx({"任职": rows[:2]}), by=OFFICER, user=None).created == {"任职": 1}


def test_a_masked_export_cannot_be_reimported_and_says_why(bureau):
    exported = Member.objects.filter(organization=bureau.branch_b)
    n = exported.count()
    content = export_roster(exported, reveal=False)
    exported.filter(appointments__isnull=True).delete()
    result = import_roster(io.BytesIO(content), by=OFFICER, user=None)
    rows = {e.row for e in result.errors if e.column == "身份证号" and "脱敏" in e.message}
    assert rows == set(range(2, 2 + n))
    assert all(e.column in ("身份证号", "联系电话") and "脱敏" in e.message for e in result.errors)


# ---------------------------------------------------------------- the shared reader (core.excel)


def test_the_shared_reader_finds_columns_by_canonical_header_or_alias_and_skips_blank_rows():
    from dangjian.core.excel import RowError, open_workbook, read_sheet

    errors: list[RowError] = []
    wb = open_workbook(xlsx({"问题清单": [["序号", " 问题 描述*", "整改时限（选填）"], [1, "台账不全", "2024-6-1"],
                                         [2, None, None], [3, "学习记录缺失", None]]}), errors)
    sheet = read_sheet(wb["问题清单"], "问题清单", ("问题", "整改时限", "责任人"), errors, required=("问题",),
                       aliases={"问题描述": "问题"})
    assert errors == []
    assert sheet.columns == {"问题": "问题 描述*", "整改时限": "整改时限（选填）"}
    assert [(n, c["问题"]) for n, c in sheet.rows] == [(2, "台账不全"), (4, "学习记录缺失")]

    missing = read_sheet(wb["问题清单"], "问题清单", ("问题", "责任人"), errors, required_one_of=(("责任人", "责任单位"),))
    wb.close()
    assert missing is None and [(e.row, e.column) for e in errors] == [(1, "责任人")]


def test_an_imported_post_keeps_the_posts_rules_and_nothing_is_written(bureau):
    """Branch B has 5 正式党员 with this one: a 委员 there is refused on its row (支部工作条例 第二十条), as on the page."""
    member = MemberFactory(organization=bureau.branch_b)
    rows = [["党组织编码", "身份证号", "职务", "任职日期"], ["BB", member.id_number, "组织委员", "2024-1-1"]]
    before = counts()
    result = import_workbook(xlsx({"任职": rows}), by=OFFICER, user=None)
    assert [(e.sheet, e.row) for e in result.errors] == [("任职", 2)]
    assert "正式党员 5 人，不足 7 人" in result.errors[0].message and "第二十条" in result.errors[0].message
    assert counts() == before
