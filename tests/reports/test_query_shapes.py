"""The query shapes that keep a page's cost to its bureau in a city (issue 11, bench/city_pages.py):
scope as `IN (subquery)` with no OR across it, aggregate after paging, one record's audit trail read
off its own index. Each test checks the SQL a selector builds and the answer it gives."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.access import policy
from dangjian.access.roles import Role
from dangjian.organizations.models import Appointment, Member, Organization
from dangjian.orglife import selectors
from dangjian.orglife.models import Attendance, ContactPoint, Meeting, MeetingKind
from tests.factories import MemberFactory, make_org, make_user

K = Organization.Kind


def _sql(queryset) -> str:
    return str(queryset.query).upper()


def test_secretary_bound_to_a_member_elsewhere_sees_their_branch_and_own_record_without_an_or(bureau):
    # A secretary of branch A whose own record sits in branch B: the scope is branch A's members
    # plus that one record, written as `pk IN (scope UNION own)`, never `… OR pk = own` (an OR
    # across the subquery keeps PostgreSQL from the roster index).
    own = MemberFactory(organization=bureau.branch_b)
    user = make_user("secretary_elsewhere", Role.BRANCH_SECRETARY, bureau.branch_a, member=own)
    members = policy.members(user)
    assert " OR " not in _sql(members)
    seen = set(members.values_list("pk", flat=True))
    assert own.pk in seen and bureau.member_a.pk in seen
    assert bureau.member_b.pk not in seen
    assert seen == set(Member.objects.filter(organization__path__startswith=bureau.branch_a.path)
                       .values_list("pk", flat=True)) | {own.pk}


def test_member_without_grants_sees_their_own_record_only(bureau):
    user = bureau.users["member"]
    assert list(policy.members(user).values_list("pk", flat=True)) == [user.member_id]


def _meeting(org, members, *, present):
    meeting = Meeting.objects.create(organization=org, kind=MeetingKind.THEME_DAY, topics="学习",
                                     starts_at=timezone.now() - dt.timedelta(days=3))
    Attendance.objects.bulk_create([
        Attendance(meeting=meeting, member=m, present=i < present, has_vote=i != 0,
                   absence_reason="" if i < present else "sick") for i, m in enumerate(members)])
    return meeting


def test_meeting_rows_count_attendance_per_row_not_over_a_join(bureau):
    members = list(Member.objects.filter(organization__path__startswith=bureau.branch_a.path)[:4])
    assert len(members) == 4
    first = _meeting(bureau.branch_a, members, present=3)
    second = _meeting(bureau.branch_a, members[:2], present=2)
    empty = _meeting(bureau.branch_a, [], present=0)
    rows = selectors.meeting_rows(Meeting.objects.filter(pk__in=[first.pk, second.pk, empty.pk]))
    sql = _sql(rows)
    # No join with the attendance rows and no GROUP BY over the page: the counts are per-row
    # subqueries, so the page is cut before anything is counted.
    assert "JOIN \"ORGLIFE_ATTENDANCE\"" not in sql and "COUNT(DISTINCT" not in sql
    counted = {m.pk: (m.expected, m.present, m.voters_expected, m.voters_present) for m in rows.order_by("-id")[:3]}
    assert counted == {first.pk: (4, 3, 3, 2), second.pk: (2, 2, 1, 1), empty.pk: (0, 0, 0, 0)}


def test_decision_items_count_their_meetings_attendance_per_row(bureau):
    from dangjian.orglife.models import AgendaItem

    members = list(Member.objects.filter(organization__path__startswith=bureau.branch_a.path)[:3])
    meeting = _meeting(bureau.branch_a, members, present=2)
    AgendaItem.objects.create(meeting=meeting, order=1, title="议题", category=AgendaItem.Category.ORDINARY)
    items = selectors.decision_items(AgendaItem.objects.filter(meeting=meeting))
    assert "JOIN \"ORGLIFE_ATTENDANCE\"" not in _sql(items) and "COUNT(DISTINCT" not in _sql(items)
    item = items.get()
    assert (item.expected, item.present, item.voters_expected, item.voters_present) == (3, 2, 2, 1)


def test_nameable_leaders_are_two_subqueries_without_distinct(bureau):
    leader = MemberFactory(organization=bureau.branch_a)
    Appointment.objects.create(organization=bureau.root, member=leader, role=Appointment.Role.LEADING_GROUP_MEMBER,
                               start=dt.date(2020, 1, 1))
    contact = MemberFactory(organization=bureau.branch_b)
    ContactPoint.objects.create(leader=contact, organization=bureau.branch_a, year=2026)
    other_root = make_org(None, K.LEADING_GROUP, "别局党组")
    outsider = MemberFactory(organization=make_org(other_root, K.BRANCH))
    Appointment.objects.create(organization=other_root, member=outsider, role=Appointment.Role.LEADING_GROUP_MEMBER,
                               start=dt.date(2020, 1, 1))
    leaders = selectors.nameable_leaders(bureau.users["party_office"])
    sql = _sql(leaders)
    assert "DISTINCT" not in sql and " OR " not in sql
    found = set(leaders.values_list("pk", flat=True))
    assert {leader.pk, contact.pk} <= found and outsider.pk not in found


def test_audit_trail_of_one_record_has_its_own_index(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "audit_auditentry")
    assert ["object_type", "object_id", "seq"] in [c["columns"] for c in constraints.values() if c["index"]]


def test_subtree_filters_are_organization_in_subquery_not_a_join_on_the_path(bureau):
    from dangjian.organizations.selectors import member_queryset, memberships_on
    from dangjian.orglife.selectors import talk_people

    user = bureau.users["party_office"]
    joined_path = '"ORGANIZATIONS_ORGANIZATION"."PATH" LIKE'  # the outer table's path: a join
    queries = {
        "member list": member_queryset(user, organization=bureau.general_branch),
        "memberships": memberships_on(bureau.general_branch, dt.date.today()),
        "talk people": talk_people(bureau.branch_a),
    }
    for name, queryset in queries.items():
        assert joined_path not in _sql(queryset), name
    listed = set(queries["member list"].values_list("pk", flat=True))
    assert bureau.member_a.pk in listed and bureau.member_b.pk in listed
    assert set(queries["talk people"].values_list("pk", flat=True)) == set(
        Member.objects.filter(memberships__organization__path__startswith=bureau.branch_a.path)
        .values_list("pk", flat=True))


def test_tree_rows_sum_each_subtree_over_a_path_range_and_count_posts_per_row(bureau):
    # The tree's figures for a page of rows: each subtree as an indexed path range (a LIKE on the
    # outer row's path read every organisation of the city for each row, issue 11), each count a
    # subquery per row (no COUNT(DISTINCT …) over members × appointments). The sums are those of
    # the whole-scope tree: dissolved organisations and other bureaus are left out.
    from dangjian.organizations.selectors import organization_rows

    today = dt.date(2026, 6, 1)
    MemberFactory(organization=bureau.cell_a, category=Member.Category.PROBATIONARY, full_on=None)
    MemberFactory(organization=bureau.branch_b, status=Member.Status.TRANSFERRED_OUT)
    Appointment.objects.create(organization=bureau.branch_a, member=bureau.member_a,
                               role=Appointment.Role.COMMITTEE_MEMBER, start=dt.date(2024, 1, 1))
    dissolved = make_org(bureau.general_branch, K.BRANCH, "已撤销支部")
    MemberFactory.create_batch(2, organization=dissolved)
    Organization.objects.filter(pk=dissolved.pk).update(dissolved_on=dt.date(2025, 1, 1))
    MemberFactory.create_batch(3, organization=make_org(make_org(None, K.LEADING_GROUP, "别局党组"), K.BRANCH))
    user = bureau.users["party_office"]
    policy.assignments(user)  # the grants, read once per request

    def figures(rows):
        return {r.org.code: (r.full, r.probationary, r.committee_size, r.committee_members, r.secretary)
                for r in rows}

    with CaptureQueriesContext(connection) as ctx:
        page = figures(organization_rows(user, today=today, among=Organization.objects.all(), limit=10))
    assert len(ctx.captured_queries) == 1
    sql = ctx.captured_queries[0]["sql"].upper()
    assert "LIKE REPLACE" not in sql and "COUNT(DISTINCT" not in sql
    assert "GROUP BY" not in sql and "LEFT OUTER JOIN" not in sql  # the organisations are not joined with their rows
    assert page == figures(organization_rows(user, today=today))
    assert page["LG"][:2] == (8, 1) and page["GB1"][:2] == (8, 1) and page["BA"][:2] == (4, 1)
    assert page["BB"][:2] == (4, 0) and page["BA"][2:] == (2, 1, bureau.member_a.name)


def test_api_organisation_figures_sum_subtrees_over_a_path_range(bureau):
    from dangjian.organizations.api import with_figures

    user = bureau.users["party_office"]
    MemberFactory(organization=bureau.cell_a, category=Member.Category.PROBATIONARY, full_on=None)
    orgs = with_figures(user, policy.organizations(user).order_by("path"))
    assert "LIKE REPLACE" not in _sql(orgs)
    counts = {o.code: (o.full_count, o.probationary_count) for o in orgs}
    assert counts["LG"] == counts["GB1"] == (8, 1) and counts["BA"] == (4, 1) and counts["BB"] == (4, 0)
    assert counts["BA1"] == (1, 1)


def test_a_page_of_contact_points_is_cut_before_its_attendance_is_counted(bureau):
    # The page's ids are chosen on the bare rows (ORDER BY … LIMIT inside the IN), and the counts
    # are subqueries of the outer query, which holds the page's rows only.
    from dangjian.core.cursors import page_after

    for member in Member.objects.all()[:5]:
        ContactPoint.objects.create(leader=member, organization=bureau.branch_a, year=2026)
    points = selectors.contact_points(ContactPoint.objects.all(), year=2026)
    with CaptureQueriesContext(connection) as ctx:
        rows, position = page_after(points, after=None, size=3)
    [query] = ctx.captured_queries
    sql = query["sql"].upper()
    outer, _, inner = sql.partition('"ID" IN (SELECT ')
    assert "LIMIT 4)" in inner and sql.endswith('"ID" ASC')  # the outer query reads the page, no more
    assert "ORGLIFE_MEETING" in outer and "ORGLIFE_MEETING" not in inner
    assert len(rows) == 3 and position == (rows[-1].pk,)
    rest, end = page_after(points, after=position[0], size=3)
    assert end is None and [p.pk for p in rows + rest] == [p.pk for p in points]


def test_a_page_after_an_anchor_deleted_since_starts_again_at_the_first_page(bureau):
    from dangjian.core.cursors import page_after

    for member in Member.objects.all()[:5]:
        ContactPoint.objects.create(leader=member, organization=bureau.branch_a, year=2026)
    points = selectors.contact_points(ContactPoint.objects.all(), year=2026)
    first, position = page_after(points, after=None, size=3)
    ContactPoint.objects.filter(pk=position[0]).delete()  # the last row shown goes before "next" is clicked
    again, _ = page_after(points, after=position[0], size=3)
    assert [p.pk for p in again] == [p.pk for p in points][:3]
    last, end = page_after(points, after=[p.pk for p in points][-1], size=3)  # after the last row: the end
    assert last == [] and end is None
