from django.core.management.base import BaseCommand

from dangjian.api.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete API idempotency keys older than IDEMPOTENCY_TTL_HOURS (24 h by default); run it nightly."

    def handle(self, *args, **options):
        self.stdout.write(f"已删除过期的幂等键 {purge_expired()} 个。")
