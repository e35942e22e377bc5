from django.core.management.base import BaseCommand, CommandError

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's HMAC chain; name the first broken link (exit status 1 if any)."

    def handle(self, *args, **options):
        broken = audit_verify_chain()
        if broken is not None:
            raise CommandError(f"审计链在第 {broken.seq} 条处断开：{broken.reason}")
        self.stdout.write(f"审计链完整：共 {AuditEntry.objects.count()} 条记录，校验通过。")
