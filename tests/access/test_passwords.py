"""Passwords the system admin never knows (issue 8, hole 2): the user's own change page, a forced
change after a password someone else set or after PASSWORD_MAX_AGE_DAYS, a history of the last
PASSWORD_HISTORY, other sessions ended on a change; every step audited."""

import datetime as dt
import html

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from dangjian.access import services
from dangjian.access.models import PasswordHistory, User
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor

LOGIN = "/accounts/login/"
OLD = "Test@12345"


def _login(username, password, **extra) -> Client:
    client = Client(**extra)
    response = client.post(LOGIN, {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:300]
    return client


def _change(client, old, new, again=None):
    return client.post(reverse("access:password_change"),
                       {"old_password": old, "new_password1": new, "new_password2": again or new})


def _as(user) -> Actor:
    return Actor(user=user, name=user.username)


def test_every_user_changes_their_password(bureau):
    client = _login("shuji_a", OLD)
    assert client.get(reverse("access:password_change")).status_code == 200
    response = _change(client, OLD, "Nw#Secret2026")
    assert response.status_code == 302
    user = User.objects.get(username="shuji_a")
    assert user.check_password("Nw#Secret2026")
    assert client.get("/").status_code == 200  # the changing session stays logged in
    assert AuditEntry.objects.filter(action="user.password_change", object_id=str(user.pk)).count() == 1


@pytest.mark.parametrize(("old", "new", "again", "message"), [
    ("wrong-old", "Nw#Secret2026", None, "原密码不正确"),
    (OLD, "Nw#Secret2026", "Nw#Secret2027", "两次输入的新密码不一致"),
    (OLD, "12345678", None, "至少"),
    (OLD, OLD, None, "不能与最近5次使用过的密码相同"),
])
def test_bad_password_changes_are_refused_and_change_nothing(bureau, old, new, again, message):
    client = _login("shuji_a", OLD)
    before = AuditEntry.objects.count()
    response = _change(client, old, new, again)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.get(username="shuji_a").check_password(OLD)
    assert AuditEntry.objects.count() == before


def test_a_password_may_not_repeat_any_of_the_last_five(bureau, settings):
    settings.PASSWORD_HISTORY = 5
    user = bureau.users["branch_secretary"]
    first = "Seed#Pqtv2026"  # the fixture's password has a run (1234) the rules now refuse as a new one
    user.set_password(first)
    user.save()
    passwords = [first] + [f"Hist#{n}pazz2026" for n in range(1, 6)]
    for previous, new in zip(passwords, passwords[1:], strict=False):
        services.password_change(by=_as(user), user=user, old_password=previous, new_password=new)
    # The last five (1..5) are refused; the sixth back (`first`, never recorded through a service
    # here, and older than five anyway) is allowed again.
    for reused in passwords[1:]:
        with pytest.raises(ValidationError, match="最近5次"):
            services.password_change(by=_as(user), user=user, old_password=passwords[-1], new_password=reused)
    assert PasswordHistory.objects.filter(user=user).count() == 5
    services.password_change(by=_as(user), user=user, old_password=passwords[-1], new_password=first)


def test_the_history_keeps_hashes_only(bureau):
    user = bureau.users["branch_secretary"]
    services.password_change(by=_as(user), user=user, old_password=OLD, new_password="Nw#Secret2026")
    stored = PasswordHistory.objects.get(user=user).password
    assert "Nw#Secret2026" not in stored and stored.startswith(("pbkdf2", "argon2", "bcrypt", "scrypt", "md5"))


def test_a_change_ends_the_users_other_sessions(bureau):
    phone = _login("shuji_a", OLD)
    desk = _login("shuji_a", OLD)
    assert _change(desk, OLD, "Nw#Secret2026").status_code == 302
    assert desk.get("/").status_code == 200
    assert phone.get("/").status_code == 302  # sent to log in


def test_a_new_account_must_change_its_password_at_first_login(bureau, client_for):
    client_for("sys_admin").post(reverse("access:users"),
                                 {"username": "xinren", "full_name": "新人", "password": "Init#Pass2026"})
    user = User.objects.get(username="xinren")
    assert user.must_change_password
    client = _login("xinren", "Init#Pass2026")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("access:password_change")
    assert "请先修改密码" in client.get(reverse("access:password_change")).content.decode()
    assert client.get("/api/v1/members").status_code == 403
    assert _change(client, "Init#Pass2026", "Mine#Pass2026").status_code == 302
    assert client.get("/").status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password


def test_replay_system_admin_resets_and_never_holds_a_working_password(bureau, client_for):
    target = bureau.users["branch_secretary"]
    victim_session = _login("shuji_a", OLD)
    response = client_for("sys_admin").post(reverse("access:user_password_reset", args=[target.pk]))
    assert response.status_code == 200
    temporary = response.context["temporary"]
    assert html.escape(temporary) in response.content.decode()
    assert victim_session.get("/").status_code == 302  # the old sessions ended
    target.refresh_from_db()
    assert target.must_change_password and not target.check_password(OLD)
    # The temporary password opens the change page and nothing else.
    client = _login("shuji_a", temporary)
    assert client.get(reverse("organizations:members")).status_code == 302
    assert _change(client, temporary, "Own#Pass2026").status_code == 302
    assert client.get(reverse("organizations:members")).status_code == 200
    # Now the system admin's temporary password works no more.
    assert Client().post(LOGIN, {"username": "shuji_a", "password": temporary}).status_code == 200
    entry = AuditEntry.objects.filter(action="user.password_reset").latest("seq")
    assert entry.object_id == str(target.pk) and temporary not in str(entry.__dict__)


@pytest.mark.parametrize("persona", ["security_admin", "audit_admin", "sys_admin"])
def test_the_system_admin_cannot_reset_an_admin_password(bureau, client_for, persona):
    target = bureau.users[persona]
    response = client_for("sys_admin").post(reverse("access:user_password_reset", args=[target.pk]), follow=True)
    assert "不能" in response.content.decode()
    target.refresh_from_db()
    assert target.check_password(OLD) and not target.must_change_password


def test_a_password_older_than_the_max_age_must_be_changed(bureau, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(username="shuji_a").update(password_changed_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 10, 29, 8, 0, tzinfo=dt.UTC), tick=False):  # day 89
        assert _login("shuji_a", OLD).get("/").status_code == 200
    with time_machine.travel(dt.datetime(2026, 10, 31, 8, 0, tzinfo=dt.UTC), tick=False):  # day 91
        client = _login("shuji_a", OLD)
        response = client.get("/")
        assert response.status_code == 302 and response["Location"] == reverse("access:password_change")
        assert _change(client, OLD, "Nw#Secret2026").status_code == 302
        assert client.get("/").status_code == 200


def test_the_demo_accounts_are_not_forced_to_change(db):
    from django.core.management import call_command

    call_command("demo", verbosity=0)
    assert not User.objects.filter(must_change_password=True).exists()


def test_an_htmx_request_of_a_forced_user_is_sent_to_the_change_page(bureau):
    User.objects.filter(username="shuji_a").update(must_change_password=True)
    client = _login("shuji_a", OLD)
    response = client.get(reverse("organizations:members"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("access:password_change")
    assert client.post(reverse("access:logout")).status_code == 302  # log-out still works
