"""Session limits (issue 8 item 4): a session ends SESSION_ABSOLUTE_HOURS after its log-in however
active it is, with a notice on the log-in page; a password change ends the user's other sessions
(the changing one goes on), a reset by an administrator ends them all."""

import datetime as dt
import html

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from dangjian.access import services
from dangjian.access.middleware import LOGIN_AT
from dangjian.audit.services import Actor

LOGIN = "/accounts/login/"
PASSWORD = "Test@12345"
START = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def log_in(username: str = "shuji_a") -> Client:
    client = Client()
    assert client.post(LOGIN, {"username": username, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def long_idle(settings):
    """Only the absolute limit in play: the idle limit (30 min) would end a session left for hours."""
    settings.SESSION_COOKIE_AGE = 24 * 3600


@pytest.mark.parametrize(("after", "in_"), [(dt.timedelta(hours=8, minutes=-1), True),
                                            (dt.timedelta(hours=8, minutes=1), False)])
def test_a_session_ends_eight_hours_after_its_log_in(bureau, long_idle, after, in_):
    with time_machine.travel(START, tick=False) as traveller:
        client = log_in()
        traveller.shift(dt.timedelta(hours=4))
        assert client.get("/").status_code == 200  # activity does not extend the absolute limit
        traveller.shift(after - dt.timedelta(hours=4))
        response = client.get("/organizations/members/")
        if in_:
            assert response.status_code == 200
            return
        assert response.status_code == 302
        assert response["Location"] == LOGIN + "?ended=absolute"
        assert "_auth_user_id" not in client.session
        page = html.unescape(client.get(response["Location"]).content.decode())
        assert "登录满8小时后须重新登录" in page
        # Ended, not merely redirected: the next request is anonymous too.
        assert client.get("/")["Location"].startswith(LOGIN)


def test_the_limit_follows_the_setting_and_answers_the_api_in_json(bureau, long_idle, settings):
    settings.SESSION_ABSOLUTE_HOURS = 2
    with time_machine.travel(START, tick=False) as traveller:
        client = log_in()
        traveller.shift(dt.timedelta(hours=2, minutes=1))
        response = client.get("/api/organizations")
        assert response.status_code == 401 and "2小时" in response.json()["detail"]
        assert client.get("/api/organizations").status_code == 401


def test_a_fragment_request_past_the_limit_sends_the_browser_to_log_in(bureau, long_idle):
    with time_machine.travel(START, tick=False) as traveller:
        client = log_in()
        traveller.shift(dt.timedelta(hours=9))
        response = client.get("/", headers={"HX-Request": "true"})
        assert response["HX-Redirect"] == LOGIN + "?ended=absolute"


def test_a_session_without_a_log_in_time_is_ended(bureau):
    client = log_in()
    session = client.session
    del session[LOGIN_AT]
    session.save()
    assert client.get("/")["Location"] == LOGIN + "?ended=absolute"


def test_the_log_in_page_states_both_limits(client):
    text = client.get(LOGIN).content.decode()
    assert "30分钟无操作或登录满8小时自动退出" in text
    assert "session-ended" not in text


# ---------------------------------------------------------------- password change and reset


def test_a_password_change_logs_out_the_users_other_sessions(bureau):
    first, second = log_in(), log_in()
    other_user = log_in("dangban")
    assert second.get("/").status_code == 200
    response = first.post(reverse("access:password_change"), {
        "old_password": PASSWORD, "new_password1": "Nw#Secret2026", "new_password2": "Nw#Secret2026"})
    assert response.status_code == 302
    # Ended at once in the database (not only refused at its next request by Django's auth hash).
    assert not Session.objects.filter(session_key=second.cookies["sessionid"].value).exists()
    assert first.get("/").status_code == 200  # the changing session goes on
    assert second.get("/")["Location"].startswith(LOGIN)  # the other one is logged out
    assert other_user.get("/").status_code == 200  # another user's session is untouched


def test_a_reset_by_the_system_admin_ends_every_session_of_the_account(bureau):
    first, second = log_in("wujuese"), log_in("wujuese")
    services.password_reset(by=Actor(user=bureau.users["sys_admin"], name="xitong"), user=bureau.users["no_role"])
    for client in (first, second):
        assert client.get("/")["Location"].startswith(LOGIN)
