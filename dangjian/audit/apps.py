from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dangjian.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self):
        from dangjian.audit.models import AuditHead
        from dangjian.core import datacache

        # Every write appends to the chain: the head counts those that changed records.
        datacache.register_version(lambda: AuditHead.objects.values_list("data_seq", flat=True).first() or 0)
