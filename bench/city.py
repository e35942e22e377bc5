#!/usr/bin/env python
"""A city's 市直机关 beside the demo bureau: the data the city benchmark (bench/city_pages.py) reads.

    DEBUG=1 .venv/bin/python bench/city.py [--scale 0.1] [--pg] [--force]

Builds two databases and keeps them for the runner:
  * the bureau database: `manage.py demo` (临江市交通运输局, ~450 members) on a migrated empty
    database, plus the city-wide log-in `shi` (party office on the 市直机关工委 root above the bureaus);
  * the city database: a copy of the bureau database (file copy on SQLite, `CREATE DATABASE … TEMPLATE`
    on PostgreSQL) with `round(149 × scale)` more bureaus beside the demo one. At --scale 1 that is
    the city of issue 11: 150 bureaus, 3,324 organisations, 1,962 branches, 29,494 members,
    238,901 meetings over 35 months and 2.4 million attendance rows (built in 12–17 minutes).

SQLite files go under var/bench/ (city-bureau.sqlite3, city-s<scale>.sqlite3). With --pg the databases are
throwaway ones on postgres://postgres@127.0.0.1:5432 (dangjian_bench_bureau, dangjian_bench_city_s<scale>);
--drop removes them. An existing database built at the same scale is reused unless --force.

Rows are written with bulk_create, but each meeting's 应到 (its attendance rows) is what the recording
service would fix: `orglife.services.expected_attendees(organization, kind, day)` for the people and
`organizations.selectors.voters_on` for 表决权, called for every meeting. ID numbers and phones go
through their EncryptedTextField on bulk_create (checked after the build: the column holds a token,
the model reads the number back, the search hash finds it). Every member and meeting gets its audit
entry (`audit_record_many`, chained as the services chain them).
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
BUREAUS_AT_SCALE_1 = 149  # beside the demo bureau: 150 in all
MONTHS = 35
BRANCHES_PER_BUREAU = 13  # 3 under each of two 总支, 7 under the 机关党委
CELLS_PER_BUREAU = 5  # one 党小组 in each of the first five branches
CITY_USER = "shi"
CITY_PASSWORD = "Bench@12345"
ACTOR = "基准数据生成"

BUREAU_NAMES = (
    "发展和改革委员会", "教育局", "科学技术局", "工业和信息化局", "公安局", "民政局", "司法局", "财政局",
    "人力资源和社会保障局", "自然资源和规划局", "生态环境局", "住房和城乡建设局", "水利局", "农业农村局",
    "商务局", "文化广电旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局", "市场监督管理局",
    "统计局", "医疗保障局", "城市管理局", "林业局", "体育局", "信访局", "机关事务管理局", "行政审批服务局",
    "大数据局", "地方金融监督管理局", "国有资产监督管理委员会", "民族宗教事务局", "粮食和物资储备局",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红兰建国文辉力梅琳斌宇浩凯鹏飞晨阳雪倩婷颖健波宁海燕峰亮"


# ---------------------------------------------------------------- where the databases are

def scale_tag(scale: float) -> str:
    return f"s{round(scale * 100):03d}"


def db_names(scale: float, pg: bool) -> tuple[str, str]:
    """(bureau, city): SQLite paths or PostgreSQL database names."""
    if pg:
        return "dangjian_bench_bureau", f"dangjian_bench_city_{scale_tag(scale)}"
    return str(BENCH_DIR / "city-bureau.sqlite3"), str(BENCH_DIR / f"city-{scale_tag(scale)}.sqlite3")


def setup_django(pg: bool, name: str) -> None:
    """Point Django at `name` (set before django.setup: the settings read the environment)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    if pg:
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{name}"
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = name
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def use_database(name: str) -> None:
    """Switch Django's default connection to another database of the same kind."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(sql)


def _pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def database_exists(name: str, pg: bool) -> bool:
    return _pg_exists(name) if pg else Path(name).exists()


def drop_database(name: str, pg: bool) -> None:
    if pg:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(name + suffix).unlink(missing_ok=True)


def copy_database(source: str, target: str, pg: bool) -> None:
    from django.db import connection

    connection.close()
    drop_database(target, pg)
    if pg:
        _pg_admin(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    else:
        shutil.copyfile(source, target)


# ---------------------------------------------------------------- the bureau

def build_bureau() -> dict:
    """Migrate, build the demo bureau and the city-wide log-in (on the bureau: its one root)."""
    from django.core.management import call_command

    from dangjian.demo.runner import build_demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    result = build_demo()
    grant_city_user()
    return {"seconds": time.perf_counter() - started, "members": result.counts.get("members")}


CITY_ROOT_CODE = "SZJG"
CITY_ROOT_PATH = "ZZZZ"  # a step no bureau's path starts with: prefixing every path never collides


def wrap_in_city_root() -> None:
    """The 市直机关工委 above every bureau's 党组 (issue 11 item 4): one root (kind working_committee)
    whose children are the bureaus' roots, made in place (every path prefixed, depth + 1) so a
    database built without it is wrapped on reuse. Done once; a database already wrapped is left."""
    from django.db import transaction
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from dangjian.organizations.models import Organization

    if Organization.objects.filter(code=CITY_ROOT_CODE).exists():
        return
    with transaction.atomic():
        roots = Organization.objects.filter(depth=1).count()
        Organization.objects.update(path=Concat(Value(CITY_ROOT_PATH), F("path")), depth=F("depth") + 1)
        Organization.objects.create(path=CITY_ROOT_PATH, depth=1, numchild=roots, code=CITY_ROOT_CODE,
                                    name="中共临江市市直机关工作委员会", kind=Organization.Kind.WORKING_COMMITTEE,
                                    founded_on=dt.date(1990, 1, 1))


def grant_city_user() -> None:
    """`shi`: party office on the city root (with descendants): the city-wide user, one grant."""
    from dangjian.access.models import RoleAssignment, User
    from dangjian.access.roles import Role
    from dangjian.organizations.models import Organization

    wrap_in_city_root()
    user, created = User.objects.get_or_create(username=CITY_USER, defaults={"full_name": "市直机关工委"})
    if created:
        user.set_password(CITY_PASSWORD)
        user.save()
    root = Organization.objects.get(code=CITY_ROOT_CODE)
    RoleAssignment.objects.filter(user=user).exclude(organization=root).delete()
    RoleAssignment.objects.get_or_create(user=user, role=Role.PARTY_OFFICE, organization=root,
                                         defaults={"include_descendants": True})


# ---------------------------------------------------------------- the city

def _name(i: int) -> str:
    surname = SURNAMES[(i * 7) % len(SURNAMES)]
    return surname + GIVEN[(i * 13) % len(GIVEN)] + ("" if i % 3 == 0 else GIVEN[(i // 7) % len(GIVEN)])


def _id_number(i: int, male: bool) -> tuple[dt.date, str]:
    """A checksum-valid, unique ID number for the i-th generated member (region 330106: none of the
    demo's): the birth date walks 12,000 days by a step prime to it, the sequence counts the laps."""
    from dangjian.core.identity import id_check_char

    birth = dt.date(1962, 1, 1) + dt.timedelta(days=(i * 37) % 12000)
    body = f"330106{birth:%Y%m%d}{(i // 12000) * 2 + (1 if male else 0):03d}"
    return birth, body + id_check_char(body)


class Tree:
    """Materialised paths for nodes added under known parents (treebeard's own path arithmetic), so
    a whole bureau's organisations and units go in with one bulk_create each."""

    def __init__(self, model):
        self.model = model
        self.children: dict[str, int] = {}

    def root(self, number: int):
        return self.model._get_path(None, 1, number)

    def child(self, parent):
        n = self.children.get(parent.path, 0) + 1
        self.children[parent.path] = n
        parent.numchild = n
        return self.model._get_path(parent.path, parent.depth + 1, n)


def month_days(today: dt.date):
    """The first day of each of the MONTHS whole months before today's month."""
    first = today.replace(day=1)
    months = []
    for _ in range(MONTHS):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        months.append(first)
    return list(reversed(months))


def build_city(scale: float, *, today: dt.date, log=print) -> dict:
    """Add round(149 × scale) bureaus (at least one) to the database Django points at."""
    from django.db import transaction
    from django.utils import timezone

    from dangjian.audit.services import Actor, AuditItem, audit_record_many
    from dangjian.organizations.collation import name_key
    from dangjian.organizations.models import Appointment, Member, Membership, Organization, Unit
    from dangjian.orglife.models import Attendance, Meeting, MeetingKind
    from dangjian.orglife.services import expected_attendees

    K, A, MK = Organization.Kind, Appointment.Role, MeetingKind
    bureaus = max(1, round(BUREAUS_AT_SCALE_1 * scale))
    by = Actor.system(ACTOR)
    orgs_tree, units_tree = Tree(Organization), Tree(Unit)
    # The bureaus go under the city root when the database has one (wrap_in_city_root), else as roots.
    city_root = Organization.objects.filter(code=CITY_ROOT_CODE).first()
    if city_root is not None:
        orgs_tree.children[city_root.path] = city_root.numchild
    first_root = Organization.objects.get_last_root_node()
    first_unit_root = Unit.objects.get_last_root_node()
    org_root_number = int(first_root.path[:Organization.steplen], 36) if first_root else 0
    unit_root_number = int(first_unit_root.path[:Unit.steplen], 36) if first_unit_root else 0
    founded = dt.date(2019, 3, 1)
    member_index = 0
    figures = {"bureaus": bureaus, "organizations": 0, "branches": 0, "members": 0, "meetings": 0, "attendance": 0,
               "expected_calls": 0}
    months = month_days(today)
    tz = timezone.get_current_timezone()
    started = time.perf_counter()

    for b in range(1, bureaus + 1):
        code = f"S{b:03d}"
        label = BUREAU_NAMES[(b - 1) % len(BUREAU_NAMES)] + ("" if b <= len(BUREAU_NAMES)
                                                               else f"（{(b - 1) // len(BUREAU_NAMES) + 1}）")
        with transaction.atomic():
            # organisations: 党组 > 机关党委 > two 总支 of three branches, seven branches, five cells
            def org(path, depth, suffix, name, kind, code=code):
                return Organization(path=path, depth=depth, numchild=0, code=f"{code}{suffix}", name=name,
                                    kind=kind, founded_on=founded, term_start=dt.date(2024, 3, 1),
                                    term_end=dt.date(2029, 3, 1) if kind != K.CELL else None)

            if city_root is not None:
                root = org(orgs_tree.child(city_root), city_root.depth + 1, "", f"中共临江市{label}党组", K.LEADING_GROUP)
            else:
                root = org(orgs_tree.root(org_root_number + b), 1, "", f"中共临江市{label}党组", K.LEADING_GROUP)
            committee = org(orgs_tree.child(root), root.depth + 1, "-01", f"中共临江市{label}机关委员会",
                            K.ORGAN_COMMITTEE)
            generals = [org(orgs_tree.child(committee), committee.depth + 1, f"-01-0{g}",
                            f"机关第{'一二'[g - 1]}党总支", K.GENERAL_BRANCH) for g in (1, 2)]
            branches = []
            for n in range(BRANCHES_PER_BUREAU):
                parent = generals[n // 3] if n < 6 else committee
                suffix = f"{parent.code[len(code):]}-{n + 1:02d}"
                branches.append(org(orgs_tree.child(parent), parent.depth + 1, suffix, f"第{n + 1}党支部", K.BRANCH))
            cells = [org(orgs_tree.child(branches[n]), branches[n].depth + 1, f"{branches[n].code[len(code):]}-X",
                         "第一党小组", K.CELL) for n in range(CELLS_PER_BUREAU)]
            all_orgs = [root, committee, *generals, *branches, *cells]
            Organization.objects.bulk_create(all_orgs)
            saved = {o.code: o for o in Organization.objects.filter(code__startswith=code + "-")}
            saved[code] = Organization.objects.get(code=code)
            root, committee = saved[code], saved[committee.code]
            generals = [saved[o.code] for o in generals]
            branches = [saved[o.code] for o in branches]
            cells = [saved[o.code] for o in cells]

            unit_root = Unit(path=units_tree.root(unit_root_number + b), depth=1, numchild=0, code=f"{code}-U",
                             name=f"临江市{label}", kind=Unit.Kind.BUREAU, organization=root)
            units = [Unit(path=units_tree.child(unit_root), depth=2, numchild=0, code=f"{code}-U{n + 1:02d}",
                          name=f"第{n + 1}处", kind=Unit.Kind.DEPARTMENT, organization=branch)
                     for n, branch in enumerate(branches)]
            Unit.objects.bulk_create([unit_root, *units])

            # members: 10–20 per branch (15 on average); the first four of a branch with a cell sit in it
            members = []
            for n, branch in enumerate(branches):
                for k in range(10 + (b * 3 + n * 7) % 11):
                    member_index += 1
                    i = member_index
                    male = i % 5 not in (1, 3)
                    birth, number = _id_number(i, male)
                    probationary = i % 40 == 0
                    joined = dt.date(max(birth.year + 22, 1990), 7, 1) if not probationary else dt.date(2024, 1, 10)
                    name = _name(i)
                    members.append(Member(
                        name=name, name_key=name_key(name), gender="male" if male else "female", birth_date=birth,
                        id_number=number, joined_on=joined,
                        full_on=None if probationary else joined.replace(year=joined.year + 1),
                        category="probationary" if probationary else "full", education="bachelor",
                        post="科员", organization=cells[n] if n < CELLS_PER_BUREAU and k < 4 else branch, phone=f"139{i:08d}", status="active" if i % 60 else "transferred_out"))
            unit_of = {u.organization_id: u.pk for u in Unit.objects.filter(code__startswith=f"{code}-U")}
            branch_of_cell = {c.pk: branches[n].pk for n, c in enumerate(cells)}
            for m in members:
                m.unit_id = unit_of.get(branch_of_cell.get(m.organization_id, m.organization_id))
            Member.objects.bulk_create(members, batch_size=500)
            # Membership: open stays for members on the roll; a leaver's stay ended two years after joining.
            Membership.objects.bulk_create([
                Membership(member=m, organization_id=m.organization_id, start=m.joined_on,
                           end=None if m.status == "active" else m.joined_on.replace(year=m.joined_on.year + 2)) for m in members],
                batch_size=500)
            active = [m for m in members if m.status == "active"]
            by_org: dict[int, list] = {}
            for m in active:
                by_org.setdefault(branch_of_cell.get(m.organization_id, m.organization_id), []).append(m)
            for c in cells:
                by_org[c.pk] = [m for m in active if m.organization_id == c.pk]

            # posts: branch committees of three, cell leaders, the 机关党委 and the 党组 of five
            start = dt.date(2024, 3, 1)
            posts = []
            full = {o: [m for m in ms if m.category == "full"] for o, ms in by_org.items()}
            for branch in branches:
                people = full[branch.pk]
                for role, m in zip((A.SECRETARY, A.ORGANIZATION_MEMBER, A.PROPAGANDA_MEMBER), people, strict=False):
                    posts.append(Appointment(organization=branch, member=m, role=role, start=start))
            for c in cells:
                posts.append(Appointment(organization=c, member=full[c.pk][0], role=A.CELL_LEADER, start=start))
            seniors = [full[br.pk][-1] for br in branches]
            for g, general in enumerate(generals):
                for role, m in zip((A.SECRETARY, A.COMMITTEE_MEMBER, A.COMMITTEE_MEMBER), seniors[g * 3:g * 3 + 3],
                                   strict=True):
                    posts.append(Appointment(organization=general, member=m, role=role, start=start))
            for role, m in zip((A.SECRETARY, A.DEPUTY_SECRETARY, A.COMMITTEE_MEMBER, A.COMMITTEE_MEMBER,
                                A.DISCIPLINE_SECRETARY), seniors[6:11], strict=True):
                posts.append(Appointment(organization=committee, member=m, role=role, start=start))
            for role, m in zip((A.SECRETARY, *[A.LEADING_GROUP_MEMBER] * 4), seniors[8:13], strict=True):
                posts.append(Appointment(organization=root, member=m, role=role, start=start))
            Appointment.objects.bulk_create(posts)

            # meetings, 35 months: each branch a 主题党日 and a 支委会 a month, a 党员大会 and a 党课 a
            # quarter; each cell a 党小组会; each 总支 and the 机关党委 a committee meeting, the 机关党委 a
            # 党课 a quarter; the 党组 two 党组会 and a 中心组学习
            plan = []
            for first in months:
                quarter_end = first.month % 3 == 0
                month_plan = []
                for n, branch in enumerate(branches):
                    month_plan += [(branch, MK.THEME_DAY, 8 + n % 5, 15), (branch, MK.COMMITTEE_MEETING, 3 + n % 4, 9)]
                    if quarter_end:
                        month_plan += [(branch, MK.GENERAL_MEETING, 15 + n % 5, 14), (branch, MK.PARTY_LECTURE, 20, 15)]
                month_plan += [(c, MK.CELL_MEETING, 12, 16) for c in cells]
                month_plan += [(g, MK.COMMITTEE_MEETING, 6, 10) for g in generals]
                month_plan += [(committee, MK.COMMITTEE_MEETING, 5, 9), (root, MK.LEADING_GROUP_MEETING, 4, 9),
                               (root, MK.LEADING_GROUP_MEETING, 18, 9), (root, MK.CENTRAL_GROUP_STUDY, 25, 14)]
                if quarter_end:
                    month_plan.append((committee, MK.PARTY_LECTURE, 22, 15))
                plan += [(o, kind, dt.datetime.combine(first.replace(day=day), dt.time(hour), tzinfo=tz))
                         for o, kind, day, hour in month_plan]
            meetings, expected = _meetings(plan, expected_attendees)
            figures["expected_calls"] += len(meetings)
            Meeting.objects.bulk_create(meetings, batch_size=500)
            rows = []
            for meeting, (people, voters) in zip(meetings, expected, strict=True):
                for j, m in enumerate(people):
                    absent = (m.pk + meeting.starts_at.day + j) % 19 == 0
                    rows.append(Attendance(meeting=meeting, member=m, present=not absent, has_vote=m.pk in voters,
                                           absence_reason="official" if absent else ""))
            Attendance.objects.bulk_create(rows, batch_size=2000)

            audit_record_many(by=by, items=[AuditItem("organization.create", o) for o in [root, committee, *generals,
                                                                                           *branches, *cells]]
                              + [AuditItem("member.create", m) for m in members]
                              + [AuditItem("meeting.record", mt, after={"应到": len(p)})
                                 for mt, (p, _v) in zip(meetings, expected, strict=True)])
        figures["organizations"] += len(all_orgs)
        figures["branches"] += len(branches)
        figures["members"] += len(members)
        figures["meetings"] += len(meetings)
        figures["attendance"] += len(rows)
        if b % 5 == 0 or b == bureaus:
            log(f"  bureau {b}/{bureaus}: {figures['members']} members, {figures['meetings']} meetings, "
                f"{figures['attendance']} attendance rows, {time.perf_counter() - started:.0f}s")
    if city_root is not None:
        Organization.objects.filter(pk=city_root.pk).update(numchild=city_root.numchild)
    figures["seconds"] = time.perf_counter() - started
    return figures


TOPICS = {
    "theme_day": "学习贯彻党的二十届三中全会精神主题党日", "committee_meeting": "研究本月党建工作安排",
    "general_meeting": "通报季度党建工作，讨论党员教育管理", "party_lecture": "专题党课：坚定理想信念",
    "cell_meeting": "党小组学习讨论", "leading_group_meeting": "传达学习上级会议精神，研究“三重一大”事项",
    "central_group_study": "理论学习中心组专题学习",
}


def _meetings(plan, expected_attendees):
    """Meeting objects for `plan` and, for each, (应到 people, ids with 表决权): the recording
    service's own rule (`expected_attendees`) and `voters_on`, asked for every meeting."""
    from dangjian.organizations.selectors import voters_on
    from dangjian.orglife.models import Meeting

    meetings, expected = [], []
    for organization, kind, starts_at in plan:
        day = starts_at.date()
        people = expected_attendees(organization, kind, day)
        voters = voters_on([m.pk for m in people], day) if people else set()
        meetings.append(Meeting(organization=organization, kind=kind, starts_at=starts_at, place="会议室",
                                topics=TOPICS[kind], recorded_at=starts_at + dt.timedelta(days=1)))
        expected.append((people, voters))
    return meetings, expected


def check_encrypted_fields() -> str:
    """bulk_create went through the fields: the ID number column holds a token, not the number; the
    model reads the number back; its search hash finds the member. Raises if not."""
    from django.db import connection

    from dangjian.organizations.models import Member

    member = Member.objects.filter(id_number_hash__isnull=False, id_number__isnull=False).order_by("-pk").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM organizations_member WHERE id = %s", [member.pk])
        raw_id, raw_phone = cursor.fetchone()
    problems = []
    if member.id_number in raw_id or member.phone in raw_phone:
        problems.append("plaintext in the column")
    if Member.objects.with_id_numbers(member.id_number).get().pk != member.pk:
        problems.append("search hash does not find the member")
    if len(member.id_number) != 18:
        problems.append("ID number not read back")
    if problems:
        raise SystemExit(f"encrypted fields: {'; '.join(problems)}")
    return (f"member #{member.pk}: column holds a {len(raw_id)}-character token, reads back as "
            f"{member.id_number[:6]}…, found by its search hash")


def counts() -> dict:
    from dangjian.organizations.models import Member, Organization
    from dangjian.orglife.models import Attendance, Meeting

    return {"bureaus": Organization.objects.filter(kind=Organization.Kind.LEADING_GROUP).count(), "organizations": Organization.objects.count(),
            "branches": Organization.objects.filter(kind="branch").count(), "members": Member.objects.count(),
            "meetings": Meeting.objects.count(), "attendance": Attendance.objects.count()}


def stamp_path(name: str, pg: bool) -> Path:
    return BENCH_DIR / (f"{name}.pg.done" if pg else f"{Path(name).name}.done")


def ensure(scale: float, *, pg: bool, force: bool = False, log=print) -> tuple[str, str]:
    """Build (or reuse) the bureau and the city databases; Django must be set up on the bureau one.
    Returns their names. A database counts as built when its stamp file exists."""
    from django.utils import timezone

    bureau, city = db_names(scale, pg)
    if force:
        for name in (bureau, city):
            stamp_path(name, pg).unlink(missing_ok=True)
    if not (stamp_path(bureau, pg).exists() and database_exists(bureau, pg)):
        use_database("postgres" if pg else bureau)
        from django.db import connection

        connection.close()
        drop_database(bureau, pg)
        if pg:
            _pg_admin(f'CREATE DATABASE "{bureau}"')
        use_database(bureau)
        log(f"bureau database {bureau}: migrate and demo …")
        figures = build_bureau()
        log(f"  done in {figures['seconds']:.0f}s")
        from django.db import connection

        connection.close()
        stamp_path(bureau, pg).write_text(f"{counts_line()}\n")
        stamp_path(city, pg).unlink(missing_ok=True)
    if not (stamp_path(city, pg).exists() and database_exists(city, pg)):
        log(f"city database {city}: copy of the bureau, then {max(1, round(BUREAUS_AT_SCALE_1 * scale))} bureaus …")
        copy_database(bureau, city, pg)
        use_database(city)
        figures = build_city(scale, today=timezone.localdate(), log=log)
        grant_city_user()
        log(f"  {figures}")
        log(f"  encrypted fields: {check_encrypted_fields()}")
        from django.db import connection

        connection.close()
        stamp_path(city, pg).write_text(f"scale {scale}; built in {figures['seconds']:.0f}s; {counts_line()}\n")
    # A reused database gets the branch's migrations (an index added since it was built). Planner
    # statistics as in production: PostgreSQL's autovacuum analyses tables (done here at once);
    # the app never runs ANALYZE on SQLite, so the bench removes any statistics an earlier run left.
    from django.core.management import call_command
    from django.db import connection

    for name in (city, bureau):
        use_database(name)
        call_command("migrate", verbosity=0, interactive=False)
        grant_city_user()  # a database built before the city root is wrapped in it now
        with connection.cursor() as cursor:
            if pg:
                cursor.execute("ANALYZE")
            else:
                cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")
                for (table,) in cursor.fetchall():
                    cursor.execute(f"DELETE FROM {table}")
        connection.close()
    return bureau, city


def counts_line() -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts().items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="share of the 149 generated bureaus (default 0.1)")
    parser.add_argument("--pg", action="store_true", help=f"throwaway databases on {PG_SERVER}")
    parser.add_argument("--force", action="store_true", help="rebuild even if built")
    parser.add_argument("--drop", action="store_true", help="remove the databases of this scale and stop")
    args = parser.parse_args()
    bureau, city = db_names(args.scale, args.pg)
    setup_django(args.pg, bureau)
    if args.drop:
        from django.db import connection

        connection.close()
        for name in (city, bureau):
            drop_database(name, args.pg)
            stamp_path(name, args.pg).unlink(missing_ok=True)
        print(f"dropped {bureau}, {city}")
        return 0
    ensure(args.scale, pg=args.pg, force=args.force)
    for name in (bureau, city):
        use_database(name)
        print(f"{name}: {counts_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
