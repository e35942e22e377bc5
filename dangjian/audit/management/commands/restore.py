"""Replace the whole database with a backup, then verify the audit chain and count every table.

    python manage.py restore PATH --yes
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dangjian.audit.backup import BackupError, backup_restore, table_counts
from dangjian.audit.services import Actor


class Command(BaseCommand):
    help = ("Restore the database from a backup made by `backup` (everything now in the database is "
            "replaced; stop the app servers first). Refused without --yes. Then runs audit_verify and "
            "prints the rows of every table.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="backup file (SQLite copy or pg_dump -Fc dump)")
        parser.add_argument("--yes", action="store_true", help="confirm: replace the current database")

    def handle(self, *args, path, yes=False, **options):
        if not yes:
            raise CommandError("恢复会用备份替换当前数据库中的全部数据。确认无误后请加 --yes 重新运行"
                               "（先停止应用服务）。未做任何改动。")
        try:
            done = backup_restore(by=Actor.system("命令行恢复"), path=path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"已从 {done.path} 恢复（用时 {done.seconds:.1f} 秒，SM3：{done.sm3}）。")
        counts = table_counts()
        width = max(map(len, counts), default=0)
        self.stdout.write("各数据表记录数：")
        for table, rows in counts.items():
            self.stdout.write(f"  {table:<{width}}  {rows:>9,}")
        call_command("audit_verify", stdout=self.stdout)  # raises CommandError naming a broken link
