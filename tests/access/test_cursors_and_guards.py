"""The one keyset cursor (core.cursors) and the one "404 or 403" guard (access.guards), as the member
page and the API use them."""

import base64
import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from dangjian.access import policy
from dangjian.access.guards import NotVisible, NotYours, get_for_change
from dangjian.access.roles import Perm
from dangjian.core.cursors import BAD_CURSOR, MAX_INT, BadCursor, decode_cursor, encode_cursor
from tests.factories import bulk_members
from tests.organizations.test_api import new_member
from tests.pages import listed_members

SHANGHAI = timezone.get_fixed_timezone(8 * 60)


def _raw(parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


# ---------------------------------------------------------------- the codec

@pytest.mark.parametrize(("values", "types"), [
    (("张三", 42), (str, int)),
    ((dt.datetime(2026, 3, 14, 9, 30, tzinfo=SHANGHAI), 7), (dt.datetime, int)),
    ((dt.datetime(2026, 3, 14, 1, 30, tzinfo=dt.UTC), 7, 3), (dt.datetime, int, int)),
    (("", 0), (str, int)),
    (("x", MAX_INT), (str, int)),
])
def test_a_cursor_gives_back_the_position_it_was_made_from(values, types):
    cursor = encode_cursor(values)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert decode_cursor(cursor, types) == values


def test_no_cursor_is_the_first_page_and_no_position_is_no_next_page():
    assert decode_cursor(None, (str, int)) is None and decode_cursor("", (str, int)) is None
    assert encode_cursor(None) is None


def test_the_member_pages_older_padded_cursors_still_work():
    padded = base64.urlsafe_b64encode(json.dumps(["张三", 42], ensure_ascii=False).encode()).decode()
    assert decode_cursor(padded, (str, int)) == ("张三", 42)


@pytest.mark.parametrize(("cursor", "types"), [
    ("not-a-cursor", (str, int)),
    ("!!!!", (str, int)),
    (_raw(["x"]), (str, int)),  # too short
    (_raw(["x", 1, 2]), (str, int)),  # too long
    (_raw({"name": "x"}), (str,)),  # not a list
    (_raw([1, 1]), (str, int)),  # a number for the name
    (_raw(["x\x00", 1]), (str, int)),  # NUL
    (_raw(["x", "1"]), (str, int)),  # a string for the id
    (_raw(["x", True]), (str, int)),  # a boolean is not an id
    (_raw(["x", 1.5]), (str, int)),
    (_raw(["x", -1]), (str, int)),
    (_raw(["x", MAX_INT + 1]), (str, int)),  # would overflow the database driver
    (_raw(["x", 1]), (dt.datetime, int)),  # not a time
    (_raw(["2026-03-14T09:30:00", 1]), (dt.datetime, int)),  # no offset
    (_raw(["0001-01-01T00:00:00+08:00", 1]), (dt.datetime, int)),  # outside the database's range
    (_raw(["9999-12-31T00:00:00+08:00", 1]), (dt.datetime, int)),
    ("A" * 201, (str, int)),
])
def test_a_forged_cursor_is_refused_with_one_chinese_message(cursor, types):
    with pytest.raises(BadCursor) as refused:
        decode_cursor(cursor, types)
    assert refused.value.message == BAD_CURSOR


@pytest.mark.parametrize("url", ["/api/members", "/api/meetings", "/api/decisions"])
def test_every_api_list_answers_a_forged_cursor_with_422_on_after(bureau, client_for, url):
    response = client_for("party_office").get(url, {"after": _raw(["x"])})
    assert response.status_code == 422
    assert response.json() == {"detail": BAD_CURSOR, "errors": {"after": BAD_CURSOR}}


def test_the_member_page_and_the_api_page_the_same_list_with_the_same_cursor(bureau, client_for):
    bulk_members(bureau.branch_a, 120)
    client = client_for("party_office")
    page = client.get(reverse("organizations:members"))
    cursor = page.context["next_url"].rsplit("after=", 1)[1]
    api = client.get("/api/members", {"limit": 50}).json()
    assert api["next"] == cursor
    second_page = listed_members(client.get(reverse("organizations:members"), {"after": cursor}))
    second_api = client.get("/api/members", {"limit": 50, "after": cursor}).json()["items"]
    assert [m.pk for m in second_page] == [m["id"] for m in second_api]


def test_the_member_page_starts_again_at_the_first_page_on_a_forged_cursor(bureau, client_for):
    response = client_for("party_office").get(reverse("organizations:members"), {"after": _raw(["x"])})
    assert response.status_code == 200
    assert len(listed_members(response)) == 8


# ---------------------------------------------------------------- the guard

def test_guard_404_outside_the_view_403_when_visible_but_not_yours(bureau):
    leader, sibling = bureau.users["leader"], bureau.users["sibling_secretary"]
    args = (policy.get_member, bureau.member_a.pk, Perm.MANAGE_MEMBERS)
    with pytest.raises(NotVisible) as hidden:
        get_for_change(sibling, *args, can=policy.can_on_member, field="member", missing="不存在")
    assert isinstance(hidden.value, Http404) and (hidden.value.message, hidden.value.field) == ("不存在", "member")
    with pytest.raises(NotYours) as refused:
        get_for_change(leader, *args, can=policy.can_on_member, refused=lambda m: f"不能改{m.name}")
    assert isinstance(refused.value, PermissionDenied) and refused.value.message == "不能改张三"
    with pytest.raises(NotVisible):  # pages tell the two apart to no one
        get_for_change(leader, *args, can=policy.can_on_member, hide=True)
    secretary = bureau.users["branch_secretary"]
    assert get_for_change(secretary, *args, can=policy.can_on_member) == bureau.member_a


def test_api_names_the_body_field_the_guard_refused(bureau, client_for):
    refused = client_for("leader").post("/api/members", new_member(bureau), content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["errors"] == {"organization": "您无权管理“第一党支部”的党员。"}
    hidden = client_for("branch_secretary").post(f"/api/members/{bureau.member_a.pk}/transfer",
                                                 {"to": bureau.branch_b.pk, "on": "2026-02-01"},
                                                 content_type="application/json")
    assert hidden.status_code == 404
    assert hidden.json()["errors"] == {"to": "所选党组织不存在，或不在您的权限范围内。"}
    unnamed = client_for("sibling_secretary").patch(f"/api/members/{bureau.member_a.pk}", {"post": "处长"},
                                                    content_type="application/json")
    assert unnamed.status_code == 404
    assert unnamed.json() == {"detail": "未找到该记录，或它不在您的权限范围内。", "errors": {}}
