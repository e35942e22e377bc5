"""The roster reads like a printed 花名册: names in pinyin order (a key stored with each name),
a total, labelled filters, and an export named after the organisation and the day."""

import datetime as dt
import io
import re
from urllib.parse import unquote

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core.cursors import MAX_LENGTH, decode_cursor, encode_cursor
from dangjian.organizations import services
from dangjian.organizations.collation import MAX_BYTES, fill_name_keys, name_key
from dangjian.organizations.models import Member
from dangjian.organizations.selectors import MEMBER_CURSOR
from dangjian.organizations.workbook import export_roster, import_workbook
from tests.factories import MemberFactory, valid_id_number
from tests.pages import listed_members

BY = Actor.system("test")


# ---------------------------------------------------------------- the key


def test_names_sort_by_pinyin_not_by_code_point():
    names = ["赵", "张", "白", "安"]
    assert sorted(names) == ["安", "张", "白", "赵"]  # code points: 张 U+5F20 before 白 U+767D
    assert sorted(names, key=name_key) == ["安", "白", "张", "赵"]


def test_a_syllable_sorts_before_a_longer_one_and_each_character_keeps_its_surname_together():
    names = ["张三", "章二", "战一", "张四", "李娜", "林一", "吕布", "卢二"]
    ordered = sorted(names, key=name_key)
    assert ordered.index("李娜") < ordered.index("林一")  # li before lin
    assert ordered.index("卢二") < ordered.index("吕布")  # lu before lü
    assert ordered.index("战一") < ordered.index("张三")  # zhan before zhang
    zhang = [n for n in ordered if n[0] in "张章"]
    assert zhang in (["张三", "张四", "章二"], ["章二", "张三", "张四"])  # 张 not split by 章


def test_polyphonic_surnames_are_read_as_surnames():
    ordered = sorted(["单雄信", "沙僧", "尚可", "曾国藩", "曹操", "增强", "尉迟恭", "余华"], key=name_key)
    assert ordered.index("沙僧") < ordered.index("单雄信") < ordered.index("尚可")  # 单 shàn, not dān
    assert ordered.index("增强") < ordered.index("曾国藩")  # 曾 zēng (same syllable as 增), not céng
    assert ordered.index("曾国藩") > ordered.index("曹操")
    assert name_key("尉迟恭").startswith("yu4")  # the compound 尉迟 yùchí, not the single 尉 wèi


def test_spaces_and_punctuation_do_not_move_a_name():
    assert name_key("王 伟") == name_key("王伟")
    assert name_key("买买提·艾力") == name_key("买买提艾力")
    assert name_key("") == "" and name_key("  ") == ""


def test_the_key_of_a_long_name_fits_a_cursor():
    long_name = "阿卜杜热合曼·买买提江·艾合买提·库尔班尼亚孜·吐尔逊" * 2
    key = name_key(long_name[:50])
    assert 0 < len(key.encode()) <= MAX_BYTES
    cursor = encode_cursor((key, 2**63 - 1))
    assert len(cursor) <= MAX_LENGTH
    assert decode_cursor(cursor, MEMBER_CURSOR) == (key, 2**63 - 1)


# ---------------------------------------------------------------- the services fill it


def _data(bureau, name, **over):
    birth = dt.date(1986, 3, 4)
    return {"name": name, "gender": "male", "ethnicity": "汉族", "id_number": valid_id_number(birth),
            "birth_date": birth, "joined_on": dt.date(2010, 7, 1), "full_on": dt.date(2011, 7, 1),
            "category": "full", "education": "bachelor", "post": "科员", "unit": None,
            "organization": bureau.branch_a, "phone": "", **over}


def test_registering_renaming_and_importing_members_set_the_key(bureau):
    member = services.member_create(by=BY, data=_data(bureau, "曾华"))
    assert Member.objects.get(pk=member.pk).name_key == name_key("曾华")

    services.member_update(by=BY, member=member, data={"name": "单华"})
    assert Member.objects.get(pk=member.pk).name_key == name_key("单华") == member.name_key
    entry = AuditEntry.objects.filter(action="member.update", object_id=str(member.pk)).get()
    assert set(entry.after) == {"name"}  # the key is derived from the name, not a change of its own

    services.member_update(by=BY, member=member, data={"post": "副科长"})  # name untouched: key untouched
    assert Member.objects.get(pk=member.pk).name_key == name_key("单华")

    bulk = services.member_bulk_create(by=BY, rows=[services.member_clean(_data(bureau, "白雪"))])
    assert Member.objects.get(pk=bulk[0].pk).name_key == name_key("白雪")


def test_an_imported_workbook_lists_in_pinyin_order(bureau, client_for):
    exported = Member.objects.filter(pk=bureau.member_b.pk)
    content = export_roster(exported, reveal=True)
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    sheet = wb.worksheets[0]
    headers = [c.value for c in sheet[1]]
    row = [c.value for c in sheet[2]]
    member_b = bureau.member_b
    member_b.id_number = valid_id_number(dt.date(1970, 1, 1))
    member_b.save(update_fields=["id_number", "id_number_hash"])
    for i, name in enumerate(["赵一", "安一"]):
        birth = dt.date(1985, 6, 15)
        values = dict(zip(headers, row, strict=True), 姓名=name, 身份证号=valid_id_number(birth), 出生日期=birth,
                      联系电话=f"1390000000{i}")
        sheet.append([values[h] for h in headers])
    sheet.delete_rows(2)
    upload = io.BytesIO()
    wb.save(upload)
    upload.name = "roster.xlsx"
    upload.seek(0)
    result = import_workbook(upload, by=BY, user=bureau.users["party_office"])
    assert result.ok, result.errors
    assert set(Member.objects.filter(name__in=["赵一", "安一"]).values_list("name_key", flat=True)) == {
        name_key("赵一"), name_key("安一")}


def test_keys_are_filled_for_members_saved_before_the_key_existed(bureau):
    Member.objects.update(name_key="")  # as the migration finds them
    assert fill_name_keys(Member.objects.all()) == 8
    assert all(m.name_key == name_key(m.name) for m in Member.objects.all())
    assert fill_name_keys(Member.objects.all()) == 0  # nothing left to change
    Member.objects.filter(name="张三").update(name_key="")
    out = io.StringIO()
    call_command("rebuild_name_keys", stdout=out)
    assert "已更新 1 名党员" in out.getvalue()
    assert Member.objects.get(name="张三").name_key == name_key("张三")


# ---------------------------------------------------------------- the page


def _names(response) -> list[str]:
    return [m.name for m in listed_members(response)]


def test_the_roster_lists_names_in_pinyin_order(bureau, client_for):
    for name in ("赵六", "安宁", "白雪"):
        MemberFactory(name=name, organization=bureau.branch_b)
    response = client_for("party_office").get(reverse("organizations:members"))
    names = _names(response)
    assert names.index("安宁") < names.index("白雪") < names.index("李四") < names.index("张三") < names.index("赵六")
    page = response.content.decode()
    assert page.index("安宁") < page.index("白雪") < page.index("张三") < page.index("赵六")


def test_roster_pages_follow_pinyin_order_and_show_everyone_once(bureau, client_for):
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    for i in range(120):  # 3 pages of 50, names repeating so that (name_key, id) meets ties
        MemberFactory(name=surnames[i % len(surnames)] + "明", organization=bureau.branch_b)
    client, url, seen = client_for("party_office"), reverse("organizations:members"), []
    response = client.get(url)
    while True:
        seen += [(m.name_key, m.pk) for m in listed_members(response)]
        if not response.context["next_url"]:
            break
        response = client.get(url + response.context["next_url"])
    everyone = Member.objects.filter(status=Member.Status.ACTIVE)
    assert len(seen) == len(set(seen)) == everyone.count() == 128
    assert seen == sorted(seen)
    assert [k for k, _ in seen] == sorted(name_key(m.name) for m in everyone)


def test_the_roster_shows_how_many_members_match_across_all_pages(bureau, client_for):
    MemberFactory.create_batch(55, organization=bureau.branch_b)
    client = client_for("party_office")
    page = client.get(reverse("organizations:members")).content.decode()
    assert re.search(r'id="member-total">共 63 人<', page)
    page = client.get(reverse("organizations:members"), {"organization": bureau.branch_a.pk}).content.decode()
    assert re.search(r'id="member-total">共 4 人<', page)
    Member.objects.filter(pk=bureau.member_b.pk).update(status=Member.Status.TRANSFERRED_OUT)
    cache.clear()  # an update outside the services (no audit entry): the kept page would be shown
    assert "共 62 人" in client.get(reverse("organizations:members")).content.decode()
    assert "共 63 人" in client.get(reverse("organizations:members"), {"status": ""}).content.decode()
    # a branch secretary counts their own branch only
    assert "共 4 人" in client_for("branch_secretary").get(reverse("organizations:members")).content.decode()


def test_the_roster_filters_say_what_they_filter(bureau, client_for):
    page = client_for("party_office").get(reverse("organizations:members")).content.decode()
    assert re.search(r'<option value=""( selected)?>全部类别</option>', page)
    assert re.search(r'<option value=""( selected)?>全部状态</option>', page)
    assert ">全部</option>" not in page
    # with no status asked, the list is 在册 and the select says so
    assert '<option value="active" selected>在册</option>' in page
    page = client_for("party_office").get(reverse("organizations:members"), {"status": ""}).content.decode()
    assert '<option value="" selected>全部状态</option>' in page


# ---------------------------------------------------------------- the export's name


def _filename(response) -> str:
    header = response["Content-Disposition"]
    assert header.startswith("attachment;")
    match = re.search(r"filename\*=utf-8''([^;]+)", header)
    assert match, header
    return unquote(match.group(1))


@pytest.mark.parametrize(("persona", "organization", "expected"), [
    ("party_office", "branch_b", "第二党支部花名册{day}.xlsx"),
    ("party_office", None, "市交通运输局党组花名册{day}.xlsx"),
    ("branch_secretary", None, "第一党支部花名册{day}.xlsx"),
    ("branch_secretary", "cell_a", "第一党支部 · 第一党小组花名册{day}.xlsx"),
])
def test_the_roster_export_is_named_after_the_organisation_and_the_day(bureau, client_for, persona, organization,
                                                                        expected):
    params = {"organization": getattr(bureau, organization).pk} if organization else {}
    response = client_for(persona).get(reverse("organizations:member_export"), params)
    assert response.status_code == 200
    assert _filename(response) == expected.format(day=f"{timezone.localdate():%Y%m%d}")


def test_an_export_scope_of_two_sibling_branches_is_named_for_the_roster_alone(bureau):
    from django.test import Client

    from dangjian.access.roles import Role
    from tests.factories import grant, make_user

    user = make_user("two_branches", Role.BRANCH_SECRETARY, bureau.branch_a)
    grant(user, Role.BRANCH_SECRETARY, bureau.branch_b)
    client = Client()
    client.force_login(user)
    response = client.get(reverse("organizations:member_export"))
    assert _filename(response) == f"党员花名册{timezone.localdate():%Y%m%d}.xlsx"


def test_a_page_of_the_list_is_kept_until_the_next_write_and_a_search_is_not_kept(
        bureau, client_for, django_assert_num_queries):
    office, secretary = client_for("party_office"), client_for("branch_secretary")
    url = reverse("organizations:members")
    first = listed_members(office.get(url))
    assert bureau.member_b in first
    with django_assert_num_queries(4):  # session, user, grants, the data version: no member read
        again = office.get(url)
    assert listed_members(again) == first
    theirs = listed_members(secretary.get(url))
    assert bureau.member_a in theirs and bureau.member_b not in theirs  # each reader their own page
    services.member_leave(by=Actor.system("test"), member=bureau.member_b, status=Member.Status.TRANSFERRED_OUT,
                          on=timezone.localdate())
    after = listed_members(office.get(url))
    assert bureau.member_a in after and bureau.member_b not in after
    office.get(url, {"q": bureau.member_a.name})
    with django_assert_num_queries(7):  # a search is read afresh each time (the page's 8 less the version)
        searched = office.get(url, {"q": bureau.member_a.name})
    assert listed_members(searched) == [bureau.member_a]
