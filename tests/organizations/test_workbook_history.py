"""A bureau brought in with its history: the day each member came to their organisation, members
who left (转出, 去世), earlier stays (组织关系 sheet), a dissolved branch, the last 换届, past posts.
Everything dated lands as the events the pages write, so "who belonged on day D" is right; the
counts below are checked against a hand count of the rows."""

import datetime as dt

import pytest

from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Member, Membership, Organization, OrganizationEvent
from dangjian.organizations.selectors import appointments_on, memberships_on
from dangjian.organizations.workbook import import_workbook
from tests.factories import valid_id_number
from tests.organizations.test_workbook import xlsx

OFFICER = Actor.system("test-party-office")
D = dt.date

ORGS = [
    ["编码", "名称", "类型", "上级编码", "成立日期", "撤销日期", "最近换届日期"],
    ["HLG", "市林业局党组", "党组", "", D(2010, 1, 1), None, None],
    ["HOC", "市林业局机关党委", "机关党委", "HLG", D(2010, 3, 1), None, D(2022, 6, 1)],
    ["HB1", "林业局第一党支部", "党支部", "HOC", D(2012, 5, 1), None, D(2023, 4, 1)],
    ["HB2", "林业局第二党支部", "党支部", "HOC", D(2012, 5, 1), D(2020, 12, 31), None],
    ["HB3", "林业局第三党支部", "党支部", "HOC", D(2021, 1, 1), None, None],
    ["HB5", "林业局第五党支部", "党支部", "HOC", D(2016, 1, 1), None, None],
]
ROSTER = ["姓名", "身份证号", "入党日期", "转正日期", "党员类别", "所在党组织编码", "转入本组织日期", "党籍状态", "离开日期", "去向"]


def ident(n: int) -> str:
    return valid_id_number(D(1970 + n, 1, 1 + n), region="110101", seq=n)


A, B, C, DD, E, F = (ident(n) for n in range(1, 7))
MEMBERS = [
    ROSTER,
    ["甲", A, D(2000, 7, 1), D(2001, 7, 1), "正式党员", "HB1", None, None, None, None],
    ["乙", B, D(2005, 7, 1), D(2006, 7, 1), "正式党员", "HB3", D(2021, 1, 1), None, None, None],
    ["丙", C, D(2008, 7, 1), D(2009, 7, 1), "正式党员", "HB2", None, "已去世", D(2019, 3, 1), None],
    ["丁", DD, D(2010, 7, 1), D(2011, 7, 1), "正式党员", "HB1", D(2015, 1, 1), "转出", D(2024, 6, 30), "市财政局机关党委"],
    ["戊", E, D(2015, 7, 1), D(2016, 7, 1), "正式党员", "HB3", D(2021, 1, 1), "正常", None, None],
    ["己", F, D(2016, 7, 1), D(2017, 7, 1), "正式党员", "HB5", None, None, None, None],
]
STAYS = [
    ["身份证号", "党组织编码", "转入日期", "转出日期"],
    [B, "HB2", D(2012, 5, 1), D(2020, 12, 31)],
    [DD, "HB2", D(2012, 5, 1), D(2014, 12, 31)],
]
POSTS = [
    ["党组织编码", "身份证号", "职务", "任职日期", "免职日期"],
    ["HB3", B, "书记", D(2021, 1, 1), None],
    ["HB2", B, "书记", D(2015, 1, 1), D(2020, 12, 31)],
    ["HB1", A, "书记", D(2023, 4, 1), None],
    ["HB1", A, "副书记", D(2018, 1, 1), D(2023, 3, 31)],
]


def bureau_with_history():
    return {"党组织": ORGS, "花名册": MEMBERS, "组织关系": STAYS, "任职": POSTS}


def names_on(day: dt.date) -> set[str]:
    return {m.member.name for m in memberships_on(Organization.objects.get(code="HOC"), day)}


@pytest.mark.django_db
def test_a_bureau_with_its_history_answers_who_belonged_on_each_day_as_the_hand_count():
    result = import_workbook(xlsx(bureau_with_history()), by=OFFICER, user=None)

    assert result.ok, [str(e) for e in result.errors]
    assert result.created == {"党组织": 6, "花名册": 6, "组织关系": 2, "任职": 4}
    # Hand count, from the rows above.
    assert names_on(D(2013, 1, 1)) == {"甲", "乙", "丙", "丁"}
    assert names_on(D(2016, 1, 1)) == {"甲", "乙", "丙", "丁"}
    assert names_on(D(2016, 6, 1)) == {"甲", "乙", "丙", "丁"}  # 己 joined the party in 2016-07
    assert names_on(D(2020, 1, 1)) == {"甲", "乙", "丁", "己"}  # 丙 died 2019-03-01
    assert names_on(D(2022, 1, 1)) == {"甲", "丁", "乙", "戊", "己"}
    assert names_on(D(2026, 1, 1)) == {"甲", "乙", "戊", "己"}  # 丁 transferred out 2024-06-30
    assert Member.objects.filter(status=Member.Status.ACTIVE).count() == 4


@pytest.mark.django_db
def test_no_one_belongs_to_an_organisation_before_it_existed_or_after_it_was_dissolved():
    result = import_workbook(xlsx(bureau_with_history()), by=OFFICER, user=None)
    assert result.ok

    for stay in Membership.objects.select_related("organization"):
        assert stay.start >= stay.organization.founded_on, stay
        if stay.organization.dissolved_on:
            assert stay.end and stay.end <= stay.organization.dissolved_on, stay
    # 甲 joined the party in 2000 and 丙 in 2008, their branches were founded in 2012: their stays
    # start in 2012, and the import says so.
    assert Membership.objects.get(member__name="甲").start == D(2012, 5, 1)
    assert Membership.objects.get(member__name="丙").start == D(2012, 5, 1)
    assert any("2 名党员入党早于所在党组织成立" in note for note in result.notes), result.notes


@pytest.mark.django_db
def test_leaving_dissolving_and_renewing_land_as_the_events_the_pages_write():
    assert import_workbook(xlsx(bureau_with_history()), by=OFFICER, user=None).ok

    ding, bing = Member.objects.get(name="丁"), Member.objects.get(name="丙")
    assert (ding.status, ding.memberships.get(end__isnull=False, organization__code="HB1").end) == (
        Member.Status.TRANSFERRED_OUT, D(2024, 6, 30))
    assert bing.status == Member.Status.DECEASED and bing.memberships.get().end == D(2019, 3, 1)
    hb2 = Organization.objects.get(code="HB2")
    assert hb2.dissolved_on == D(2020, 12, 31)
    assert hb2.events.filter(kind=OrganizationEvent.Kind.DISSOLVED, on=D(2020, 12, 31)).exists()
    hoc = Organization.objects.get(code="HOC")
    assert (hoc.term_start, hoc.term_end) == (D(2022, 6, 1), D(2027, 6, 1))
    assert hoc.events.filter(kind=OrganizationEvent.Kind.TERM_RENEWED, on=D(2022, 6, 1)).exists()


@pytest.mark.django_db
def test_past_posts_are_closed_and_the_posts_on_a_day_are_those_held_then():
    assert import_workbook(xlsx(bureau_with_history()), by=OFFICER, user=None).ok

    hb1 = Organization.objects.get(code="HB1")
    assert [(a.member.name, a.role) for a in appointments_on(hb1, D(2020, 1, 1))] == [("甲", "deputy_secretary")]
    assert [(a.member.name, a.role) for a in appointments_on(hb1, D(2025, 1, 1))] == [("甲", "secretary")]
    assert [(a.member.name, a.role) for a in appointments_on(Organization.objects.get(code="HB2"), D(2019, 1, 1))] == [
        ("乙", "secretary")]
    assert Appointment.objects.filter(end__isnull=True).count() == 2


@pytest.mark.django_db
def test_an_organisation_founded_before_terms_with_no_last_renewal_is_listed_as_term_unknown():
    result = import_workbook(xlsx(bureau_with_history()), by=OFFICER, user=None)

    assert "1 个党组织任期未知（成立于任期制施行前，又没有填写“最近换届日期”）：林业局第五党支部。请在党组织页面登记最近一次换届。" in result.notes
    assert Organization.objects.get(code="HB5").term_start is None


@pytest.mark.django_db
@pytest.mark.parametrize(("sheet", "row", "column", "value", "message"), [
    ("组织关系", 3, "转入日期", D(2014, 1, 1), "与第 2 行的组织关系时间重叠（那段至 2020-12-31）。"),
    ("组织关系", 2, "转出日期", D(2021, 6, 1), "以前的组织关系应在转入现所在党组织（2021-01-01）之前结束。"),
    ("花名册", 4, "离开日期", D(2021, 6, 1), "所在党组织已于 2020-12-31 撤销，离开日期不能晚于此日。"),
    ("任职", 3, "任职日期", D(2021, 2, 1), "该党组织已于 2020-12-31 撤销，任职日期不能晚于此日。"),
    ("党组织", 3, "撤销日期", D(2009, 1, 1), "撤销日期不能早于成立日期（2010-03-01）。"),
    ("党组织", 2, "最近换届日期", D(2020, 1, 1), "党组不实行任期制换届，请留空。"),
])
def test_history_that_cannot_have_happened_is_refused_and_nothing_written(sheet, row, column, value, message):
    sheets = {name: [list(r) for r in rows] for name, rows in bureau_with_history().items()}
    headers = sheets[sheet][0]
    if sheet == "组织关系" and row == 3:  # a second stay of 乙 inside the first (row 2)
        sheets[sheet].append([B, "HB1", value, D(2015, 1, 1)])
        row = 4
    else:
        sheets[sheet][row - 1][headers.index(column)] = value

    result = import_workbook(xlsx(sheets), by=OFFICER, user=None)

    assert (sheet, row, column, message) in [(e.sheet, e.row, e.column, e.message) for e in result.errors], [
        str(e) for e in result.errors]
    assert not Organization.objects.exists() and not Member.objects.exists()


@pytest.mark.django_db
def test_the_history_service_itself_refuses_overlapping_stays(bureau):
    from django.core.exceptions import ValidationError

    from dangjian.organizations.services import member_create, membership_history_add
    from tests.organizations.test_organizations import member_data

    member = member_create(by=OFFICER, data=member_data(bureau.branch_a), since=D(2021, 1, 1))
    before = Membership.objects.count()

    with pytest.raises(ValidationError, match="时间重叠"):
        membership_history_add(by=OFFICER, stays=[(member, bureau.branch_b, D(2018, 1, 1), D(2019, 6, 30)),
                                                  (member, bureau.branch_b, D(2019, 1, 1), D(2020, 6, 30))])
    with pytest.raises(ValidationError, match="之前结束"):
        membership_history_add(by=OFFICER, stays=[(member, bureau.branch_b, D(2018, 1, 1), D(2021, 6, 30))])
    assert Membership.objects.count() == before
