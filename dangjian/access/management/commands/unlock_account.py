import ipaddress

from axes.models import AccessAttempt
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Sum

from dangjian.access.models import User
from dangjian.audit.services import Actor, audit_record


def _clear(attempts) -> int:
    """Delete the counters and return how many failures they held."""
    failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
    attempts.delete()
    return failures


class Command(BaseCommand):
    help = ("Lift the log-in lock of USERNAME (its failures from every address are cleared); with "
            "--ip ADDRESS also lift that address's lock. Audited. The way back in for an admin whose "
            "name is being sprayed.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--ip", metavar="ADDRESS", help="also clear the failures counted against this address")

    def handle(self, *args, username, ip=None, **options):
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise CommandError(f"没有账号 {username}。")
        if ip:
            try:
                ip = str(ipaddress.ip_address(ip.strip()))
            except ValueError:
                raise CommandError(f"{ip} 不是有效的IP地址。") from None
        with transaction.atomic():
            # axes stores the name as typed; the account's name in any case is the same account.
            note = f"清除该账号的登录失败{_clear(AccessAttempt.objects.filter(username__iexact=user.username))}次"
            if ip:
                note += f"；清除地址 {ip} 的登录失败{_clear(AccessAttempt.objects.filter(ip_address=ip))}次"
            audit_record(by=Actor.system("命令行解除锁定"), action="auth.unlock", obj=user, note=note)
        self.stdout.write(f"已解除账号 {user.username} 的登录锁定（{note}）。")
