from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dangjian.audit.services import Actor, audit_export
from dangjian.organizations.models import Member, Organization
from dangjian.organizations.workbook import export_roster


class Command(BaseCommand):
    help = ("Write the 花名册 of an organisation and its sub-organisations (active members) as .xlsx, "
            "in the layout import_workbook reads. ID numbers and phones are masked unless --reveal; "
            "every export is recorded in the audit trail.")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation code")
        parser.add_argument("--out", required=True, help="output .xlsx path")
        parser.add_argument("--reveal", action="store_true", help="write full ID numbers and phones")

    def handle(self, *args, org, out, reveal, **options):
        organization = Organization.objects.filter(code=org).first()
        if organization is None:
            raise CommandError(f"找不到编码为 {org} 的党组织。")
        members = Member.objects.filter(organization__path__startswith=organization.path,
                                        status=Member.Status.ACTIVE)
        content = export_roster(members, reveal=reveal)
        count = members.count()
        how = "含完整身份证号和电话" if reveal else "身份证号和电话已脱敏"
        # The audit entry and the file go together: if the file cannot be written, no entry remains.
        with transaction.atomic():
            audit_export(by=Actor.system("命令行导出"), what="roster", obj=organization, count=count,
                         masked=not reveal)
            Path(out).write_bytes(content)
        self.stdout.write(f"已导出 {count} 名党员到 {out}（{how}）")
