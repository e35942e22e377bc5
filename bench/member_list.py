#!/usr/bin/env python
"""Benchmark: the member list (selector + keyset page, and the HTTP view) at 50 and 5,000 members.

    DEBUG=1 .venv/bin/python bench/member_list.py [--repeat 25] [--explain] [--keep]

Builds a throwaway SQLite database under var/bench/ with two organisation trees: a bureau of 50
members and, beside it, a second tree of 5,000. A party-office user on each tree's root lists the
members they may see: the first page, and a deep page (the cursor after the 80th percentile member:
the 4,000th of 5,000, the 40th of 50). All measurements are interleaved in one run, so compare the
ratios it prints, not absolute times across machines or runs. See bench/README.md.
"""

import argparse
import datetime as dt
import functools
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
DB_PATH = BENCH_DIR / "member_list.sqlite3"
SIZES = (50, 5000)
BRANCH_SIZE = 50  # members per branch in the generated trees
PAGE_SIZE = 50
MEMBERS_URL = "/organizations/members/"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红兰建国文辉力梅琳斌宇浩凯鹏飞晨阳雪倩婷颖健波宁海燕峰亮斌"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("DATABASE_URL", None)  # always the throwaway SQLite file, never a configured server
    os.environ["SQLITE_PATH"] = str(DB_PATH)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    remove_db()
    import django

    django.setup()


def remove_db() -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(DB_PATH) + suffix).unlink(missing_ok=True)


def name_for(i: int) -> str:
    """Deterministic Chinese names with repeats, so ordering by (name_key, id) meets ties."""
    surname = SURNAMES[(i * 7) % len(SURNAMES)]
    given = GIVEN[(i * 13) % len(GIVEN)] + ("" if i % 3 == 0 else GIVEN[(i // 3) % len(GIVEN)])
    return surname + given


def build_tree(label: str, size: int, first_index: int):
    """A 党组 root, a 机关党委 and size/50 branches of 50 members each, with one unit per branch,
    Membership rows, 4 % of members not active. Returns (root, user)."""
    from dangjian.access.models import RoleAssignment, User
    from dangjian.access.roles import Role
    from dangjian.core.identity import id_check_char
    from dangjian.organizations.collation import name_key
    from dangjian.organizations.models import Member, Membership, Organization, Unit

    founded = dt.date(2018, 1, 1)
    root = Organization.objects.add_root(
        {"code": f"{label}", "name": f"{label}党组", "kind": "leading_group", "founded_on": founded}
    )
    root_unit = Unit.objects.add_root(
        {"code": f"{label}-U", "name": f"{label}局机关", "kind": "bureau", "organization": root}
    )
    committee = Organization.objects.add_child(
        root, {"code": f"{label}-C", "name": f"{label}机关党委", "kind": "organ_committee", "founded_on": founded}
    )
    root = Organization.objects.get(pk=root.pk)
    branches = []
    for b in range(max(1, size // BRANCH_SIZE)):
        committee = Organization.objects.get(pk=committee.pk)  # refresh numchild for treebeard
        branch = Organization.objects.add_child(
            committee,
            {"code": f"{label}-B{b:03d}", "name": f"第{b + 1}党支部", "kind": "branch", "founded_on": founded},
        )
        root_unit = Unit.objects.get(pk=root_unit.pk)
        unit = Unit.objects.add_child(
            root_unit,
            {"code": f"{label}-U{b:03d}", "name": f"{label}处室{b + 1}", "kind": "department", "organization": branch},
        )
        branches.append((branch, unit))

    members = []
    for k in range(size):
        i = first_index + k
        branch, unit = branches[k % len(branches)]
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=i)  # unique per member: unique ID numbers
        male = i % 2 == 0
        body = f"330102{birth:%Y%m%d}{i % 100:02d}{(i // 100 * 2 + (1 if male else 0)) % 10}"
        members.append(
            Member(
                name=name_for(i),
                name_key=name_key(name_for(i)),
                gender="male" if male else "female",
                birth_date=birth,
                id_number=body + id_check_char(body),
                joined_on=dt.date(2010, 7, 1),
                full_on=dt.date(2011, 7, 1),
                category="full",
                education="bachelor",
                post="科员",
                unit=unit,
                organization=branch,
                phone=f"139{i:08d}",
                status="active" if i % 25 else "transferred_out",
            )
        )
    Member.objects.bulk_create(members, batch_size=1000)
    Membership.objects.bulk_create(
        [Membership(member=m, organization_id=m.organization_id, start=m.joined_on) for m in members],
        batch_size=1000,
    )
    user = User.objects.create_user(username=f"bench_{label.lower()}", password="Bench@12345", full_name=label)
    RoleAssignment.objects.create(user=user, role=Role.PARTY_OFFICE, organization=root, include_descendants=True)
    return root, user


def fresh(user):
    """The user as a new request would see it: role assignments not yet loaded."""
    user.__dict__.pop("_role_assignments", None)
    return user


def run_selector(user, after):
    from dangjian.organizations.selectors import keyset_page, member_queryset

    rows, _next = keyset_page(member_queryset(fresh(user)), after=after, size=PAGE_SIZE)
    return rows


def count_queries(fn):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return len(ctx.captured_queries), result, ctx.captured_queries


def members_view_available() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(MEMBERS_URL)
    except Resolver404:
        return False
    return True


def interleaved_medians(cases: dict, repeat: int, warmup: int = 3) -> dict:
    """Run every case round-robin `repeat` times (after `warmup` rounds) and return medians in ms.
    Round-robin spreads any change in machine load over all cases alike."""
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    times = {key: [] for key in cases}
    for _ in range(repeat):
        for key, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[key].append((time.perf_counter() - start) * 1000)
    return {key: statistics.median(values) for key, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=25, help="measured rounds per case (default 25)")
    parser.add_argument("--explain", action="store_true", help="print SQLite's plan for the deep-page query")
    parser.add_argument("--keep", action="store_true", help=f"keep {DB_PATH.relative_to(ROOT)} afterwards")
    args = parser.parse_args()

    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from dangjian.organizations.selectors import member_queryset

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    t1 = time.perf_counter()
    trees = {}
    first_index = 1
    for size in SIZES:
        trees[size] = build_tree(f"S{size}", size, first_index)
        first_index += size
    t2 = time.perf_counter()
    print(
        f"database {DB_PATH.relative_to(ROOT)}: migrate {t1 - t0:.1f}s, data {t2 - t1:.1f}s "
        f"({sum(SIZES)} members, SQLite {connection.Database.sqlite_version}); page size {PAGE_SIZE}, "
        f"median of {args.repeat} interleaved rounds"
    )

    # Cursors: after the member at the 80th percentile of each user's visible list (4,000th of 5,000).
    cursors = {}
    for size, (_root, user) in trees.items():
        ordered = list(member_queryset(fresh(user)).order_by("name_key", "id").values_list("name_key", "id"))
        position = size * 4 // 5
        cursors[size] = (position, ordered[position - 1])

    cases, queries, rows_seen = {}, {}, {}
    for size, (_root, user) in trees.items():
        position, cursor = cursors[size]
        for kind, after in (("first", None), ("deep", cursor)):
            fn = functools.partial(run_selector, user, after)
            n, rows, captured = count_queries(fn)
            cases[("selector", kind, size)] = fn
            queries[("selector", kind, size)] = n
            rows_seen[("selector", kind, size)] = len(rows)
            if args.explain and kind == "deep":
                sql = captured[-1]["sql"]
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN QUERY PLAN " + sql)
                    plan = [r[-1] for r in cur.fetchall()]
                print(f"\nplan, deep page, {size} members:\n  " + "\n  ".join(plan))

    http_note = ""
    if members_view_available():
        for size, (_root, user) in trees.items():
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            response = client.get(MEMBERS_URL)
            if response.status_code != 200:
                http_note += f"\nHTTP GET {MEMBERS_URL} as {user.username}: status {response.status_code}, not timed"
                continue
            fn = functools.partial(client.get, MEMBERS_URL)
            n, _resp, _captured = count_queries(fn)
            cases[("http", "first", size)] = fn
            queries[("http", "first", size)] = n
            rows_seen[("http", "first", size)] = len(response.content)
    else:
        http_note = f"\nHTTP GET {MEMBERS_URL}: URL does not resolve yet, skipped"

    medians = interleaved_medians(cases, args.repeat)

    print()
    print(f"{'what':<10}{'page':<7}{'members':>8}{'cursor after':>14}{'median ms':>11}{'queries':>9}{'rows/bytes':>12}")
    for key in cases:
        what, kind, size = key
        cursor_text = f"#{cursors[size][0]}" if kind == "deep" else "-"
        print(
            f"{what:<10}{kind:<7}{size:>8}{cursor_text:>14}{medians[key]:>11.2f}{queries[key]:>9}{rows_seen[key]:>12}"
        )

    small, big = SIZES
    print("\nratios (same run; ~1 means the cost does not grow):")
    for kind in ("first", "deep"):
        print(
            f"  selector {kind:<5} {big}/{small}: {medians[('selector', kind, big)] / medians[('selector', kind, small)]:6.2f}"
        )
    for size in SIZES:
        print(
            f"  selector deep/first at {size:>5}: "
            f"{medians[('selector', 'deep', size)] / medians[('selector', 'first', size)]:6.2f}"
        )
    if ("http", "first", big) in medians and ("http", "first", small) in medians:
        print(
            f"  http     first {big}/{small}: {medians[('http', 'first', big)] / medians[('http', 'first', small)]:6.2f}"
        )
    if http_note:
        print(http_note.lstrip("\n"))

    connection.close()
    if not args.keep:
        remove_db()
    return 0


if __name__ == "__main__":
    sys.exit(main())
