"""Old members' dates known only to the month or year, or not at all (issue 10, item 2): imported as
typed, stored with their precision, shown as typed, exported as typed (so an export re-imports the
same), and rules that need a day read the earliest possible one."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.audit.services import Actor
from dangjian.core.dates import PartialDate, Precision, parse_partial_date, show_date, whole_years
from dangjian.organizations.models import Member, Membership
from dangjian.organizations.services import member_create, member_update
from dangjian.organizations.workbook import export_roster, import_roster, import_workbook
from tests.factories import make_org, valid_id_number
from tests.organizations.test_organizations import member_data
from tests.organizations.test_workbook import ORGS, ROSTER, UNITS, xlsx

OFFICER = Actor.system("test-party-office")
BIRTH = dt.date(1960, 3, 15)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def old_member(i: int, joined, full=None, *, birth_cell=None, category="正式党员") -> list:
    """A 花名册 row of an old member born on BIRTH (+i years) whose dates are typed as given."""
    birth = BIRTH.replace(year=BIRTH.year + i)
    return [f"老党员{i}", "男", "汉族", birth_cell, valid_id_number(birth, region="330106", seq=i), joined, full,
            category, "", "", "水务局办公室", "XB1", ""]


def bureau_file(*rows) -> io.BytesIO:
    return xlsx({"党组织": ORGS, "单位": UNITS, "花名册": [ROSTER, *rows]})


def roster_file(*rows) -> io.BytesIO:
    """A 花名册 alone, for a bureau imported before."""
    return xlsx({"花名册": [ROSTER, *rows]})


def where(result):
    return [(e.sheet, e.row, e.column) for e in result.errors]


# ---------------------------------------------------------------- reading what people type

@pytest.mark.parametrize(("typed", "day", "precision", "shown"), [
    ("1984年11月", dt.date(1984, 11, 1), Precision.MONTH, "1984年11月"),
    ("1984-11", dt.date(1984, 11, 1), Precision.MONTH, "1984年11月"),
    ("1984.11", dt.date(1984, 11, 1), Precision.MONTH, "1984年11月"),
    ("1984/3", dt.date(1984, 3, 1), Precision.MONTH, "1984年3月"),
    ("1984年", dt.date(1984, 1, 1), Precision.YEAR, "1984年"),
    ("1984", dt.date(1984, 1, 1), Precision.YEAR, "1984年"),
    ("不详", None, Precision.UNKNOWN, "不详"),
    ("1984年11月5日", dt.date(1984, 11, 5), Precision.DAY, "1984-11-05"),
])
def test_incomplete_dates_are_read_with_their_precision_and_shown_as_typed(typed, day, precision, shown):
    parsed = parse_partial_date(typed)
    assert parsed == PartialDate(day, precision)
    assert str(parsed) == shown == show_date(day, precision)


def test_the_latest_possible_day_of_a_month_and_a_year():
    assert parse_partial_date("1984年2月").latest == dt.date(1984, 2, 29)
    assert parse_partial_date("1984").latest == dt.date(1984, 12, 31)
    assert parse_partial_date("不详").latest is None


@pytest.mark.parametrize("typed", ["1984年13月", "1984-0", "1984年2月30日", "八四年"])
def test_impossible_or_unreadable_incomplete_dates_are_refused(typed):
    with pytest.raises(ValueError):
        parse_partial_date(typed)


def test_party_age_counts_from_the_earliest_day_and_is_not_guessed_when_unknown():
    assert whole_years(parse_partial_date("1984年11月"), dt.date(2026, 11, 1)) == 42
    assert whole_years(parse_partial_date("1984年11月"), dt.date(2026, 10, 31)) == 41
    assert whole_years(parse_partial_date("不详"), dt.date(2026, 11, 1)) is None


# ---------------------------------------------------------------- the import

@pytest.mark.django_db
def test_month_only_year_only_and_unknown_dates_import_with_their_precision():
    result = import_workbook(bureau_file(
        old_member(1, "1984年11月", "1985.11"),
        old_member(2, "1984年", "不详"),
        old_member(3, "不详"),
        old_member(4, "1984-11-20", dt.date(1985, 11, 20)),
    ), by=OFFICER, user=None)

    assert result.ok, [str(e) for e in result.errors]
    members = {m.name: m for m in Member.objects.filter(name__startswith="老党员")}
    one, two, three, four = (members[f"老党员{i}"] for i in range(1, 5))
    assert (one.joined_on, one.joined_on_precision) == (dt.date(1984, 11, 1), Precision.MONTH)
    assert (one.full_on, one.full_on_precision) == (dt.date(1985, 11, 1), Precision.MONTH)
    assert (two.joined_on, two.joined_on_precision) == (dt.date(1984, 1, 1), Precision.YEAR)
    assert (two.full_on, two.full_on_precision) == (None, Precision.UNKNOWN)
    # 不详: stored as the earliest day the rules allow (the 18th birthday), never shown as a date.
    assert (three.joined_on, three.joined_on_precision) == (dt.date(1981, 3, 15), Precision.UNKNOWN)
    assert (four.joined_display, four.full_display) == ("1984-11-20", "1985-11-20")
    assert [one.joined_display, two.joined_display, two.full_display, three.joined_display] == [
        "1984年11月", "1984年", "不详", "不详"]
    # The stay in the branch starts at the earliest possible day (or the branch's founding).
    assert Membership.objects.get(member=one).start == dt.date(2016, 5, 4)
    # The preview and the import say how many dates were incomplete: a note, not an error.
    assert any("5 个日期不完整" in note and "入党日期 3 个、转正日期 2 个" in note for note in result.notes), result.notes


@pytest.mark.django_db
def test_a_month_only_date_that_may_be_right_is_not_refused_by_the_age_rule():
    # Born 15 March 1960: 18 on 15 March 1978. 1978年3月 may be after that day: accepted; 1978年2月 cannot.
    result = import_workbook(bureau_file(old_member(0, "1978年3月")), by=OFFICER, user=None)
    assert result.ok, [str(e) for e in result.errors]

    result = import_roster(roster_file(old_member(1, "1979年2月")), by=OFFICER, user=None)
    assert where(result) == [("花名册", 2, "入党日期")]
    assert "年满18周岁" in result.errors[0].message


@pytest.mark.django_db
def test_bad_incomplete_dates_are_refused_by_sheet_row_and_column_and_nothing_is_written():
    before = Member.objects.count()
    result = import_workbook(bureau_file(
        old_member(1, "1984年13月"),
        old_member(2, "1984年11月", "1983年"),
        old_member(3, 1984.1),
        old_member(4, "八四年"),
    ), by=OFFICER, user=None)

    assert where(result) == [("花名册", 2, "入党日期"), ("花名册", 3, "转正日期"), ("花名册", 4, "入党日期"),
                             ("花名册", 5, "入党日期")]
    messages = [e.message for e in result.errors]
    assert "月份应为1～12" in messages[0]
    assert "转正日期不能早于入党日期" in messages[1]
    assert "分不清是1984年1月还是1984年10月" in messages[2]
    assert "不知道的写“不详”" in messages[3]
    assert Member.objects.count() == before


@pytest.mark.django_db
def test_a_birth_month_must_agree_with_the_id_number():
    ok = import_workbook(bureau_file(old_member(1, "1984年11月", birth_cell="1961年3月")), by=OFFICER, user=None)
    assert ok.ok, [str(e) for e in ok.errors]
    assert Member.objects.get(name="老党员1").birth_date == dt.date(1961, 3, 15)

    bad = import_roster(roster_file(old_member(2, "1984年11月", birth_cell="1962年4月")), by=OFFICER, user=None)
    assert where(bad) == [("花名册", 2, "出生日期")]


@pytest.mark.django_db
def test_export_then_import_gives_back_the_same_dates_and_precisions(bureau):
    branch = make_org(bureau.general_branch, "branch", "第九党支部", code="B9")
    for i, (joined, full) in enumerate([("1984年11月", "1985年11月"), ("1984年", "不详"), ("不详", ""),
                                        ("1984-11-20", "1985-11-20")]):
        birth = dt.date(1960 + i, 3, 15)
        data = member_data(branch, name=f"老党员{i}", gender="male", birth_date=birth,
                           id_number=valid_id_number(birth, region="330106", seq=i))
        for key, typed in (("joined_on", joined), ("full_on", full)):
            parsed = parse_partial_date(typed) if typed else PartialDate(None)
            data[key], data[f"{key}_precision"] = parsed.day, parsed.precision
        member_create(by=OFFICER, data=data)
    fields = ["name", "joined_on", "joined_on_precision", "full_on", "full_on_precision", "birth_date"]
    original = sorted(Member.objects.filter(organization=branch).values_list(*fields))
    content = export_roster(Member.objects.filter(organization=branch), reveal=True)
    sheet = load_workbook(io.BytesIO(content)).active
    headers = [c.value for c in sheet[1]]
    assert [row[headers.index("入党日期")] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "1984年11月", "1984年", "不详", dt.datetime(1984, 11, 20)]
    Member.objects.filter(organization=branch).delete()

    result = import_roster(io.BytesIO(content), by=OFFICER, user=None)

    assert result.ok, [str(e) for e in result.errors]
    assert sorted(Member.objects.filter(organization=branch).values_list(*fields)) == original


# ---------------------------------------------------------------- the member record

def _imported_old_member(bureau, joined: str) -> Member:
    birth = dt.date(1960, 3, 15)
    parsed = parse_partial_date(joined)
    return member_create(by=OFFICER, data=member_data(
        bureau.branch_a, name="老党员", gender="male", birth_date=birth, full_on=None,
        id_number=valid_id_number(birth, region="330106"), joined_on=parsed.day, joined_on_precision=parsed.precision))


def test_member_pages_show_incomplete_dates_as_typed_and_party_age_only_when_decidable(bureau, client_for):
    month = _imported_old_member(bureau, "1984年11月")
    client = client_for("party_office")
    page = client.get(reverse("organizations:member_detail", args=[month.pk])).content.decode()
    assert '<dd class="col-8" id="joined-on">1984年11月</dd>' in page
    assert f'id="party-age">{month.party_age()} 年</dd>' in page
    assert "1984-11-01" not in page
    assert "1984年11月" in client.get(reverse("organizations:members")).content.decode()

    Member.objects.filter(pk=month.pk).update(joined_on_precision=Precision.UNKNOWN)
    page = client.get(reverse("organizations:member_detail", args=[month.pk])).content.decode()
    assert '<dd class="col-8" id="joined-on">不详</dd>' in page
    assert 'id="party-age">日期不完整</dd>' in page


def test_editing_an_imported_member_keeps_an_unchanged_incomplete_date_and_a_changed_one_is_full(bureau, client_for):
    member = _imported_old_member(bureau, "1984年11月")
    member_update(by=OFFICER, member=member, data={"post": "调研员"})
    member.refresh_from_db()
    assert (member.joined_on, member.joined_on_precision) == (dt.date(1984, 11, 1), Precision.MONTH)

    page = client_for("party_office").get(reverse("organizations:member_edit", args=[member.pk])).content.decode()
    assert "原记录为“1984年11月”" in page

    member_update(by=OFFICER, member=member, data={"joined_on": dt.date(1984, 11, 7)})
    member.refresh_from_db()
    assert (member.joined_on, member.joined_on_precision) == (dt.date(1984, 11, 7), Precision.DAY)


def test_the_member_form_still_asks_new_members_for_a_full_joining_date(bureau, client_for):
    response = client_for("party_office").post(reverse("organizations:member_create"), {
        "name": "新党员", "gender": "male", "ethnicity": "汉族", "id_number": valid_id_number(dt.date(1990, 1, 1)),
        "birth_date": "1990-01-01", "joined_on": "2015年7月", "category": "full", "organization": bureau.branch_a.pk})
    assert response.status_code == 200
    assert not Member.objects.filter(name="新党员").exists()


def test_the_import_page_preview_counts_incomplete_dates_as_a_note_and_writes_nothing(bureau, client_for):
    birth = dt.date(1958, 6, 9)
    rows = [["姓名", "性别", "出生年月", "公民身份号码", "人员类别", "加入党组织日期", "转为正式党员日期", "所在党支部"],
            ["老支书", "男", "1958.06", valid_id_number(birth, region="330106"), "正式党员", "1984年11月", "不详",
             bureau.branch_a.code]]
    upload = xlsx({"党员信息": rows})
    upload.name = "党员信息导出.xlsx"
    before = Member.objects.count()

    preview = client_for("party_office").post(reverse("organizations:member_import"), {"file": upload})

    page = preview.content.decode()
    assert preview.context["result"].ok and "校验通过，尚未导入" in page
    assert "3 个日期不完整" in page and "入党日期 1 个、转正日期 1 个、出生日期 1 个" in page
    assert Member.objects.count() == before
