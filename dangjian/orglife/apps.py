from django.apps import AppConfig


class OrglifeConfig(AppConfig):
    name = "dangjian.orglife"
    label = "orglife"
    verbose_name = "组织生活"

    def ready(self):
        from dangjian.orglife import metrics, todos  # noqa: F401  (registers figures and reminders)
