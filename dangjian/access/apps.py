from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "dangjian.access"
    label = "access"
    verbose_name = "账号与权限"

    def ready(self):
        from dangjian.access import checks, lockout, signals  # noqa: F401
        from dangjian.audit.actions import register_labels

        register_labels({
            "role.grant": "授予角色",
            "role.revoke": "收回角色",
            "user.create": "创建账号",
            "user.disable": "停用账号",
            "user.enable": "启用账号",
            "user.password_change": "修改密码",
            "user.password_reset": "重置密码",
            "user.bind_member": "账号对应党员",
            "user.unbind_member": "解除账号与党员的对应",
            "auth.otp_enrol": "绑定验证器（双因素）",
            "auth.otp_verify": "双因素验证通过",
            "auth.otp_failed": "双因素验证码错误",
            "auth.otp_remove": "本人解除验证器",
            "auth.otp_reset": "重置验证器",
        })
