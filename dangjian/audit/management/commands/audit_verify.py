from django.core.management.base import BaseCommand, CommandError

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import CheckpointError, audit_verify_chain, checkpoints_read


class Command(BaseCommand):
    help = ("Verify the audit trail's HMAC chain and its authenticated head; with --checkpoints, also "
            "against the signed checkpoints kept outside the database. Names the first broken link "
            "(exit status 1 if any).")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoints", metavar="FILE", help="file written by audit_checkpoint")

    def handle(self, *args, **options):
        checkpoints = None
        if options["checkpoints"]:
            try:
                with open(options["checkpoints"], encoding="utf-8") as lines:
                    checkpoints = checkpoints_read(lines)
            except OSError as error:
                raise CommandError(f"无法读取检查点文件 {options['checkpoints']}：{error.strerror}") from None
            except CheckpointError as error:
                raise CommandError(str(error)) from None
        broken = audit_verify_chain(checkpoints=checkpoints)
        if broken is not None:
            raise CommandError(f"审计链在第 {broken.seq} 条处断开：{broken.reason}")
        against = f"，与 {len(checkpoints)} 个检查点相符" if checkpoints else ""
        self.stdout.write(f"审计链完整：共 {AuditEntry.objects.count()} 条记录，链头校验通过{against}。")
