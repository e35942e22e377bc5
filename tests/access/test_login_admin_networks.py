"""The three admins log in only from ADMIN_LOGIN_NETWORKS; a refusal is audited."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from dangjian.audit.models import AuditEntry

LOGIN = "/accounts/login/"
PASSWORD = "Test@12345"
REFUSED = "管理员账号只能从指定的管理网络登录，本次登录已拒绝并记录。"


@pytest.fixture
def admin_networks(settings):
    settings.ADMIN_LOGIN_NETWORKS = ["10.9.0.0/24", "fd00:9::/64"]


def _login(address, username, password=PASSWORD):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(LOGIN, {"username": username, "password": password})


@pytest.mark.parametrize("username", ["xitong", "anquan", "shenji"])
def test_an_admin_outside_the_networks_is_refused_and_audited(bureau, admin_networks, username):
    client, response = _login("192.168.5.20", username)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(action="auth.login_refused")
    assert (entry.actor_name, entry.source_ip) == (username, "192.168.5.20")
    assert not AuditEntry.objects.filter(action="auth.login").exists()


@pytest.mark.parametrize("address", ["10.9.0.5", "fd00:9::15"])
def test_an_admin_inside_the_networks_logs_in(bureau, admin_networks, address):
    client, response = _login(address, "anquan")
    assert response.status_code == 302
    # The password step passed: the next is the second factor (tests/access/test_otp.py).
    assert client.get("/")["Location"].startswith("/accounts/otp/enrol/")


def test_a_wrong_password_from_outside_says_nothing_about_the_networks(bureau, admin_networks):
    _, response = _login("192.168.5.20", "anquan", "Wrong#pass1")
    assert REFUSED not in response.content.decode()
    assert not AuditEntry.objects.filter(action="auth.login_refused").exists()


def test_business_accounts_and_an_empty_list_are_not_limited(bureau, settings, admin_networks):
    assert _login("192.168.5.20", "dangban")[1].status_code == 302
    settings.ADMIN_LOGIN_NETWORKS = []
    assert _login("192.168.5.20", "anquan")[1].status_code == 302


def test_a_bad_network_stops_start_up_with_a_message(monkeypatch):
    from dangjian.settings import env_networks

    monkeypatch.setenv("ADMIN_LOGIN_NETWORKS", "10.9.0.0/24, 10.9.0.x")
    with pytest.raises(ImproperlyConfigured, match="ADMIN_LOGIN_NETWORKS.*10.9.0.x"):
        env_networks("ADMIN_LOGIN_NETWORKS")
    monkeypatch.setenv("ADMIN_LOGIN_NETWORKS", "10.9.0.0/24, 10.8.0.1")
    assert env_networks("ADMIN_LOGIN_NETWORKS") == ["10.9.0.0/24", "10.8.0.1/32"]


def test_the_page_states_the_configured_limits(db, settings):
    settings.AXES_FAILURE_LIMIT, settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6, 12
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 20
    page = Client().get(LOGIN).content.decode()
    assert "同一账号输错密码6次、同一地址输错12次，将锁定20分钟；30分钟无操作或登录满8小时自动退出。" in page
