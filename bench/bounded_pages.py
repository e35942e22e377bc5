"""Bounded pages (issue 11): size and time of the pages that used to grow with the scope.

    DEBUG=1 .venv/bin/python bench/bounded_pages.py [--rounds N] [--generals 30] [--branches 100]

Builds in a throwaway SQLite file a 机关党委 with G 党总支 of B 党支部 each (default 3,031
organisations; bulk inserts, no members: every branch then lacks a secretary and its meetings, so
the party office granted on the root has thousands of reminders) and requests, as that user:
the home page, the to-do page, the organisation tree, the member form (an organisation picker)
and the member list (its organisation filter). Prints each page's HTML size and median time
(query counts are pinned by tests/reports/test_query_counts.py). Run it on an older checkout
too (copy this file there) to compare before and after.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench-bounded.sqlite3")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from dangjian.access.models import RoleAssignment, User  # noqa: E402
from dangjian.organizations.models import Organization  # noqa: E402

PAGES = ["/", "/todos/", "/organizations/", "/organizations/members/new/", "/organizations/members/"]


def build(generals: int, branches: int) -> Organization:
    founded = dt.date(2015, 1, 1)
    root = Organization.objects.add_root({"code": "R", "name": "机关党委", "kind": "organ_committee", "founded_on": founded})
    tops = [Organization(path=Organization._get_path(root.path, 2, g + 1), depth=2, numchild=branches, code=f"G{g:03d}",
                         name=f"第{g}党总支", kind="general_branch", founded_on=founded) for g in range(generals)]
    Organization.objects.bulk_create(tops)
    Organization.objects.bulk_create(
        [Organization(path=Organization._get_path(t.path, 3, b + 1), depth=3, numchild=0, code=f"{t.code}B{b:03d}",
                      name=f"第{g}总支第{b}支部", kind="branch", founded_on=founded)
         for g, t in enumerate(tops) for b in range(branches)], batch_size=1000)
    Organization.objects.filter(pk=root.pk).update(numchild=generals)
    return root


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generals", type=int, default=30)
    parser.add_argument("--branches", type=int, default=100)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    root = build(args.generals, args.branches)
    user = User.objects.create_user("office", password="x")
    RoleAssignment.objects.create(user=user, role="party_office", organization=root)
    client = Client()
    client.force_login(user)
    print(f"{Organization.objects.count()} organisations; party office on the root")
    print(f"{'page':32} {'status':>6} {'KB':>8} {'median ms':>10}")
    for url in PAGES:
        response = client.get(url)
        if response.status_code != 200:
            print(f"{url:32} {response.status_code:>6}")
            continue
        samples = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - started)
        print(f"{url:32} {response.status_code:>6} {len(response.content) / 1024:8.1f} "
              f"{statistics.median(samples) * 1000:10.0f}")


if __name__ == "__main__":
    main()
