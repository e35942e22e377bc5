"""The second factor (issue 8 item 4): the three admins (OTP_REQUIRED_ROLES) enrol an authenticator
app after the password and enter its code at every log-in; nothing else is reachable before. Wrong
codes are refused, throttled by django-otp and audited; the security admin resets another account's
app, never their own; a user removes their own only with a code; tokens of an unenrolled admin fail."""

import datetime as dt
import html
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.access import otp, services
from dangjian.access.roles import Role
from dangjian.api.tokens import api_token_create
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor

LOGIN = "/accounts/login/"
PASSWORD = "Test@12345"
VERIFY = reverse("access:otp_verify")
ENROL = reverse("access:otp_enrol")
NOW = dt.datetime(2026, 11, 30, 10, 0, 5, tzinfo=dt.UTC)
WRONG = "验证码不正确"


def code(key_hex: str) -> str:
    """The authenticator app's code for this key now: django-otp's own TOTP (30 s, 6 digits)."""
    return f"{totp(bytes.fromhex(key_hex)):06d}"


def log_in(username: str) -> Client:
    """The password step through the log-in page (force_login would pass the second factor too)."""
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    return client


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=True)


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _entries(action: str):
    return AuditEntry.objects.filter(action=action)


# ---------------------------------------------------------------- enrol


def test_an_admin_without_an_app_is_sent_to_enrol_and_sees_a_qr_code_without_style(bureau):
    client = log_in("xitong")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    svg = re.search(r"<svg.*?</svg>", text, flags=re.S).group(0)
    assert "style" not in svg and "<script" not in svg
    key = client.session[otp.PENDING_SECRET]
    assert otp.base32(key) in text
    # Shown once: a reload shows a new secret.
    client.get(ENROL)
    assert client.session[otp.PENDING_SECRET] != key


@time_machine.travel(NOW, tick=False)
def test_the_right_code_enrols_the_app_and_lets_the_admin_in(bureau):
    client = log_in("anquan")
    client.get(ENROL)
    key = client.session[otp.PENDING_SECRET]
    response = client.post(ENROL, {"token": code(key), "next": "/accounts/roles/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/roles/"
    device = TOTPDevice.objects.get(user=bureau.users["security_admin"])
    assert device.confirmed and device.key == key
    assert client.get("/accounts/roles/").status_code == 200
    assert otp.PENDING_SECRET not in client.session
    assert _entries("auth.otp_enrol").get().object_id == str(bureau.users["security_admin"].pk)
    # Never shown again.
    assert client.get(ENROL)["Location"] == reverse("access:otp")
    assert otp.base32(key) not in client.get(reverse("access:otp")).content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_wrong_code_at_enrolment_enrols_nothing_and_is_audited(bureau):
    client = log_in("anquan")
    client.get(ENROL)
    key = client.session[otp.PENDING_SECRET]
    wrong = f"{(int(code(key)) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"token": wrong})
    assert response.status_code == 200 and WRONG in _text(response)
    assert not TOTPDevice.objects.exists()
    assert client.session[otp.PENDING_SECRET] == key  # the same QR code, to try again
    assert _entries("auth.otp_failed").count() == 1
    assert client.get("/")["Location"].startswith(ENROL)


def test_a_code_that_is_not_six_digits_is_refused_by_the_form(bureau):
    client = log_in("anquan")
    client.get(ENROL)
    response = client.post(ENROL, {"token": "12ab"})
    assert "请输入6位数字验证码" in _text(response)
    assert not TOTPDevice.objects.exists()


# ---------------------------------------------------------------- verify


ROUTES = ["/", "/accounts/users/", "/accounts/roles/", "/audit/", "/organizations/", "/accounts/password/",
          "/accounts/otp/", "/accounts/otp/devices/"]


@pytest.mark.parametrize("username", ["xitong", "anquan", "shenji"])
def test_an_enrolled_admin_reaches_nothing_before_the_code(bureau, username):
    user = bureau.users[{"xitong": "sys_admin", "anquan": "security_admin", "shenji": "audit_admin"}[username]]
    enrolled(user)
    client = log_in(username)
    for url in ROUTES:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), url
    assert client.post("/accounts/users/", {"username": "x"})["Location"] == VERIFY
    api = client.get("/api/organizations")
    assert api.status_code == 403 and "双因素" in api.json()["detail"]
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert fragment["HX-Redirect"].startswith(VERIFY)
    assert client.get(VERIFY).status_code == 200
    assert client.get(ENROL)["Location"] == reverse("access:otp")  # enrolled: no second app
    assert client.get(reverse("access:otp"))["Location"].startswith(VERIFY)


@time_machine.travel(NOW, tick=False)
def test_a_wrong_code_is_refused_throttled_audited_and_changes_nothing(bureau):
    user = bureau.users["sys_admin"]
    device = enrolled(user)
    client = log_in("xitong")
    before = AuditEntry.objects.exclude(action__startswith="auth.").count()
    wrong = f"{(int(code(device.key)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"token": wrong})
    assert response.status_code == 200 and WRONG in _text(response)
    assert client.get("/")["Location"].startswith(VERIFY)
    assert _entries("auth.otp_failed").count() == 1
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # django-otp's throttle: the next try within the delay is refused even with the right code.
    response = client.post(VERIFY, {"token": code(device.key)})
    assert "请" in _text(response) and "秒后再试" in _text(response)
    assert client.get("/")["Location"].startswith(VERIFY)
    assert _entries("auth.otp_failed").count() == 2
    assert AuditEntry.objects.exclude(action__startswith="auth.").count() == before


def test_the_right_code_passes_and_is_audited(bureau):
    user = bureau.users["audit_admin"]
    device = enrolled(user)
    with time_machine.travel(NOW, tick=False):
        client = log_in("shenji")
        response = client.post(VERIFY, {"token": code(device.key), "next": "/audit/"})
        assert response["Location"] == "/audit/"
        assert client.get("/audit/").status_code == 200
        assert _entries("auth.otp_verify").count() == 1
        # The same code cannot pass again (a second log-in within the step: replay).
        other = log_in("shenji")
        assert WRONG in _text(other.post(VERIFY, {"token": code(device.key)}))
    with time_machine.travel(NOW + dt.timedelta(seconds=40), tick=False):
        assert other.post(VERIFY, {"token": code(device.key)}).status_code == 302
        assert other.get("/audit/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_next_address_stays_on_this_site(bureau):
    device = enrolled(bureau.users["audit_admin"])
    client = log_in("shenji")
    response = client.post(VERIFY, {"token": code(device.key), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_new_log_in_must_pass_the_code_again(bureau, client_for):
    client = client_for("sys_admin")  # passed the second factor (tests/conftest.py)
    assert client.get("/accounts/users/").status_code == 200
    client.logout()
    client.post(LOGIN, {"username": "xitong", "password": PASSWORD})
    assert client.get("/accounts/users/")["Location"].startswith(VERIFY)


# ---------------------------------------------------------------- who must


def test_other_roles_need_no_second_factor_unless_configured(bureau, settings):
    client = log_in("shuji_a")
    assert client.get("/").status_code == 200
    assert client.get(VERIFY).status_code == 404 and client.get(ENROL).status_code == 404
    settings.OTP_REQUIRED_ROLES = [Role.BRANCH_SECRETARY]
    assert client.get("/")["Location"].startswith(ENROL)
    assert log_in("dangban").get("/").status_code == 200  # not listed


def test_the_three_admins_need_it_whatever_the_setting_lists(bureau, settings):
    settings.OTP_REQUIRED_ROLES = []
    for username in ("xitong", "anquan", "shenji"):
        assert log_in(username).get("/")["Location"].startswith(ENROL)


def test_an_unknown_role_in_the_setting_stops_the_checks(settings):
    settings.OTP_REQUIRED_ROLES = ["sys_admn"]
    with pytest.raises(SystemCheckError, match="OTP_REQUIRED_ROLES"):
        call_command("check")


# ---------------------------------------------------------------- tokens


def test_a_token_of_an_admin_without_an_app_is_refused(bureau):
    user = bureau.users["sys_admin"]
    _, secret = api_token_create(by=Actor.system("test"), user=user, name="同步")
    token = Client(headers={"Authorization": f"Bearer {secret}"})
    response = token.get("/api/organizations")
    assert response.status_code == 401 and "绑定验证器" in response.json()["detail"]
    enrolled(user)
    assert token.get("/api/organizations").status_code == 200


# ---------------------------------------------------------------- reset and removal


def test_the_security_admin_resets_another_accounts_app_and_ends_its_sessions(bureau, client_for):
    target = bureau.users["sys_admin"]
    device = enrolled(target)
    target_client = client_for("sys_admin")
    assert target_client.get("/accounts/users/").status_code == 200
    admin = client_for("security_admin")
    page = admin.get(reverse("access:otp_devices"))
    assert reverse("access:otp_reset", args=[target.pk]) in page.content.decode()
    own = reverse("access:otp_reset", args=[bureau.users["security_admin"].pk])
    assert own not in page.content.decode()  # enrolled (conftest), but no button for oneself
    response = admin.post(reverse("access:otp_reset", args=[target.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert target_client.get("/accounts/users/")["Location"].startswith(LOGIN)
    entry = _entries("auth.otp_reset").get()
    assert (entry.object_id, entry.actor_name) == (str(target.pk), "anquan")
    assert log_in("xitong").get("/")["Location"].startswith(ENROL)


def test_the_security_admin_cannot_reset_their_own_app(bureau, client_for):
    me = bureau.users["security_admin"]
    admin = client_for("security_admin")
    response = admin.post(reverse("access:otp_reset", args=[me.pk]), follow=True)
    assert "不能重置自己的验证器" in _text(response)
    assert TOTPDevice.objects.filter(user=me).exists()
    assert not _entries("auth.otp_reset").exists()
    with pytest.raises(ValidationError):
        services.otp_device_reset(by=Actor(user=me, name="anquan"), user=me)


def test_only_the_security_admin_resets(bureau, client_for):
    target = bureau.users["audit_admin"]
    enrolled(target)
    for persona in ("sys_admin", "audit_admin", "party_office"):
        assert client_for(persona).post(reverse("access:otp_reset", args=[target.pk])).status_code == 404
    assert TOTPDevice.objects.filter(user=target).exists()


def test_removing_ones_own_app_needs_its_code(bureau, client_for):
    user = bureau.users["sys_admin"]
    client = client_for("sys_admin")
    device = TOTPDevice.objects.get(user=user)
    with time_machine.travel(NOW, tick=False):
        wrong = f"{(int(code(device.key)) + 1) % 1_000_000:06d}"
        response = client.post(reverse("access:otp"), {"token": wrong})
        assert WRONG in _text(response)
        assert TOTPDevice.objects.filter(pk=device.pk).exists()
        assert client.post(reverse("access:otp"), {"token": ""}).status_code == 200
        assert TOTPDevice.objects.filter(pk=device.pk).exists()
    with time_machine.travel(NOW + dt.timedelta(seconds=60), tick=False):
        response = client.post(reverse("access:otp"), {"token": code(device.key)})
        assert response["Location"] == ENROL
        assert client.get("/accounts/users/")["Location"].startswith(ENROL)  # a new app, before anything else
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert _entries("auth.otp_remove").count() == 1


def test_a_log_in_starts_without_a_passed_second_factor(bureau, rf):
    """Should any view log a user in over a session that still names an authenticator, the new log-in
    does not inherit it (access/signals.py)."""
    from django.contrib.auth import login
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    user = bureau.users["sys_admin"]
    device = enrolled(user)
    request = rf.get("/")
    request.session = SessionStore()
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    assert DEVICE_ID_SESSION_KEY not in request.session
