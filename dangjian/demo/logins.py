"""The demo's log-ins: one account per role, each granted where that role works in the bureau,
and the table of them the `demo` command prints. A step of the demo like the areas' steps; it
runs after the organisations step and finds the people it needs in the database."""

import datetime as dt
from dataclasses import dataclass
from unicodedata import east_asian_width

from django.conf import settings

from dangjian.access import services as access_services
from dangjian.access.models import User
from dangjian.access.roles import Role, second_factor_roles
from dangjian.core.demo_context import DemoContext
from dangjian.organizations.models import Appointment, Member, Organization, Unit

ROOT_CODE = "JTJ"  # 局党组
EAST_BRANCH = "JTJ-01-03-01"  # 城东分局第一党支部: the branch secretary's and the member's branch
EAST_UNIT = "JTJ-CD"  # 城东分局: the liaison's unit
ORGAN_COMMITTEE = "JTJ-01"  # 机关党委: its full-time deputy secretary is the party office's log-in


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    scope: str  # where the role is granted, in words


DEMO_LOGINS = [
    DemoLogin(Role.PARTY_OFFICE, "dangban", "局党组（含下级）"),
    DemoLogin(Role.BRANCH_SECRETARY, "zhibu", "城东分局第一党支部"),
    DemoLogin(Role.LEADER, "lingdao", "局党组（含下级）"),
    DemoLogin(Role.INSPECTION_OFFICE, "xuncha", "局党组（含下级）"),
    DemoLogin(Role.UNIT_LIAISON, "lianluo", "城东分局（单位）"),
    DemoLogin(Role.DISCIPLINE, "jijian", "局党组（含下级）"),
    DemoLogin(Role.MEMBER, "dangyuan", "城东分局第一党支部（本人）"),
    DemoLogin(Role.SYS_ADMIN, "xitong", "全局（三员）"),
    DemoLogin(Role.SECURITY_ADMIN, "anquan", "全局（三员）"),
    DemoLogin(Role.AUDIT_ADMIN, "shenji", "全局（三员）"),
]
# Log-ins that are an office rather than a person.
OFFICE_NAMES = {"xuncha": "局巡察办", "jijian": "驻局纪检监察组", "xitong": "系统管理员",
                "anquan": "安全管理员", "shenji": "审计管理员"}


def usernames_taken() -> list[str]:
    """The demo's user names that already exist (the build refuses to run over them)."""
    return sorted(User.objects.filter(username__in=[login.username for login in DEMO_LOGINS])
                  .values_list("username", flat=True))


def step(ctx: DemoContext) -> None:
    """Create the ten log-ins and grant each its role; remember them in `ctx.users`."""
    root = Organization.objects.get(code=ROOT_CODE)
    east = Organization.objects.get(code=EAST_BRANCH)

    def post(code: str, role: str) -> Member:
        return Appointment.objects.get(organization__code=code, role=role, end__isnull=True).member

    # Two ordinary full members of the east branch who never held a post there, the earliest entered.
    ordinary = list(Member.objects.filter(organization__path__startswith=east.path, category=Member.Category.FULL)
                    .exclude(pk__in=Appointment.objects.values("member_id")).order_by("pk")[:2])
    nodes = {
        "dangban": (root, post(ORGAN_COMMITTEE, Appointment.Role.DEPUTY_SECRETARY)),
        "zhibu": (east, post(EAST_BRANCH, Appointment.Role.SECRETARY)),
        "lingdao": (root, post(ROOT_CODE, Appointment.Role.SECRETARY)),
        "xuncha": (root, None),
        "lianluo": (Unit.objects.get(code=EAST_UNIT), ordinary[0]),
        "jijian": (root, None),
        "dangyuan": (east, ordinary[1]),
    }
    for login in DEMO_LOGINS:
        node, member = nodes.get(login.username, (None, None))
        user = access_services.user_create(by=ctx.by, username=login.username,
                                           full_name=member.name if member else OFFICE_NAMES[login.username],
                                           password=settings.DEMO_PASSWORD, member=member,
                                           # the demo is for trying out: its shared password counts as changed
                                           must_change_password=False)
        access_services.role_grant(by=ctx.by, user=user, role=login.role,
                                   organization=node if isinstance(node, Organization) else None,
                                   unit=node if isinstance(node, Unit) else None)
        ctx.users[login.username] = user


def counts(*, today: dt.date | None = None) -> dict[str, int]:
    return {"users": User.objects.filter(username__in=[login.username for login in DEMO_LOGINS]).count()}


def summary(counts: dict[str, int]) -> str:
    return ""  # the log-ins have their own table (format_logins)


def format_logins() -> str:
    """The log-in table, its columns padded by display width (a Chinese character is two)."""
    rows = [("角色", "用户名", "密码", "授权范围")]
    rows += [(Role(login.role).label, login.username, settings.DEMO_PASSWORD, login.scope) for login in DEMO_LOGINS]
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_second_factor() -> str:
    """How the demo's admins pass the second factor (the rule is the rule: no shared secret is
    planted, so nothing here can be misused by a real deployment that ran the demo)."""
    names = [login.username for login in DEMO_LOGINS if login.role in second_factor_roles()]
    if not names:
        return ""
    return (f"双因素认证：{'、'.join(names)} 登录时除密码外还须输入验证器验证码（OTP_REQUIRED_ROLES）。\n"
            "首次登录时页面显示二维码和密钥：用手机验证器应用（FreeOTP、Microsoft Authenticator、"
            "Google 身份验证器等）扫码，\n或在任一 TOTP 工具中输入密钥（如 oathtool --totp -b 密钥），"
            "再输入显示的6位数字完成绑定；以后每次登录输入当时的验证码。\n"
            "详见 docs/使用说明.md“双因素认证”。")


def _width(text: str) -> int:
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)
