from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dangjian.api.models import ApiToken
from dangjian.api.tokens import api_token_create, api_token_revoke
from dangjian.audit.services import Actor


class Command(BaseCommand):
    help = ("Issue an API bearer token for USERNAME and print it once (only its SHA-256 is kept); "
            "or --list a user's tokens, or --revoke PREFIX.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", help="what the token is for, e.g. 数据中台同步 (required to issue one)")
        parser.add_argument("--list", dest="list_tokens", action="store_true", help="list the user's tokens")
        parser.add_argument("--revoke", metavar="PREFIX", help="revoke the user's token with this prefix")

    def handle(self, *args, username, name=None, list_tokens=False, revoke=None, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username__iexact=username)
        except User.DoesNotExist:
            raise CommandError(f"没有账号 {username}。") from None
        actor = Actor.system("命令行令牌管理")
        tokens = ApiToken.objects.filter(user=user).order_by("created_at", "pk")
        if list_tokens:
            for token in tokens:
                state = f"已吊销 {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "有效"
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "从未使用"
                self.stdout.write(f"{token.prefix}…  {token.name}  创建 {token.created_at:%Y-%m-%d}  {used}  {state}")
            return
        if revoke:
            matches = [t for t in tokens if t.prefix == revoke]
            if len(matches) != 1:
                raise CommandError(f"账号 {user.username} 没有前缀为 {revoke} 的唯一令牌。")
            api_token_revoke(by=actor, token=matches[0])
            self.stdout.write(f"已吊销令牌 {revoke}…（{matches[0].name}）。")
            return
        if not name:
            raise CommandError("请用 --name 说明令牌用途。")
        try:
            token, secret = api_token_create(by=actor, user=user, name=name)
        except ValidationError as exc:
            raise CommandError("".join(exc.messages)) from None
        self.stdout.write(f"已为 {user.username} 签发令牌（{token.name}）。令牌只显示这一次，请妥善保存：")
        self.stdout.write(secret)
        self.stdout.write("使用方法：请求头 Authorization: Bearer <令牌>")
