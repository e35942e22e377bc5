from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dangjian.core"
    label = "core"
    verbose_name = "公共"

    def ready(self):
        from dangjian.core import crypto  # noqa: F401  (registers the key check)
