"""延期换届 and the election figures of a 换届 (《中国共产党基层组织选举工作条例》2020): an extension
needs the higher organisation's approval (body and 文号) and runs at most a year past the term's
end; within it the term is not shown overdue. An election needs more than 4/5 of the 应到会 members
with 选举权 present, and each elected person more than half of those present."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core.todos import todos_for
from dangjian.organizations import selectors, services
from dangjian.organizations.models import Organization, OrganizationEvent

BY = Actor.system("test")
TODAY = dt.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _on_the_day():
    with time_machine.travel(dt.datetime(2026, 11, 30, 10), tick=False):
        yield


def _expire(bureau) -> Organization:
    """Branch B's term ended on 2026-06-30."""
    Organization.objects.filter(pk=bureau.branch_b.pk).update(term_start=dt.date(2023, 6, 30),
                                                              term_end=dt.date(2026, 6, 30))
    bureau.branch_b.refresh_from_db()
    return bureau.branch_b


def _codes(bureau, code="BB"):
    rows = {r.org.code: r for r in selectors.organization_rows(bureau.users["party_office"], today=TODAY)}
    return {f.code: f for f in rows[code].findings}


def _extend(org, extended_to, **kw):
    data = dict(approved_on=dt.date(2026, 6, 1), approved_by="局机关党委", document_number="临交机党〔2026〕12号",
                extended_to=extended_to)
    return services.organization_extend_term(by=BY, organization=org, **(data | kw))


# ---------------------------------------------------------------- extension

def test_an_expired_term_is_overdue_until_an_extension_is_approved(bureau):
    branch = _expire(bureau)
    assert _codes(bureau)["term.expired"].level == "danger"
    _extend(branch, dt.date(2027, 3, 31))
    found = _codes(bureau)
    assert "term.expired" not in found
    assert found["term.extended"].text == "任期已于 2026-06-30 届满，经批准延期至 2027-03-31"
    assert found["term.extended"].level == "warning"
    event = OrganizationEvent.objects.get(organization=branch, kind=OrganizationEvent.Kind.TERM_EXTENDED)
    assert (event.approved_by, event.document_number, event.extended_to) == (
        "局机关党委", "临交机党〔2026〕12号", dt.date(2027, 3, 31))
    assert AuditEntry.objects.filter(action="organization.extend_term").count() == 1
    assert not any("应及时换届" in t.title for t in todos_for(bureau.users["party_office"], TODAY)
                   if t.organization_id == branch.pk)


def test_once_the_approved_extension_has_passed_the_term_is_overdue_again(bureau):
    branch = _expire(bureau)
    _extend(branch, dt.date(2026, 10, 31))
    assert _codes(bureau)["term.expired"].text == "批准延期至 2026-10-31 已过，应及时换届"


def test_an_extension_of_exactly_a_year_is_accepted_and_one_day_more_is_refused(bureau):
    branch = _expire(bureau)
    with pytest.raises(ValidationError) as exc:
        _extend(branch, dt.date(2027, 7, 1))
    text = exc.value.message_dict["extended_to"][0]
    assert "延期换届一般不超过1年" in text and "最迟可延至 2027-06-30" in text
    assert "《中国共产党基层组织选举工作条例》（2020）第三条" in text
    branch.refresh_from_db()
    assert branch.term_extended_to is None
    assert not OrganizationEvent.objects.filter(kind=OrganizationEvent.Kind.TERM_EXTENDED).exists()
    _extend(branch, dt.date(2027, 6, 30))
    branch.refresh_from_db()
    assert branch.term_extended_to == dt.date(2027, 6, 30)


def test_a_second_extension_counts_from_the_term_end_not_from_the_first(bureau):
    branch = _expire(bureau)
    _extend(branch, dt.date(2026, 12, 31))
    with pytest.raises(ValidationError, match="最迟可延至 2027-06-30"):
        _extend(branch, dt.date(2027, 12, 31), document_number="临交机党〔2026〕30号")


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"approved_by": " "}, "approved_by", "请填写批准延期的上级党组织"),
    ({"document_number": ""}, "document_number", "请填写批复文号"),
    ({"approved_on": dt.date(2026, 12, 1)}, "approved_on", "批准日期不能晚于今天"),
    ({"extended_to": dt.date(2026, 6, 30)}, "extended_to", "应晚于本届任期届满日期"),
])
def test_an_extension_needs_the_approval_recorded(bureau, change, field, words):
    branch = _expire(bureau)
    with pytest.raises(ValidationError) as exc:
        _extend(branch, **({"extended_to": dt.date(2027, 1, 31)} | change))
    assert words in exc.value.message_dict[field][0]
    branch.refresh_from_db()
    assert branch.term_extended_to is None


def test_a_new_term_ends_the_extension(bureau):
    branch = _expire(bureau)
    _extend(branch, dt.date(2027, 3, 31))
    services.organization_renew_term(by=BY, organization=branch, on=dt.date(2026, 11, 20))
    branch.refresh_from_db()
    assert branch.term_extended_to is None and branch.term_end == dt.date(2029, 11, 20)


def test_the_extension_page_refuses_over_a_year_in_chinese_and_saves_nothing(bureau, client):
    branch = _expire(bureau)
    client.force_login(bureau.users["party_office"])
    url = f"/organizations/{branch.pk}/extend-term/"
    response = client.post(url, {"extended_to": "2027-08-01", "approved_by": "局机关党委", "document_number": "x1号",
                                 "approved_on": "2026-06-01"})
    assert response.status_code == 200 and "延期换届一般不超过1年" in response.content.decode()
    branch.refresh_from_db()
    assert branch.term_extended_to is None
    response = client.post(url, {"extended_to": "2027-03-01", "approved_by": "局机关党委", "document_number": "x1号",
                                 "approved_on": "2026-06-01"})
    assert response.status_code == 302
    page = client.get(branch.get_absolute_url()).content.decode()
    assert "经批准延期至 2027-03-01" in page and "局机关党委批准延期至 2027-03-01" in page


# ---------------------------------------------------------------- election figures

def _renew(org, **election):
    return services.organization_renew_term(by=BY, organization=org, on=dt.date(2026, 11, 20), **election)


def test_an_election_with_more_than_four_fifths_present_and_majorities_is_recorded(bureau):
    branch = _expire(bureau)
    _renew(branch, voters_expected=20, voters_present=17, results=[("张伟", 9), ("李娜", 17)])
    event = OrganizationEvent.objects.get(organization=branch, kind=OrganizationEvent.Kind.TERM_RENEWED)
    assert (event.voters_expected, event.voters_present) == (20, 17)
    assert event.election_results == [{"name": "张伟", "votes": 9}, {"name": "李娜", "votes": 17}]


def test_exactly_four_fifths_present_is_not_enough(bureau):
    """"超过应到会人数的五分之四": 16 of 20 is four fifths, not more."""
    branch = _expire(bureau)
    with pytest.raises(ValidationError) as exc:
        _renew(branch, voters_expected=20, voters_present=16, results=[("张伟", 16)])
    text = exc.value.message_dict["voters_present"][0]
    assert "应到会 20 人、实到会 16 人，未超过应到会人数的五分之四" in text
    assert "《中国共产党基层组织选举工作条例》（2020）" in text
    branch.refresh_from_db()
    assert branch.term_end == dt.date(2026, 6, 30)  # nothing saved
    assert not OrganizationEvent.objects.filter(kind=OrganizationEvent.Kind.TERM_RENEWED, organization=branch).exists()


def test_half_of_those_present_does_not_elect_and_one_more_does(bureau):
    """The pass-mark counts 实到会 members with 选举权 (the 基层 rule), not 应到会."""
    branch = _expire(bureau)
    with pytest.raises(ValidationError) as exc:
        _renew(branch, voters_expected=20, voters_present=18, results=[("张伟", 12), ("李娜", 9)])
    assert "李娜获赞成票 9 票，未超过实到会有选举权人数 18 人的一半，不能当选" in exc.value.message_dict["results"][0]
    _renew(branch, voters_expected=20, voters_present=18, results=[("张伟", 12), ("李娜", 10)])


@pytest.mark.parametrize(("election", "field", "words"), [
    ({"voters_present": 17, "results": [("张伟", 9)]}, "voters_expected", "请填写应到会"),
    ({"voters_expected": 20, "results": [("张伟", 9)]}, "voters_present", "请填写实到会"),
    ({"voters_expected": 20, "voters_present": 21, "results": [("张伟", 19)]}, "voters_present", "不能多于应到会"),
    ({"voters_expected": 20, "voters_present": 18}, "results", "请填写当选人"),
    ({"voters_expected": 20, "voters_present": 18, "results": [("张伟", 19)]}, "results", "不在 0 至实到会人数 18 之间"),
    ({"voters_expected": 20, "voters_present": 18, "results": [("张伟", 12), ("张伟", 12)]}, "results", "不能重复"),
])
def test_incomplete_or_impossible_figures_are_refused(bureau, election, field, words):
    branch = _expire(bureau)
    with pytest.raises(ValidationError) as exc:
        _renew(branch, **election)
    assert words in exc.value.message_dict[field][0]


def test_the_renewal_page_reads_the_results_and_refuses_a_bad_line(bureau, client):
    branch = _expire(bureau)
    client.force_login(bureau.users["party_office"])
    url = f"/organizations/{branch.pk}/renew-term/"
    data = {"on": "2026-11-20", "voters_expected": "20", "voters_present": "16", "results": "张伟 16"}
    response = client.post(url, data)
    assert "未超过应到会人数的五分之四" in response.content.decode()
    response = client.post(url, data | {"voters_present": "18", "results": "张伟 十二"})
    assert "第 1 行应为“姓名 赞成票数”" in response.content.decode()
    response = client.post(url, data | {"voters_present": "18", "results": "张伟 12\n李娜 10"})
    assert response.status_code == 302
    page = client.get(branch.get_absolute_url()).content.decode()
    assert "应到会有选举权 20 人，实到 18 人" in page and "李娜 10 票" in page


# ---------------------------------------------------------------- early 换届 (《关于党的基层组织任期的意见》二)

def _term_ends(bureau, term_end: dt.date) -> Organization:
    Organization.objects.filter(pk=bureau.branch_b.pk).update(term_start=dt.date(2025, 1, 1), term_end=term_end)
    bureau.branch_b.refresh_from_db()
    return bureau.branch_b


def test_an_election_more_than_a_year_early_without_approval_is_refused_naming_the_rule(bureau):
    branch = _term_ends(bureau, dt.date(2028, 6, 30))
    with pytest.raises(ValidationError) as exc:
        _renew(branch)
    text = exc.value.message_dict["approved_by"][0]
    assert "本届任期 2028-06-30 届满，2026-11-20 换届提前超过12个月（最早 2027-06-30）" in text
    assert "提前换届须经上级党的委员会批准，提前期限一般不超过1年" in text
    assert "《关于党的基层组织任期的意见》（2018年7月）第二条" in text
    assert exc.value.message_dict["document_number"] == ["请填写批复文号。"]
    with pytest.raises(ValidationError, match="请填写批复文号"):
        _renew(branch, approved_by="局机关党委")  # the body alone is not an approval on record
    branch.refresh_from_db()
    assert branch.term_end == dt.date(2028, 6, 30)
    assert not OrganizationEvent.objects.filter(kind=OrganizationEvent.Kind.TERM_RENEWED, organization=branch).exists()
    assert not AuditEntry.objects.filter(action="organization.renew_term").exists()


def test_an_approved_early_election_is_recorded_with_its_approval(bureau):
    branch = _term_ends(bureau, dt.date(2028, 6, 30))
    _renew(branch, approved_by="局机关党委", document_number="临交机党〔2026〕30号")
    event = OrganizationEvent.objects.get(organization=branch, kind=OrganizationEvent.Kind.TERM_RENEWED)
    assert (event.approved_by, event.document_number) == ("局机关党委", "临交机党〔2026〕30号")
    branch.refresh_from_db()
    assert branch.term_end == dt.date(2029, 11, 20)
    assert "临交机党〔2026〕30号" in AuditEntry.objects.get(action="organization.renew_term").note


def test_an_election_exactly_a_year_early_needs_no_approval_and_one_day_more_does(bureau):
    branch = _term_ends(bureau, dt.date(2027, 11, 21))
    with pytest.raises(ValidationError, match="提前超过12个月"):
        _renew(branch)
    branch = _term_ends(bureau, dt.date(2027, 11, 20))
    _renew(branch)


def test_the_early_election_rule_is_read_from_the_rule_layer(bureau, rules_override):
    """A deployment that wants every early 换届 approved (0 months: stricter) refuses one a month early."""
    from tests.core.test_rule_layers import entry

    branch = _term_ends(bureau, dt.date(2026, 12, 20))
    rules_override(entry("term.advance_max_months", "0"))
    with pytest.raises(ValidationError, match="提前超过0个月"):
        _renew(branch)
    _renew(branch, approved_by="局机关党委", document_number="临交机党〔2026〕31号")


def test_the_renewal_page_asks_for_the_approval_of_an_early_election(bureau, client):
    branch = _term_ends(bureau, dt.date(2028, 6, 30))
    client.force_login(bureau.users["party_office"])
    url = f"/organizations/{branch.pk}/renew-term/"
    response = client.post(url, {"on": "2026-11-20"})
    assert response.status_code == 200 and "提前换届须经上级党的委员会批准" in response.content.decode()
    assert not OrganizationEvent.objects.filter(kind=OrganizationEvent.Kind.TERM_RENEWED, organization=branch).exists()
    response = client.post(url, {"on": "2026-11-20", "approved_by": "局机关党委", "document_number": "临交机党〔2026〕30号"})
    assert response.status_code == 302
