"""Reminders are kept until the next write (core.datacache): a city-wide user's take seconds to
compute, and every write goes through a service that moves the audit chain's head."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor, audit_export, audit_record
from dangjian.core import datacache, rules
from dangjian.core.todos import group_todos, summary_for, todos_for
from dangjian.orglife import services as life
from dangjian.orglife.models import MeetingKind
from dangjian.orglife.services import MeetingInput

DAY = dt.date(2026, 11, 25)  # ten days before November's end: its 主题党日 falls due
REMINDER = "第二党支部：本月主题党日尚未记录"


def test_reminders_are_computed_once_until_the_next_write(bureau, django_assert_num_queries):
    user = bureau.users["party_office"]
    first = todos_for(user, DAY)
    assert REMINDER in [t.title for t in first]
    with django_assert_num_queries(1):  # the version (the audit head): nothing is computed again
        assert todos_for(user, DAY) == first
    life.meeting_record(by=Actor.system("test"), data=MeetingInput(
        organization=bureau.branch_b, kind=MeetingKind.THEME_DAY, topics="学习",
        starts_at=dt.datetime(2026, 11, 20, 15, tzinfo=timezone.get_current_timezone())))
    assert REMINDER not in [t.title for t in todos_for(user, DAY)]


def test_each_user_and_day_is_kept_apart(bureau):
    office, secretary = bureau.users["party_office"], bureau.users["branch_secretary"]
    assert REMINDER in [t.title for t in todos_for(office, DAY)]
    assert REMINDER not in [t.title for t in todos_for(secretary, DAY)]  # not 第二党支部's secretary
    assert REMINDER not in [t.title for t in todos_for(office, DAY - dt.timedelta(days=20))]  # not yet due


def test_reading_the_rules_anew_changes_the_version(bureau, rule_value):
    before = datacache.data_version()
    rule_value("member.lapse_months", 5)
    assert datacache.data_version() != before


def _theme_days(client) -> str:
    page = client.get("/reports/metrics/", {"year": 2026}).content.decode()
    return page.split('data-metric="orglife.meetings.theme_day">', 1)[1].split(" ", 1)[0]


def test_the_figures_page_is_kept_until_the_next_write(bureau, client_for, django_assert_max_num_queries):
    client = client_for("party_office")
    before = int(_theme_days(client))
    with django_assert_max_num_queries(12):  # the session, scope, version and menus: no figure computed
        assert int(_theme_days(client)) == before
    life.meeting_record(by=Actor.system("test"), data=MeetingInput(
        organization=bureau.branch_b, kind=MeetingKind.THEME_DAY, topics="学习",
        starts_at=dt.datetime(2026, 11, 20, 15, tzinfo=timezone.get_current_timezone())))
    assert int(_theme_days(client)) == before + 1


def _share_cache(settings, tmp_path) -> None:
    """A cache the app servers share (files here; the database table in production), not LocMem."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path)}}


def test_a_shared_cache_holds_reminders_sealed(bureau, settings, tmp_path, django_assert_num_queries):
    """Reminders name people: a cache the app servers share (not a process's own memory) stores
    them under the field key, as the records they come from are stored."""
    _share_cache(settings, tmp_path)
    user = bureau.users["party_office"]
    first = todos_for(user, DAY)
    stored = caches["default"].get(datacache.slot(f"todos:{user.pk}:{DAY.isoformat()}"))
    assert isinstance(stored, str) and stored.startswith("s4g1:")
    assert REMINDER not in stored and "第二党支部" not in stored
    with django_assert_num_queries(1):  # opened, not computed again
        assert todos_for(user, DAY) == first


def test_a_process_own_cache_keeps_the_result_as_is(bureau):
    user = bureau.users["party_office"]
    first = todos_for(user, DAY)
    kept = caches["default"].get(datacache.slot(f"todos:{user.pk}:{DAY.isoformat()}"))
    assert kept == (datacache.FORMAT, datacache.data_version(), first)


def test_the_home_summary_is_kept_without_the_reminders_read_back(bureau, django_assert_num_queries, monkeypatch):
    """A city-wide user has thousands of reminders: a served home page keeps their summary, not the
    list (read back and grouped for every visit, that took 56 ms of a 60 ms page)."""
    user = bureau.users["party_office"]
    first = summary_for(user, DAY)
    groups = group_todos(todos_for(user, DAY))
    assert [(g.key, g.label, g.level, g.due, g.count, g.query) for g in first.groups] == \
        [(g.key, g.label, g.level, g.due, g.count, g.query) for g in groups]
    assert first.total == len(todos_for(user, DAY)) and first.urgent == todos_for(user, DAY)[:10]

    def not_again(*args, **kwargs):
        raise AssertionError("the reminders were read again")

    monkeypatch.setattr("dangjian.core.todos.todos_for", not_again)
    with django_assert_num_queries(1):  # the version
        assert summary_for(user, DAY) == first
    monkeypatch.undo()
    assert summary_for(user, DAY, by="organization").groups[0].key.startswith("org:")  # its own key


def test_a_sealed_result_under_a_key_no_longer_configured_is_computed_afresh(bureau, settings, tmp_path):
    _share_cache(settings, tmp_path)
    user = bureau.users["party_office"]
    first = todos_for(user, DAY)
    key = datacache.slot(f"todos:{user.pk}:{DAY.isoformat()}")
    stored = caches["default"].get(key)
    caches["default"].set(key, stored.replace(":", ":x", 1))  # another key id: as after the old key was removed
    assert todos_for(user, DAY) == first


@pytest.mark.parametrize("shared", [False, True])
def test_a_slot_another_release_wrote_is_computed_afresh(bureau, settings, tmp_path, shared):
    """A rolling deploy: the cache holds what the previous release kept (another shape, unsealed)."""
    if shared:
        _share_cache(settings, tmp_path)
    user = bureau.users["party_office"]
    first = todos_for(user, DAY)
    for old in ([("a", "list")], ("x", "y"), "s4g1:garbage", 42):
        caches["default"].set(datacache.slot(f"todos:{user.pk}:{DAY.isoformat()}"), old)
        assert todos_for(user, DAY) == first


def test_one_slot_per_key_the_newer_result_replacing_the_older(bureau):
    user = bureau.users["party_office"]
    todos_for(user, DAY)
    life.meeting_record(by=Actor.system("test"), data=MeetingInput(
        organization=bureau.branch_b, kind=MeetingKind.THEME_DAY, topics="学习",
        starts_at=dt.datetime(2026, 11, 20, 15, tzinfo=timezone.get_current_timezone())))
    second = todos_for(user, DAY)
    kept = caches["default"].get(datacache.slot(f"todos:{user.pk}:{DAY.isoformat()}"))
    assert kept == (datacache.FORMAT, datacache.data_version(), second)
    assert sum(1 for k in caches["default"]._cache if "todos:" in k) == 1


def test_logging_in_searching_and_exporting_leave_the_version_a_write_moves_it(bureau, client_for):
    before = datacache.data_version()
    client_for("party_office")  # a log-in
    anonymous = Client()
    anonymous.post("/accounts/login/", {"username": "dangban", "password": "wrong"})  # a failed one
    audit_export(by=Actor.system("test"), what="roster", count=3, masked=True)
    audit_record(by=Actor.system("test"), action="audit.search", note="查询")
    assert AuditEntry.objects.filter(action__in=["auth.login", "auth.login_failed", "member.export"]).count() >= 3
    assert datacache.data_version() == before
    audit_record(by=Actor.system("test"), action="something.new", note="未列入 READS 的操作")
    assert datacache.data_version() != before


@pytest.mark.parametrize("key", ["matrix:1:2:2026:2026-12-03:" + "0001" * 40, "members:1:::active:('yang2杨', 24)",
                                 "matrix:1:2:2026:2026-12-03:a\nb", "m a t r i x"])
def test_keys_from_requests_become_plain_bounded_slots(key):
    name = datacache.slot(key)
    assert datacache.SAFE_KEY.fullmatch(name) and len(name) <= datacache.KEY_LENGTH
    assert name != datacache.slot(key + "x")
    assert datacache.slot("todos:3:2026-12-03") == "todos:3:2026-12-03"  # a plain key as it is


def test_the_rules_generation_is_a_digest_of_the_rules(rule_value):
    first = rules.generation()
    rules.reload()
    assert rules.generation() == first  # the same rules read again: the same results serve
    rule_value("member.lapse_months", 5)
    assert rules.generation() != first
