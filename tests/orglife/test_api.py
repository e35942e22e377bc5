"""The organisational-life API (/api/meetings, /api/agenda-items, /api/decisions) as each persona
of the bureau uses it: the permission matrix, the sibling-branch boundary, a 党组会 recorded with
its votes, bad input refused in Chinese with nothing saved, paging, and query counts that do not grow
with the rows.

Meetings are dated in March 2025 (timezone-aware, Beijing time): in the past, after the bureau's
appointments (2024-01-01) and after the rules of procedure took effect (2019)."""

import datetime as dt
import json
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment, Member
from dangjian.organizations.services import member_transfer
from dangjian.orglife.models import AgendaItem, Attendance, ContactPoint, Guest, Meeting, MeetingKind
from dangjian.orglife.services import AgendaInput, MeetingInput, meeting_record
from tests.factories import MemberFactory

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
THREE_ADMINS = ["sys_admin", "security_admin", "audit_admin"]
ALL_PERSONAS = [
    "party_office", "branch_secretary", "sibling_secretary", "leader", "inspection_office", "unit_liaison",
    "discipline", "member", *THREE_ADMINS, "no_role",
]
SYSTEM = Actor.system("测试")


def at(day: int, hour: int = 9, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, 30, tzinfo=BEIJING)


def send(client: Client, method: str, url: str, body=None):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def counts() -> tuple[int, int, int, int]:
    """What a refused write must leave unchanged."""
    return (Meeting.objects.count(), AgendaItem.objects.count(), Attendance.objects.count(),
            AuditEntry.objects.count())


def branch_a_members(bureau) -> list[Member]:
    """Branch A's four members (张三 sits in its cell), by name."""
    return list(Member.objects.filter(organization__path__startswith=bureau.branch_a.path).order_by("name", "id"))


def record(org, kind, starts_at, *, absences=None, agenda=(), topics="学习贯彻党的二十大精神", tags=()) -> Meeting:
    return meeting_record(by=SYSTEM, data=MeetingInput(
        organization=org, kind=kind, starts_at=starts_at, topics=topics, absences=absences or {},
        agenda=list(agenda), study_tags=list(tags)))


@pytest.fixture
def leading_group(bureau) -> list[Member]:
    """The 党组's appointees: its secretary (李四, from the fixture) and four committee members, so
    that quorum (more than half, or two thirds for appointments) means something."""
    others = [m for m in Member.objects.exclude(pk=bureau.member_b.pk).order_by("name", "id")][:4]
    for member in others:
        Appointment.objects.create(organization=bureau.root, member=member, role=Appointment.Role.COMMITTEE_MEMBER,
                                   start=dt.date(2024, 1, 1))
    return [bureau.member_b, *others]


@pytest.fixture
def recorded(bureau, leading_group):
    """Three meetings on record: a 党组会 with an appointment decided, branch A's 党员大会 with an
    ordinary item, branch B's 党员大会 without items."""
    root = record(bureau.root, MeetingKind.LEADING_GROUP_MEETING, at(14), agenda=[
        AgendaInput(title="任命办公室主任", category=AgendaItem.Category.KEY_APPOINTMENT,
                    votes_for=5, votes_against=0, votes_abstain=0)])
    a = record(bureau.branch_a, MeetingKind.GENERAL_MEETING, at(10), agenda=[
        AgendaInput(title="推选优秀党员", category=AgendaItem.Category.ORDINARY,
                    votes_for=4, votes_against=0, votes_abstain=0)])
    b = record(bureau.branch_b, MeetingKind.GENERAL_MEETING, at(11))
    return {"root": root, "a": a, "b": b}


def meeting_body(bureau, **fields) -> dict:
    """A branch A 党员大会 as a secretary would send it."""
    return {"organization": bureau.branch_a.pk, "kind": "general_meeting", "starts_at": "2025-04-08T09:30:00+08:00",
            "topics": "学习《中国共产党支部工作条例》", "place": "三楼会议室", "study_tags": ["学习贯彻党的二十大精神"],
            **fields}


# ---------------------------------------------------------------- the permission matrix

def _votes(f, a, s) -> dict:
    return {"agenda": [{"title": "表决事项", "category": "ordinary",
                        "votes_for": f, "votes_against": a, "votes_abstain": s}]}



ROUTES = {
    "meeting_list": lambda b, m: ("get", "/api/meetings?limit=200", None),
    "detail_a": lambda b, m: ("get", f"/api/meetings/{m['a'].pk}", None),
    "detail_b": lambda b, m: ("get", f"/api/meetings/{m['b'].pk}", None),
    "create": lambda b, m: ("post", "/api/meetings", meeting_body(b)),
    "update": lambda b, m: ("put", f"/api/meetings/{m['a'].pk}",
                            meeting_body(b, starts_at="2025-03-10T09:30:00+08:00", topics="更正后的议题",
                                         **_votes(4, 0, 0))),
    "agenda_add": lambda b, m: ("post", "/api/agenda-items",
                                {"meeting": m["a"].pk, "title": "增补议题", "category": "ordinary"}),
    "decisions": lambda b, m: ("get", "/api/decisions?limit=200", None),
}
LISTS = {"meeting_list", "decisions"}
# List columns give how many items the persona sees; the others give the status. On record: the
# 党组会 (root), branch A's and branch B's 党员大会; two agenda items (党组会, branch A).
MATRIX = {
    #                    list detail_a detail_b create update agenda decisions
    "party_office":      (3,   200,     200,     201,   200,   201,   2),
    "branch_secretary":  (1,   200,     404,     201,   200,   201,   0),
    "sibling_secretary": (1,   404,     200,     404,   404,   404,   0),
    "leader":            (3,   200,     200,     403,   403,   403,   2),
    "inspection_office": (3,   200,     200,     403,   403,   403,   2),
    "unit_liaison":      (0,   404,     404,     404,   404,   404,   0),
    "discipline":        (3,   200,     200,     403,   403,   403,   2),
    "member":            (0,   404,     404,     404,   404,   404,   0),
    "sys_admin":         (0,   404,     404,     404,   404,   404,   0),
    "security_admin":    (0,   404,     404,     404,   404,   404,   0),
    "audit_admin":       (0,   404,     404,     404,   404,   404,   0),
    "no_role":           (0,   404,     404,     404,   404,   404,   0),
}
CELLS = [(persona, route, expected) for persona, row in MATRIX.items()
         for route, expected in zip(ROUTES, row, strict=True)]
# What a successful write adds: (meetings, agenda items).
ADDS = {"create": (1, 0), "update": (0, 0), "agenda_add": (0, 1)}


def test_matrix_covers_every_persona_and_route(bureau):
    assert set(MATRIX) == set(bureau.users) == set(ALL_PERSONAS)
    assert len(CELLS) == len(ALL_PERSONAS) * len(ROUTES)


@pytest.mark.parametrize(("persona", "route", "expected"), CELLS, ids=[f"{p}-{r}" for p, r, _ in CELLS])
def test_permission_matrix(bureau, recorded, client_for, persona, route, expected):
    method, url, body = ROUTES[route](bureau, recorded)
    client = client_for(persona)  # logging in is audited: count after it
    meetings, items, _, audit = counts()

    response = send(client, method, url, body)

    if route in LISTS:
        assert response.status_code == 200, response.content
        assert len(response.json()["items"]) == expected
    else:
        assert response.status_code == expected, response.content
    if response.status_code >= 400:
        assert CHINESE.search(response.json()["detail"])
    if method != "get":
        changed = response.status_code < 300
        added = ADDS[route] if changed else (0, 0)
        assert (Meeting.objects.count(), AgendaItem.objects.count()) == (meetings + added[0], items + added[1])
        assert AuditEntry.objects.count() == audit + changed


@pytest.mark.parametrize("route", list(ROUTES))
def test_anonymous_caller_gets_401_on_every_route(bureau, recorded, route):
    method, url, body = ROUTES[route](bureau, recorded)
    response = send(Client(), method, url, body)
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录，或访问令牌无效、已吊销。"


def test_openapi_schema_lists_the_organisational_life_routes(bureau):
    paths = json.loads(Client().get("/api/openapi.json").content)["paths"]
    assert {"/api/meetings", "/api/meetings/{meeting_id}", "/api/agenda-items", "/api/decisions"} <= set(paths)
    assert set(paths["/api/meetings/{meeting_id}"]) == {"get", "put"}


# ---------------------------------------------------------------- the sibling branch

def test_branch_secretary_cannot_read_or_write_sibling_branch_meetings(bureau, recorded, client_for):
    client = client_for("branch_secretary")
    b = recorded["b"]
    before = counts()

    assert client.get(f"/api/meetings/{b.pk}").status_code == 404
    assert client.get(f"/api/meetings?organization={bureau.branch_b.pk}").json()["items"] == []
    assert [m["id"] for m in client.get("/api/meetings").json()["items"]] == [recorded["a"].pk]

    update = send(client, "put", f"/api/meetings/{b.pk}", meeting_body(bureau, organization=bureau.branch_b.pk))
    assert update.status_code == 404
    create = send(client, "post", "/api/meetings", meeting_body(bureau, organization=bureau.branch_b.pk))
    assert create.status_code == 404
    assert "organization" in create.json()["errors"]
    item = send(client, "post", "/api/agenda-items", {"meeting": b.pk, "title": "越权议题", "category": "ordinary"})
    assert item.status_code == 404
    assert "meeting" in item.json()["errors"]

    for response in (update, create, item):
        assert "第二党支部" not in response.content.decode()
    assert counts() == before
    b.refresh_from_db()
    assert b.topics == "学习贯彻党的二十大精神"


def test_branch_secretary_cannot_name_a_sibling_member_as_host(bureau, client_for):
    client = client_for("branch_secretary")  # logging in is audited: count after it
    before = counts()
    response = send(client, "post", "/api/meetings", meeting_body(bureau, host=bureau.member_b.pk))
    assert response.status_code == 404
    assert "host" in response.json()["errors"]
    assert "李四" not in response.content.decode()
    assert counts() == before


def test_absentee_outside_view_is_refused_without_their_name(bureau, client_for):
    # 李四 is in branch B: not expected at branch A's meeting, and not the secretary's to see.
    client = client_for("branch_secretary")
    before = counts()
    response = send(client, "post", "/api/meetings",
                    meeting_body(bureau, absences=[{"member": bureau.member_b.pk, "reason": "sick"}]))
    assert response.status_code == 422
    assert "不是应到人员" in response.json()["errors"]["absences"]
    assert "李四" not in response.content.decode()
    assert counts() == before


def test_member_who_has_since_moved_away_can_still_be_marked_absent(bureau, client_for):
    # Expected on the day (a member of branch A then), transferred to branch B since: out of the
    # secretary's view now, yet the record of that day must be complete.
    moved = branch_a_members(bureau)[-1]
    member_transfer(by=SYSTEM, member=moved, to=bureau.branch_b, on=dt.date(2025, 6, 1))
    response = send(client_for("branch_secretary"), "post", "/api/meetings",
                    meeting_body(bureau, absences=[{"member": moved.pk, "reason": "official", "note": "出差"}]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["expected"], body["present"]) == (4, 3)
    assert {(a["member"], a["present"], a["absence_reason"], a["note"]) for a in body["attendances"]
            if not a["present"]} == {(moved.pk, False, "official", "出差")}


def test_contact_point_leader_may_be_named_as_guest(bureau, client_for):
    leader = bureau.member_b  # a member of branch B, out of branch A's secretary's view
    ContactPoint.objects.create(leader=leader, organization=bureau.branch_a, year=2025)
    response = send(client_for("branch_secretary"), "post", "/api/meetings",
                    meeting_body(bureau, guests=[{"member": leader.pk, "role": "contact_leader"}]))
    assert response.status_code == 201, response.content
    [guest] = response.json()["guests"]
    assert guest == {"id": guest["id"], "name": "李四", "role": "contact_leader", "title": "", "member": leader.pk}


# ---------------------------------------------------------------- recording

def test_party_office_records_leading_group_meeting_with_votes_passed_and_flags(bureau, leading_group, client_for):
    absent = leading_group[-1]
    body = {
        "organization": bureau.root.pk, "kind": "leading_group_meeting",
        "starts_at": "2025-03-20T15:00:00",  # no offset: Beijing time
        "topics": "研究干部任免和办公楼维修", "place": "局党组会议室",
        "host": bureau.member_b.pk, "recorder": leading_group[1].pk, "minutes": "会议由书记主持。",
        "absences": [{"member": absent.pk, "reason": "official", "note": "赴省厅开会"}],
        "guests": [{"name": "纪检组长王某", "role": "supervisor"}],
        "agenda": [
            {"title": "任命办公室副主任", "category": "key_appointment",
             "votes_for": 4, "votes_against": 0, "votes_abstain": 0, "decision": "同意任命。"},
            {"title": "办公楼维修", "category": "ordinary", "amount": "80.00",
             "votes_for": 2, "votes_against": 1, "votes_abstain": 1},
        ],
    }
    response = send(client_for("party_office"), "post", "/api/meetings", body)

    assert response.status_code == 201, response.content
    out = response.json()
    assert out["starts_at"] == "2025-03-20T15:00:00+08:00"
    assert (out["kind"], out["kind_label"], out["organization_name"]) == ("leading_group_meeting", "党组会",
                                                                          "市交通运输局党组")
    assert (out["expected"], out["present"], out["attendance_rate"]) == (5, 4, 0.8)
    assert (out["host"], out["host_name"], out["recorder"]) == (bureau.member_b.pk, "李四", leading_group[1].pk)
    assert [a["member"] for a in out["attendances"] if not a["present"]] == [absent.pk]
    assert [{k: g[k] for k in ("name", "role", "title", "member")} for g in out["guests"]] == [
        {"name": "纪检组长王某", "role": "supervisor", "title": "", "member": None}]
    appointment, repair = out["agenda_items"]
    # 4 present of 5 is at least two thirds; 4 for is more than half of 5.
    assert (appointment["order"], appointment["passed"], appointment["flags"]) == (1, True, [])
    # 2 for is not more than half of 5; 80 万元 reaches the large-fund mark but was not taken as 三重一大.
    assert (repair["passed"], repair["amount"]) == (False, "80.00")
    assert len(repair["flags"]) == 1
    assert "大额度资金" in repair["flags"][0]["text"] and repair["flags"][0]["source"]

    meeting = Meeting.objects.get(pk=out["id"])
    assert meeting.starts_at == dt.datetime(2025, 3, 20, 15, 0, tzinfo=BEIJING)
    assert meeting.recorded_by == bureau.users["party_office"]
    entry = AuditEntry.objects.get(action="meeting.record")
    assert (entry.actor, entry.object_id) == (bureau.users["party_office"], str(meeting.pk))


def test_quorum_is_flagged_when_too_few_of_the_leading_group_attend(bureau, leading_group, client_for):
    # Two of five present: not more than half, so the meeting was not quorate for any item.
    absences = [{"member": m.pk, "reason": "official"} for m in leading_group[2:]]
    body = {"organization": bureau.root.pk, "kind": "leading_group_meeting", "starts_at": "2025-03-21T15:00:00+08:00",
            "topics": "研究重大项目", "absences": absences,
            "agenda": [{"title": "城东快速路立项", "category": "major_project",
                        "votes_for": 2, "votes_against": 0, "votes_abstain": 0}]}
    client = client_for("party_office")
    assert send(client, "post", "/api/meetings", body).status_code == 201

    flagged = client.get("/api/decisions?flagged=true").json()
    assert [d["title"] for d in flagged["items"]] == ["城东快速路立项"]
    decision = flagged["items"][0]
    # Without its quorum the meeting could not be held: its votes are void, neither passed nor failed.
    assert (decision["expected"], decision["present"], decision["passed"]) == (5, 2, None)
    assert "未达到" in decision["flags"][0]["text"] and "表决无效" in decision["flags"][0]["text"]
    assert "党组工作条例" in decision["flags"][0]["source"]
    assert flagged["next"] is None


def test_naive_starts_at_is_beijing_time(bureau, client_for):
    response = send(client_for("branch_secretary"), "post", "/api/meetings",
                    meeting_body(bureau, starts_at="2025-04-08 07:30"))
    assert response.status_code == 201, response.content
    assert response.json()["starts_at"] == "2025-04-08T07:30:00+08:00"
    assert Meeting.objects.get().starts_at == dt.datetime(2025, 4, 7, 23, 30, tzinfo=dt.UTC)


def test_party_office_corrects_a_meeting_record_as_a_whole(bureau, recorded, client_for):
    meeting = recorded["a"]
    absent = branch_a_members(bureau)[0]
    body = meeting_body(bureau, starts_at="2025-03-10T14:00:00+08:00", topics="更正：学习条例",
                        absences=[{"member": absent.pk, "reason": "sick"}],
                        agenda=[{"title": "推选优秀党员", "category": "ordinary",
                                 "votes_for": 3, "votes_against": 0, "votes_abstain": 0}])
    response = send(client_for("party_office"), "put", f"/api/meetings/{meeting.pk}", body)

    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["topics"], out["expected"], out["present"]) == ("更正：学习条例", 4, 3)
    assert out["study_tags"] == ["学习贯彻党的二十大精神"]
    assert [(i["title"], i["votes_for"], i["passed"]) for i in out["agenda_items"]] == [("推选优秀党员", 3, True)]
    assert AuditEntry.objects.filter(action="meeting.update", object_id=str(meeting.pk)).count() == 1
    # What GET answers can be sent back as it is.
    again = client_for("party_office").get(f"/api/meetings/{meeting.pk}").json()
    assert again == out


def test_a_yearly_meeting_held_in_january_counts_as_several_forms_through_the_api(bureau, client_for):
    """所属年度 and 同时计为 go in and come out through the same service as the page: an 组织生活会
    held in January 2025 for 2024, as a 党员大会 with 民主评议; a PUT that leaves them out keeps them
    (an edit never drops a field the client does not send), one that sends them empty clears them."""
    client = client_for("party_office")
    body = meeting_body(bureau, kind="organizational_life_meeting", starts_at="2025-01-15T14:00:00+08:00",
                        covers_year=2024, also_counts=["general_meeting"], includes_appraisal=True)
    response = send(client, "post", "/api/meetings", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["covers_year"], out["also_counts"], out["includes_appraisal"]) == (2024, ["general_meeting"], True)
    meeting = Meeting.objects.get(pk=out["id"])
    assert meeting.covers_year == 2024
    assert sorted(meeting.also_counts.values_list("kind", flat=True)) == ["democratic_appraisal", "general_meeting"]
    assert client.get(f"/api/meetings/{meeting.pk}").json() == out
    body = {k: v for k, v in body.items() if k not in ("covers_year", "also_counts")}
    out = send(client, "put", f"/api/meetings/{meeting.pk}", {**body, "place": "党员活动室"}).json()
    assert (out["place"], out["covers_year"], out["also_counts"]) == ("党员活动室", 2024, ["general_meeting"])
    out = send(client, "put", f"/api/meetings/{meeting.pk}", {**body, "covers_year": None, "also_counts": []}).json()
    assert (out["covers_year"], out["also_counts"]) == (2025, [])


def test_voting_rights_quorum_and_void_votes_are_in_the_answer(bureau, client_for):
    """Each attendance says whether the member had 表决权 that day; the meeting gives 应到/实到有表决权,
    its quorum by its body's rule and whether its votes are void."""
    probationary = MemberFactory(name="预备甲", organization=bureau.branch_a, category=Member.Category.PROBATIONARY,
                                 full_on=None, joined_on=dt.date(2024, 12, 1), stay=dt.date(2024, 12, 1))
    members = [m for m in branch_a_members(bureau) if m.pk != probationary.pk]
    client = client_for("party_office")
    body = meeting_body(bureau, absences=[{"member": m.pk, "reason": "official"} for m in members[:2]])
    out = send(client, "post", "/api/meetings", body).json()
    votes = {a["member"]: a["has_vote"] for a in out["attendances"]}
    assert votes[probationary.pk] is False and sum(votes.values()) == 4
    assert (out["expected"], out["present"], out["voters_expected"], out["voters_present"]) == (5, 3, 4, 2)
    assert out["quorum"]["met"] is False and out["votes_void"] is True
    assert "会议不能召开" in out["quorum"]["text"] and "支部工作条例" in out["quorum"]["source"]
    body["absences"] = body["absences"][:1]
    out = send(client, "put", f"/api/meetings/{out['id']}", body).json()
    assert (out["voters_present"], out["quorum"]["met"], out["votes_void"]) == (3, True, False)


def test_meeting_cannot_move_to_another_organisation(bureau, recorded, client_for):
    client = client_for("party_office")
    before = counts()
    response = send(client, "put", f"/api/meetings/{recorded['a'].pk}",
                    meeting_body(bureau, organization=bureau.branch_b.pk, starts_at="2025-03-10T09:30:00+08:00"))
    assert response.status_code == 422
    assert "不能更改" in response.json()["errors"]["organization"]
    assert counts() == before


def test_agenda_item_is_added_to_a_recorded_meeting(bureau, recorded, client_for):
    response = send(client_for("party_office"), "post", "/api/agenda-items",
                    {"meeting": recorded["root"].pk, "title": "年度预算调整", "category": "large_fund",
                     "amount": 120, "votes_for": 5, "votes_against": 0, "votes_abstain": 0})
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["order"], out["meeting"], out["passed"], out["flags"]) == (2, recorded["root"].pk, True, [])
    assert (out["expected"], out["present"], out["amount"]) == (5, 5, "120.00")
    assert AuditEntry.objects.filter(action="agenda_item.add").count() == 1


def test_meeting_before_the_rules_of_procedure_is_shown_not_crashed(bureau, client_for):
    # The rule data's rules of procedure start in 2019; a 2018 meeting has none to check against.
    meeting = record(bureau.root, MeetingKind.LEADING_GROUP_MEETING, dt.datetime(2018, 6, 1, 9, tzinfo=BEIJING),
                     agenda=[AgendaInput(title="旧议题", category=AgendaItem.Category.MAJOR_MATTER)])
    response = client_for("party_office").get(f"/api/meetings/{meeting.pk}")
    assert response.status_code == 200, response.content
    item = response.json()["agenda_items"][0]
    assert item["passed"] is None and item["flags"] == []  # nothing to check against, nothing invented


# ---------------------------------------------------------------- bad input: 422, Chinese, nothing saved

def _tomorrow_morning() -> str:
    return (timezone.localtime() + dt.timedelta(days=1)).replace(hour=9, minute=0).isoformat()


def _joined_later(bureau) -> Member:
    """A member of branch A from June 2025: visible to everyone who sees branch A, not a member in April."""
    return MemberFactory(name="新转入", organization=bureau.branch_a, stay=dt.date(2025, 6, 1))


# case: (change to the body, field, fragment of its message)
CREATE_CASES = {
    "meeting in the future": (lambda b: {"starts_at": _tomorrow_morning()}, "starts_at", "不能晚于现在"),
    "absence of someone from another branch": (
        lambda b: {"absences": [{"member": b.member_b.pk, "reason": "sick"}]}, "absences", "不是应到人员"),
    "absence of someone who joined later": (
        lambda b: {"absences": [{"member": _joined_later(b).pk, "reason": "personal"}]}, "absences", "不是应到人员"),
    "more votes than members present": (lambda b: {**_votes(4, 1, 0), "absences": [
        {"member": branch_a_members(b)[0].pk, "reason": "sick"}]}, "agenda", "超过实到人数 3"),
    "negative votes": (lambda b: _votes(-1, 0, 0), "agenda.0.votes_for", "不能小于 0"),
    "only some vote counts": (lambda b: _votes(3, None, None), "agenda", "须同时填写"),
    "words for a time": (lambda b: {"starts_at": "上周五下午"}, "starts_at", "ISO 8601"),
    "impossible date": (lambda b: {"starts_at": "2025-02-30T09:00:00"}, "starts_at", "实际存在"),
    "a date without a time": (lambda b: {"starts_at": "2025-04-08"}, "starts_at", "日期加时间"),
    "a number for a time": (lambda b: {"starts_at": 1743000000}, "starts_at", "ISO 8601"),
    "year one": (lambda b: {"starts_at": "0001-01-01T00:00:00+14:00"}, "starts_at", "ISO 8601"),
    "unknown kind": (lambda b: {"kind": "tea_party"}, "kind", "可选值"),
    "kind the organisation does not hold": (lambda b: {"kind": "leading_group_meeting"}, "kind", "不召开党组会"),
    "items at a meeting that does not vote": (lambda b: {"kind": "theme_day", **_votes(3, 0, 0)}, "agenda",
                                              "不表决议题"),
    "blank topics": (lambda b: {"topics": "  "}, "topics", "请填写"),
    "unknown absence reason": (lambda b: {"absences": [{"member": b.member_a.pk, "reason": "lazy"}]},
                               "absences.0.reason", "可选值"),
    "same absentee twice": (lambda b: {"absences": [{"member": b.member_a.pk, "reason": "sick"},
                                                    {"member": b.member_a.pk, "reason": "official"}]},
                            "absences", "重复"),
    "amount in words": (lambda b: {"agenda": [{"title": "采购", "category": "large_fund", "amount": "八十万"}]},
                        "agenda.0.amount", "应为数字"),
    "amount with three decimals": (lambda b: {"agenda": [{"title": "采购", "category": "large_fund",
                                                          "amount": 1.234}]}, "agenda.0.amount", "两位小数"),
    "amount beyond the column": (lambda b: {"agenda": [{"title": "采购", "category": "large_fund",
                                                        "amount": "123456789012345678901234567890.125"}]},
                                 "agenda.0.amount", "超出"),
    "large fund without an amount": (lambda b: {"agenda": [{"title": "采购", "category": "large_fund"}]},
                                     "agenda", "请填写金额"),
    "unknown field": (lambda b: {"photos": ["a.jpg"]}, "photos", "不支持"),
    "organisation given as a name": (lambda b: {"organization": "第一党支部"}, "organization", "整数"),
    "NUL in the topics": (lambda b: {"topics": "学习\x00"}, "topics", "不允许"),
    "a 所属年度 two years away": (lambda b: {"kind": "organizational_life_meeting", "covers_year": 2023},
                              "covers_year", "所属年度应为会议当年（2025）或上一年（2024），不能是2023年"),
    "a form the rules do not combine": (lambda b: {"kind": "party_lecture", "also_counts": ["committee_meeting"]},
                                        "also_counts", "党课不能同时计为支委会（党委会）：按规则，党课可同时计为主题党日、支部党员大会"),
    "民主评议 sent as a form": (lambda b: {"also_counts": ["democratic_appraisal"]}, "also_counts",
                            "请勾选“本次含民主评议党员”"),
    "民主评议 at a form that does not carry it": (lambda b: {"kind": "party_lecture", "includes_appraisal": True},
                                           "includes_appraisal", "党课不能同时计为民主评议党员"),
    "an unknown form": (lambda b: {"also_counts": ["tea_party"]}, "also_counts.0", "可选值"),
}


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_bad_meeting_is_refused_in_chinese_and_nothing_is_saved(bureau, client_for, case):
    change, field, fragment = CREATE_CASES[case]
    client = client_for("party_office")
    body = meeting_body(bureau, **change(bureau))
    before = counts()

    response = send(client, "post", "/api/meetings", body)

    assert response.status_code == 422, response.content
    out = response.json()
    assert fragment in out["errors"][field], out
    assert CHINESE.search(out["detail"])
    assert counts() == before


def test_bad_correction_is_refused_and_the_record_is_unchanged(bureau, recorded, client_for):
    meeting = recorded["a"]
    client = client_for("party_office")
    before, attendance = counts(), list(meeting.attendances.values_list("member_id", "present"))
    response = send(client, "put", f"/api/meetings/{meeting.pk}",
                    meeting_body(bureau, starts_at="2025-03-10T09:30:00+08:00", **_votes(9, 0, 0)))
    assert response.status_code == 422
    assert "超过实到人数 4" in response.json()["errors"]["agenda"]
    assert counts() == before
    assert list(meeting.attendances.values_list("member_id", "present")) == attendance
    assert meeting.agenda_items.get().votes_for == 4


# case: (body, field, fragment)
AGENDA_CASES = {
    "decision without a meeting": (lambda m: {"meeting": None}, "meeting", "议题须属于一次已记录的会议"),
    "more votes than members present": (lambda m: {"votes_for": 6, "votes_against": 0, "votes_abstain": 0},
                                        "agenda", "超过实到人数 5"),
    "negative votes": (lambda m: {"votes_for": 1, "votes_against": -2, "votes_abstain": 0}, "votes_against",
                       "不能小于 0"),
    "meeting that does not vote": (lambda m: {"meeting": m["theme_day"].pk}, "meeting", "不表决议题"),
    "meeting missing from the body": (lambda m: {"meeting": "omit"}, "meeting", "必填"),
    "unknown meeting": (lambda m: {"meeting": 987654}, "meeting", "不存在"),
}


@pytest.mark.parametrize("case", list(AGENDA_CASES))
def test_bad_agenda_item_is_refused_in_chinese_and_nothing_is_saved(bureau, recorded, client_for, case):
    recorded = recorded | {"theme_day": record(bureau.branch_a, MeetingKind.THEME_DAY, at(12))}
    change, field, fragment = AGENDA_CASES[case]
    body = {"meeting": recorded["root"].pk, "title": "追加议题", "category": "major_matter", **change(recorded)}
    if body["meeting"] == "omit":
        del body["meeting"]
    client = client_for("party_office")
    before = counts()

    response = send(client, "post", "/api/agenda-items", body)

    assert response.status_code == (404 if case == "unknown meeting" else 422), response.content
    out = response.json()
    assert fragment in out["errors"][field], out
    assert CHINESE.search(out["detail"])
    assert counts() == before


@pytest.mark.parametrize("url", [
    "/api/meetings/abc", "/api/meetings/0", "/api/meetings/99999999999999999999", "/api/meetings?kind=tea_party",
    "/api/meetings?year=20255", "/api/meetings?after=not-a-cursor", "/api/meetings?after=WyJ4IiwxXQ",
    "/api/meetings?limit=201", "/api/meetings?study_tag=%00", "/api/decisions?flagged=maybe",
    "/api/decisions?category=bribe", "/api/decisions?after=WyIyMDI1LTAzLTE0VDA5OjMwOjAwIiwxXQ",
])
def test_malformed_paths_and_queries_are_422_never_500(bureau, client_for, url):
    response = client_for("party_office").get(url)
    assert response.status_code == 422, response.content
    assert CHINESE.search(response.json()["detail"])


def test_body_that_is_not_json_is_400(bureau, client_for):
    response = client_for("party_office").post("/api/meetings", data="{kind: 党组会", content_type="application/json")
    assert response.status_code == 400
    assert Meeting.objects.count() == 0


# ---------------------------------------------------------------- filters, paging and query counts

def test_meeting_list_filters_within_scope(bureau, recorded, client_for):
    record(bureau.cell_a, MeetingKind.CELL_MEETING, at(3), tags=["党史学习教育"])
    record(bureau.branch_a, MeetingKind.THEME_DAY, dt.datetime(2024, 7, 1, 9, tzinfo=BEIJING))
    client = client_for("party_office")

    def ids(query):
        response = client.get(f"/api/meetings?{query}")
        assert response.status_code == 200, response.content
        return [(m["organization"], m["kind"]) for m in response.json()["items"]]

    assert ids(f"organization={bureau.branch_a.pk}") == [
        (bureau.branch_a.pk, "general_meeting"), (bureau.cell_a.pk, "cell_meeting"), (bureau.branch_a.pk, "theme_day")]
    assert ids("kind=general_meeting") == [(bureau.branch_b.pk, "general_meeting"),
                                           (bureau.branch_a.pk, "general_meeting")]
    assert ids("year=2024") == [(bureau.branch_a.pk, "theme_day")]
    assert ids("study_tag=党史学习教育") == [(bureau.cell_a.pk, "cell_meeting")]
    assert ids("organization=987654") == []

    item = client.get("/api/meetings?kind=cell_meeting").json()["items"][0]
    assert item["study_tags"] == ["党史学习教育"]
    assert (item["expected"], item["present"], item["attendance_rate"]) == (1, 1, 1.0)  # 张三, the cell's member
    assert item["status"] == "late"  # recorded long after it was held: kept, marked 补录


def test_meeting_cursor_pages_visit_every_meeting_once_newest_first(bureau, client_for):
    for day in (3, 5, 5, 7, 9):  # two meetings at the same moment: the id breaks the tie
        record(bureau.branch_a, MeetingKind.THEME_DAY, at(day))
    client, seen, cursor = client_for("branch_secretary"), [], None
    while True:
        body = client.get("/api/meetings", {"limit": 2, **({"after": cursor} if cursor else {})}).json()
        assert len(body["items"]) <= 2
        seen += [m["id"] for m in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == list(Meeting.objects.order_by("-starts_at", "-id").values_list("id", flat=True))
    assert len(seen) == 5


def test_decision_cursor_pages_and_filters(bureau, recorded, client_for):
    record(bureau.branch_a, MeetingKind.GENERAL_MEETING, at(20), agenda=[
        AgendaInput(title=f"事项{i}", category=AgendaItem.Category.ELECTION,
                    votes_for=4, votes_against=0, votes_abstain=0) for i in (1, 2, 3)])
    client, seen, cursor = client_for("leader"), [], None
    while True:
        body = client.get("/api/decisions", {"limit": 2, **({"after": cursor} if cursor else {})}).json()
        seen += [d["title"] for d in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    # Newest meeting first, items within a meeting in their order.
    assert seen == ["事项1", "事项2", "事项3", "任命办公室主任", "推选优秀党员"]
    assert [d["title"] for d in client.get("/api/decisions?category=key_appointment").json()["items"]] == [
        "任命办公室主任"]
    assert client.get("/api/decisions?year=2024").json()["items"] == []
    scoped = client.get(f"/api/decisions?organization={bureau.branch_a.pk}").json()["items"]
    assert {d["organization"] for d in scoped} == {bureau.branch_a.pk}


def test_flagged_decisions_page_by_cursor(bureau, leading_group, client_for):
    # Six items, every other one without a recorded vote (a flag for 三重一大 matters).
    record(bureau.root, MeetingKind.LEADING_GROUP_MEETING, at(14), agenda=[
        AgendaInput(title=f"事项{i}", category=AgendaItem.Category.MAJOR_MATTER,
                    **({} if i % 2 else {"votes_for": 5, "votes_against": 0, "votes_abstain": 0}))
        for i in range(1, 7)])
    client, seen, cursor = client_for("discipline"), [], None
    while True:
        body = client.get("/api/decisions", {"flagged": "true", "limit": 2,
                                             **({"after": cursor} if cursor else {})}).json()
        seen += [d["title"] for d in body["items"]]
        assert all(d["flags"] for d in body["items"])
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == ["事项1", "事项3", "事项5"]


def _count_queries(client: Client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def _many_meetings(bureau, n: int, start: int) -> None:
    members = branch_a_members(bureau)
    for i in range(n):
        record(bureau.branch_a, MeetingKind.GENERAL_MEETING, at(1 + (start + i) % 28, month=1 + (start + i) // 28),
               tags=["学习贯彻党的二十大精神", "党史学习教育"], absences={members[i % 4].pk: ("sick", "")},
               agenda=[AgendaInput(title=f"议题{start + i}", category=AgendaItem.Category.ORDINARY,
                                   amount=Decimal("60"))])  # flagged: a large amount outside 三重一大


def test_meeting_and_decision_lists_query_count_does_not_grow_with_rows(bureau, client_for):
    client = client_for("party_office")
    _many_meetings(bureau, 3, 0)
    few, body = _count_queries(client, "/api/meetings?limit=200")
    assert len(body["items"]) == 3
    few_decisions, body = _count_queries(client, "/api/decisions?limit=200")
    assert len(body["items"]) == 3
    _many_meetings(bureau, 27, 3)
    many, body = _count_queries(client, "/api/meetings?limit=200")
    assert len(body["items"]) == 30
    assert all((m["expected"], m["present"]) == (4, 3) for m in body["items"])
    many_decisions, body = _count_queries(client, "/api/decisions?limit=200")
    assert len(body["items"]) == 30
    assert all(d["flags"] for d in body["items"])
    # Session, user, role grants, the page (应到 and 实到 counted in it), the page's study tags (no
    # session save: at most once a minute).
    assert few == many == 5
    # The same without the tags: flags come from rule data, not queries.
    assert few_decisions == many_decisions == 4


def test_meeting_detail_query_count_does_not_grow_with_attendees(bureau, client_for):
    client = client_for("party_office")
    _many_meetings(bureau, 1, 0)
    few, _ = _count_queries(client, f"/api/meetings/{Meeting.objects.get().pk}")
    MemberFactory.create_batch(20, organization=bureau.branch_a)
    _many_meetings(bureau, 1, 1)
    meeting = Meeting.objects.latest("starts_at")
    Guest.objects.create(meeting=meeting, name="列席者")
    many, body = _count_queries(client, f"/api/meetings/{meeting.pk}")
    assert len(body["attendances"]) == 24
    # Session, user, role grants, the meeting with its people, attendances, guests, agenda items,
    # study tags, the forms it also counts as (no session save: at most once a minute).
    assert few == many == 9


def test_a_forged_cursor_at_the_edge_of_time_is_refused_not_crashed(bureau, client_for):
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps(["0001-01-01T00:00:00+08:00", 1]).encode()).decode().rstrip("=")
    response = client_for("party_office").get("/api/meetings", {"after": cursor})
    assert response.status_code == 422
