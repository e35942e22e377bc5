"""Every read goes through access.policy with the permission its records need, and grants without
descendants are honoured everywhere: the leak cases of issue 6, each refused."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.access import policy
from dangjian.access.roles import Perm, Role
from dangjian.audit.services import Actor
from dangjian.organizations.models import Member
from dangjian.orglife import services as orglife_services
from dangjian.orglife.models import ContactPoint, Meeting, MeetingKind
from dangjian.orglife.services import AgendaInput, MeetingInput
from tests.factories import make_user

BY = Actor.system("test")
THIS_YEAR = timezone.localdate().year


def _at(month, day):
    return dt.datetime(THIS_YEAR, month, day, 14, tzinfo=timezone.get_current_timezone())


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _drill(client, key, **params):
    return client.get(reverse("reports:metric_detail", args=[key]), {"year": THIS_YEAR, **params})


@pytest.fixture
def branch_meeting(bureau):
    """A 主题党日 of branch A this year, and a 党组会 with a 三重一大 item."""
    day = min(timezone.localdate(), dt.date(THIS_YEAR, 1, 20))
    when = dt.datetime.combine(day, dt.time(9), tzinfo=timezone.get_current_timezone())
    orglife_services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=when, topics="主题党日"))
    orglife_services.meeting_record(by=BY, data=MeetingInput(
        organization=bureau.root, kind=MeetingKind.LEADING_GROUP_MEETING, starts_at=when, topics="党组会",
        agenda=[AgendaInput(title="年度预算安排", category="major_matter", votes_for=1, votes_against=0,
                            votes_abstain=0)]))


# ---------------------------------------------------------------- metrics carry their records' permission

def test_inspection_office_cannot_read_member_names_through_a_metric(bureau, client_for):
    client = client_for("inspection_office")
    assert _drill(client, "organizations.full_members").status_code == 404
    page = client.get(reverse("reports:metrics"), {"year": THIS_YEAR}).content.decode()
    assert "正式党员" not in page
    # Figures whose records it may read are still there.
    assert _drill(client, "organizations.founded_or_restructured").status_code == 200


def test_branch_secretary_cannot_read_decisions_through_a_metric(bureau, client_for, branch_meeting):
    client = client_for("branch_secretary")
    assert client.get(reverse("orglife:decisions")).status_code == 404
    assert _drill(client, "orglife.decisions.major_matter").status_code == 404
    assert "三重一大" not in client.get(reverse("reports:metrics"), {"year": THIS_YEAR}).content.decode()
    # The party office, which may read decisions, sees the item behind the same figure.
    leader_page = _drill(client_for("party_office"), "orglife.decisions.major_matter").content.decode()
    assert "年度预算安排" in leader_page


def test_grant_without_descendants_counts_only_its_own_organisation(bureau, branch_meeting):
    narrow = make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    client = _login(narrow)
    members = _drill(client, "organizations.full_members", org=bureau.general_branch.pk)
    assert members.status_code == 200
    assert members.context["result"].value == 0  # the 总支 itself holds no members
    assert "张三" not in members.content.decode() and "李四" not in members.content.decode()
    meetings = _drill(client, "orglife.meetings.theme_day", org=bureau.general_branch.pk)
    assert meetings.context["result"].value == 0
    # With descendants, the same figure counts the branches below.
    wide = make_user("zongzhi2", Role.PARTY_OFFICE, bureau.general_branch)
    assert _drill(_login(wide), "orglife.meetings.theme_day", org=bureau.general_branch.pk
                  ).context["result"].value == 1


def test_metric_scope_cannot_be_pointed_outside_the_grant(bureau, client_for):
    response = _drill(client_for("branch_secretary"), "organizations.full_members", org=bureau.root.pk)
    assert response.status_code == 404


# ---------------------------------------------------------------- pages and lists honour the grant's shape

def test_grant_without_descendants_sees_no_child_meetings_or_children(bureau, branch_meeting):
    narrow = make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    client = _login(narrow)
    assert not policy.records(narrow, Meeting, Perm.VIEW_MEETINGS).exists()
    listing = client.get(reverse("orglife:meetings"), {"year": THIS_YEAR})
    assert listing.status_code == 200 and list(listing.context["meetings"]) == []
    meeting = Meeting.objects.get(organization=bureau.branch_a)
    assert client.get(meeting.get_absolute_url()).status_code == 404
    detail = client.get(reverse("organizations:detail", args=[bureau.general_branch.pk])).content.decode()
    assert bureau.branch_a.name not in detail and bureau.branch_b.name not in detail
    api = client.get("/api/meetings", {"organization": bureau.general_branch.pk})
    assert api.status_code == 200 and json.loads(api.content)["items"] == []


def test_api_member_counts_stop_at_a_grant_without_descendants(bureau):
    narrow = make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    body = _login(narrow).get(f"/api/organizations/{bureau.general_branch.pk}").json()
    assert body["members"]["total"] == 0  # the 总支 itself holds none; its branches are not the grant's
    wide = _login(make_user("zongzhi2", Role.PARTY_OFFICE, bureau.general_branch))
    assert wide.get(f"/api/organizations/{bureau.general_branch.pk}").json()["members"]["total"] == 8


def test_member_page_shows_the_audit_trail_to_no_business_role(bureau, client_for):
    page = client_for("party_office").get(reverse("organizations:member_detail", args=[bureau.member_a.pk]))
    assert page.status_code == 200
    assert "变更记录" not in page.content.decode()
    assert page.context["history"]["audit"] is None


def test_policy_refuses_a_record_type_no_area_registered(bureau):
    with pytest.raises(LookupError):
        policy.records(bureau.users["party_office"], Member, Perm.VIEW_MEMBERS)


# ---------------------------------------------------------------- whom may I name: one selector

def test_secretary_cannot_name_a_sibling_branch_member_by_page_or_api(bureau, client_for):
    from dangjian.orglife import selectors

    secretary = bureau.users["branch_secretary"]
    assert not selectors.nameable_people(secretary).filter(pk=bureau.member_b.pk).exists()
    form = client_for("branch_secretary").get(reverse("orglife:meeting_create"),
                                              {"organization": bureau.branch_a.pk, "kind": "committee_meeting"})
    assert bureau.member_b.name not in form.content.decode()
    body = {"organization": bureau.branch_a.pk, "kind": "committee_meeting", "starts_at": "2026-03-02T14:00",
            "topics": "研究工作", "host": bureau.member_b.pk}
    response = client_for("branch_secretary").post("/api/meetings", json.dumps(body),
                                                   content_type="application/json")
    assert response.status_code == 404
    assert not Meeting.objects.filter(topics="研究工作").exists()


def test_a_contact_point_leader_may_be_named_by_the_branch(bureau, client_for):
    from dangjian.orglife import selectors

    leader = Member.objects.filter(organization=bureau.branch_b).exclude(pk=bureau.member_b.pk).first()
    ContactPoint.objects.create(leader=leader, organization=bureau.branch_a, year=THIS_YEAR)
    secretary = bureau.users["branch_secretary"]
    assert selectors.nameable_people(secretary, organization=bureau.branch_a, year=THIS_YEAR).filter(
        pk=leader.pk).exists()
    # Not for another year, and not for a sibling's secretary.
    assert not selectors.nameable_people(secretary, organization=bureau.branch_a, year=THIS_YEAR - 1).filter(
        pk=leader.pk).exists()
    sibling = bureau.users["sibling_secretary"]
    assert not selectors.nameable_leaders(sibling).filter(pk=leader.pk).exists()
