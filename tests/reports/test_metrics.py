import datetime as dt

from django.urls import reverse

from dangjian.access.roles import Perm
from dangjian.audit.services import Actor
from dangjian.core import metrics as registry
from dangjian.core.metrics import MetricValue, Period
from dangjian.organizations import services
from dangjian.organizations.models import Appointment, Organization
from tests.factories import MemberFactory, subtree

BY = Actor.system("test")


def _value(key, scope, year):
    return registry.get(key).compute(organizations=subtree(scope), period=Period.year(year))


def test_organisations_founded_or_restructured_in_a_year(bureau):
    new = services.organization_create(by=BY, parent=bureau.general_branch, code="N1", name="新支部",
                                       kind=Organization.Kind.BRANCH, founded_on=dt.date(2025, 4, 1))
    services.organization_restructure(by=BY, organization=bureau.branch_b, on=dt.date(2025, 9, 1), note="因机构改革更名",
                                      name="城东分局党支部")
    services.organization_restructure(by=BY, organization=bureau.branch_b, on=dt.date(2025, 10, 1), note="再次调整")
    services.organization_create(by=BY, parent=bureau.general_branch, code="N0", name="上年支部",
                                 kind=Organization.Kind.BRANCH, founded_on=dt.date(2024, 4, 1))
    result = _value("organizations.founded_or_restructured", bureau.root, 2025)
    assert result.value == 2  # branch B restructured twice counts once
    assert {e.organization_id for e in result.records} == {new.pk, bureau.branch_b.pk}
    # Scoped: the sibling branch's subtree does not see branch B's events.
    assert _value("organizations.founded_or_restructured", bureau.branch_a, 2025).value == 0


def test_secretaries_in_place_at_year_end(bureau):
    result = _value("organizations.secretaries_in_place", bureau.root, 2026)
    assert (result.value, result.total) == (5, 5)  # cells do not need a secretary
    Appointment.objects.filter(organization=bureau.branch_b).update(end=dt.date(2026, 6, 1))
    result = _value("organizations.secretaries_in_place", bureau.root, 2026)
    assert (result.value, result.total) == (4, 5)
    missing = [o for o in result.records if o.secretary_name is None]
    assert [o.code for o in missing] == ["BB"]
    # At the end of 2025 branch B still had its secretary.
    assert _value("organizations.secretaries_in_place", bureau.root, 2025).value == 5


def test_members_by_category_at_period_end_follow_history(bureau):
    probationer = MemberFactory(organization=bureau.branch_a, category="probationary", full_on=None,
                                joined_on=dt.date(2025, 5, 1))
    full_2025 = _value("organizations.full_members", bureau.branch_a, 2025)
    prob_2025 = _value("organizations.probationary_members", bureau.branch_a, 2025)
    assert (full_2025.value, prob_2025.value) == (4, 1)
    services.member_confirm_full(by=BY, member=probationer, on=dt.date(2026, 5, 1))
    # 2025 is unchanged by a 2026 confirmation; 2026 counts the new full member.
    assert _value("organizations.probationary_members", bureau.branch_a, 2025).value == 1
    assert _value("organizations.full_members", bureau.branch_a, 2026).value == 5
    # A transfer out in 2026 leaves 2025's figure alone.
    services.member_transfer(by=BY, member=bureau.member_a, to=bureau.branch_b, on=dt.date(2026, 2, 1))
    assert _value("organizations.full_members", bureau.branch_a, 2025).value == 4
    assert _value("organizations.full_members", bureau.branch_a, 2026).value == 4


def test_metric_page_links_each_figure_to_its_records(bureau, client_for):
    client = client_for("party_office")
    page = client.get(reverse("reports:metrics"), {"org": bureau.root.pk, "year": 2026}).content.decode()
    for metric in registry.metrics():
        assert metric.label in page
        if not metric.compute(organizations=subtree(bureau.root), period=registry.Period.year(2026)).missing:
            assert reverse("reports:metric_detail", args=[metric.key]) in page
    detail = client.get(reverse("reports:metric_detail", args=["organizations.full_members"]),
                        {"org": bureau.root.pk, "year": 2026}).content.decode()
    assert "张三" in detail and "李四" in detail


def test_branch_secretary_cannot_point_the_metric_page_at_another_branch(bureau, client_for):
    client = client_for("branch_secretary")
    response = client.get(reverse("reports:metric_detail", args=["organizations.full_members"]),
                          {"org": bureau.branch_b.pk, "year": 2026})
    assert response.status_code == 404
    own = client.get(reverse("reports:metric_detail", args=["organizations.full_members"]), {"year": 2026})
    assert own.context["scope"] == bureau.branch_a
    assert "张三" in own.content.decode() and "李四" not in own.content.decode()


def test_a_missing_source_shows_as_missing_not_zero(bureau, client_for):
    key = "test.unconnected"
    registry._registry[key] = registry.Metric(key=key, label="未接入的口径", area="测试", unit="个",
                                              permission=Perm.VIEW_ORGANIZATIONS,
                                              selector=lambda organizations, period: MetricValue(value=None))
    try:
        page = client_for("party_office").get(reverse("reports:metrics")).content.decode()
    finally:
        del registry._registry[key]
    row = page[page.index("未接入的口径"):][:400]
    assert "缺数" in row


def _drill_rows(page: str) -> list[str]:
    import re

    table = page[page.index('id="metric-records"'):page.index("</table>")]
    return re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", table)


def test_a_figure_s_records_come_a_page_at_a_time_in_its_order_with_scope_and_year_kept(bureau, client_for):
    # 55 主题党日 of branch A at the same hour: the figure's order (starts_at, then id) decides the
    # pages, the cursor keeps the place among equal times, the scope and year stay in the link.
    import re
    from urllib.parse import parse_qs, urlsplit

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dangjian.orglife.models import Meeting, MeetingKind
    from dangjian.reports.views import DRILL_PAGE

    when = dt.datetime(2026, 3, 6, 15, tzinfo=timezone.get_current_timezone())
    Meeting.objects.bulk_create([Meeting(organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, topics=f"学习{i:03d}",
                                         starts_at=when + dt.timedelta(days=i // 20)) for i in range(DRILL_PAGE + 5)])
    client = client_for("party_office")
    url = reverse("reports:metric_detail", args=["orglife.meetings.theme_day"])
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(url, {"org": bureau.general_branch.pk, "year": 2026}).content.decode()
    topics = _drill_rows(first)
    assert topics == [f"学习{i:03d}" for i in range(DRILL_PAGE)]
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert {k: v[0] for k, v in parse_qs(urlsplit(link).query).items() if k != "after"} == {
        "org": str(bureau.general_branch.pk), "year": "2026"}
    with CaptureQueriesContext(connection) as later:
        second = client.get(url + link).content.decode()
    assert _drill_rows(second) == [f"学习{i:03d}" for i in range(DRILL_PAGE, DRILL_PAGE + 5)]
    assert 'rel="next"' not in second and 'rel="first"' in second
    assert len(later.captured_queries) == len(ctx.captured_queries)
    assert f"{bureau.general_branch.name} · 2026年" in second and f"：{DRILL_PAGE + 5} 次" in second


def test_page_after_wants_an_ascending_ordering_of_fields(bureau):
    import pytest
    from django.db.models import Value

    from dangjian.core.cursors import page_after
    from dangjian.organizations.models import Member

    with pytest.raises(ValueError):
        page_after(Member.objects.order_by("-name_key"), after=None, size=10)
    with pytest.raises(ValueError):  # the page is cut without the annotations
        page_after(Member.objects.annotate(n=Value(1)).order_by("n"), after=None, size=10)
    first, position = page_after(Member.objects.order_by("name_key"), after=None, size=3)
    rest, end = page_after(Member.objects.order_by("name_key"), after=position[0], size=100)
    assert end is None and [m.pk for m in first + rest] == list(Member.objects.order_by("name_key", "pk")
                                                                  .values_list("pk", flat=True))
