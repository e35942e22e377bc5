"""Append a signed checkpoint of the audit chain's head to the operator's file and to the log.

Run it periodically (cron or a systemd timer, see docs/security.md): each line
{"seq", "mac", "at", "signature"} pins the chain as it stood, outside the database, so a later cut
tail, wipe or rewound head is detected by `audit_verify --checkpoints FILE`."""

import logging
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dangjian.audit.services import checkpoint_line, checkpoint_take

log = logging.getLogger("dangjian.audit.checkpoint")


class Command(BaseCommand):
    help = "Append a signed checkpoint of the audit chain's head to AUDIT_CHECKPOINT_FILE (or --file) and log it."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="checkpoint file (default: the AUDIT_CHECKPOINT_FILE setting)")

    def handle(self, *args, **options):
        path = options["file"] or settings.AUDIT_CHECKPOINT_FILE
        if not path:
            raise CommandError("未指定检查点文件：请设置 AUDIT_CHECKPOINT_FILE 或使用 --file。")
        checkpoint, broken = checkpoint_take()
        line = checkpoint_line(checkpoint)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write(line + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as error:
            raise CommandError(f"无法写入检查点文件 {path}：{error.strerror}") from None
        log.info("audit checkpoint %s", line)
        if broken is not None:
            raise CommandError(f"已记录检查点，但审计链在第 {broken.seq} 条处断开：{broken.reason}")
        self.stdout.write(f"已记录检查点：第 {checkpoint.seq} 条（{checkpoint.at}）→ {path}")
