from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "dangjian.organizations"
    label = "organizations"
    verbose_name = "党组织与党员"

    def ready(self):
        from dangjian.organizations import metrics, todos  # noqa: F401  (registers figures and reminders)
