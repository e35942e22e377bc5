"""The demo bureau: 临江市交通运输局, a fictional municipal transport bureau with its party tree,
units, ~450 members, appointments, terms and a year of restructuring: the first step of the demo
(run by `dangjian.demo.runner`, which also creates the log-ins and skips the build when the root,
code "JTJ", exists).

Everything is written through the organisations services as `ctx.by`, so the demo has the same
audit trail as real data. It is deterministic: the step's generator `ctx.rng` drives every choice
and nothing reads the clock except `ctx.today`; dates in "this year" are placed at fractions of the
part of the year already elapsed, so the build works on any day, 1 January included.

The data is made to show the platform's rules at work: two branches founded and two renamed this
year (调整组建党组织), one branch dissolved after its members were transferred out, two branches
without a secretary (配齐配强), terms ending within six months and one already expired (换届提醒),
and one branch slightly above 50 members (宜分设党支部). Everything else keeps the organisation
rules: 总支 of 50–100 members with 5 委员, branch committees of 3–5 with their 分工 where a branch has
7 正式党员 or more, a 组长 in every 党小组, a 纪检委员 on the 机关党委, about 2–3 % 预备党员 (none of
them in a post), real ranks, and a 党组 of 书记 and 党组成员 (the 派驻纪检监察组组长 attends as 列席).
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dangjian.core import rules
from dangjian.core.dates import add_months, add_years
from dangjian.core.identity import id_check_char
from dangjian.organizations import services
from dangjian.organizations.models import Appointment, Member, Organization, OrganizationEvent, Unit

if TYPE_CHECKING:
    from dangjian.core.demo_context import DemoContext

ROOT_CODE = "JTJ"
CITY = "临江市"

K = Organization.Kind
U = Unit.Kind
A = Appointment.Role
E = Member.Education

# ---------------------------------------------------------------- the bureau, as data

# (code, parent code, kind, name, founded_on). Codes follow the final tree.
UPPER_ORGS = [
    ("JTJ", None, K.LEADING_GROUP, f"中共{CITY}交通运输局党组", dt.date(2015, 1, 20)),
    ("JTJ-01", "JTJ", K.ORGAN_COMMITTEE, f"中共{CITY}交通运输局机关委员会", dt.date(2015, 6, 18)),
    ("JTJ-01-01", "JTJ-01", K.GENERAL_BRANCH, "机关第一党总支", dt.date(2016, 4, 12)),
    ("JTJ-01-02", "JTJ-01", K.GENERAL_BRANCH, "机关第二党总支", dt.date(2016, 4, 12)),
    ("JTJ-01-03", "JTJ-01", K.GENERAL_BRANCH, "城东城西分局党总支", dt.date(2017, 9, 6)),
    ("JTJ-01-04", "JTJ-01", K.GENERAL_BRANCH, "交通执法支队党总支", dt.date(2018, 11, 20)),
    # 机关基层组织工作条例 第六条: a 总支 serves 50–100 members, so the four 分局 (about 140) have two
    # and the 局属单位 (about 150) two: 执法支队 and the 事业单位.
    ("JTJ-01-07", "JTJ-01", K.GENERAL_BRANCH, "城南开发区分局党总支", dt.date(2018, 12, 26)),
    ("JTJ-01-08", "JTJ-01", K.GENERAL_BRANCH, "局属事业单位党总支", dt.date(2017, 3, 15)),
]


@dataclass(frozen=True)
class BranchSpec:
    code: str
    parent: str  # the parent at founding (a restructuring may move it later)
    name: str  # the name at founding (a restructuring may rename it later)
    founded: dt.date | None  # None: founded during the demo year by an event below
    unit: str | None  # the unit whose people it holds
    size: int
    profile: str
    cells: tuple[str, ...] = ()
    # People working in another unit who wait in this branch until their own branch is founded:
    # (unit code, head count, profile).
    groups: tuple[tuple[str, int, str], ...] = ()


LAST_YEAR = "last_year"  # founded_on placeholder: a fixed day of last year

BRANCHES = [
    BranchSpec("JTJ-01-01-01", "JTJ-01-01", "机关第一党支部", dt.date(2016, 5, 10), "JTJ-BGS", 13, "office",
               cells=("局领导党小组", "办公室党小组")),
    BranchSpec("JTJ-01-01-02", "JTJ-01-01", "人事处党支部", dt.date(2016, 5, 10), "JTJ-RSC", 10, "dept"),
    BranchSpec("JTJ-01-01-03", "JTJ-01-01", "财务处党支部", dt.date(2017, 3, 15), "JTJ-CWC", 12, "dept"),
    BranchSpec("JTJ-01-01-04", "JTJ-01-01", "后勤服务中心党支部", dt.date(2015, 8, 20), "JTJ-BGS", 5, "service"),
    BranchSpec("JTJ-01-02-01", "JTJ-01-02", "综合运输处党支部", dt.date(2016, 5, 10), "JTJ-ZHYS", 14, "dept",
               groups=(("JTJ-ZHJT", 6, "dept"),)),
    BranchSpec("JTJ-01-02-02", "JTJ-01-02", "公路管理处党支部", dt.date(2016, 5, 10), "JTJ-GLC", 17, "dept",
               groups=(("JTJ-ZHJT", 2, "dept_staff"),)),
    BranchSpec("JTJ-01-02-03", "JTJ-01-02", "公交运营监管处党支部", dt.date(2018, 9, 25), "JTJ-GJJG", 16, "dept"),
    BranchSpec("JTJ-01-02-04", "JTJ-01-02", "安全监督处党支部", dt.date(2019, 4, 18), "JTJ-AQJD", 12, "dept"),
    BranchSpec("JTJ-01-02-05", "JTJ-01-02", "智慧交通处党支部", None, "JTJ-ZHJT", 0, "dept"),
    BranchSpec("JTJ-01-03-01", "JTJ-01-03", "城东分局第一党支部", dt.date(2017, 9, 6), "JTJ-CD", 20, "branch_office",
               cells=("第一党小组", "第二党小组")),
    BranchSpec("JTJ-01-03-02", "JTJ-01-03", "城东分局第二党支部", dt.date(2017, 9, 6), "JTJ-CD", 20, "branch_office_2"),
    BranchSpec("JTJ-01-03-03", "JTJ-01-03", "城西分局第一党支部", dt.date(2017, 9, 6), "JTJ-CX", 19, "branch_office"),
    BranchSpec("JTJ-01-03-04", "JTJ-01-03", "城西分局第二党支部", dt.date(2019, 6, 28), "JTJ-CX", 18,
               "branch_office_2"),
    BranchSpec("JTJ-01-03-05", "JTJ-01-07", "城南分局党支部", dt.date(2018, 12, 26), "JTJ-CN", 52, "branch_office",
               cells=("第一党小组", "第二党小组", "第三党小组"), groups=(("JTJ-KFQ", 10, "branch_office"),)),
    BranchSpec("JTJ-01-03-06", "JTJ-01-07", "开发区分局党支部", None, "JTJ-KFQ", 0, "branch_office"),
    BranchSpec("JTJ-01-04-01", "JTJ-01-04", "交通执法支队第一党支部", dt.date(2018, 11, 20), "JTJ-ZFZD", 24,
               "enforcement_hq", cells=("支队机关党小组", "直属大队党小组")),
    BranchSpec("JTJ-01-04-02", "JTJ-01-04", "交通执法支队第二党支部", dt.date(2018, 11, 20), "JTJ-ZFZD", 23,
               "enforcement", cells=("第一中队党小组", "第二中队党小组")),
    BranchSpec("JTJ-01-04-03", "JTJ-01-04", "交通执法支队第三党支部", dt.date(2018, 11, 20), "JTJ-ZFZD", 24,
               "enforcement", cells=("第一中队党小组", "第二中队党小组")),
    BranchSpec("JTJ-01-04-04", "JTJ-01-04", "交通执法支队第四党支部", None, "JTJ-ZFZD", 12, "enforcement"),
    BranchSpec("JTJ-01-04-05", "JTJ-01-08", "出租汽车管理中心第一党支部", dt.date(2017, 6, 28), "JTJ-CZZX", 18,
               "center"),
    BranchSpec("JTJ-01-04-06", "JTJ-01-08", "出租汽车管理中心第二党支部", dt.date(2020, 5, 20), "JTJ-CZZX", 15,
               "center_2"),
    BranchSpec("JTJ-01-04-07", "JTJ-01-08", "运输服务中心机关党支部", dt.date(2017, 3, 15), "JTJ-YSFW", 12, "center"),
    BranchSpec("JTJ-01-04-08", "JTJ-01-08", "政务服务窗口党支部", dt.date(2019, 10, 15), "JTJ-YSFW", 20, "window"),
    BranchSpec("JTJ-01-05", "JTJ-01", "离退休干部党支部", dt.date(2015, 8, 20), "JTJ", 24, "retired"),
    # Founded under 局属事业单位党总支; moved under 机关党委 last year.
    BranchSpec("JTJ-01-06", "JTJ-01-08", "轨道交通建设办党支部", dt.date(2019, 3, 12), "JTJ-GDJS", 16, "rail"),
]
# The branch founded last year (its founded_on is computed from `today`).
FOUNDED_LAST_YEAR = {"JTJ-01-04-04": (6, 18)}

# (code, parent code, kind, name, organisation that serves it at first).
UNITS = [
    ("JTJ", None, U.BUREAU, f"{CITY}交通运输局", "JTJ"),
    ("JTJ-BGS", "JTJ", U.DEPARTMENT, "办公室", "JTJ-01-01-01"),
    ("JTJ-RSC", "JTJ", U.DEPARTMENT, "人事处", "JTJ-01-01-02"),
    ("JTJ-CWC", "JTJ", U.DEPARTMENT, "财务处", "JTJ-01-01-03"),
    ("JTJ-ZHYS", "JTJ", U.DEPARTMENT, "综合运输处", "JTJ-01-02-01"),
    ("JTJ-GLC", "JTJ", U.DEPARTMENT, "公路管理处", "JTJ-01-02-02"),
    ("JTJ-GJJG", "JTJ", U.DEPARTMENT, "公交运营监管处", "JTJ-01-02-03"),
    ("JTJ-AQJD", "JTJ", U.DEPARTMENT, "安全监督处", "JTJ-01-02-04"),
    # New department: served by 综合运输处党支部 until its own branch is founded this year.
    ("JTJ-ZHJT", "JTJ", U.DEPARTMENT, "智慧交通处", "JTJ-01-02-01"),
    ("JTJ-CD", "JTJ", U.BRANCH_OFFICE, "城东分局", "JTJ-01-03-01"),
    ("JTJ-CX", "JTJ", U.BRANCH_OFFICE, "城西分局", "JTJ-01-03-03"),
    ("JTJ-CN", "JTJ", U.BRANCH_OFFICE, "城南分局", "JTJ-01-03-05"),
    # New branch office: its people wait in 城南分局党支部 until their branch is founded.
    ("JTJ-KFQ", "JTJ", U.BRANCH_OFFICE, "开发区分局", "JTJ-01-03-05"),
    ("JTJ-ZFZD", "JTJ", U.AFFILIATED_UNIT, "交通执法支队", "JTJ-01-04-01"),
    ("JTJ-CZZX", "JTJ", U.AFFILIATED_UNIT, "出租汽车管理中心", "JTJ-01-04-05"),
    ("JTJ-YSFW", "JTJ", U.AFFILIATED_UNIT, "运输服务中心", "JTJ-01-04-07"),
    ("JTJ-GDJS", "JTJ", U.AFFILIATED_UNIT, "轨道交通建设办公室", "JTJ-01-06"),
]

# The bureau's leaders: members of 机关第一党支部 (局领导党小组), working in the bureau itself. The
# first six are the 党组 (书记 and 党组成员); the 派驻纪检监察组组长 is not a member of the bureau's
# 党组 (the 组 is sent by the 纪委监委): they attend its meetings as 列席, and hold no post in it.
LEADER_POSTS = [
    "党组书记、局长", "党组成员、副局长", "党组成员、副局长", "党组成员、副局长",
    "党组成员、机关党委书记", "党组成员、总工程师", "驻局纪检监察组组长",
]
LEADING_GROUP_SIZE = 6


@dataclass(frozen=True)
class Profile:
    tops: tuple[str, str]  # posts of the branch's first two people (usually secretary and deputy)
    posts: tuple[tuple[str, int], ...]  # everyone else: post and weight
    male: float  # share of men
    education: tuple[int, int, int, int, int]  # weights: postgraduate … below
    birth_years: tuple[int, int] = (1967, 1999)


# Ranks as civil servants hold them (公务员职务与职级并行规定): no plain "科员".
_CIVIL = (("一级主任科员", 3), ("二级主任科员", 4), ("三级主任科员", 3), ("四级主任科员", 4), ("一级科员", 4),
          ("二级科员", 4), ("四级调研员", 2), ("三级调研员", 1))
PROFILES = {
    "office": Profile(("办公室主任", "机关党委专职副书记"), _CIVIL + (("机要员", 1), ("秘书", 2)), 0.55,
                      (30, 60, 8, 2, 0)),
    "dept": Profile(("处长", "副处长"), _CIVIL + (("工程师", 1),), 0.58, (30, 60, 8, 2, 0)),
    "dept_staff": Profile(("四级调研员", "一级主任科员"), _CIVIL + (("工程师", 2),), 0.6, (35, 55, 8, 2, 0)),
    "service": Profile(("后勤服务中心主任", "后勤服务中心副主任"), (("一级科员", 3), ("管理员", 2), ("驾驶员", 2)), 0.6,
                       (2, 30, 40, 25, 3)),
    "branch_office": Profile(("分局局长", "分局副局长"), (
        ("科长", 3), ("副科长", 3), ("一级主任科员", 2), ("四级主任科员", 3), ("一级科员", 3), ("二级科员", 4),
        ("工程师", 2), ("助理工程师", 1)), 0.7, (12, 58, 22, 7, 1)),
    "branch_office_2": Profile(("分局副局长", "科长"), (
        ("科长", 2), ("副科长", 3), ("四级主任科员", 3), ("一级科员", 3), ("二级科员", 5), ("工程师", 2),
        ("助理工程师", 2)), 0.68, (10, 58, 24, 7, 1)),
    "enforcement_hq": Profile(("支队长", "副支队长"), (
        ("大队长", 2), ("副大队长", 2), ("中队长", 3), ("执法队员", 10), ("四级主任科员", 2), ("一级科员", 2)),
        0.85, (8, 55, 28, 8, 1)),
    "enforcement": Profile(("大队长", "副大队长"), (
        ("中队长", 3), ("副中队长", 3), ("执法队员", 12), ("四级主任科员", 1), ("一级科员", 1)),
        0.88, (5, 50, 32, 12, 1)),
    "center": Profile(("主任", "副主任"), (
        ("科长", 3), ("副科长", 3), ("工程师", 2), ("助理工程师", 2), ("一级科员", 6), ("管理员", 2)),
        0.52, (12, 55, 25, 7, 1)),
    "center_2": Profile(("副主任", "科长"), (
        ("副科长", 3), ("工程师", 2), ("助理工程师", 2), ("二级科员", 6), ("稽查员", 4)), 0.6, (8, 52, 30, 9, 1)),
    "window": Profile(("科长", "副科长"), (("窗口服务专员", 10), ("综合受理员", 4), ("二级科员", 4)), 0.36,
                      (8, 60, 27, 5, 0)),
    "rail": Profile(("主任", "副主任"), (
        ("高级工程师", 3), ("工程师", 6), ("助理工程师", 3), ("科长", 2), ("一级科员", 2)), 0.75, (40, 52, 8, 0, 0)),
    "retired": Profile(("退休干部", "退休干部"), (("退休干部", 1),), 0.68, (3, 30, 35, 25, 7), (1962, 1966)),
}

LEADER_PROFILE = Profile(("", ""), (), 0.86, (60, 40, 0, 0, 0))  # posts and genders are given per leader

# Terms: months between the last 换届 and today. Most are mid-term; these are chosen to show the
# reminders: a term ending within 6 months (3y terms renewed 31–35 months ago) and one expired.
TERM_MONTHS_AGO = {
    "JTJ-01": 42,  # 5-year term: ends in about 18 months
    "JTJ-01-02-02": 35,  # 公路管理处党支部: term ends in a month
    "JTJ-01-03": 33,  # 城区分局党总支: ends in three months
    "JTJ-01-04-05": 31,  # 出租汽车管理中心第一党支部: ends in five months
    "JTJ-01-04-07": 40,  # 运输服务中心机关党支部: expired four months ago
    # Elected before their secretaries left (last December, and this year).
    "JTJ-01-04-06": 20,
    "JTJ-01-03-04": 24,
}
# Branches whose secretary leaves (one retired last year, one moved this year) and is not replaced:
# their committees start with 4–5 people so that 3–4 remain.
SECRETARY_LEAVES = {"JTJ-01-03-04", "JTJ-01-04-06"}
RETIRING_SECRETARY = "JTJ-01-04-06"  # its secretary turned 60 last year

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Commoner surnames come first; weights fall off along the string.
SURNAME_WEIGHTS = tuple(max(1, 40 - i) for i in range(len(SURNAMES)))
# Given names: one character from the second list, or a first character and a second one.
MALE_FIRST = "建志文晓海国俊子宇浩振永德家嘉明立世天云朝鸿成博新少"
MALE_SECOND = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健峰锋毅洋亮阳东翔然航远哲轩林龙彬"
FEMALE_FIRST = "晓雅佳欣思梦雨丽秀美嘉静慧婉诗文春海玉红"
FEMALE_SECOND = "芳娜敏静丽艳娟霞燕玲婷雪琳颖倩洁慧莉萍红梅琴蕾悦怡君妍萱宁菲月琪涵"
ETHNICITIES = (("汉族", 920), ("回族", 25), ("满族", 20), ("壮族", 20), ("蒙古族", 15))
# Districts of a provincial capital (format-valid region codes; the numbers themselves are fictional).
REGIONS = ("430102", "430103", "430104", "430105", "430111", "430112", "430121", "430124", "430181")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187", "188", "189")
# Senior posts drawn for someone born in or after YOUNG_FROM become the post they would hold now.
YOUNG_FROM = 1992
JUNIOR_POSTS = {
    "科长": "一级科员", "副科长": "一级科员", "中队长": "执法队员", "副中队长": "执法队员", "大队长": "执法队员",
    "副大队长": "执法队员", "一级主任科员": "一级科员", "二级主任科员": "一级科员", "三级主任科员": "二级科员",
    "四级调研员": "四级主任科员", "三级调研员": "四级主任科员", "高级工程师": "工程师", "工程师": "助理工程师",
}
EDUCATIONS = (E.POSTGRADUATE, E.BACHELOR, E.JUNIOR_COLLEGE, E.SECONDARY, E.BELOW)
# 预备党员: about this share of the working branches' people (not a branch's first two, who lead it).
# A 机关 admits few members a year: about 2–3 % of its members are 预备党员 at any time.
PROBATIONARY_SHARE = 0.025


# ---------------------------------------------------------------- the step

def bureau_exists() -> bool:
    return Organization.objects.filter(code=ROOT_CODE).exists()


def step(ctx: "DemoContext") -> None:
    """Build the bureau: tree, units, members, terms, posts, and last year's and this year's changes."""
    _Builder(ctx).build()


def counts(*, today: dt.date | None = None) -> dict[str, int]:
    """The bureau's figures, from the records (a handful of aggregate queries)."""
    by_kind = Counter(Organization.objects.filter(path__startswith=_root_path(), dissolved_on__isnull=True)
                      .values_list("kind", flat=True))
    units = Counter(Unit.objects.values_list("kind", flat=True))
    members = Member.objects.filter(status=Member.Status.ACTIVE)
    return {
        "leading_group": by_kind[K.LEADING_GROUP],
        "organ_committee": by_kind[K.ORGAN_COMMITTEE],
        "general_branch": by_kind[K.GENERAL_BRANCH],
        "branch": by_kind[K.BRANCH],
        "cell": by_kind[K.CELL],
        "units": sum(units.values()),
        "department": units[U.DEPARTMENT],
        "branch_office": units[U.BRANCH_OFFICE],
        "affiliated_unit": units[U.AFFILIATED_UNIT],
        "members": members.count(),
        "probationary": members.filter(category=Member.Category.PROBATIONARY).count(),
        "appointments": Appointment.objects.filter(end__isnull=True).count(),
        "events": OrganizationEvent.objects.count(),
    }


def _root_path() -> str:
    root = Organization.objects.filter(code=ROOT_CODE).values_list("path", flat=True).first()
    return root if root is not None else "\0"  # nothing matches


COUNT_LABELS = [
    ("leading_group", "党组"), ("organ_committee", "机关党委"), ("general_branch", "党总支"), ("branch", "党支部"),
    ("cell", "党小组"), ("units", "单位"), ("branch_office", "其中分局"), ("members", "在册党员"),
    ("probationary", "其中预备党员"), ("appointments", "现任党组织职务"), ("events", "党组织沿革记录"),
]


def summary(counts: dict[str, int]) -> str:
    """One line for the demo's report."""
    return "，".join(f"{label} {counts[key]}" for key, label in COUNT_LABELS)


# ---------------------------------------------------------------- the builder

class _Builder:
    def __init__(self, ctx: "DemoContext"):
        self.today = ctx.today
        self.rng = ctx.rng
        self.by = ctx.by
        self.orgs: dict[str, Organization] = {}
        self.units: dict[str, Unit] = {}
        # Per branch code: its people in creation order, and the subset waiting for another unit.
        self.people: dict[str, list[Member]] = {}
        self.waiting: dict[str, list[Member]] = {}  # unit code -> members to move when its branch is founded
        self.top: dict[str, list[Member]] = {}  # branch or unit-group code -> its first two people
        self.leaders: list[Member] = []
        self.busy: set[int] = set()  # members who hold an appointment or are bound for a planned move
        self.names: set[str] = set()
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()
        self.doc_numbers: defaultdict[int, set[int]] = defaultdict(set)

    # ---- dates

    def this_year(self, fraction: float) -> dt.date:
        """A day of the demo year at `fraction` of the part already elapsed (never in the future)."""
        start = dt.date(self.today.year, 1, 1)
        return start + dt.timedelta(days=int((self.today - start).days * fraction))

    def last_year(self, month: int, day: int) -> dt.date:
        return dt.date(self.today.year - 1, month, day)

    def day_between(self, start: dt.date, end: dt.date) -> dt.date:
        # rng.random() (one draw whatever the span) keeps the sequence independent of `today`.
        span = max(0, (end - start).days)
        return start + dt.timedelta(days=int(self.rng.random() * (span + 1)))

    def doc_number(self, on: dt.date) -> str:
        """A 文号 that grows through the year (about one document a week), unique within the year."""
        number = on.timetuple().tm_yday // 7 + 1
        while number in self.doc_numbers[on.year]:
            number += 1
        self.doc_numbers[on.year].add(number)
        return f"临交党〔{on.year}〕{number}号"

    def founded_on(self, spec: BranchSpec) -> dt.date:
        if spec.code in FOUNDED_LAST_YEAR:
            return self.last_year(*FOUNDED_LAST_YEAR[spec.code])
        return spec.founded

    # ---- the whole build, in the order things happened

    def build(self) -> None:
        self.build_tree()
        self.build_units()
        self.build_members()
        self.build_terms()
        self.build_appointments()
        self.last_year_events()
        self.this_year_events()

    def build_tree(self) -> None:
        for code, parent, kind, name, founded in UPPER_ORGS:
            self.orgs[code] = services.organization_create(
                by=self.by, parent=self.orgs.get(parent), code=code, name=name, kind=kind, founded_on=founded,
                note="成立", document_number=self.doc_number(founded))
        for spec in BRANCHES:
            if spec.founded is None and spec.code not in FOUNDED_LAST_YEAR:
                continue  # founded during the demo year
            founded = self.founded_on(spec)
            note = "交通执法支队组建轨道交通执法大队，成立党支部" if spec.code in FOUNDED_LAST_YEAR else "成立"
            # The tree keeps siblings in code order: a node added before a sibling created earlier
            # (离退休干部党支部 before the later 总支) moves that sibling's subtree, so parents are read
            # afresh before each addition and every node once the tree is built.
            self.orgs[spec.parent].refresh_from_db()
            branch = services.organization_create(
                by=self.by, parent=self.orgs[spec.parent], code=spec.code, name=spec.name, kind=K.BRANCH,
                founded_on=founded, note=note, document_number=self.doc_number(founded))
            self.orgs[spec.code] = branch
            for n, cell_name in enumerate(spec.cells, start=1):
                self.orgs[f"{spec.code}-{n}"] = services.organization_create(
                    by=self.by, parent=branch, code=f"{spec.code}-{n}", name=cell_name, kind=K.CELL,
                    founded_on=founded, note="成立")
        for org in self.orgs.values():
            org.refresh_from_db()

    def build_units(self) -> None:
        for code, parent, kind, name, org in UNITS:
            self.units[code] = services.unit_create(by=self.by, parent=self.units.get(parent), code=code, name=name,
                                                    kind=kind, organization=self.orgs[org])

    # ---- members

    def build_members(self) -> None:
        first = BRANCHES[0]
        self.people[first.code] = []
        leader_cell = self.orgs[f"{first.code}-1"]
        for n, post in enumerate(LEADER_POSTS):
            member = self.make_member(
                LEADER_PROFILE, rank=0, post=post, org=leader_cell, unit=self.units[ROOT_CODE],
                since_floor=first.founded, male=n != 3, birth_years=(1966, 1975))
            self.leaders.append(member)
            self.people[first.code].append(member)
        carry = 0.5  # rounds the running share
        for spec in BRANCHES:
            if spec.code not in self.orgs:
                continue
            self.people.setdefault(spec.code, [])
            founded = self.orgs[spec.code].founded_on
            holders = [self.orgs[f"{spec.code}-{n}"] for n in range(1, len(spec.cells) + 1)]
            if spec.code == first.code:
                holders = holders[1:]  # the leaders' cell holds only the leaders
            holders = holders or [self.orgs[spec.code]]
            profile = PROFILES[spec.profile]
            # The share carries over from branch to branch, so that small branches add up to it.
            carry += 0 if spec.profile == "retired" else (spec.size - 2) * PROBATIONARY_SHARE
            quota = int(carry)
            carry -= quota
            probationary = set(self.rng.sample(range(2, spec.size), quota))
            for rank in range(spec.size):
                member = self.make_member(profile, rank=rank, org=holders[rank % len(holders)],
                                          unit=self.units[spec.unit], since_floor=founded,
                                          probationary=rank in probationary,
                                          retiring=spec.code == RETIRING_SECRETARY and rank == 0)
                self.people[spec.code].append(member)
                if rank < 2:
                    self.top.setdefault(spec.code, []).append(member)
            for unit_code, count, group_profile in spec.groups:
                for rank in range(count):
                    member = self.make_member(PROFILES[group_profile], rank=rank, org=holders[rank % len(holders)],
                                              unit=self.units[unit_code], since_floor=founded)
                    self.waiting.setdefault(unit_code, []).append(member)
                    self.busy.add(member.pk)
                    if rank < 2:
                        self.top.setdefault(unit_code, []).append(member)

    def make_member(self, profile: Profile, *, rank: int, org: Organization, unit: Unit, since_floor: dt.date,
                    post: str | None = None, male: bool | None = None, birth_years: tuple[int, int] | None = None,
                    probationary: bool = False, retiring: bool = False) -> Member:
        rng = self.rng
        if male is None:
            male = rng.random() < profile.male
        if birth_years is None:
            if probationary:
                birth_years = (1992, 2000)
            elif profile is PROFILES["retired"]:
                birth_years = profile.birth_years
            elif retiring:
                birth_years = (self.today.year - 61, self.today.year - 61)
            elif rank == 0:
                birth_years = (1968, 1980)
            elif rank == 1:
                birth_years = (1972, 1987)
            else:
                birth_years = profile.birth_years
        birth = self.day_between(dt.date(birth_years[0], 1, 1), dt.date(birth_years[1], 12, 31))
        if probationary:
            joined = self.today - dt.timedelta(days=30 + int(rng.random() * 300))
            full_on = None
        else:
            latest = min(add_years(birth, 38), self.today - dt.timedelta(days=400))
            joined = self.day_between(add_years(birth, 19), latest)
            full_on = add_years(joined, 1)
        if post is None:
            if rank < 2:
                post = profile.tops[rank]
            else:
                names, weights = zip(*profile.posts, strict=True)
                post = rng.choices(names, weights)[0]
                if birth.year >= YOUNG_FROM:
                    post = JUNIOR_POSTS.get(post, post)
        education = rng.choices(EDUCATIONS, profile.education)[0]
        if post.endswith("工程师") and education in (E.SECONDARY, E.BELOW):
            education = E.BACHELOR
        data = {
            "name": self.new_name(male),
            "gender": Member.Gender.MALE if male else Member.Gender.FEMALE,
            "ethnicity": rng.choices(*zip(*ETHNICITIES, strict=True))[0],
            "birth_date": birth,
            "id_number": self.new_id_number(birth, male),
            "joined_on": joined,
            "full_on": full_on,
            "category": Member.Category.PROBATIONARY if probationary else Member.Category.FULL,
            "education": education,
            "post": post,
            "unit": unit,
            "organization": org,
            "phone": self.new_phone(),
        }
        return services.member_create(by=self.by, data=data, since=max(joined, since_floor))

    def new_name(self, male: bool) -> str:
        rng = self.rng
        first, second = (MALE_FIRST, MALE_SECOND) if male else (FEMALE_FIRST, FEMALE_SECOND)
        while True:
            surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
            given = rng.choice(second)
            if rng.random() < 0.65:
                given = rng.choice(first) + given
            name = surname + given
            if name not in self.names and (len(given) == 1 or given[0] != given[1]):
                self.names.add(name)
                return name

    def new_id_number(self, birth: dt.date, male: bool) -> str:
        """GB 11643: region (6) + birth date (8) + sequence (3, odd for men) + check character."""
        while True:
            region = self.rng.choice(REGIONS)
            sequence = int(self.rng.random() * 500) * 2 + (1 if male else 0)
            body = f"{region}{birth:%Y%m%d}{sequence:03d}"
            number = body + id_check_char(body)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def new_phone(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{int(self.rng.random() * 10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    # ---- terms

    def build_terms(self) -> None:
        """Open each elected organisation's current term (换届), with the earlier renewals of a
        regular cycle before it, so that the history has term_renewed events over the years."""
        for org in sorted(self.orgs.values(), key=lambda o: o.path):
            if org.kind in (K.LEADING_GROUP, K.CELL) or org.code in FOUNDED_LAST_YEAR:
                continue
            months = TERM_MONTHS_AGO.get(org.code, 4 + int(self.rng.random() * 25))
            final = add_months(self.today, -months)
            years = services.term_years(org.kind, final)
            earlier, day = [], add_years(final, -years)
            while day >= dt.date(2018, 7, 1) and day > add_years(org.founded_on, 1):
                earlier.insert(0, day)
                day = add_years(day, -years)
            for day in [*earlier, final]:
                # A young organisation's first 换届 may come more than a year before its founding term
                # ends: an early election, approved by the 机关党委 (term.advance_max_months).
                approval = ({"approved_by": "局机关党委", "document_number": self.doc_number(day)}
                            if services.early_election(org, day) else {})
                services.organization_renew_term(by=self.by, organization=org, on=day,
                                                 note="经批准提前换届" if approval else "按期换届选举", **approval)

    # ---- appointments

    def appoint(self, org: Organization, member: Member, role: str, start: dt.date) -> None:
        services.appointment_create(by=self.by, organization=org, member=member, role=role, start=start)
        self.busy.add(member.pk)

    def build_appointments(self) -> None:
        root, committee = self.orgs["JTJ"], self.orgs["JTJ-01"]
        chief, *others = self.leaders[:LEADING_GROUP_SIZE]
        self.appoint(root, chief, A.SECRETARY, dt.date(2021, 3, 15))
        for n, leader in enumerate(others):
            self.appoint(root, leader, A.LEADING_GROUP_MEMBER, dt.date(2019 + n % 5, 3 + n, 10 + n))
        # 机关党委: 书记, 专职副书记 and three 委员 with their 分工, the 纪检委员 among them (党章: a
        # 基层委员会 has a 纪委 or a 纪检委员).
        start = committee.term_start
        self.appoint(committee, self.leaders[4], A.SECRETARY, start)
        self.appoint(committee, self.top["JTJ-01-01-01"][1], A.DEPUTY_SECRETARY, start)
        for code, role in (("JTJ-01-01-02", A.ORGANIZATION_MEMBER), ("JTJ-01-03-01", A.PROPAGANDA_MEMBER),
                           ("JTJ-01-04-01", A.DISCIPLINE_MEMBER)):
            self.appoint(committee, self.top[code][0], role, start)
        for code, *_ in UPPER_ORGS[2:]:
            self.general_branch_committee(code)
        for spec in BRANCHES:
            if spec.code in self.orgs:
                self.branch_committee(spec.code, self.orgs[spec.code].term_start)
        self.cell_leaders()

    def general_branch_committee(self, code: str) -> None:
        """书记, 副书记 and 组织、宣传、纪检委员: five, within the usual 5–7 (local layer), drawn from the
        leaders of its branches and then their other full members."""
        general = self.orgs[code]
        start = general.term_start
        branches = [s.code for s in BRANCHES if s.parent == code and s.code in self.orgs
                    and s.code not in FOUNDED_LAST_YEAR and s.code not in SECRETARY_LEAVES
                    and s.code != "JTJ-01-01-04"]  # dissolved this year
        groups = [unit for s in BRANCHES if s.code in branches for unit, *_ in s.groups if unit in self.top]
        tops = [m for key in [*branches, *groups] for m in self.top[key]]
        rest = [m for b in branches for m in self.people[b] if m not in tops and m.pk not in self.busy
                and m.full_on and m.full_on <= start]
        people = list(dict.fromkeys([*tops, *rest]))
        roles = (A.SECRETARY, A.DEPUTY_SECRETARY, A.ORGANIZATION_MEMBER, A.PROPAGANDA_MEMBER, A.DISCIPLINE_MEMBER)
        for member, role in zip(people, roles, strict=False):
            self.appoint(general, member, role, start)

    def branch_committee(self, code: str, start: dt.date) -> None:
        """书记 and, where the branch has 7 or more full members, a committee of 3–5 with its 分工
        (组织委员, 宣传委员, 纪检委员: 支部工作条例 第二十条)."""
        branch = self.orgs[code]
        people = self.people[code]
        full_count = sum(m.category == Member.Category.FULL for m in people)
        secretary, *rest = self.top[code]
        pool = [m for m in people if m.category == Member.Category.FULL and m.pk not in self.busy
                and m not in self.top[code]]
        # Some branches had a different secretary last term: the history shows the hand-over.
        previous_term = add_years(start, -3)
        if self.rng.random() < 0.35 and previous_term >= branch.founded_on:
            predecessor = next((m for m in pool if m.full_on <= previous_term), None)
            if predecessor is not None:
                self.appoint(branch, predecessor, A.SECRETARY, previous_term)
        self.appoint(branch, secretary, A.SECRETARY, start)
        if full_count < rules.value("branch.committee_threshold", on=start):
            return
        size = 4 + int(self.rng.random() * 2) if code in SECRETARY_LEAVES else 3 + int(self.rng.random() * 3)
        others = [m for m in [*rest, *pool] if m.full_on and m.full_on <= start]
        roles = [A.DEPUTY_SECRETARY] if size >= 4 else []
        roles += [A.ORGANIZATION_MEMBER, A.PROPAGANDA_MEMBER, A.DISCIPLINE_MEMBER, A.COMMITTEE_MEMBER]
        for member, role in zip(others[: size - 1], roles, strict=False):
            self.appoint(branch, member, role, start)

    def cell_leaders(self) -> None:
        """Each 党小组 has a 组长 (支部工作条例 第十三条): a full member of the cell, named by the branch."""
        for cell in sorted(self.orgs.values(), key=lambda o: o.code):
            if cell.kind != K.CELL:
                continue
            members = list(Member.objects.filter(organization=cell, category=Member.Category.FULL,
                                                 status=Member.Status.ACTIVE).order_by("pk"))
            if not members:
                continue
            free = [m for m in members if m.pk not in self.busy]
            leader = (free or members)[0]
            services.appointment_create(by=self.by, organization=cell, member=leader, role=A.CELL_LEADER,
                                        start=max(cell.founded_on, leader.full_on))
            self.busy.add(leader.pk)

    # ---- what happened last year and this year

    def restructure(self, code: str, on: dt.date, note: str, *, name: str | None = None,
                    parent: str | None = None) -> None:
        services.organization_restructure(
            by=self.by, organization=self.orgs[code], on=on, note=note, name=name,
            parent=self.orgs[parent] if parent else None, document_number=self.doc_number(on))
        for org in self.orgs.values():  # a move rewrites paths and child counts of other nodes
            org.refresh_from_db()

    def move_member(self, member: Member, to: str, on: dt.date, note: str, **changes) -> None:
        if changes:
            data = {name: getattr(member, name) for name in services.MEMBER_FIELDS}
            services.member_update(by=self.by, member=member, data={**data, **changes})
        services.member_transfer(by=self.by, member=member, to=self.orgs[to], on=on, note=note)
        self.busy.add(member.pk)

    def last_year_events(self) -> None:
        self.restructure("JTJ-01-04-08", self.last_year(3, 20), "政务服务窗口划归运输服务中心管理，党支部相应更名",
                         name="运输服务中心（窗口服务）党支部")
        self.restructure("JTJ-01-06", self.last_year(9, 10),
                         "轨道交通建设办公室调整为局直属机构，党支部改由机关党委直接管理", parent="JTJ-01")
        # 出租汽车管理中心第二党支部's secretary retired in December; the post is still vacant.
        leaving = self.top["JTJ-01-04-06"][0]
        on = self.last_year(12, 15)
        current = Appointment.objects.get(organization=self.orgs["JTJ-01-04-06"], member=leaving, end__isnull=True)
        services.appointment_end(by=self.by, appointment=current, on=on)
        self.move_member(leaving, "JTJ-01-05", on, "退休，组织关系转入离退休干部党支部",
                         post="退休干部", unit=self.units[ROOT_CODE])

    def this_year_events(self) -> None:
        # 结合改革成立的部门、单位等内设机构，调整组建党组织 (seed report, section 三基建设).
        self.found_branch("JTJ-01-02-05", "JTJ-ZHJT", self.this_year(0.18),
                          "结合机构改革新设智慧交通处，成立党支部")
        self.restructure("JTJ-01-01-03", self.this_year(0.3), "因机构改革更名：财务处更名为财务审计处",
                         name="财务审计处党支部")
        self.rename_unit("JTJ-CWC", "财务审计处")
        self.found_branch("JTJ-01-03-06", "JTJ-KFQ", self.this_year(0.42),
                          "开发区分局挂牌运行，成立党支部，原挂靠城南分局党支部的党员转入")
        # 后勤服务中心 merged into 办公室: its members move first, then the branch is dissolved.
        on = self.this_year(0.5)
        for member in self.people["JTJ-01-01-04"]:
            self.move_member(member, "JTJ-01-01-01-2", on, "后勤服务中心并入办公室")
        services.organization_dissolve(by=self.by, organization=self.orgs["JTJ-01-01-04"], on=self.this_year(0.52),
                                       note="后勤服务中心并入办公室，党支部撤销，党员转入机关第一党支部")
        self.restructure("JTJ-01-02-04", self.this_year(0.6), "因机构改革更名：安全监督处更名为安全监督与应急处",
                         name="安全监督与应急处党支部")
        self.rename_unit("JTJ-AQJD", "安全监督与应急处")
        # 城西分局第二党支部's secretary is appointed 公路管理处副处长; no successor yet.
        leaving, on = self.top["JTJ-01-03-04"][0], self.this_year(0.7)
        current = Appointment.objects.get(organization=self.orgs["JTJ-01-03-04"], member=leaving, end__isnull=True)
        services.appointment_end(by=self.by, appointment=current, on=on)
        self.move_member(leaving, "JTJ-01-02-02", on, "交流任职公路管理处副处长", post="副处长",
                         unit=self.units["JTJ-GLC"])
        # Ordinary moves between branches (干部交流、岗位调整).
        moves = [
            ("JTJ-01-03-02", "JTJ-01-02-03", "JTJ-GJJG", 0.36, "干部交流"),
            ("JTJ-01-04-02", "JTJ-01-04-04", None, 0.45, "执法大队人员调整"),
            ("JTJ-01-01-02", "JTJ-01-03-03", "JTJ-CX", 0.55, "交流到城西分局任职"),
            ("JTJ-01-04-05", "JTJ-01-04-08", "JTJ-YSFW", 0.66, "岗位调整到运输服务中心窗口"),
            ("JTJ-01-02-03", "JTJ-01-02-01", "JTJ-ZHYS", 0.8, "岗位调整"),
            ("JTJ-01-04-03", "JTJ-01-04-02", None, 0.9, "执法中队人员调整"),
        ]
        for source, target, unit, fraction, note in moves:
            on = self.this_year(fraction)
            candidates = [m for m in self.people[source] if m.pk not in self.busy
                          and m.category == Member.Category.FULL and m.status == Member.Status.ACTIVE]
            member = candidates[int(self.rng.random() * len(candidates))]
            self.move_member(member, target, on, note, **({"unit": self.units[unit]} if unit else {}))

    def found_branch(self, code: str, unit_code: str, on: dt.date, note: str) -> None:
        spec = next(s for s in BRANCHES if s.code == code)
        self.orgs[spec.parent].refresh_from_db()
        branch = services.organization_create(by=self.by, parent=self.orgs[spec.parent], code=code, name=spec.name,
                                              kind=K.BRANCH, founded_on=on, note=note,
                                              document_number=self.doc_number(on))
        self.orgs[code] = branch
        unit = self.units[unit_code]
        services.unit_update(by=self.by, unit=unit, name=unit.name, organization=branch)
        movers = self.waiting[unit_code]
        for member in movers:
            self.move_member(member, code, on, "随新设党支部转入")
        self.people[code] = list(movers)
        self.top[code] = self.top[unit_code]
        self.busy.difference_update(m.pk for m in movers)
        self.branch_committee(code, on)

    def rename_unit(self, code: str, name: str) -> None:
        unit = self.units[code]
        services.unit_update(by=self.by, unit=unit, name=name, organization=unit.organization)
