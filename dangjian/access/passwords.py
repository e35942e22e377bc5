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
