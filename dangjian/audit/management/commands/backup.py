"""Copy the whole database to a backup file while the app serves (see `dangjian.audit.backup`).

    python manage.py backup [--output PATH]      # default var/backups/dangjian-<time>.sqlite3|.dump
"""

from django.core.management.base import BaseCommand, CommandError

from dangjian.audit.backup import BackupError, backup_create, default_output
from dangjian.audit.services import Actor


class Command(BaseCommand):
    help = ("Back up the database online: SQLite through the backup API with an integrity check of the "
            "copy, PostgreSQL with pg_dump -Fc. Prints the file, its size and its SM3 digest.")

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="PATH", help="backup file to write (must not exist)")

    def handle(self, *args, output=None, **options):
        try:
            done = backup_create(by=Actor.system("命令行备份"), output=output or default_output())
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"已备份到 {done.path}（{done.size:,} 字节，用时 {done.seconds:.1f} 秒）。")
        self.stdout.write(f"SM3：{done.sm3}")
