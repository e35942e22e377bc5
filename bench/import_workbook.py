"""Workbook import throughput, statements and memory: a roster WITH history into a fresh database,
end to end (read, check every row, write in one transaction with audit entries).

    DEBUG=1 .venv/bin/python bench/import_workbook.py [N ...]        (default: 2000 20000)
    DEBUG=1 .venv/bin/python bench/import_workbook.py --database-url postgres://postgres@127.0.0.1:5432/bench_x

Each N is its own bureau in its own workbook: organisations in proportion (a 机关党委, one 党总支
per ten 党支部, one 党支部 per 20 members: 2,000 members -> 111 organisations, 20,000 -> 1,101),
history columns on the roster (转入本组织日期 on every 3rd row, 1 in 53 已转出 and 1 in 211 已去世 with
离开日期 and 去向), a 组织关系 sheet (an earlier stay for every 11th member) and a 任职 sheet (each
branch's secretary, plus a past secretary with 免职日期 on every 5th branch). All sizes run in one
process against one database (SQLite file made and removed here by default; with --database-url
or BENCH_DATABASE_URL, a PostgreSQL database that is dropped and created: use a throwaway name).

Per N it prints: seconds, validated rows/s (花名册 rows), SQL statements (a connection
execute_wrapper: every statement the import sends) and the process's ru_maxrss after it (it only
grows: run sizes in increasing order), all from one import; then a second import of the same
shape (another bureau) runs under tracemalloc for its peak (the workbook's bytes are made before;
--no-trace skips it). Then it checks
the audit chain (`audit_verify_chain`).
"""

import argparse
import datetime as dt
import gc
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _configure(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench-import.sqlite3")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")


def _recreate_postgres(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _id_number(i: int) -> str:
    from dangjian.core.identity import id_check_char

    body = f"{110100 + i // 1000:06d}19800101{i % 1000:03d}"
    return body + id_check_char(body)


def workbook(n: int, prefix: str) -> io.BytesIO:
    """A bureau of `n` members with its history, as the national system's export would give it."""
    from openpyxl import Workbook

    base = int(prefix[1:]) * 100_000
    branches = max(1, n // 20)
    wb = Workbook(write_only=True)
    orgs = wb.create_sheet("党组织")
    orgs.append(["编码", "名称", "类型", "上级编码", "成立日期"])
    root = f"{prefix}R"
    orgs.append([root, f"{prefix}机关党委", "机关党委", "", "2000-01-01"])
    for g in range((branches + 9) // 10):
        orgs.append([f"{prefix}G{g:04d}", f"{prefix}第{g}党总支", "党总支", root, "2001-01-01"])
    for b in range(branches):
        orgs.append([f"{prefix}B{b:05d}", f"{prefix}第{b}党支部", "党支部", f"{prefix}G{b // 10:04d}", "2002-01-01"])
    roster = wb.create_sheet("花名册")
    roster.append(["姓名", "性别", "身份证号", "入党日期", "转正日期", "党员类别", "所在党组织编码",
                   "转入本组织日期", "党籍状态", "离开日期", "去向"])
    history = wb.create_sheet("组织关系")
    history.append(["身份证号", "党组织编码", "转入日期", "转出日期"])
    leavers = set()
    for i in range(n):
        number = _id_number(base + i)
        branch = f"{prefix}B{i % branches:05d}"
        since, status, left, to = None, None, None, None
        if i % 11 == 5:  # an earlier stay in the next branch, then here from 2010
            history.append([number, f"{prefix}B{(i + 1) % branches:05d}", "2006-07-01", "2010-01-01"])
            since = "2010-01-01"
        elif i % 3 == 0:
            since = "2008-03-01"
        if i % 53 == 7:
            status, left, to = "已转出", "2024-06-30", "市财政局机关党委"
            leavers.add(i)
        elif i % 211 == 11:
            status, left = "已去世", "2023-02-01"
            leavers.add(i)
        roster.append([f"党员{base + i}", "男" if int(number[16]) % 2 else "女", number, "2005-7-1", "2006-7-1",
                       "正式党员", branch, since, status, left, to])
    posts = wb.create_sheet("任职")
    posts.append(["党组织编码", "身份证号", "职务", "任职日期", "免职日期"])
    for b in range(branches):
        code = f"{prefix}B{b:05d}"
        # The branch's members are i = b, b + branches, ...: pick two who stay on the roster.
        holders = [i for i in range(b, n, branches) if i not in leavers][:2]
        if b % 5 == 0 and len(holders) > 1:
            posts.append([code, _id_number(base + holders[1]), "书记", "2016-01-01", "2021-01-01"])
        posts.append([code, _id_number(base + holders[0]), "书记", "2021-01-01", None])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


class StatementCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main(sizes: list[int], database_url: str | None, trace: bool = True) -> None:
    _configure(database_url)
    if database_url:
        _recreate_postgres(database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # DEBUG=1 is for the settings' development defaults only: with DEBUG on, Django also keeps the
    # text of every statement (on SQLite, quoting each parameter with an extra query), which a
    # server does not do and which costs a bulk insert more than the insert.
    settings.DEBUG = False
    from django.db import connection

    from dangjian.audit.services import Actor, audit_verify_chain
    from dangjian.organizations.workbook import import_workbook

    call_command("migrate", verbosity=0)
    print(f"# {connection.vendor}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
    print(f"{'rows':>7} {'orgs':>6} {'seconds':>8} {'rows/s':>7} {'statements':>10} {'peak MB':>8} {'maxrss MB':>9}")
    for k, n in enumerate(sizes, start=1):
        # Timed and counted without tracemalloc (it slows Python down several times), then the
        # same shape again (another bureau) under tracemalloc for its peak.
        data = workbook(n, f"K{k}")
        gc.collect()
        counter = StatementCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            result = import_workbook(data, by=Actor.system("bench"), user=None)
        elapsed = time.perf_counter() - started
        assert result.ok, [str(e) for e in result.errors[:5]]
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak = float("nan")
        if trace:
            data = workbook(n, f"K{k + len(sizes)}")
            gc.collect()
            tracemalloc.start()
            result = import_workbook(data, by=Actor.system("bench"), user=None)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            assert result.ok, [str(e) for e in result.errors[:5]]
        orgs = result.created.get("党组织", 0)
        print(f"{n:>7} {orgs:>6} {elapsed:>8.2f} {n / elapsed:>7.0f} {counter.count:>10} {peak:>8.1f} "
              f"{maxrss:>9.0f}", flush=True)
    broken = audit_verify_chain()
    print("audit chain:", "intact" if broken is None else f"BROKEN at {broken.seq}: {broken.reason}")
    if not database_url:
        Path(os.environ["SQLITE_PATH"]).unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 20000])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a throwaway PostgreSQL database (dropped and created); default: a temporary SQLite file")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run of each size")
    args = parser.parse_args()
    main(args.sizes, args.database_url, trace=not args.no_trace)
