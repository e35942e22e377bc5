from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

from dangjian.access.roles import Role


class User(AbstractUser):
    """A person who logs in. Optionally the member record of the same person."""

    member = models.OneToOneField(
        "organizations.Member", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="user", verbose_name="对应党员",
    )
    full_name = models.CharField("姓名", max_length=50, blank=True)
    # 等保 8.1.4.1: a password someone else set (a new account, a reset) is changed at the next log-in.
    must_change_password = models.BooleanField("须修改密码", default=False)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    # 三员分立: set when a 三员 role is granted and never cleared, so revoking the admin role does not
    # turn the admin's account into a business one (the person gets a separate business account).
    admin_account = models.BooleanField("三员账号", default=False, editable=False)

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"
        constraints = [
            # 等保 SEC-AUTH-01: one identity per name, whatever the letter case.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self):
        return self.full_name or self.username


class RoleAssignment(models.Model):
    """A role granted to a user on a node; with include_descendants it flows down the tree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.CASCADE,
        related_name="role_assignments", verbose_name="党组织",
    )
    unit = models.ForeignKey(
        "organizations.Unit", null=True, blank=True, on_delete=models.CASCADE,
        related_name="role_assignments", verbose_name="单位",
    )
    include_descendants = models.BooleanField("含下级", default=True)
    granted_at = models.DateTimeField("授予时间", auto_now_add=True)

    class Meta:
        verbose_name = "角色授予"
        verbose_name_plural = "角色授予"
        constraints = [
            models.CheckConstraint(
                name="role_assignment_one_node_at_most",
                condition=~models.Q(organization__isnull=False, unit__isnull=False),
            ),
            # One grant per user, role and node (partial indexes: NULLs never collide otherwise).
            models.UniqueConstraint(
                fields=["user", "role", "organization"], name="role_assignment_unique_org",
                condition=models.Q(organization__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit"], name="role_assignment_unique_unit",
                condition=models.Q(unit__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "role"], name="role_assignment_unique_global",
                condition=models.Q(organization__isnull=True, unit__isnull=True),
            ),
        ]

    def __str__(self):
        node = self.organization or self.unit or "全局"
        return f"{self.user} · {self.get_role_display()} · {node}"


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords: a new password may not be one of the last
    `settings.PASSWORD_HISTORY`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField("密码哈希", max_length=128)
    created_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"
