from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token for the JSON API, acting as its user (with that user's roles and scope).

    Only the SHA-256 of the secret is stored: the secret is shown once, when the token is made
    (`manage.py api_token`), and a stolen database copy holds nothing that authenticates. `prefix`
    (the secret's first 8 characters) lets people tell their tokens apart in lists and logs.
    Revoking stamps `revoked_at`; the row stays so the audit trail keeps pointing at something.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name="账号")
    name = models.CharField("用途", max_length=100)
    key_hash = models.CharField("令牌摘要（SHA-256）", max_length=64)
    prefix = models.CharField("令牌前缀", max_length=8)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        constraints = [
            # Each request looks its token up by this digest: unique, hence indexed.
            models.UniqueConstraint(fields=["key_hash"], name="api_token_key_hash_unique"),
        ]

    def __str__(self):
        return f"{self.prefix}… {self.name} ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key` header, kept for
    `IDEMPOTENCY_TTL` so that a client retrying after a lost answer gets the same answer back
    instead of a second record (`dangjian.api.idempotency`).

    The key is the client's, scoped to its user: two users may use the same key. `fingerprint` is
    the SHA-256 of the method, path and body: the same key with another request is refused.
    `status` is null while the first request is still running (a concurrent retry gets 409); only
    2xx answers are kept (a refused request changed nothing and may be sent again as it is).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name="账号")
    key = models.CharField("幂等键", max_length=255)
    fingerprint = models.CharField("请求摘要（SHA-256）", max_length=64)
    status = models.PositiveSmallIntegerField("响应状态码", null=True, blank=True)
    body = models.BinaryField("响应内容", default=b"")
    created_at = models.DateTimeField("首次请求时间", db_index=True)

    class Meta:
        verbose_name = "幂等键"
        verbose_name_plural = "幂等键"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"
