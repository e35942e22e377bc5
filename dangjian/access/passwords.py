import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone


def password_expired(user) -> bool:
    """Whether the password is older than PASSWORD_MAX_AGE_DAYS (a change is then forced)."""
    since = user.password_changed_at or user.date_joined
    return since is not None and timezone.now() - since > dt.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def must_change_password(user) -> bool:
    return bool(user.is_authenticated and (user.must_change_password or password_expired(user)))


class CharacterClassValidator:
    """等保 8.1.4.1 a: a password mixes at least `min_classes` of upper, lower, digit and symbol."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        classes = [
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号中的至少{self.min_classes}类。",
                code="password_character_classes",
            )

    def get_help_text(self):
        return f"密码须包含大写字母、小写字母、数字、符号中的至少{self.min_classes}类。"


# Keyboard rows and the columns typed top to bottom (1qaz2wsx…), each also read backwards.
KEYBOARD_LINES = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
                  "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/")


class PatternValidator:
    """等保 8.1.4.1 a: no guessable patterns. Refuses `run` or more characters in sequence (1234,
    abcd, 4321), `repeat` or more of one character (aaa), `run` or more neighbouring keys (qwer,
    asdf, 1qaz), and the account's user name or full name anywhere inside (case ignored)."""

    def __init__(self, run: int = 4, repeat: int = 3):
        self.run = run
        self.repeat = repeat

    def validate(self, password, user=None):
        text = password.lower()
        problems = []
        if self._has_sequence(text):
            problems.append(f"密码不能包含{self.run}位及以上的连续字符（如1234、abcd、4321）。")
        if any(text[i:i + self.repeat] == text[i] * self.repeat for i in range(len(text) - self.repeat + 1)):
            problems.append(f"密码不能包含{self.repeat}个及以上相同的连续字符（如aaa、111）。")
        if not problems and self._has_keyboard_run(text):  # 1234 is on the keyboard too: say it once
            problems.append(f"密码不能包含{self.run}位及以上的键盘相邻字符（如qwer、asdf、1qaz）。")
        for attribute, label in (("username", "用户名"), ("full_name", "姓名")):
            value = (getattr(user, attribute, "") or "").strip().lower()
            if len(value) >= 2 and value in text:
                problems.append(f"密码不能包含{label}。")
        if problems:
            raise ValidationError([ValidationError(p, code="password_pattern") for p in problems])

    def _has_sequence(self, text: str) -> bool:
        for start in range(len(text) - self.run + 1):
            chunk = text[start:start + self.run]
            if not all(c.isascii() and c.isalnum() for c in chunk):
                continue
            steps = {ord(b) - ord(a) for a, b in zip(chunk, chunk[1:], strict=False)}
            if steps in ({1}, {-1}) and (chunk.isdigit() or chunk.isalpha()):
                return True
        return False

    def _has_keyboard_run(self, text: str) -> bool:
        lines = KEYBOARD_LINES + tuple(line[::-1] for line in KEYBOARD_LINES)
        return any(text[i:i + self.run] in line for line in lines for i in range(len(text) - self.run + 1))

    def get_help_text(self):
        return (f"密码不能包含{self.run}位连续字符或键盘相邻字符、{self.repeat}个相同字符，也不能包含用户名或姓名。")
