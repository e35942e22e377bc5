from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dangjian.audit.services import Actor
from dangjian.organizations.workbook import import_workbook


class Command(BaseCommand):
    """The operator's import, run on the server: unscoped (`user=None`), so it may found top-level
    organisations and units and write anywhere. Users import from the page, within their grants."""

    help = ("Load a bureau from one workbook (sheets 党组织, 单位, 花名册, 任职; see docs/import-workbook.md). "
            "Unscoped: run by an operator on the server, it may write anywhere, including new top-level "
            "organisations (imports from the web page are limited to the user's grants). "
            "All or nothing: on any error, prints every error by sheet, row and column, writes nothing "
            "and exits with status 1.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook")
        parser.add_argument("--dry-run", action="store_true",
                            help="check and rehearse the import, print what it would create, keep nothing")

    def handle(self, *args, file, dry_run=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        result = import_workbook(path, by=Actor.system("命令行导入"), user=None, dry_run=dry_run)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"导入失败：共 {len(result.errors)} 处问题，未写入任何数据。请修改后重新导入。")
        verb = "将导入" if result.preview else "导入"
        for label, count in result.created.items():
            self.stdout.write(f"{label}：{verb} {count} 行")
        for note in result.notes:
            self.stdout.write(self.style.WARNING(f"注意：{note}"))
        if result.preview:
            self.stdout.write(self.style.SUCCESS("校验通过（--dry-run：未写入任何数据）。"))
        else:
            self.stdout.write(self.style.SUCCESS("导入完成。"))
