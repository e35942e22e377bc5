"""The JSON API under /api/, as each persona of the bureau uses it: what each role sees and may
change on every route (the matrix), the sibling-branch boundary, tokens, masking, bad input, and
query counts that do not grow with the rows."""

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.api.models import ApiToken
from dangjian.api.tokens import api_token_create, api_token_revoke, hash_secret
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core.identity import mask_id_number
from dangjian.organizations.collation import name_key
from dangjian.organizations.models import Member, Membership, Organization
from tests.factories import MemberFactory, make_org, make_unit, valid_id_number

# A full ID number: 17 digits and a digit or X, not inside a longer run of digits.
FULL_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9X])")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
THREE_ADMINS = ["sys_admin", "security_admin", "audit_admin"]
ALL_PERSONAS = [
    "party_office", "branch_secretary", "sibling_secretary", "leader", "inspection_office", "unit_liaison",
    "discipline", "member", *THREE_ADMINS, "no_role",
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The bureau fixture makes 12 log-ins; the real hasher costs ~1 s each, and no test here is about it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def send(client: Client, method: str, url: str, body=None, **headers):
    if body is None:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", **headers)


def new_member(bureau, **fields) -> dict:
    """A valid registration for branch A, as a secretary would send it."""
    return {
        "organization": bureau.branch_a.pk, "name": "王五", "gender": "male", "birth_date": "1985-06-15",
        "id_number": valid_id_number(), "joined_on": "2010-07-01", "full_on": "2011-07-01", "category": "full",
        "phone": "13912345678", **fields,
    }


def plain_member_of_branch_a(bureau) -> Member:
    """One of branch A's members who is not the `member` persona (张三 sits in the cell)."""
    return Member.objects.filter(organization=bureau.branch_a).order_by("pk").first()


def token_client(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


# ---------------------------------------------------------------- the permission matrix

ROUTES = {
    "org_list": lambda b: ("get", "/api/organizations", None),
    "org_detail": lambda b: ("get", f"/api/organizations/{b.branch_a.pk}", None),
    "unit_list": lambda b: ("get", "/api/units", None),
    "unit_detail": lambda b: ("get", f"/api/units/{b.east.pk}", None),
    "member_list": lambda b: ("get", "/api/members?limit=200", None),
    "own_record": lambda b: ("get", f"/api/members/{b.member_a.pk}", None),  # 张三, the member persona
    "member_b": lambda b: ("get", f"/api/members/{b.member_b.pk}", None),
    "create": lambda b: ("post", "/api/members", new_member(b)),
    "update": lambda b: ("patch", f"/api/members/{b.member_a.pk}", {"post": "副科长"}),
    "transfer": lambda b: ("post", f"/api/members/{plain_member_of_branch_a(b).pk}/transfer",
                           {"to": b.cell_a.pk, "on": "2024-06-01", "note": "编入第一党小组"}),
    "probation": lambda b: ("post", f"/api/members/{plain_member_of_branch_a(b).pk}/probation",
                            {"start": "2024-06-01", "end": "2025-06-01", "document_number": "纪〔2024〕3号"}),
}
LISTS = {"org_list", "unit_list", "member_list"}
# List columns give how many items the persona sees (status 200); the others give the status.
# Bureau: 6 organisations, 3 units, 8 members (4 in branch A incl. its cell, 4 in branch B).
MATRIX = {
    #                    org_list detail unit_list detail members own  mem_b create update transfer probation
    "party_office":      (6,      200,   3,        200,   8,      200, 200,  201,   200,   200,     201),
    "branch_secretary":  (2,      200,   1,        404,   4,      200, 404,  201,   200,   200,     201),
    "sibling_secretary": (1,      404,   1,        200,   4,      404, 200,  404,   404,   404,     404),
    "leader":            (6,      200,   3,        200,   8,      200, 200,  403,   403,   403,     403),
    "inspection_office": (6,      200,   3,        200,   0,      404, 404,  403,   404,   404,     404),
    "unit_liaison":      (0,      404,   1,        200,   0,      404, 404,  404,   404,   404,     404),
    "discipline":        (6,      200,   3,        200,   8,      200, 200,  403,   403,   403,     403),
    "member":            (0,      404,   0,        404,   1,      200, 404,  404,   403,   404,     404),
    "sys_admin":         (0,      404,   0,        404,   0,      404, 404,  404,   404,   404,     404),
    "security_admin":    (0,      404,   0,        404,   0,      404, 404,  404,   404,   404,     404),
    "audit_admin":       (0,      404,   0,        404,   0,      404, 404,  404,   404,   404,     404),
    "no_role":           (0,      404,   0,        404,   0,      404, 404,  404,   404,   404,     404),
}
CELLS = [(persona, route, expected) for persona, row in MATRIX.items()
         for route, expected in zip(ROUTES, row, strict=True)]


def test_matrix_covers_every_persona_and_route(bureau):
    assert set(MATRIX) == set(bureau.users) == set(ALL_PERSONAS)
    assert len(CELLS) == len(ALL_PERSONAS) * len(ROUTES)


@pytest.mark.parametrize(("persona", "route", "expected"), CELLS, ids=[f"{p}-{r}" for p, r, _ in CELLS])
def test_permission_matrix(bureau, client_for, persona, route, expected):
    method, url, body = ROUTES[route](bureau)
    client = client_for(persona)  # logging in is audited: count after it
    members_before, audit_before = Member.objects.count(), AuditEntry.objects.count()

    response = send(client, method, url, body)

    if route in LISTS:
        assert response.status_code == 200, response.content
        assert len(response.json()["items"]) == expected
        if route != "member_list":
            assert response.json()["count"] == expected
    else:
        assert response.status_code == expected, response.content
    if response.status_code >= 400:
        assert CHINESE.search(response.json()["detail"])
    if method != "get":
        changed = response.status_code < 300
        assert Member.objects.count() == members_before + (route == "create" and changed)
        audit_after = AuditEntry.objects.count()
        assert audit_after > audit_before if changed else audit_after == audit_before


@pytest.mark.parametrize("route", list(ROUTES))
def test_anonymous_caller_gets_401_on_every_route(bureau, route):
    method, url, body = ROUTES[route](bureau)
    response = send(Client(), method, url, body)
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录，或访问令牌无效、已吊销。"
    assert response["WWW-Authenticate"] == "Bearer"


# ---------------------------------------------------------------- scope boundaries

def test_branch_secretary_cannot_see_sibling_branch_member(bureau, client_for):
    response = client_for("branch_secretary").get(f"/api/members/{bureau.member_b.pk}")
    assert response.status_code == 404
    assert "李四" not in response.content.decode()


def test_branch_secretary_cannot_register_member_in_sibling_branch(bureau, client_for):
    body = new_member(bureau, organization=bureau.branch_b.pk)
    client = client_for("branch_secretary")
    audit_before = AuditEntry.objects.count()

    response = send(client, "post", "/api/members", body)

    assert response.status_code == 404
    assert "organization" in response.json()["errors"]
    assert not Member.objects.with_id_numbers(body["id_number"]).exists()
    assert AuditEntry.objects.count() == audit_before


def test_branch_secretary_cannot_transfer_member_into_sibling_branch(bureau, client_for):
    member = plain_member_of_branch_a(bureau)
    response = send(client_for("branch_secretary"), "post", f"/api/members/{member.pk}/transfer",
                    {"to": bureau.branch_b.pk, "on": "2024-06-01"})
    assert response.status_code == 404
    assert "to" in response.json()["errors"]
    member.refresh_from_db()
    assert member.organization == bureau.branch_a


def test_party_office_transfers_member_between_branches_and_history_is_kept(bureau, client_for):
    member = plain_member_of_branch_a(bureau)
    response = send(client_for("party_office"), "post", f"/api/members/{member.pk}/transfer",
                    {"to": bureau.branch_b.pk, "on": "2024-06-01", "note": "工作调动"})
    assert response.status_code == 200, response.content
    assert response.json()["organization"] == bureau.branch_b.pk
    stays = list(Membership.objects.filter(member=member).order_by("start"))
    assert [(s.organization_id, s.end) for s in stays] == [(bureau.branch_a.pk, dt.date(2024, 6, 1)),
                                                           (bureau.branch_b.pk, None)]
    entry = AuditEntry.objects.filter(action="member.transfer").get()
    assert entry.actor == bureau.users["party_office"] and entry.note == "工作调动"


def test_member_list_filtered_to_an_out_of_scope_organization_is_empty(bureau, client_for):
    client = client_for("branch_secretary")
    assert client.get(f"/api/members?organization={bureau.branch_b.pk}").json()["items"] == []
    assert client.get("/api/members?organization=987654").json()["items"] == []
    in_scope = client.get(f"/api/members?organization={bureau.cell_a.pk}").json()["items"]
    assert [m["name"] for m in in_scope] == ["张三"]


def test_organization_list_filters_by_kind_and_parent_code_within_scope(bureau, client_for):
    office = client_for("party_office")
    assert [o["code"] for o in office.get("/api/organizations?parent=GB1").json()["items"]] == ["BA", "BB"]
    assert [o["code"] for o in office.get("/api/organizations?kind=branch").json()["items"]] == ["BA", "BB"]
    secretary = client_for("branch_secretary")
    assert [o["code"] for o in secretary.get("/api/organizations?parent=GB1").json()["items"]] == ["BA"]
    assert secretary.get("/api/organizations?parent=NOPE").json() == {"count": 0, "items": []}


def test_organization_detail_shows_secretary_term_and_subtree_counts(bureau, client_for):
    MemberFactory(organization=bureau.cell_a, category=Member.Category.PROBATIONARY, full_on=None)
    body = client_for("branch_secretary").get(f"/api/organizations/{bureau.branch_a.pk}").json()
    assert body["secretary"] == "张三"
    assert (body["term_start"], body["term_end"]) == ("2024-01-01", "2027-01-01")
    assert body["founded_on"] == "2018-01-01" and body["dissolved_on"] is None
    assert body["parent"] == bureau.general_branch.pk
    assert body["members"] == {"full": 4, "probationary": 1, "total": 5}  # the cell's members count too


@pytest.mark.parametrize("persona", THREE_ADMINS)
def test_three_admins_get_no_business_data(bureau, client_for, persona):
    client = client_for(persona)
    for url in ("/api/organizations", "/api/units", "/api/members?status=all"):
        assert client.get(url).json()["items"] == [], url
    for url in (f"/api/organizations/{bureau.root.pk}", f"/api/units/{bureau.bureau_unit.pk}",
                f"/api/members/{bureau.member_a.pk}"):
        assert client.get(url).status_code == 404, url


def test_leader_can_read_a_member_but_not_change_them(bureau, client_for):
    client = client_for("leader")
    assert client.get(f"/api/members/{bureau.member_b.pk}").status_code == 200
    response = send(client, "patch", f"/api/members/{bureau.member_b.pk}", {"post": "处长"})
    assert response.status_code == 403
    assert CHINESE.search(response.json()["detail"])
    bureau.member_b.refresh_from_db()
    assert bureau.member_b.post == "科员"


# ---------------------------------------------------------------- writes

def test_secretary_registers_member_through_the_service_with_audit(bureau, client_for):
    body = new_member(bureau, unit=bureau.office.pk, since="2020-03-01")
    response = send(client_for("branch_secretary"), "post", "/api/members", body, REMOTE_ADDR="10.0.0.7")

    assert response.status_code == 201, response.content
    created = Member.objects.get(pk=response.json()["id"])
    assert (created.organization, created.unit) == (bureau.branch_a, bureau.office)
    assert created.id_number == body["id_number"]
    assert created.memberships.get().start == dt.date(2020, 3, 1)
    entry = AuditEntry.objects.filter(action="member.create", object_id=str(created.pk)).get()
    assert (entry.actor, entry.source_ip, entry.roles) == (bureau.users["branch_secretary"], "10.0.0.7",
                                                           "branch_secretary")
    assert body["id_number"] not in json.dumps(entry.after)  # the trail keeps it masked
    assert "*" in response.json()["id_number"]


def test_secretary_updates_roster_fields_and_only_the_change_is_audited(bureau, client_for):
    response = send(client_for("branch_secretary"), "patch", f"/api/members/{bureau.member_a.pk}",
                    {"post": "副科长", "education": "postgraduate", "unit": None})
    assert response.status_code == 200, response.content
    assert (response.json()["post"], response.json()["unit"]) == ("副科长", None)
    bureau.member_a.refresh_from_db()
    assert (bureau.member_a.post, bureau.member_a.education, bureau.member_a.unit) == ("副科长", "postgraduate", None)
    entry = AuditEntry.objects.filter(action="member.update").get()
    assert set(entry.after) == {"post", "education", "unit"}


# ---------------------------------------------------------------- tokens

def test_token_authenticates_as_its_user_within_their_scope(bureau):
    token, secret = api_token_create(by=Actor.system("test"), user=bureau.users["branch_secretary"], name="同步")
    response = token_client(secret).get("/api/members")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 4  # branch A only
    assert token_client(secret).get(f"/api/members/{bureau.member_b.pk}").status_code == 404
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_writes_need_no_csrf_and_are_audited_as_the_user(bureau):
    _, secret = api_token_create(by=Actor.system("test"), user=bureau.users["branch_secretary"], name="同步")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})
    response = send(client, "post", "/api/members", new_member(bureau))
    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.filter(action="member.create").get()
    assert (entry.actor, entry.actor_name) == (bureau.users["branch_secretary"], "shuji_a")


def test_revoked_token_is_refused(bureau):
    token, secret = api_token_create(by=Actor.system("test"), user=bureau.users["party_office"], name="报表")
    assert token_client(secret).get("/api/organizations").status_code == 200
    api_token_revoke(by=Actor.system("test"), token=token)
    response = token_client(secret).get("/api/organizations")
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录，或访问令牌无效、已吊销。"
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_token_of_inactive_user_is_refused(bureau):
    user = bureau.users["party_office"]
    _, secret = api_token_create(by=Actor.system("test"), user=user, name="报表")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert token_client(secret).get("/api/organizations").status_code == 401


def test_token_of_a_reset_account_is_refused_until_the_password_is_changed(bureau):
    from dangjian.access import services as access_services

    user = bureau.users["party_office"]
    _, secret = api_token_create(by=Actor.system("test"), user=user, name="报表")
    assert token_client(secret).get("/api/organizations").status_code == 200
    _, temporary = access_services.password_reset(by=Actor(user=bureau.users["sys_admin"], name="xitong"), user=user)
    response = token_client(secret).get("/api/organizations")
    assert response.status_code == 401
    assert "须先登录页面修改密码" in response.json()["detail"]
    access_services.password_change(by=Actor(user=user, name=user.username), user=user, old_password=temporary,
                                    new_password="Nw#Secret2026")
    assert token_client(secret).get("/api/organizations").status_code == 200


def test_a_bad_token_is_refused_even_alongside_a_session(bureau, client_for):
    client = client_for("party_office")
    assert client.get("/api/organizations", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get("/api/organizations").status_code == 200


def test_session_writes_need_the_csrf_token(bureau):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bureau.users["branch_secretary"])
    refused = send(client, "post", "/api/members", new_member(bureau))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "CSRF 校验失败，请刷新页面后重试。"
    client.cookies["csrftoken"] = "a" * 32
    accepted = send(client, "post", "/api/members", new_member(bureau), HTTP_X_CSRFTOKEN="a" * 32)
    assert accepted.status_code == 201, accepted.content
    assert Member.objects.count() == 9


def test_api_token_command_prints_the_secret_once_and_stores_only_its_hash(bureau):
    out = io.StringIO()
    call_command("api_token", "shuji_a", "--name", "数据中台同步", stdout=out)
    secret = out.getvalue().splitlines()[1]
    token = ApiToken.objects.get(user=bureau.users["branch_secretary"])
    assert (token.key_hash, token.prefix, token.name) == (hash_secret(secret), secret[:8], "数据中台同步")
    assert secret not in {token.key_hash, token.prefix, token.name}
    assert token_client(secret).get("/api/members").status_code == 200

    listing = io.StringIO()
    call_command("api_token", "shuji_a", "--list", stdout=listing)
    assert token.prefix in listing.getvalue() and secret not in listing.getvalue()
    call_command("api_token", "shuji_a", "--revoke", token.prefix, stdout=io.StringIO())
    assert token_client(secret).get("/api/members").status_code == 401


def test_api_token_command_refuses_inactive_users_and_missing_names(bureau):
    with pytest.raises(CommandError, match="--name"):
        call_command("api_token", "shuji_a", stdout=io.StringIO())
    with pytest.raises(CommandError, match="没有账号"):
        call_command("api_token", "nobody", "--name", "x", stdout=io.StringIO())
    User = type(bureau.users["leader"])
    User.objects.filter(username="lingdao").update(is_active=False)
    with pytest.raises(CommandError, match="已停用"):
        call_command("api_token", "lingdao", "--name", "x", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


# ---------------------------------------------------------------- schema

def test_openapi_schema_is_json_and_lists_every_route(bureau):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "党建工作管理平台 API"
    assert set(schema["paths"]) == {
        "/api/organizations", "/api/organizations/{organization_id}", "/api/units", "/api/units/{unit_id}",
        "/api/members", "/api/members/{member_id}", "/api/members/{member_id}/transfer",
        "/api/members/{member_id}/probation",
        "/api/meetings", "/api/meetings/{meeting_id}", "/api/agenda-items", "/api/decisions",
    }
    assert set(schema["paths"]["/api/members/{member_id}"]) == {"get", "patch"}
    assert {"BearerToken", "Session"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_that_would_load_a_cdn_is_off(bureau):
    assert Client().get("/api/docs").status_code == 404


# ---------------------------------------------------------------- masking

@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_no_full_id_number_in_any_member_list(bureau, client_for, persona):
    # Not even the member's own: the full number is the page's audited reveal, which the API lacks.
    user = bureau.users[persona]
    body = client_for(persona).get("/api/members?limit=200&status=all").content.decode()
    assert not set(FULL_ID_NUMBER.findall(body)) & set(Member.objects.values_list("id_number", flat=True))
    for item in json.loads(body)["items"]:
        assert "*" in item["id_number"]
        if item["id"] != user.member_id:
            assert item["birth_date"] is None


def test_member_sees_own_birth_date_but_a_masked_id_number(bureau, client_for):
    body = client_for("member").get(f"/api/members/{bureau.member_a.pk}").json()
    assert body["id_number"] == mask_id_number(bureau.member_a.id_number)
    assert body["birth_date"] == "1985-06-15"


def test_party_office_gets_masked_id_number_and_no_birth_date(bureau, client_for):
    # With the birth date beside it the mask would leave only a few digits to guess.
    body = client_for("party_office").get(f"/api/members/{bureau.member_a.pk}").json()
    assert body["id_number"] == mask_id_number(bureau.member_a.id_number)
    assert (body["birth_date"], body["birth_year"]) == (None, 1985)


@pytest.mark.parametrize(("persona", "full"), [
    ("party_office", True), ("branch_secretary", True), ("leader", False), ("discipline", False), ("member", True),
])
def test_phone_is_full_only_with_see_phone(bureau, client_for, persona, full):
    phone = client_for(persona).get(f"/api/members/{bureau.member_a.pk}").json()["phone"]
    expected = bureau.member_a.phone if full else bureau.member_a.phone[:3] + "****" + bureau.member_a.phone[-4:]
    assert phone == expected


# ---------------------------------------------------------------- bad input: 4xx, Chinese, nothing saved

def _tomorrow() -> str:
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


def _bad_checksum() -> str:
    good = valid_id_number()
    return good[:17] + ("0" if good[17] != "0" else "1")


CREATE_CASES = {
    "date given as words": (lambda b: {"joined_on": "去年七月"}, 422, "joined_on", "日期格式"),
    "future join date": (lambda b: {"joined_on": _tomorrow(), "full_on": None, "category": "probationary"},
                         422, "joined_on", "不能晚于今天"),
    "ID number with a bad checksum": (lambda b: {"id_number": _bad_checksum()}, 422, "id_number", "校验位"),
    "ID number already on the roll": (lambda b: {"id_number": b.member_b.id_number}, 422, "id_number", "已登记"),
    "unknown organisation": (lambda b: {"organization": 987654}, 404, "organization", "不存在"),
    "organisation given as a name": (lambda b: {"organization": "第一党支部"}, 422, "organization", "整数"),
    "organisation that holds no members": (lambda b: {"organization": b.general_branch.pk}, 422, "organization",
                                           "党支部或党小组"),
    "unknown unit": (lambda b: {"unit": 987654}, 404, "unit", "不存在"),
    "name longer than the column": (lambda b: {"name": "张" * 51}, 422, "name", "50"),
    "NUL in a name": (lambda b: {"name": "王\x00五"}, 422, "name", "不允许"),
    "probationary member with a full date": (lambda b: {"category": "probationary"}, 422, "full_on", "预备党员"),
    "unknown category": (lambda b: {"category": "candidate"}, 422, "category", "可选值"),
    "unknown field": (lambda b: {"salary": 1}, 422, "salary", "不支持"),
    "huge organisation id": (lambda b: {"organization": 10**30}, 422, "organization", "不能大于"),
}


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_bad_registration_is_refused_in_chinese_and_nothing_is_saved(bureau, client_for, case):
    change, status, field, fragment = CREATE_CASES[case]
    client = client_for("party_office")
    audit_before = AuditEntry.objects.count()
    response = send(client, "post", "/api/members", new_member(bureau, **change(bureau)))
    assert response.status_code == status, response.content
    body = response.json()
    assert fragment in body["errors"][field]
    assert CHINESE.search(body["detail"])
    assert Member.objects.count() == 8
    assert AuditEntry.objects.count() == audit_before


UPDATE_CASES = {
    "organisation changed outside a transfer": ({"organization": 4}, "organization", "转接"),
    "status changed outside its workflow": ({"status": "deceased"}, "status", "不能在此修改"),
    "future birth date": ({"birth_date": "2099-01-01"}, "birth_date", "不能晚于今天"),
    "name cleared": ({"name": None}, "name", "请填写姓名"),
    "ID number with a bad checksum": ({"id_number": "330102198506150010"}, "id_number", "校验位"),
    "impossible date": ({"joined_on": "2020-02-30"}, "joined_on", "日期格式"),
    "phone in a bad format": ({"phone": "12345"}, "phone", "电话号码格式"),
    "masked ID number sent back": ({"id_number": "330102********0112"}, "id_number", "脱敏"),
    "masked phone sent back": ({"phone": "138****0000"}, "phone", "脱敏"),
}


@pytest.mark.parametrize("case", list(UPDATE_CASES))
def test_bad_update_is_refused_in_chinese_and_nothing_changes(bureau, client_for, case):
    change, field, fragment = UPDATE_CASES[case]
    before = Member.objects.filter(pk=bureau.member_a.pk).values().get()
    response = send(client_for("party_office"), "patch", f"/api/members/{bureau.member_a.pk}", change)
    assert response.status_code == 422, response.content
    assert fragment in response.json()["errors"][field]
    assert Member.objects.filter(pk=bureau.member_a.pk).values().get() == before
    assert not AuditEntry.objects.filter(action="member.update").exists()


TRANSFER_CASES = {
    "future date": (lambda b: {"to": b.branch_b.pk, "on": _tomorrow()}, 422, "on", "不能晚于今天"),
    "date given as words": (lambda b: {"to": b.branch_b.pk, "on": "明天"}, 422, "on", "日期格式"),
    "before the current stay began": (lambda b: {"to": b.branch_b.pk, "on": "2001-01-01"}, 422, "on", "不能早于"),
    "into the same organisation": (lambda b: {"to": b.branch_a.pk, "on": "2024-06-01"}, 422, "to", "相同"),
    "into a general branch": (lambda b: {"to": b.general_branch.pk, "on": "2024-06-01"}, 422, "to", "党支部"),
    "unknown organisation": (lambda b: {"to": 987654, "on": "2024-06-01"}, 404, "to", "不存在"),
    "missing date": (lambda b: {"to": b.branch_b.pk}, 422, "on", "必填"),
}


@pytest.mark.parametrize("case", list(TRANSFER_CASES))
def test_bad_transfer_is_refused_in_chinese_and_nothing_moves(bureau, client_for, case):
    body, status, field, fragment = TRANSFER_CASES[case]
    member = plain_member_of_branch_a(bureau)
    response = send(client_for("party_office"), "post", f"/api/members/{member.pk}/transfer", body(bureau))
    assert response.status_code == status, response.content
    assert fragment in response.json()["errors"][field]
    member.refresh_from_db()
    assert member.organization == bureau.branch_a
    assert member.memberships.count() == 1


def test_body_that_is_not_json_is_400_in_chinese(bureau, client_for):
    response = client_for("party_office").post("/api/members", data="{name: 王五", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "请求体不是有效的 JSON。"
    assert Member.objects.count() == 8


@pytest.mark.parametrize("url", [
    "/api/members/abc", "/api/members/99999999999999999999", "/api/members?after=not-a-cursor",
    "/api/members?after=WyJ4Il0", "/api/members?limit=201", "/api/members?status=retired", "/api/members?q=%00",
    "/api/members?organization=-1", "/api/organizations?offset=-1", "/api/organizations?include_dissolved=maybe",
    "/api/units?kind=castle", "/api/organizations/0",
])
def test_malformed_paths_and_queries_are_422_never_500(bureau, client_for, url):
    response = client_for("party_office").get(url)
    assert response.status_code == 422, response.content
    assert CHINESE.search(response.json()["detail"])


# ---------------------------------------------------------------- paging and query counts

def test_member_keyset_pages_visit_every_member_once_in_pinyin_order(bureau, client_for):
    MemberFactory(name="安宁", organization=bureau.branch_a)
    MemberFactory(name="赵六", organization=bureau.branch_b)
    client, seen, cursor = client_for("party_office"), [], None
    while True:
        body = client.get("/api/members", {"limit": 3, **({"after": cursor} if cursor else {})}).json()
        seen += [(m["name"], m["id"]) for m in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    # the page's order, not code points: 安 (U+5B89) < 李 (U+674E) < 张 (U+5F20) < 赵 (U+8D75)
    assert seen == sorted(Member.objects.values_list("name", "id"), key=lambda row: (name_key(row[0]), row[1]))
    names = [name for name, _ in seen]
    assert names.index("安宁") < names.index("李四") < names.index("张三") < names.index("赵六")
    assert len(seen) == 10


def _branch_with_members(bureau, n: int) -> Organization:
    branch = make_org(bureau.general_branch, Organization.Kind.BRANCH, "第三党支部")
    MemberFactory.create_batch(n, organization=branch, unit=bureau.office)
    return branch


def _count_queries(client: Client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_member_list_query_count_does_not_grow_with_rows(bureau, client_for):
    client = client_for("party_office")
    branch = _branch_with_members(bureau, 5)
    url = f"/api/members?organization={branch.pk}&limit=200"
    few, body = _count_queries(client, url)
    assert len(body["items"]) == 5
    MemberFactory.create_batch(45, organization=branch, unit=bureau.office)
    many, body = _count_queries(client, url)
    assert len(body["items"]) == 50
    # Session, user, role grants, the filter's organisation, the page (the session is saved at most
    # once a minute, SESSION_TOUCH_SECONDS: not by these requests).
    assert few == many == 5


def test_member_list_by_token_query_count_does_not_grow_with_rows(bureau):
    _, secret = api_token_create(by=Actor.system("test"), user=bureau.users["party_office"], name="同步")
    client = token_client(secret)
    client.get("/api/members")  # stamps last_used_at, which is then left alone for a while
    branch = _branch_with_members(bureau, 5)
    few, _ = _count_queries(client, "/api/members?limit=200")
    MemberFactory.create_batch(45, organization=branch, unit=bureau.office)
    many, body = _count_queries(client, "/api/members?limit=200")
    assert len(body["items"]) == 58
    assert few == many == 3  # the token with its user, role grants, the page


def test_organization_and_unit_lists_query_count_does_not_grow_with_rows(bureau, client_for):
    client = client_for("party_office")
    few_orgs, _ = _count_queries(client, "/api/organizations?limit=200")
    few_units, _ = _count_queries(client, "/api/units?limit=200")
    for i in range(20):
        branch = make_org(bureau.general_branch, Organization.Kind.BRANCH, f"新支部{i}")
        MemberFactory.create_batch(2, organization=branch)
        make_unit(bureau.bureau_unit, organization=branch)
    many_orgs, body = _count_queries(client, "/api/organizations?limit=200")
    assert body["count"] == 26
    many_units, body = _count_queries(client, "/api/units?limit=200")
    assert body["count"] == 23
    # Session, user, role grants, the count, the page (secretary, parent and member counts are
    # subqueries inside it); no session save (at most once a minute).
    assert few_orgs == many_orgs == 5
    assert few_units == many_units == 5
