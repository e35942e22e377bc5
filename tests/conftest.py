"""Personas for every test: a small bureau with two sibling branches and one user per role.

    党组 (root) ── 机关党委 ── 第一党总支 ── 第一党支部 (branch_a) ── 第一党小组 (cell_a)
                                         └─ 第二党支部 (branch_b)
    Units: 局机关 ── 办公室 (served by branch_a) ; 城东分局 (served by branch_b)
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.access.models import User
from dangjian.access.roles import Role
from dangjian.organizations.models import Appointment, Member, Organization, Unit
from tests.factories import MemberFactory, make_org, make_unit, make_user

K = Organization.Kind


@dataclass
class Bureau:
    root: Organization
    committee: Organization
    general_branch: Organization
    branch_a: Organization
    cell_a: Organization
    branch_b: Organization
    bureau_unit: Unit
    office: Unit
    east: Unit
    member_a: Member  # an ordinary member of branch A, who has a log-in
    member_b: Member  # a member of branch B
    users: dict[str, User]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: database rows roll back between tests, so the audit
    head (the cache's version, core.datacache) repeats its numbers from one test to the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at production strength costs ~0.3 s per user; tests create a dozen users each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pass_second_factor(client: Client, user) -> None:
    """Mark the client's session as having passed the second factor with the user's authenticator
    (made for them if they have none), as django_otp.login does after a right code."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from dangjian.access.otp import confirmed_device

    device = confirmed_device(user) or TOTPDevice.objects.create(user=user, name="测试验证器", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_passes_second_factor(request, monkeypatch):
    """Tests sign personas in with `Client.force_login`, which skips the log-in page and so its second
    step too: an account that must pass the second factor (the three admins) is signed in as having
    passed it. Tests of the second factor itself sign in through the pages, or mark themselves
    `@pytest.mark.second_factor_pending` to keep force_login plain."""
    if request.node.get_closest_marker("second_factor_pending"):
        return
    plain = Client.force_login

    def force_login(self, user, backend=None):
        plain(self, user, backend)
        from dangjian.access.otp import second_factor_required

        user._role_assignments = None  # read afresh: a test may have granted roles since
        if second_factor_required(user):
            pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A reused test database may have been left without the audit guard by a flush (below)."""
    from django.db import connection

    from dangjian.audit.triggers import create_triggers

    with django_db_blocker.unblock():
        create_triggers(connection)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
                or (marker and marker.kwargs.get("transaction")))


@pytest.fixture(autouse=True)
def _audit_guard_around_flush(request):
    """Transactional tests (and the browser tests' live server) end with a flush that deletes every
    row, and the audit table refuses deletes: drop the guard just before the flush..."""
    if not _is_transactional(request.node):
        yield
        return
    from django.db import connection

    from dangjian.audit.triggers import drop_triggers

    request.getfixturevalue("transactional_db")
    yield
    drop_triggers(connection)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """...and put it back right after the flush, so no later test runs without it."""
    result = yield
    if _is_transactional(item):
        from django.db import connection
        from pytest_django.plugin import blocking_manager_key

        from dangjian.audit.triggers import create_triggers

        with item.config.stash[blocking_manager_key].unblock():
            create_triggers(connection)
    return result


DEMO_TESTS = "tests/demo/"


@pytest.hookimpl(optionalhook=True)  # an xdist hook; unknown when xdist is off
def pytest_xdist_make_scheduler(config, log):
    """Under `-n N` (default `--dist load`), send the demo tests to one worker as one unit, so the
    demo is built once per run (tests/demo/conftest.py); every other test is its own unit, as with
    `load`. (`xdist_group` with `--dist loadgroup` would say this, but pytest-xdist 3.8 cannot
    rename test ids under pytest 9, so the marks are ignored.) The unit is the largest, so it is
    sent first and builds while the other worker runs the rest."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class DemoTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return DEMO_TESTS if nodeid.startswith(DEMO_TESTS) else nodeid

    return DemoTogether(config, log)


@pytest.fixture
def bureau(db) -> Bureau:
    root = make_org(None, K.LEADING_GROUP, "市交通运输局党组", code="LG")
    committee = make_org(root, K.ORGAN_COMMITTEE, "局机关党委", code="OC", term_start=dt.date(2022, 3, 1),
                         term_end=dt.date(2027, 3, 1))
    gb = make_org(committee, K.GENERAL_BRANCH, "第一党总支", code="GB1", term_start=dt.date(2024, 1, 1),
                  term_end=dt.date(2027, 1, 1))
    branch_a = make_org(gb, K.BRANCH, "第一党支部", code="BA", term_start=dt.date(2024, 1, 1),
                        term_end=dt.date(2027, 1, 1))
    cell_a = make_org(branch_a, K.CELL, "第一党小组", code="BA1")
    branch_b = make_org(gb, K.BRANCH, "第二党支部", code="BB", term_start=dt.date(2024, 1, 1),
                        term_end=dt.date(2027, 1, 1))
    bureau_unit = make_unit(None, Unit.Kind.BUREAU, "市交通运输局", organization=root)
    office = make_unit(bureau_unit, Unit.Kind.DEPARTMENT, "办公室", organization=branch_a)
    east = make_unit(bureau_unit, Unit.Kind.BRANCH_OFFICE, "城东分局", organization=branch_b)
    member_a = MemberFactory(name="张三", organization=cell_a, unit=office)
    MemberFactory.create_batch(3, organization=branch_a, unit=office)
    member_b = MemberFactory(name="李四", organization=branch_b, unit=east)
    MemberFactory.create_batch(3, organization=branch_b, unit=east)
    for org in (root, committee, gb, branch_a, branch_b):
        Appointment.objects.create(organization=org, member=member_a if org == branch_a else member_b,
                                   role=Appointment.Role.SECRETARY, start=dt.date(2024, 1, 1))
    users = {
        "party_office": make_user("dangban", Role.PARTY_OFFICE, root),
        "branch_secretary": make_user("shuji_a", Role.BRANCH_SECRETARY, branch_a),
        "sibling_secretary": make_user("shuji_b", Role.BRANCH_SECRETARY, branch_b),
        "leader": make_user("lingdao", Role.LEADER, root),
        "inspection_office": make_user("xuncha", Role.INSPECTION_OFFICE, root),
        "unit_liaison": make_user("lianluo", Role.UNIT_LIAISON, east),
        "discipline": make_user("jijian", Role.DISCIPLINE, root),
        "member": make_user("zhangsan", Role.MEMBER, branch_a, member=member_a),
        "sys_admin": make_user("xitong", Role.SYS_ADMIN),
        "security_admin": make_user("anquan", Role.SECURITY_ADMIN),
        "audit_admin": make_user("shenji", Role.AUDIT_ADMIN),
        "no_role": make_user("wujuese"),
    }
    return Bureau(root, committee, gb, branch_a, cell_a, branch_b, bureau_unit, office, east, member_a, member_b, users)


@pytest.fixture
def client_for(bureau):
    """client_for("branch_secretary") -> a Client logged in as that persona."""

    def make(persona: str) -> Client:
        client = Client()
        client.force_login(bureau.users[persona])
        return client

    return make


@pytest.fixture
def rule_value(monkeypatch):
    """Give a rule another value for one test, as a changed rules file would (national or local: a
    deployment file may only tighten a national rule, so a test that loosens one, or changes one that
    is no number, swaps the value here). The rules are read afresh before and after."""
    import dataclasses

    from dangjian.core import rules

    read = rules.all_rules  # the cached reader
    swapped: dict = {}

    def swap(code: str, new_value):
        read.cache_clear()
        assert any(r.code == code for r in read()), code
        swapped[code] = new_value
        changed = tuple(dataclasses.replace(r, value=swapped[r.code]) if r.code in swapped else r for r in read())
        monkeypatch.setattr(rules, "all_rules", lambda: changed)
        rules._by_code.cache_clear()

    yield swap
    monkeypatch.setattr(rules, "all_rules", read)
    rules.reload()


@pytest.fixture
def rules_override(tmp_path, settings):
    """Write a deployment file (settings.RULES_OVERRIDE_FILE) and load it; the rules are read afresh
    without it afterwards."""
    from dangjian.core import rules

    def write(text: str):
        path = tmp_path / "deploy.toml"
        path.write_text(text, encoding="utf-8")
        settings.RULES_OVERRIDE_FILE = str(path)
        rules.reload()
        return rules.all_rules()

    yield write
    settings.RULES_OVERRIDE_FILE = None
    rules.reload()
