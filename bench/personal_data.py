#!/usr/bin/env python
"""Benchmark: what encrypting ID numbers and phones at rest costs, against the code before it.

    DEBUG=1 .venv/bin/python bench/personal_data.py [--before REV] [--rounds 30] [--rows 2000]

Runs the same measurements in child processes, alternately on the current code and on a copy of
revision REV (default: the merge base with main, the code without encryption; exported with
`git archive` into a temporary directory, nothing checked out), each on a fresh throwaway SQLite
file:

* `demo build`: `manage.py demo` (the demo bureau: ~700 members registered through the services,
  plus its log-ins and organisational life), seconds;
* `import N rows`: a clean 花名册 of N members through `import_workbook` (read, check every row,
  write in bulk with audit entries), seconds;
* `roster page`: `GET /organizations/members/` as the party office (`dangban`, 50 rows of the whole
  bureau, each ID number and phone decrypted and masked), median of `--rounds` warm requests, ms;
* `member page`: one member's detail page, the same way.

Prints each figure for both codes and the ratio after/before. Compare ratios within one run; the
absolute times move with the machine's load (bench/README.md).
"""

import argparse
import atexit
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(code_dir: str, rounds: int, rows: int) -> dict:
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)
    db_dir = tempfile.mkdtemp(prefix="bench-personal-")
    atexit.register(shutil.rmtree, db_dir, ignore_errors=True)
    os.environ["SQLITE_PATH"] = str(Path(db_dir) / "bench-personal.sqlite3")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from dangjian.access.models import User
    from dangjian.audit.services import Actor
    from dangjian.demo.runner import build_demo
    from dangjian.organizations.models import Member
    from dangjian.organizations.workbook import import_workbook

    sys.path.insert(0, str(ROOT / "bench"))
    from import_workbook import workbook

    call_command("migrate", verbosity=0)
    figures = {}
    started = time.perf_counter()
    build_demo()
    figures["demo build (s)"] = time.perf_counter() - started
    data = workbook(rows, 500_000)
    started = time.perf_counter()
    result = import_workbook(data, by=Actor.system("bench"), user=None)
    figures[f"import {rows} rows (s)"] = time.perf_counter() - started
    assert result.ok, result.errors[:3]

    user = User.objects.get(username="dangban")
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    member = Member.objects.filter(organization__code__isnull=False).order_by("pk").first()
    urls = {"roster page (ms)": "/organizations/members/", "member page (ms)": f"/organizations/members/{member.pk}/"}
    times = {name: [] for name in urls}
    for round_ in range(rounds + 3):
        for name, url in urls.items():
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if round_ >= 3:
                times[name].append(elapsed)
    figures.update({name: statistics.median(values) for name, values in times.items()})
    figures["members"] = Member.objects.count()
    return figures


def export(rev: str) -> str:
    target = tempfile.mkdtemp(prefix="bench-before-")
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def run(code_dir: str, rounds: int, rows: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", code_dir, "--rounds", str(rounds), "--rows", str(rows)],
                         capture_output=True, text=True, env={**os.environ, "DEBUG": "1"})
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=None, help="revision without encryption (default: merge base with main)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rounds, args.rows)))
        return
    rev = args.before or subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True,
                                        text=True, check=True).stdout.strip()
    before_dir = export(rev)
    try:
        before = run(before_dir, args.rounds, args.rows)
        after = run(str(ROOT), args.rounds, args.rows)
    finally:
        shutil.rmtree(before_dir, ignore_errors=True)
    print(f"before = {rev[:10]}, after = working tree; {after['members']} members")
    print(f"{'figure':<22} {'before':>9} {'after':>9} {'after/before':>13}")
    for name in before:
        if name != "members":
            print(f"{name:<22} {before[name]:>9.2f} {after[name]:>9.2f} {after[name] / before[name]:>13.2f}")


if __name__ == "__main__":
    main()
