"""The contact points page is bounded (issue 11: a page whose size grows with the reader's scope):
a page of points at a time in pinyin order of the leaders, the scope and year kept in the page
links, each page's attendance counted for its own rows; the form offers one bureau's leaders."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Organization
from dangjian.orglife import services
from dangjian.orglife.models import ContactPoint, Guest, MeetingKind
from dangjian.orglife.services import GuestInput, MeetingInput
from dangjian.orglife.views import LIST_PAGE
from tests.factories import bulk_members, make_org, make_user

BY = Actor.system("test")
YEAR = 2026
K = Organization.Kind


def _points(bureau, n: int, *, start: int = 20_000) -> list[ContactPoint]:
    """n leaders (named 批量…, pinyin order = number order), each with branch A as contact point."""
    leaders = bulk_members(bureau.branch_b, n, start=start)
    return ContactPoint.objects.bulk_create([ContactPoint(leader=m, organization=bureau.branch_a, year=YEAR)
                                             for m in leaders])


def _rows(page: str) -> list[str]:
    table = page[page.index('id="contact-points"'):page.index("</table>")]
    return re.findall(r"<tr><td>([^<]+)</td>", table)


def _next(page: str) -> str:
    return re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")


def test_contact_points_come_a_page_at_a_time_with_the_scope_and_year_kept(bureau, client_for):
    _points(bureau, LIST_PAGE + 10)
    # The last leader (on the second page) joined one of branch A's two study sessions this year.
    last = ContactPoint.objects.order_by("-leader__name_key").first().leader
    tz = timezone.get_current_timezone()
    for day, guests in ((6, [GuestInput(name=last.name, role=Guest.Role.CONTACT_LEADER, member=last)]), (13, [])):
        services.meeting_record(by=BY, data=MeetingInput(
            organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=dt.datetime(YEAR, 3, day, 15, tzinfo=tz),
            topics="学习", guests=guests))
    client = client_for("party_office")
    url = reverse("orglife:contact_points")
    first = client.get(url, {"org": bureau.general_branch.pk, "year": YEAR}).content.decode()
    names = _rows(first)
    assert len(names) == LIST_PAGE and names == sorted(names)
    assert 'rel="first"' not in first
    link = _next(first)
    assert {k: v[0] for k, v in parse_qs(urlsplit(link).query).items() if k != "after"} == {
        "org": str(bureau.general_branch.pk), "year": str(YEAR)}
    second = client.get(url + link).content.decode()
    more = _rows(second)
    assert len(more) == 10 and names[-1] < more[0] and more[-1] == last.name
    assert set(names) | set(more) == set(ContactPoint.objects.values_list("leader__name", flat=True))
    assert 'rel="next"' not in second and 'rel="first"' in second
    row = second[second.index(f"<td>{last.name}</td>"):][:400]
    assert re.findall(r'text-end">([^<]+)</td>', row) == ["1", "2", "50%"]  # counted on the second page too
    assert f"党建联系点 · {bureau.general_branch.name} · {YEAR}年" in second


def test_contact_points_page_reads_the_same_queries_for_ten_points_or_a_hundred(bureau, client_for):
    client = client_for("party_office")
    url = reverse("orglife:contact_points")

    def count(**params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"year": YEAR, **params}).status_code == 200
        return len(ctx.captured_queries)

    _points(bureau, 10)
    small = count()
    _points(bureau, 90, start=30_000)
    page = client.get(url, {"year": YEAR}).content.decode()
    assert len(_rows(page)) == LIST_PAGE
    assert count() == small
    assert count(after=parse_qs(urlsplit(_next(page)).query)["after"][0]) == small


def test_a_damaged_cursor_starts_again_at_the_first_page(bureau, client_for):
    _points(bureau, 3)
    page = client_for("party_office").get(reverse("orglife:contact_points"), {"year": YEAR, "after": "x!"})
    assert page.status_code == 200 and len(_rows(page.content.decode())) == 3


@pytest.fixture
def two_bureaus(db):
    """市直机关工委 over two bureaus, each with a 党组 member and a branch; the city's party office."""
    root = make_org(None, K.WORKING_COMMITTEE, "市直机关工委", code="WC")
    bureaus = {}
    for code, name in (("B1", "市交通运输局党组"), ("B2", "市财政局党组")):
        group = make_org(root, K.LEADING_GROUP, name, code=code)
        branch = make_org(make_org(group, K.ORGAN_COMMITTEE, code=f"{code}OC"), K.BRANCH, "第一党支部", code=f"{code}BR")
        [leader] = bulk_members(branch, 1, start=40_000 + len(bureaus))
        Appointment.objects.create(organization=group, member=leader, role=Appointment.Role.LEADING_GROUP_MEMBER,
                                   start=dt.date(2024, 1, 1))
        bureaus[code] = (group, branch, leader)
    return root, bureaus, make_user("city-office", "party_office", root)


def test_a_city_user_chooses_a_bureau_before_naming_its_leaders(two_bureaus, client):
    # At the city root the form would offer every bureau's 党组 (about 750 names in a city): the
    # page asks for a bureau first, then offers that bureau's leaders and branches only.
    root, bureaus, user = two_bureaus
    client.force_login(user)
    url = reverse("orglife:contact_points")
    city = client.get(url, {"year": YEAR}).content.decode()
    assert 'id="choose-bureau"' in city and 'name="leader"' not in city
    assert bureaus["B1"][2].name not in city
    group, branch, leader = bureaus["B1"]
    page = client.get(url, {"org": group.pk, "year": YEAR}).content.decode()
    assert leader.name in page and bureaus["B2"][2].name not in page
    assert 'id="choose-bureau"' not in page
    response = client.post(f"{url}?org={group.pk}&year={YEAR}",
                           {"leader": leader.pk, "organization": branch.pk, "year": YEAR})
    assert response.status_code == 302 and response["Location"] == f"{url}?org={group.pk}&year={YEAR}"
    assert ContactPoint.objects.filter(leader=leader, organization=branch, year=YEAR).exists()
    other = client.post(f"{url}?org={group.pk}&year={YEAR}",
                        {"leader": bureaus["B2"][2].pk, "organization": branch.pk, "year": YEAR})
    assert other.status_code == 200 and not ContactPoint.objects.filter(leader=bureaus["B2"][2]).exists()


def test_the_bureau_of_an_organisation_is_its_root_or_the_level_below_a_city_root(two_bureaus, bureau):
    from dangjian.organizations.selectors import bureau_of

    root, bureaus, _ = two_bureaus
    group, branch, _ = bureaus["B2"]
    for org in (root, group, branch):  # the bureau's root, sorted before 市直机关工委 by code, moved its paths
        org.refresh_from_db()
    assert bureau_of(root) is None
    assert bureau_of(branch) == group and bureau_of(bureau.cell_a) == bureau.root
    with CaptureQueriesContext(connection) as ctx:  # a 党组 is a bureau's root, wherever it sits
        assert bureau_of(group) == group and bureau_of(bureau.root) == bureau.root
    assert not ctx.captured_queries
    organ = make_org(root, K.ORGAN_COMMITTEE, "市某局机关党委", code="B3")  # a bureau without a 党组
    assert bureau_of(make_org(organ, K.BRANCH, code="B3BR")) == organ
