from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "dangjian.access"
    label = "access"
    verbose_name = "账号与权限"

    def ready(self):
        from dangjian.access import checks, signals  # noqa: F401
