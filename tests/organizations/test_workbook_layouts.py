"""A bureau's own files: the 全国党员管理信息系统 export loads unchanged (header, sheet and value
aliases from aliases.toml), columns the import does not store are said and never dropped silently,
and the messages point at the real cause (a loop, a missing sheet, a name typed with spaces)."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.access.roles import Role
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Member, Organization, PendingImport, Unit
from dangjian.organizations.services import member_create
from dangjian.organizations.workbook import import_roster, import_workbook
from dangjian.organizations.workbook.importer import EXPIRED
from dangjian.organizations.workbook.layout import EDUCATIONS, HEADER_ALIASES, SHEET_HEADERS
from tests.factories import make_user, valid_id_number
from tests.organizations.test_organizations import member_data
from tests.organizations.test_workbook import ORGS, UNITS, xlsx

OFFICER = Actor.system("test-party-office")

# The roster as the national system exports it: its own sheet title, headers and values, and
# columns the platform keeps elsewhere (序号, 籍贯, 参加工作日期, 学位).
NATIONAL_HEADERS = ["序号", "姓名", "性别", "民族", "出生日期", "公民身份号码", "学历", "学位", "人员类别",
                    "加入党组织日期", "转为正式党员日期", "工作岗位", "所在党支部", "手机号码", "籍贯", "参加工作日期"]


def national_row(i: int, *, education="大学本科", category="正式党员", org="XB1") -> list:
    birth = dt.date(1975 + i, 3, 1 + i)
    return [i, f"王{'一二三四五六七八九'[i - 1]}", "男", "汉族", birth, valid_id_number(birth, region="120101", seq=i),
            education, "学士", category, dt.date(2000 + i, 7, 1), None if category == "预备党员" else dt.date(2001 + i, 7, 1),
            "一级主任科员", org, f"1380000{i:04d}", "浙江杭州", dt.date(1998, 8, 1)]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def where(result):
    return [(e.sheet, e.row, e.column) for e in result.errors]


@pytest.mark.django_db
def test_the_national_system_export_imports_unchanged_with_its_codes_mapped():
    values = ["中等专科", "技工学校", "硕士研究生", "大专", "普通高中"]
    rows = [national_row(i, education=e) for i, e in enumerate(values, start=1)]
    rows.append(national_row(6, category="预备党员"))

    result = import_workbook(xlsx({"党组织": ORGS, "单位": UNITS, "党员信息": [NATIONAL_HEADERS, *rows]}),
                             by=OFFICER, user=None)

    assert result.ok, [str(e) for e in result.errors]
    assert result.created["花名册"] == 6
    members = {m.name: m for m in Member.objects.filter(name__startswith="王")}
    assert [members[f"王{'一二三四五'[i]}"].education for i in range(5)] == [
        Member.Education.SECONDARY, Member.Education.SECONDARY, Member.Education.POSTGRADUATE,
        Member.Education.JUNIOR_COLLEGE, Member.Education.SECONDARY]
    six = members["王六"]
    assert (six.category, six.post, six.organization.code, six.phone) == (
        Member.Category.PROBATIONARY, "一级主任科员", "XB1", "13800000006")
    assert six.joined_on == dt.date(2006, 7, 1)
    # The columns it keeps elsewhere are named, not dropped without a word.
    assert any("「序号」「学位」「籍贯」「参加工作日期」按设计不导入" in note for note in result.notes), result.notes


@pytest.mark.django_db
def test_every_alias_names_a_header_of_its_sheet():
    for sheet, aliases in HEADER_ALIASES.items():
        assert set(aliases.values()) <= set(SHEET_HEADERS[sheet]), sheet
    assert EDUCATIONS["技工学校"] == Member.Education.SECONDARY


@pytest.mark.django_db
def test_an_ambiguous_value_is_refused_with_what_it_could_mean():
    result = import_workbook(xlsx({"党组织": ORGS, "党员信息": [NATIONAL_HEADERS, national_row(1, education="大学")]}),
                             by=OFFICER, user=None)

    assert where(result) == [("党员信息", 2, "学历")]
    assert result.errors[0].message == "“大学”可能是大学本科或大学专科，请写明其一。"
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_an_unknown_value_names_the_accepted_list():
    result = import_workbook(xlsx({"党组织": ORGS, "党员信息": [NATIONAL_HEADERS, national_row(1, education="函授")]}),
                             by=OFFICER, user=None)

    assert where(result) == [("党员信息", 2, "学历")]
    assert "研究生、大学本科、大学专科、中专/高中、初中及以下" in result.errors[0].message


@pytest.mark.django_db
def test_a_column_it_does_not_know_is_named_after_the_import():
    headers = [*NATIONAL_HEADERS, "入党介绍人"]
    result = import_workbook(xlsx({"党组织": ORGS, "党员信息": [headers, [*national_row(1), "张三、李四"]]}),
                             by=OFFICER, user=None)

    assert result.ok
    assert "工作表「党员信息」中的列「入党介绍人」不是可导入的列，其内容没有导入。" in result.notes


@pytest.mark.django_db
def test_a_header_one_letter_off_a_known_one_is_refused_as_a_typo():
    headers = [h if h != "公民身份号码" else "公民身份证号码" for h in NATIONAL_HEADERS] + ["出身日期"]
    headers = [h for h in headers if h != "出生日期"]
    row = national_row(1)
    del row[4]  # the 出生日期 cell; "出身日期" goes at the end
    result = import_workbook(xlsx({"党组织": ORGS, "花名册": [headers, [*row, dt.date(1976, 3, 2)]]}),
                             by=OFFICER, user=None)

    assert where(result) == [("花名册", 1, "出身日期")]
    assert result.errors[0].message == "不认识表头「出身日期」，是否应为「出生日期」？请改正表头后再导入。"
    assert not Member.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("sheet", "header", "value"), [
    ("花名册", "停止党籍日期", "2020-5-1"),
    ("单位", "撤销日期", "2021-1-1"),
])
def test_a_column_saying_a_row_is_not_current_is_refused_not_ignored(sheet, header, value):
    units = [[*UNITS[0], header], *[[*r, ""] for r in UNITS[1:]]] if sheet == "单位" else UNITS
    roster = [NATIONAL_HEADERS, national_row(1)]
    if sheet == "花名册":
        roster = [[*NATIONAL_HEADERS, header], [*national_row(1), value]]
    else:
        units[2][-1] = value  # XU1

    result = import_workbook(xlsx({"党组织": ORGS, "单位": units, "花名册": roster}), by=OFFICER, user=None)

    assert where(result) == [(sheet, 3 if sheet == "单位" else 2, header)]
    message = result.errors[0].message
    assert f"本平台暂不导入「{header}」" in message and "请从表中删去这一行" in message
    assert not Organization.objects.exists() and not Member.objects.exists()


@pytest.mark.django_db
def test_a_member_off_the_roster_needs_the_day_they_left():
    roster = [[*NATIONAL_HEADERS, "党籍状态"], [*national_row(1), "已转出"]]

    result = import_workbook(xlsx({"党组织": ORGS, "花名册": roster}), by=OFFICER, user=None)

    assert [str(e) for e in result.errors] == [
        "工作表「花名册」第 2 行「离开日期」：党籍状态为“已转出”，请填写离开日期（转出、去世或出党的日期）。"]


@pytest.mark.django_db
def test_a_guarded_column_holding_only_current_rows_loads():
    roster = [[*NATIONAL_HEADERS, "是否在册"], [*national_row(1), "是"], [*national_row(2), ""]]

    result = import_workbook(xlsx({"党组织": ORGS, "花名册": roster}), by=OFFICER, user=None)

    assert result.ok, [str(e) for e in result.errors]
    assert Member.objects.count() == 2


@pytest.mark.django_db
def test_a_loop_of_parents_is_named_as_a_loop_with_its_members():
    orgs = [ORGS[0], ORGS[1], ["XA", "甲总支", "党总支", "XB", "2016-1-1"], ["XB", "乙总支", "党总支", "XA", "2016-1-1"]]

    result = import_workbook(xlsx({"党组织": orgs}), by=OFFICER, user=None)

    assert where(result) == [("党组织", 3, "上级编码")]
    assert result.errors[0].message == ("上级编码形成了循环：XA → XB → XA（第 3、4 行），这些组织互为上级，"
                                        "没有一个能先成立：请改正其中一个上级编码。")
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_a_unit_loop_is_named_too():
    units = [UNITS[0], ["UA", "甲单位", "处室", "UB", ""], ["UB", "乙单位", "处室", "UA", ""]]

    result = import_workbook(xlsx({"单位": units}), by=OFFICER, user=None)

    assert [e.message.startswith("上级编码形成了循环：UA → UB → UA") for e in result.errors] == [True]
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_a_missing_sheet_is_named_once_not_on_every_row():
    headers = ["姓名", "身份证号", "入党日期", "党员类别", "所在党组织编码", "工作单位编码"]
    rows = [[f"李{i}", valid_id_number(dt.date(1980, 1 + i % 12, 1 + i % 28), region="120101", seq=i), "2005-7-1", "正式党员",
             "XB1", "XU1" if i < 40 else "XU2"] for i in range(1, 51)]

    result = import_workbook(xlsx({"党组织": ORGS, "花名册": [headers, *rows]}), by=OFFICER, user=None)

    assert where(result) == [("花名册", 2, "工作单位编码"), ("花名册", 41, "工作单位编码")]
    first = result.errors[0].message
    assert "本文件没有「单位」工作表，被引用的单位须已在系统中。" in first
    assert "（共 39 行引用它：第 2、3、4、5、6、7、8、9、10、11等 行）" in first
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_names_typed_with_spaces_are_stored_tidy_and_the_import_says_so():
    rows = [NATIONAL_HEADERS, national_row(1), national_row(2)]
    rows[1][1], rows[2][1] = "吴  辉", "阿依古丽．买买提"

    result = import_workbook(xlsx({"党组织": ORGS, "花名册": rows}), by=OFFICER, user=None)

    assert result.ok, [str(e) for e in result.errors]
    assert set(Member.objects.values_list("name", flat=True)) == {"吴辉", "阿依古丽·买买提"}
    assert ("工作表「花名册」中姓名里的空格或间隔号已统一：第 2 行“吴  辉”→“吴辉”；"
            "第 3 行“阿依古丽．买买提”→“阿依古丽·买买提”。") in result.notes


@pytest.mark.parametrize(("typed", "stored"), [
    ("吴　辉", "吴辉"), (" 张 三 ", "张三"), ("Maria   Chen", "Maria Chen"), ("买买提 · 艾力", "买买提·艾力"),
])
def test_the_member_form_and_api_store_the_same_tidy_name(bureau, typed, stored):
    """member_clean, which the form, the API and the import share, stores the tidy name."""
    member = member_create(by=OFFICER, data=member_data(bureau.branch_a, name=typed))

    assert Member.objects.get(pk=member.pk).name == stored


@pytest.mark.django_db
def test_the_roster_upload_of_a_branch_reads_the_national_layout_too(bureau):
    secretary = bureau.users["branch_secretary"]
    row = national_row(1, org=bureau.branch_a.code)

    result = import_roster(xlsx({"Sheet1": [NATIONAL_HEADERS, row]}), by=OFFICER, user=secretary)

    assert result.ok, [str(e) for e in result.errors]
    assert Member.objects.filter(name="王一", organization=bureau.branch_a).exists()


def _upload(rows, name="党员信息导出.xlsx"):
    upload = xlsx({"花名册": rows})
    upload.name = name
    return upload


@pytest.mark.django_db
def test_the_import_page_previews_then_imports_on_confirmation(bureau, client_for):
    client = client_for("party_office")
    rows = [[*NATIONAL_HEADERS, "入党介绍人"], [*national_row(1, org=bureau.branch_a.code), "张三"],
            national_row(2, org=bureau.branch_a.code) + [""]]
    members, entries = Member.objects.count(), AuditEntry.objects.count()

    preview = client.post(reverse("organizations:member_import"), {"file": _upload(rows)})

    assert preview.context["result"].preview and preview.context["result"].created == {"花名册": 2}
    page = preview.content.decode()
    assert "校验通过，尚未导入" in page and "确认导入" in page
    assert "工作表「花名册」中的列「入党介绍人」不是可导入的列，其内容没有导入。" in page
    # A rehearsal: written in full, then rolled back, the audit trail included.
    assert (Member.objects.count(), AuditEntry.objects.count()) == (members, entries)
    pending = preview.context["pending"]

    done = client.post(reverse("organizations:member_import"), {"action": "confirm", "pending": pending.pk}, follow=True)

    shown = [str(m) for m in done.context["messages"]]
    assert shown[0] == "导入成功：花名册 2 条。"
    assert "工作表「花名册」中的列「入党介绍人」不是可导入的列，其内容没有导入。" in shown
    assert Member.objects.count() == members + 2
    assert AuditEntry.objects.filter(action="workbook.import").count() == 1
    assert not PendingImport.objects.exists()


@pytest.mark.django_db
def test_a_preview_is_confirmed_once_by_its_uploader_within_the_time_allowed(bureau, client_for, settings):
    settings.PENDING_IMPORT_MINUTES = 10  # within the 30-minute idle session
    rows = [NATIONAL_HEADERS, national_row(1, org=bureau.branch_a.code)]
    office = client_for("party_office")
    pending = office.post(reverse("organizations:member_import"), {"file": _upload(rows)}).context["pending"]
    before = Member.objects.count()

    stranger = make_user("dangban2", Role.PARTY_OFFICE, bureau.root)
    stranger_client = Client()
    stranger_client.force_login(stranger)
    refused = stranger_client.post(reverse("organizations:member_import"), {"action": "confirm", "pending": pending.pk})
    assert [e.message for e in refused.context["result"].errors] == [EXPIRED]

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=settings.PENDING_IMPORT_MINUTES + 1)):
        late = office.post(reverse("organizations:member_import"), {"action": "confirm", "pending": pending.pk})
    assert [e.message for e in late.context["result"].errors] == [EXPIRED]
    assert Member.objects.count() == before

    office.post(reverse("organizations:member_import"), {"action": "confirm", "pending": pending.pk})
    twice = office.post(reverse("organizations:member_import"), {"action": "confirm", "pending": pending.pk})
    assert [e.message for e in twice.context["result"].errors] == [EXPIRED]
    assert Member.objects.count() == before + 1

    junk = office.post(reverse("organizations:member_import"), {"action": "confirm", "pending": "x'--"})
    assert junk.status_code == 200 and [e.message for e in junk.context["result"].errors] == [EXPIRED]


@pytest.mark.django_db
def test_cancelling_a_preview_imports_nothing(bureau, client_for):
    office = client_for("party_office")
    rows = [NATIONAL_HEADERS, national_row(1, org=bureau.branch_a.code)]
    pending = office.post(reverse("organizations:member_import"), {"file": _upload(rows)}).context["pending"]
    before = Member.objects.count()

    response = office.post(reverse("organizations:member_import"), {"action": "cancel", "pending": pending.pk}, follow=True)

    assert "已取消，未导入任何数据。" in [str(m) for m in response.context["messages"]]
    assert not PendingImport.objects.exists() and Member.objects.count() == before


@pytest.mark.django_db
def test_a_confirmation_is_checked_again_against_what_changed_since_the_preview(bureau, client_for):
    office = client_for("party_office")
    rows = [NATIONAL_HEADERS, national_row(1, org=bureau.branch_a.code)]
    pending = office.post(reverse("organizations:member_import"), {"file": _upload(rows)}).context["pending"]
    assert import_workbook(xlsx({"花名册": [NATIONAL_HEADERS, national_row(1, org=bureau.branch_a.code)]}),
                           by=OFFICER, user=None).ok  # someone else imported the same member meanwhile
    before = Member.objects.count()

    response = office.post(reverse("organizations:member_import"), {"action": "confirm", "pending": pending.pk})

    assert "这个文件已经导入过" in response.context["result"].errors[0].message
    assert Member.objects.count() == before


@pytest.mark.django_db
def test_the_import_page_shows_what_was_not_imported_after_the_counts(bureau, client_for):
    client = client_for("party_office")
    upload = xlsx({"花名册": [[*NATIONAL_HEADERS, "入党介绍人"], [*national_row(1, org=bureau.branch_a.code), "张三"]]})
    upload.name = "党员信息导出.xlsx"

    preview = client.post(reverse("organizations:member_import"), {"file": upload})
    response = client.post(reverse("organizations:member_import"),
                           {"action": "confirm", "pending": preview.context["pending"].pk}, follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert shown[0] == "导入成功：花名册 1 条。"
    assert "工作表「花名册」中的列「入党介绍人」不是可导入的列，其内容没有导入。" in shown
    assert any("按设计不导入" in m for m in shown)


@pytest.mark.django_db
def test_the_command_rehearses_with_dry_run_and_keeps_nothing(tmp_path, capsys):
    path = tmp_path / "bureau.xlsx"
    path.write_bytes(xlsx({"党组织": ORGS, "党员信息": [NATIONAL_HEADERS, national_row(1)]}).getvalue())

    call_command("import_workbook", str(path), "--dry-run")

    out = capsys.readouterr().out
    assert "党组织：将导入 4 行" in out and "花名册：将导入 1 行" in out and "未写入任何数据" in out
    assert not Organization.objects.exists() and not Member.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_previewed_upload_is_kept_encrypted(bureau, client_for):
    """It holds the roster's full ID numbers: none of them readable in the table."""
    from django.db import connection

    office = client_for("party_office")
    row = national_row(1, org=bureau.branch_a.code)
    office.post(reverse("organizations:member_import"), {"file": _upload([NATIONAL_HEADERS, row])})

    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_content FROM organizations_pendingimport")
        (stored,) = cursor.fetchone()
    assert row[5] not in stored and stored.startswith("s4g1:")
    assert len(stored) > 1000
