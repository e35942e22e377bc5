"""Hole 5 of issue 8, replayed: `12345678Aa`-like passwords passed the rules."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from dangjian.access.models import User

SEQUENCE = "密码不能包含4位及以上的连续字符（如1234、abcd、4321）。"
REPEAT = "密码不能包含3个及以上相同的连续字符（如aaa、111）。"
KEYBOARD = "密码不能包含4位及以上的键盘相邻字符（如qwer、asdf、1qaz）。"


def _problems(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return exc.messages
    return []


@pytest.mark.parametrize(("password", "message"), [
    ("12345678Aa", SEQUENCE), ("Xk!abcd9Tz", SEQUENCE), ("Xk!9876tZw", SEQUENCE), ("Xk!DCBA9tz", SEQUENCE),
    ("Xk!aaa9Tzw", REPEAT), ("Xk!1119Tzw", REPEAT), ("Xk!qwer9Tz", KEYBOARD), ("Xk!asdf9Tz", KEYBOARD),
    ("Xk!1qaz9Tz", KEYBOARD), ("Xk!mnbv9Tz", KEYBOARD), ("Xk!p0o9Tz[", None),
])
def test_patterns_are_refused_with_a_chinese_message(db, password, message):
    problems = _problems(password)
    assert problems == ([message] if message else [])


def test_the_user_name_or_full_name_inside_is_refused(db):
    user = User(username="wangwu", full_name="王五")
    assert "密码不能包含用户名。" in _problems("Wangwu#2o9x", user)
    assert _problems("Tz7#wangwu-Kq8p-Lm3x", user) == ["密码不能包含用户名。"]  # Django's similarity check misses it
    assert _problems("王五#Kz7p2x", user) == ["密码不能包含姓名。"]
    assert _problems("Tqzv7plm!x", user) == []


def test_common_passwords_are_refused(db):
    assert _problems("P@ssw0rd") == ["这个密码太常见了。"]


def test_the_account_page_refuses_12345678Aa_and_creates_nothing(bureau, client_for):
    response = client_for("sys_admin").post(reverse("access:users"), {
        "username": "wangwu", "full_name": "王五", "password": "12345678Aa"})
    assert response.status_code == 200
    assert SEQUENCE in response.content.decode()
    assert not User.objects.filter(username="wangwu").exists()
