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
