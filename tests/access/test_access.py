import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from dangjian.access import services
from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import Role
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor

BY = Actor.system("test")
LOGIN = "/accounts/login/"


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_five_failures_lock_the_account_even_with_the_right_password(bureau):
    for _ in range(4):
        assert _login(Client(), "dangban", "wrong").status_code == 200
    assert _login(Client(), "dangban", "wrong").status_code == 429  # the fifth failure locks
    response = _login(Client(), "dangban", "Test@12345")
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


def test_lockout_is_counted_in_the_database_across_app_servers(bureau):
    # Two clients from different addresses stand for two app servers sharing the database.
    a, b = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(3):
        _login(a, "dangban", "wrong")
    for _ in range(2):
        _login(b, "dangban", "wrong")
    assert _login(a, "dangban", "Test@12345").status_code == 429


def test_failures_older_than_the_window_do_not_count(bureau):
    with time_machine.travel(dt.datetime(2026, 11, 30, 8, 0), tick=False):
        for _ in range(4):
            _login(Client(), "dangban", "wrong")
    with time_machine.travel(dt.datetime(2026, 11, 30, 8, 16), tick=False):
        _login(Client(), "dangban", "wrong")  # the 5th failure, but the first four have aged out
        assert _login(Client(), "dangban", "Test@12345").status_code == 302


def test_locked_and_unknown_users_get_the_same_answer(bureau):
    for _ in range(5):
        _login(Client(), "dangban", "wrong")
    locked = _login(Client(), "dangban", "wrong")
    for _ in range(5):
        _login(Client(), "nobody", "wrong")
    unknown = _login(Client(), "nobody", "wrong")
    assert locked.status_code == unknown.status_code == 429


def test_idle_session_expires_after_30_minutes(bureau):
    client = Client()
    with time_machine.travel(dt.datetime(2026, 11, 30, 8, 0), tick=False):
        assert _login(client, "dangban", "Test@12345").status_code == 302
        assert client.get("/").status_code == 200
    with time_machine.travel(dt.datetime(2026, 11, 30, 8, 29), tick=False):
        assert client.get("/").status_code == 200  # activity slides the expiry
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0), tick=False):
        assert client.get("/").status_code == 302


def test_activity_saves_the_session_at_most_once_a_minute(bureau):
    """A page view is a read: the session row is written again only when activity last saved it a
    minute ago or more (SESSION_TOUCH_SECONDS), which slides the idle expiry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()

    def session_writes(path="/") -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return sum(q["sql"].startswith("UPDATE") and "django_session" in q["sql"] for q in queries)

    with time_machine.travel(dt.datetime(2026, 11, 30, 8, 0), tick=False) as traveller:
        assert _login(client, "dangban", "Test@12345").status_code == 302
        first = session_writes()
        traveller.shift(dt.timedelta(seconds=59))
        assert session_writes() == 0
        traveller.shift(dt.timedelta(seconds=2))
        assert session_writes() == 1
    assert first <= 1


@pytest.mark.parametrize(("password", "ok"), [
    ("Tqzv7plm", True), ("tqzv7pl!", True), ("abcdefgh", False), ("Abc1!", False), ("ABCDEFGH12", False),
    ("Tqzv7plm" * 9, True),  # a long password is accepted (no upper bound)
])
def test_password_rules(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_usernames_are_unique_whatever_the_case(db):
    User.objects.create_user("Zhang", password="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("zhang", password="x")


def test_three_admin_roles_exclude_each_other(bureau):
    user = bureau.users["sys_admin"]
    with pytest.raises(ValidationError, match="三员分立"):
        services.role_grant(by=BY, user=user, role=Role.AUDIT_ADMIN)
    assert not RoleAssignment.objects.filter(user=user, role=Role.AUDIT_ADMIN).exists()


def test_roles_must_sit_on_the_right_kind_of_node(bureau):
    user = bureau.users["no_role"]
    with pytest.raises(ValidationError, match="党组织"):
        services.role_grant(by=BY, user=user, role=Role.BRANCH_SECRETARY, unit=bureau.east)
    with pytest.raises(ValidationError, match="单位"):
        services.role_grant(by=BY, user=user, role=Role.UNIT_LIAISON, organization=bureau.branch_a)
    services.role_grant(by=BY, user=user, role=Role.BRANCH_SECRETARY, organization=bureau.branch_a)
    assert AuditEntry.objects.filter(action="role.grant").count() == 1


def test_disabling_an_account_ends_its_sessions(bureau):
    client = Client()
    _login(client, "shuji_a", "Test@12345")
    assert client.get("/").status_code == 200
    services.user_set_active(by=BY, user=bureau.users["branch_secretary"], active=False)
    assert client.get("/").status_code == 302


def test_security_admin_grants_a_role_through_the_page(bureau, client_for):
    client = client_for("security_admin")
    target = bureau.users["no_role"]
    response = client.post(reverse("access:roles"), {"user": target.pk, "role": "leader",
                                                     "organization": bureau.root.pk, "include_descendants": "on"})
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=target, role="leader", organization=bureau.root).exists()
    # A 三员 clash is shown on the form, nothing saved.
    response = client.post(reverse("access:roles"), {"user": bureau.users["sys_admin"].pk, "role": "audit_admin"})
    assert response.status_code == 200
    assert "三员分立" in response.content.decode()


def test_sys_admin_creates_account_with_password_rules_enforced(bureau, client_for):
    client = client_for("sys_admin")
    response = client.post(reverse("access:users"), {"username": "new1", "full_name": "新人", "password": "short"})
    assert response.status_code == 200 and not User.objects.filter(username="new1").exists()
    assert "密码" in response.content.decode()
    response = client.post(reverse("access:users"), {"username": "new1", "full_name": "新人", "password": "Good#Pass2026"})
    assert response.status_code == 302 and User.objects.filter(username="new1").exists()


def test_no_account_exists_without_the_demo(db):
    assert User.objects.count() == 0
