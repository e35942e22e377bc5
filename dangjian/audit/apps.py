from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dangjian.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self):
        from dangjian.audit.models import AuditHead
        from dangjian.core import datacache

        # Every write appends to the chain: its head's number is the records' version.
        datacache.register_version(lambda: AuditHead.objects.values_list("seq", flat=True).first() or 0)
