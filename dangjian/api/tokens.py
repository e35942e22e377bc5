"""Services for API tokens: make one (the secret is returned once and never stored), revoke one,
and resolve a presented secret to its user. Making and revoking are audited like any other write."""

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dangjian.api.models import ApiToken
from dangjian.audit.services import Actor, audit_record, snapshot

TOKEN_FIELDS = ["user", "name", "prefix", "created_at", "revoked_at"]
# `last_used_at` is refreshed at most this often: a write on every request would serialise all
# API reads behind SQLite's single writer for no gain in what the column tells.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, by: Actor, user, name: str) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns (token, secret). The caller shows the secret once."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "请填写令牌用途（如：数据中台同步）。"})
    if len(name) > 100:
        raise ValidationError({"name": "令牌用途不能超过100个字符。"})
    if not user.is_active:
        raise ValidationError({"user": f"账号 {user.get_username()} 已停用，不能签发令牌。"})
    # 256 bits as 64 hex characters: no "-" that a shell or argparse could take for an option.
    secret = secrets.token_hex(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=hash_secret(secret), prefix=secret[:8])
    audit_record(by=by, action="api_token.create", obj=token, after=snapshot(token, TOKEN_FIELDS))
    return token, secret


@transaction.atomic
def api_token_revoke(*, by: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token from now on (idempotent: a revoked token keeps its first revocation time)."""
    if token.revoked_at is not None:
        return token
    before = snapshot(token, TOKEN_FIELDS)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(by=by, action="api_token.revoke", obj=token, before=before, after=snapshot(token, TOKEN_FIELDS))
    return token


def api_token_user(secret: str):
    """The active user a presented secret stands for, or None (unknown, revoked, user inactive).
    One query (plus at most one update every LAST_USED_RESOLUTION)."""
    if not secret or len(secret) > 200:
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=hash_secret(secret), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
