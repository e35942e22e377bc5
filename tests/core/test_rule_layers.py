"""The two rule layers and the deployment override (issue 9): national rules cite the article read,
local practice says whose it is, and an override may loosen a local rule but never go below a
national one or a local rule's national_minimum."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from dangjian.core import rules

ON = dt.date(2026, 6, 1)


def entry(code: str, value: str, *, label="x", when="2025-01-01") -> str:
    return (f'[[rule]]\ncode = "{code}"\nlabel = "{label}"\nvalue = {value}\nsource = "某市实施细则"\n'
            f"effective_from = {when}\n")


def test_every_national_rule_cites_an_article_or_says_it_is_unverified():
    national = [r for r in rules.all_rules() if r.layer == rules.NATIONAL]
    assert national
    for r in national:
        # A 通知 has no articles (article ""): then the quote carries the citation.
        assert r.article in (rules.UNVERIFIED, "") or re.fullmatch(
            r"第[一二三四五六七八九十百]+条(、第[一二三四五六七八九十百]+条)*", r.article), r.code
        assert r.quote or r.article == rules.UNVERIFIED, r.code


def test_local_practice_is_its_own_layer_with_its_basis():
    local = {r.code: r for r in rules.all_rules() if r.layer == rules.LOCAL}
    for code in ("orglife.required.party_lecture", "orglife.required.central_group_study",
                 "decision.large_fund_threshold", "orglife.late_after_days", "orglife.owed_share_of_period"):
        assert code in local and local[code].basis, code
    national = {r.code for r in rules.all_rules() if r.layer == rules.NATIONAL}
    assert not national & set(local)


def test_the_article_numbers_read_in_the_texts():
    def article(code):
        return rules.rule(code, on=ON).article

    assert article("branch.min_full_members") == article("branch.max_members") == "第四条"
    assert article("orglife.required.general_meeting") == "第十一条"
    assert article("orglife.required.committee_meeting") == "第十二条"
    assert article("orglife.required.theme_day") == "第十六条"
    assert article("orglife.required.organizational_life_meeting") == "第十七条"
    assert article("decision.quorum.general_meeting") == article("decision.pass.general_meeting") == "第十一条"
    # the 党组 rules no longer cite the 2015 试行 numbering
    assert "第二十六条" not in rules.rule("decision.quorum", on=ON).citation
    assert "2019" in rules.rule("decision.quorum", on=ON).source


def test_an_override_may_loosen_a_local_rule(rules_override):
    rules_override(entry("orglife.required.party_lecture", '{ period = "year", min = 2, applies_to = "branch" }'))
    assert rules.value("orglife.required.party_lecture", on=ON)["period"] == "year"
    assert rules.rule("orglife.required.party_lecture", on=ON).layer == rules.OVERRIDE
    assert rules.value("orglife.required.party_lecture", on=dt.date(2024, 12, 31))["period"] == "quarter"


def test_an_override_may_tighten_a_national_rule(rules_override):
    rules_override(entry("orglife.required.general_meeting", '{ period = "month", min = 1, applies_to = "branch" }'))
    assert rules.value("orglife.required.general_meeting", on=ON)["period"] == "month"


@pytest.mark.parametrize(("code", "value"), [
    ("orglife.required.general_meeting", '{ period = "year", min = 1, applies_to = "branch" }'),  # 4 a year
    ("decision.quorum.general_meeting", '"1/3"'),
    ("term.reminder_months", "3"),
    ("branch.max_members", "80"),  # a larger branch is looser: stricter = "lower"
])
def test_an_override_below_a_national_rule_stops_start_up(rules_override, code, value):
    with pytest.raises(ImproperlyConfigured, match=re.escape(code) + ".*不能放宽国家规定"):
        rules_override(entry(code, value))


def test_an_override_cannot_change_a_national_rule_that_is_no_number(rules_override):
    with pytest.raises(ImproperlyConfigured, match="是国家规定.*不能改动"):
        rules_override(entry("voting.probationary_members_vote", "true"))


def test_an_override_below_a_local_rules_national_minimum_stops_start_up(rules_override, tmp_path, monkeypatch):
    local = tmp_path / "local.toml"
    local.write_text(
        '[[rule]]\ncode = "orglife.required.x"\nlabel = "x"\nvalue = { period = "quarter", min = 1, applies_to = "branch" }\n'
        'source = "x"\nbasis = "本地"\nnational_minimum = { period = "year", min = 2, applies_to = "branch" }\n'
        "effective_from = 2018-01-01\n", encoding="utf-8")
    monkeypatch.setattr(rules, "LOCAL_FILE", local)
    rules_override(entry("orglife.required.x", '{ period = "year", min = 2, applies_to = "branch" }'))  # at the floor
    with pytest.raises(ImproperlyConfigured, match="低于国家规定的最低要求"):
        rules_override(entry("orglife.required.x", '{ period = "year", min = 1, applies_to = "branch" }'))


def test_an_override_of_an_unknown_rule_or_a_local_rule_without_basis_is_refused(rules_override, tmp_path, monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="没有编码为 no.such.rule"):
        rules_override(entry("no.such.rule", "1"))
    local = tmp_path / "local.toml"
    local.write_text('[[rule]]\ncode = "y"\nlabel = "y"\nvalue = 1\nsource = "y"\neffective_from = 2018-01-01\n',
                     encoding="utf-8")
    monkeypatch.setattr(rules, "LOCAL_FILE", local)
    rules.reload()
    with pytest.raises(ImproperlyConfigured, match="须写明 basis"):
        rules.all_rules()


def test_the_later_entry_wins_and_the_late_entry_days_may_be_loosened(rules_override):
    rules_override(entry("orglife.late_after_days", "10"))
    assert rules.value("orglife.late_after_days", on=ON) == 10
    assert rules.value("orglife.late_after_days", on=dt.date(2024, 1, 1)) == 7


def test_the_rules_page_lists_every_rule_with_its_layer_article_and_quote(bureau, client_for):
    from django.urls import reverse

    page = client_for("member").get(reverse("reports:rules")).content.decode()
    assert page.count("<tr data-code=") == len(rules.in_effect())
    assert "国家规定" in page and "本地做法" in page
    assert "第十一条" in page and "表决必须有半数以上有表决权的党员到会方可进行" in page
    assert "做法：各地通行每季度1次" in page  # the local 党课 rule says whose practice it is


def test_docs_list_every_rule():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    missing = [r.code for r in rules.in_effect() if f"`{r.code}`" not in text]
    assert not missing, f"docs/rules.md lacks {missing}"
