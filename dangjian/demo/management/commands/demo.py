from django.core.management.base import BaseCommand, CommandError

from dangjian.demo.logins import format_logins, format_second_factor
from dangjian.demo.runner import DemoConflict, build_demo, format_counts


class Command(BaseCommand):
    help = ("生成演示单位“临江市交通运输局”（党组织、单位、党员、任职、沿革、组织生活和各角色演示账号）；"
            "已存在时不重复生成，只列出账号。")

    def handle(self, *args, **options):
        try:
            result = build_demo()
        except DemoConflict as exc:
            raise CommandError(str(exc)) from None
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"演示数据已生成，用时 {result.seconds:.1f} 秒。"))
        else:
            self.stdout.write("演示数据已存在，未重复生成。")
        self.stdout.write(format_counts(result.counts))
        self.stdout.write("")
        self.stdout.write("演示账号：")
        self.stdout.write(format_logins())
        if second_factor := format_second_factor():
            self.stdout.write("")
            self.stdout.write(second_factor)
