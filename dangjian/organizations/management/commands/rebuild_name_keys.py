from django.core.management.base import BaseCommand

from dangjian.organizations.collation import fill_name_keys
from dangjian.organizations.models import Member


class Command(BaseCommand):
    help = ("Recompute every member's pinyin sort key (Member.name_key) from the name: needed only "
            "after a change to organizations.collation.name_key (e.g. a new surname reading). "
            "The key is not an audited fact (it is derived from the name), so no audit entry.")

    def handle(self, *args, **options):
        changed = fill_name_keys(Member.objects.all())
        self.stdout.write(f"已更新 {changed} 名党员的姓名排序键。")
