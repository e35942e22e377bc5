"""A city root: an instance serving a 市直机关工委 has a top node (kind working_committee) above the
bureaus' 党组 roots, so a city-wide user granted there sees the city's figures, matrix and lists,
and pages open on the city rather than on the first bureau. A bureau's own user is unchanged."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.organizations import services
from dangjian.organizations.models import Organization
from tests.factories import MemberFactory, make_org, make_user

K = Organization.Kind
YEAR = timezone.localdate().year


@pytest.fixture
def city(db):
    """市直机关工委 over two bureaus (党组 → 机关党委 → 第一党支部), with 3 and 5 full members."""
    root = make_org(None, K.WORKING_COMMITTEE, "市直机关工委", code="WC")
    bureaus = {}
    for code, name, members in (("B1", "市交通运输局党组", 3), ("B2", "市财政局党组", 5)):
        group = make_org(root, K.LEADING_GROUP, name, code=code)
        committee = make_org(group, K.ORGAN_COMMITTEE, f"{name[:-2]}机关党委", code=f"{code}OC")
        branch = make_org(committee, K.BRANCH, "第一党支部", code=f"{code}BR")
        for _ in range(members):
            MemberFactory(organization=branch)
        bureaus[code] = (group, branch)
    root.refresh_from_db()
    return root, bureaus, make_user("city-office", "party_office", root), make_user("b1-office", "party_office", bureaus["B1"][0])


def _client(client, user):
    client.force_login(user)
    return client


def test_a_city_user_s_pages_open_on_the_city_root(city, client):
    root, _, city_user, _ = city
    c = _client(client, city_user)
    for route in ("orglife:matrix", "orglife:meetings", "orglife:decisions", "reports:metrics"):
        assert c.get(reverse(route)).context["scope"] == root, route


def test_a_city_user_sees_the_city_s_figures_matrix_and_lists(city, client):
    root, bureaus, city_user, _ = city
    c = _client(client, city_user)
    metrics = dict((m.key, v) for m, v in c.get(reverse("reports:metrics"), {"year": YEAR}).context["rows"])
    assert metrics["organizations.full_members"].value == 8  # both bureaus
    matrix = c.get(reverse("orglife:matrix"), {"year": YEAR}).content.decode()
    assert {"B1BR", "B2BR"} <= set(re.findall(r'<tr data-org="(\w+)">', matrix))  # both bureaus' branches
    members = c.get(reverse("organizations:members")).content.decode()
    assert 'id="member-total">共 8 人' in members
    tree = c.get(reverse("organizations:tree")).content.decode()
    assert re.findall(r'<tr[^>]*data-org="(\w+)"', tree)[:2] == ["WC", "B1"]
    assert "市直机关工委" in tree


def test_a_bureau_user_still_sees_only_their_bureau_and_opens_on_it(city, client):
    _, bureaus, _, bureau_user = city
    c = _client(client, bureau_user)
    assert c.get(reverse("orglife:matrix")).context["scope"] == bureaus["B1"][0]
    metrics = dict((m.key, v) for m, v in c.get(reverse("reports:metrics"), {"year": YEAR}).context["rows"])
    assert metrics["organizations.full_members"].value == 3
    assert "市财政局" not in c.get(reverse("organizations:tree")).content.decode()


def test_the_city_user_s_picker_names_each_branch_s_bureau(city, client):
    _, _, city_user, _ = city
    options = _client(client, city_user).get(reverse("organizations:pick"), {"q": "第一党支部"}).content.decode()
    assert re.findall(r'<option value="\d+">([^<]+)</option>', options) == [
        "第一党支部（市交通运输局党组）", "第一党支部（市财政局党组）"]


def test_a_bureau_may_be_founded_under_the_city_root_but_not_a_branch(city):
    root, _, _, _ = city
    by = Actor.system("test")
    group = services.organization_create(by=by, parent=root, code="B3", name="市教育局党组", kind=K.LEADING_GROUP,
                                         founded_on=dt.date(2020, 1, 1))
    assert group.path.startswith(root.path) and group.depth == 2
    with pytest.raises(ValidationError) as refused:
        services.organization_create(by=by, parent=root, code="B3BR", name="第九党支部", kind=K.BRANCH,
                                     founded_on=dt.date(2020, 1, 1))
    assert "党支部不能设在市直机关工委之下" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        services.organization_create(by=by, parent=group, code="WC2", name="另一个工委", kind=K.WORKING_COMMITTEE,
                                     founded_on=dt.date(2020, 1, 1))
    assert "市直机关工委不能设在党组之下" in str(refused.value)
