"""Hole 5 of issue 8, replayed: log-in failures are counted per address as well as per account, and
nobody can lock the three admins out for good."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from dangjian.audit.models import AuditEntry

LOGIN = "/accounts/login/"
PASSWORD = "Test@12345"  # the fixture users' password
# The eight business accounts of the test bureau (tests/conftest.py).
ACCOUNTS = ["dangban", "shuji_a", "shuji_b", "lingdao", "xuncha", "lianluo", "jijian", "zhangsan"]


def _login(address, username, password):
    return Client(REMOTE_ADDR=address).post(LOGIN, {"username": username, "password": password})


def test_a_spray_from_one_address_locks_the_address_after_the_configured_count(bureau, settings):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 10 and settings.AXES_FAILURE_LIMIT == 5
    # 32 failures over 8 accounts from one address: 4 per account, under the account limit.
    statuses = [_login("10.0.0.66", name, "Wrong#pass1").status_code for _ in range(4) for name in ACCOUNTS]
    assert statuses[:9] == [200] * 9
    assert statuses[9:] == [429] * 23  # the 10th failure locks the address
    # The address stays locked even with a right password ...
    locked = _login("10.0.0.66", "dangban", PASSWORD)
    assert locked.status_code == 429 and "锁定" in locked.content.decode()
    # ... while no account was locked: each logs in from another address.
    assert all(_login("10.0.0.7", name, PASSWORD).status_code == 302 for name in ACCOUNTS)


def test_an_account_locks_after_its_count_from_many_addresses(bureau):
    for i in range(1, 5):
        assert _login(f"10.1.0.{i}", "dangban", "Wrong#pass1").status_code == 200
    assert _login("10.1.0.5", "dangban", "Wrong#pass1").status_code == 429  # the 5th failure
    assert _login("10.1.0.6", "dangban", PASSWORD).status_code == 429  # a fresh address too
    assert _login("10.1.0.6", "shuji_a", PASSWORD).status_code == 302  # the addresses are not locked


def test_an_admin_logs_in_from_an_allowed_address_while_its_name_is_sprayed(bureau, settings):
    settings.ADMIN_LOGIN_NETWORKS = ["10.9.0.0/24"]
    for i in range(1, 21):  # 20 failures from 20 addresses: four times the account limit
        _login(f"172.16.0.{i}", "anquan", "Wrong#pass1")
    for _ in range(6):  # and a hammering from one address, which locks that address
        _login("172.16.1.1", "anquan", "Wrong#pass1")
    assert _login("172.16.1.1", "anquan", PASSWORD).status_code == 429
    client = Client(REMOTE_ADDR="10.9.0.5")
    assert client.post(LOGIN, {"username": "anquan", "password": PASSWORD}).status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/otp/enrol/")  # the password step passed


def test_an_admin_is_still_locked_at_the_address_it_fails_from(bureau):
    for _ in range(5):
        _login("10.9.0.5", "anquan", "Wrong#pass1")
    assert _login("10.9.0.5", "anquan", PASSWORD).status_code == 429


def test_the_console_lifts_an_account_lock_and_the_trail_records_it(bureau):
    for i in range(1, 6):
        _login(f"10.1.0.{i}", "dangban", "Wrong#pass1")
    assert _login("10.1.0.9", "dangban", PASSWORD).status_code == 429
    call_command("unlock_account", "DangBan")  # the account's name in any case
    assert _login("10.1.0.9", "dangban", PASSWORD).status_code == 302
    entry = AuditEntry.objects.get(action="auth.unlock")
    assert entry.object_id == str(bureau.users["party_office"].pk)
    assert entry.note == "清除该账号的登录失败5次"


def test_the_console_lifts_an_address_lock_with_ip(bureau):
    for name in ACCOUNTS[:5]:  # 10 failures over 5 names lock the admin's own address
        for _ in range(2):
            _login("10.9.0.5", name, "Wrong#pass1")
    assert _login("10.9.0.5", "anquan", PASSWORD).status_code == 429
    call_command("unlock_account", "anquan")  # the account had no failures: the address stays locked
    assert _login("10.9.0.5", "anquan", PASSWORD).status_code == 429
    call_command("unlock_account", "anquan", ip="10.9.0.5")
    assert _login("10.9.0.5", "anquan", PASSWORD).status_code == 302
    notes = list(AuditEntry.objects.filter(action="auth.unlock").order_by("seq").values_list("note", flat=True))
    assert notes == ["清除该账号的登录失败0次", "清除该账号的登录失败0次；清除地址 10.9.0.5 的登录失败10次"]


@pytest.mark.parametrize(("args", "message"), [
    (["nobody"], "没有账号 nobody"),
    (["anquan", "--ip", "10.9.0.x"], "不是有效的IP地址"),
])
def test_the_console_refuses_bad_input_and_changes_nothing(bureau, args, message):
    for _ in range(5):
        _login("10.9.0.5", "anquan", "Wrong#pass1")
    with pytest.raises(CommandError, match=message):
        call_command("unlock_account", *args)
    assert _login("10.9.0.5", "anquan", PASSWORD).status_code == 429
    assert not AuditEntry.objects.filter(action="auth.unlock").exists()


def test_a_successful_log_in_forgives_only_its_own_account_not_the_address(bureau):
    for name in ACCOUNTS[1:5]:  # 8 failures from one address over four names
        for _ in range(2):
            _login("10.0.0.66", name, "Wrong#pass1")
    _login("10.0.0.66", "dangban", "Wrong#pass1")  # and 1 on the insider's own account: 9
    assert _login("10.0.0.66", "dangban", PASSWORD).status_code == 302
    # dangban's own failure is forgiven (8 left at the address); the spray is not.
    assert _login("10.0.0.66", "zhangsan", "Wrong#pass1").status_code == 200  # 9
    assert _login("10.0.0.66", "zhangsan", "Wrong#pass1").status_code == 429  # 10: locked
