"""Compliance matrix cost: 25 branches against 2,000 branches, each with a year of meetings.

    DEBUG=1 .venv/bin/python bench/compliance.py [--rounds N]

Builds three trees in a throwaway SQLite file (bulk inserts: 25, 200 and 2,000 branches, ~1.2
meetings a month each), then measures in the same run, interleaved:
  * selectors.compliance over the whole tree (all branches × 12 months), and
  * the /orglife/matrix/ page (first page of 100 rows) through the test client,
with their query counts. Compare the ratios, not the absolute times (machines here are noisy).
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench-compliance.sqlite3")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from dangjian.access.models import RoleAssignment, User  # noqa: E402
from dangjian.organizations.models import Organization  # noqa: E402
from dangjian.orglife import selectors  # noqa: E402
from dangjian.orglife.models import Meeting, MeetingKind  # noqa: E402

YEAR = timezone.localdate().year - 1  # a finished year: every month counts


def build_tree(code: str, branches: int) -> tuple[Organization, User]:
    root = Organization.objects.add_root({"code": code, "name": f"{code}机关党委", "kind": "organ_committee",
                                          "founded_on": dt.date(2015, 1, 1)})
    nodes = [Organization(path=Organization._get_path(root.path, 2, i + 1), depth=2, numchild=0,
                          code=f"{code}-{i:05d}", name=f"{code}第{i}党支部", kind="branch",
                          founded_on=dt.date(2015, 1, 1)) for i in range(branches)]
    Organization.objects.bulk_create(nodes, batch_size=1000)
    Organization.objects.filter(pk=root.pk).update(numchild=branches)
    tz = timezone.get_current_timezone()
    ids = list(Organization.objects.filter(code__startswith=f"{code}-").values_list("pk", flat=True))
    meetings = []
    for n, pk in enumerate(ids):
        for month in range(1, 13):
            if (n + month) % 7:  # most months: a theme day
                meetings.append(Meeting(organization_id=pk, kind=MeetingKind.THEME_DAY, topics="主题党日",
                                        starts_at=dt.datetime(YEAR, month, 8, 14, tzinfo=tz)))
            if month % 3 == 0:
                meetings.append(Meeting(organization_id=pk, kind=MeetingKind.GENERAL_MEETING, topics="党员大会",
                                        starts_at=dt.datetime(YEAR, month, 20, 14, tzinfo=tz)))
    Meeting.objects.bulk_create(meetings, batch_size=2000)
    user = User.objects.create_user(f"office-{code}", password="x")
    RoleAssignment.objects.create(user=user, role="party_office", organization=root)
    return root, user


def timed(fn, rounds):
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    trees = {25: build_tree("S", 25), 200: build_tree("M", 200), 2000: build_tree("L", 2000)}
    for root, _user in trees.values():
        root.refresh_from_db()  # sorted siblings: adding root "L" moved root "S" to a new path
    print(f"built in {time.perf_counter() - started:.1f}s: {Meeting.objects.count()} meetings; year {YEAR}")
    today = timezone.localdate()
    results = {}
    for size, (root, user) in trees.items():
        subtree = Organization.objects.filter(path__startswith=root.path)
        client = Client()
        client.force_login(user)

        def selector(subtree=subtree):
            return selectors.compliance(subtree, year=YEAR, today=today)

        def page(client=client, root=root):
            response = client.get("/orglife/matrix/", {"year": YEAR, "org": root.pk})
            assert response.status_code == 200
            return response

        with CaptureQueriesContext(connection) as q_sel:
            table = selector()
        with CaptureQueriesContext(connection) as q_page:
            page()
        results[size] = {"selector": (selector, len(q_sel.captured_queries)),
                         "page": (page, len(q_page.captured_queries)),
                         "cells": sum(len(r.cells) for r in table.rows)}
    medians = {}
    for what in ("selector", "page"):
        for size in results:  # interleaved rounds: both sizes see the same machine load
            medians[(what, size)] = timed(results[size][what][0], args.rounds)
    print(f"\n{'what':10} {'branches':>8} {'cells':>7} {'queries':>8} {'median ms':>10}")
    for what in ("selector", "page"):
        for size in results:
            print(f"{what:10} {size:>8} {results[size]['cells']:>7} {results[size][what][1]:>8} "
                  f"{medians[(what, size)] * 1000:>10.1f}")
    print("\nratios (same run):")
    print(f"  selector 2000/25: {medians[('selector', 2000)] / medians[('selector', 25)]:.1f} "
          f"(work grows with branches × months: expected ~linear, cells ratio "
          f"{results[2000]['cells'] / results[25]['cells']:.0f})")
    print(f"  page     2000/200: {medians[('page', 2000)] / medians[('page', 200)]:.2f} "
          f"(both pages show 100 rows: ~1 means the page does not grow with the tree)")


if __name__ == "__main__":
    main()
