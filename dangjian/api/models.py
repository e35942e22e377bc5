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
