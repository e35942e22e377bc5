"""Organisation pickers stay small in a city (issue 11: every all-organisation <select> held every
branch): up to PICKER_FULL choices they are the whole list, beyond that the chosen value only and a
search box whose matches (at most 20, through the access policy with the form's permission) replace
the options. The form still validates the posted value against its own queryset."""

import re

import pytest
from django.urls import reverse

from dangjian.core.forms import PICKER_FULL
from dangjian.organizations.models import Member, Organization
from dangjian.organizations.views import PICK_LIMIT
from tests.organizations.test_tree_page import build_city, office_of


@pytest.fixture
def city(db):
    return build_city(3, 40)  # 124 organisations, 120 of them branches


def _select(page: str, name: str) -> str:
    return re.search(rf'<select name="{name}"[^>]*>.*?</select>', page, re.S).group(0)


def test_a_long_picker_renders_the_chosen_value_and_a_search_box(city, client):
    client.force_login(office_of(city))
    branch = Organization.objects.get(code="G001B007")
    page = client.get(reverse("organizations:member_create"), {"organization": branch.pk}).content.decode()
    select = _select(page, "organization")
    assert re.findall(r"<option[^>]*>", select) == ['<option value="">', f'<option value="{branch.pk}" selected>']
    search = re.search(r'<input type="search"[^>]*org-picker-search[^>]*>', page).group(0)
    assert 'hx-get="/organizations/pick/?perm=manage_members&amp;kinds=branch%2Ccell&amp;live=1"' in search
    assert 'hx-target="next select"' in search and 'form="org-picker-none"' in search  # never submitted itself
    assert len(page.encode()) < 40_000


def test_a_long_picker_reads_the_chosen_value_again_only_when_its_first_rows_do_not_hold_it(city):
    """A scope's top (first in path order) is among the rows read to see whether the list is long:
    a page whose chosen scope is its top costs the same queries in a bureau as in a city."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dangjian.core.templatetags.dangjian import org_picker

    orgs = Organization.objects.order_by("path")
    assert orgs.count() > PICKER_FULL
    top, far = orgs.first(), orgs.last()
    with CaptureQueriesContext(connection) as near:
        shown = org_picker("organization", orgs, top, empty="全部")
    assert len(near.captured_queries) == 1
    assert re.findall(r"<option[^>]*>", shown) == ['<option value="">', f'<option value="{top.pk}" selected>']
    with CaptureQueriesContext(connection) as beyond:
        shown = org_picker("organization", orgs, far, empty="全部")
    assert len(beyond.captured_queries) == 2 and f'<option value="{far.pk}" selected>' in shown
    assert re.findall(r"<option[^>]*>", shown) == ['<option value="">', f'<option value="{far.pk}" selected>']


def test_a_short_picker_is_the_whole_list(bureau, client_for):
    page = client_for("party_office").get(reverse("organizations:member_create")).content.decode()
    select = _select(page, "organization")
    holding = Organization.objects.filter(kind__in=("branch", "cell"), dissolved_on__isnull=True).count()
    assert holding <= PICKER_FULL and select.count("<option") == holding + 1  # and 请选择…
    assert "org-picker-search" not in page


def test_the_search_offers_at_most_twenty_matches_within_scope_and_names_their_bureau(city, bureau, client):
    client.force_login(office_of(city))
    url = reverse("organizations:pick")
    options = client.get(url, {"q": "支部", "perm": "manage_members", "kinds": "branch,cell", "live": "1"}).content.decode()
    values = re.findall(r'<option value="(\d+)">([^<]+)</option>', options)
    assert len(values) == PICK_LIMIT and "仅显示前 20 个" in options
    assert all(label.endswith("（城市机关党委）") for _, label in values)
    assert not Organization.objects.filter(pk__in=[int(v) for v, _ in values]).exclude(path__startswith=city.path).exists()
    options = client.get(url, {"q": "第一党支部", "perm": "manage_members"}).content.decode()
    assert "没有名称含“第一党支部”的党组织" in options  # the bureau's branch: outside this user's scope
    # the kinds asked for: no 总支 among branches and cells
    options = client.get(url, {"q": "第1", "perm": "manage_members", "kinds": "branch"}).content.decode()
    assert "党总支" not in options and "第1总支第0支部" in options


@pytest.mark.parametrize("params, status", [
    ({"q": "支部", "perm": "no_such_perm"}, 404),
    ({"q": "支部", "perm": "view_audit"}, 404),  # a permission the reader does not hold
    ({"q": "", "perm": "manage_members"}, 200),
    ({"q": "支部", "kinds": "<script>", "perm": "manage_members"}, 200),
])
def test_bad_search_parameters_give_nothing_never_an_error(city, client, params, status):
    client.force_login(office_of(city))
    response = client.get(reverse("organizations:pick"), params)
    assert response.status_code == status
    if status == 200:
        assert not re.search(r'<option value="\d+"', response.content.decode())


def test_the_form_refuses_an_organisation_outside_its_queryset_and_saves_nothing(city, bureau, client):
    client.force_login(office_of(city))
    page = client.post(reverse("organizations:member_create"), {
        "name": "外来人", "gender": "male", "id_number": "110101198506150019", "birth_date": "1985-06-15",
        "joined_on": "2010-07-01", "full_on": "2011-07-01", "category": "full",
        "organization": bureau.branch_a.pk}).content.decode()
    assert "选择一个有效的选项" in page
    assert not Member.objects.filter(name="外来人").exists()
    # the rejected value is not echoed as an option of the long picker
    assert re.findall(r"<option[^>]*>", _select(page, "organization")) == ['<option value="">']


def test_scope_and_filter_pickers_of_list_pages_stay_small(city, client):
    client.force_login(office_of(city))
    # the member list's filter: every organisation, so long: the search box
    page = client.get(reverse("organizations:members")).content.decode()
    assert re.findall(r"<option[^>]*>", _select(page, "organization")) == ['<option value="" selected>']
    assert 'hx-get="/organizations/pick/?live=1&amp;blank=1"' in page
    # the matrix's scope: the levels above branches (short here: the whole list, no search)
    page = client.get(reverse("orglife:matrix")).content.decode()
    assert len(re.findall(r"<option[^>]*>", _select(page, "org"))) == 4
