#!/usr/bin/env python
"""Every page and API list at bureau and at city scale, as three users, in one run.

    DEBUG=1 .venv/bin/python bench/city_pages.py [--scale 0.1] [--pg] [--rounds 7] [--write] [--explain]
    make bench-city        # SQLite then PostgreSQL, --write

Builds (or reuses) the two databases of bench/city.py: the demo bureau alone, and the same bureau
beside round(149 × scale) generated ones. Then, as the bureau's party office (`dangban`), the branch
secretary of 城东分局第一党支部 (`zhibu`) and the city-wide party office (`shi`: a grant on every
bureau's root), it requests each page through Django's test client on both databases, interleaved
round by round (the default connection is switched between them; the switch is not timed), and
prints for each page and user: the queries at bureau and city scale (they must be equal: a
difference is a per-row query), the median time at each, and city/bureau. The home page and the
metrics page are measured twice: as served (reminders and figures kept until the next write,
core.datacache) and ", computed" (the cache emptied before each request, as after a write); so are
the member list and the compliance matrix, whose prepared pages are kept the same way. The query
counts are always those of the computed page. The log-in page (anonymous
GET) is timed in the same rounds: requests/s of the member list and the compliance matrix are given
as a share of its rate. With --explain, the plans of /api/meetings (city user) and the secretary's
member list at city scale are printed (EXPLAIN, or EXPLAIN QUERY PLAN on SQLite). With --write the
table goes into bench/RESULTS.md (a section per database, replacing that database's last one).
"""

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import city

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
USERS = (("bureau", "dangban"), ("secretary", "zhibu"), ("city", "shi"))
LOGIN = "/accounts/login/"


def pages(year: int, ids: dict) -> list[tuple[str, str]]:
    """(label, URL) of every page measured; `ids` are ids that exist in both databases."""
    return [
        ("home", "/"),
        ("home, computed", "/"),
        ("member list", "/organizations/members/"),
        ("member list, computed", "/organizations/members/"),
        ("member detail", f"/organizations/members/{ids['member']}/"),
        ("organisation tree", "/organizations/"),
        ("meeting list", f"/orglife/?year={year}"),
        ("compliance matrix", f"/orglife/matrix/?year={year}"),
        ("compliance matrix, computed", f"/orglife/matrix/?year={year}"),
        ("contact points", f"/orglife/contact-points/?year={year}"),
        ("metrics", f"/reports/metrics/?year={year}"),
        ("metrics, computed", f"/reports/metrics/?year={year}"),
        ("metric drill-down", f"/reports/metrics/orglife.meetings.theme_day/?year={year}"),
        ("/api/members", "/api/members"),
        ("/api/meetings", "/api/meetings"),
    ]


class Site:
    """One database and a logged-in client per user on it."""

    def __init__(self, label: str, name: str):
        self.label, self.name, self.clients = label, name, {}

    def use(self):
        city.use_database(self.name)


def login_clients(site: Site) -> None:
    from django.test import Client

    from dangjian.access.models import User

    site.use()
    for role, username in USERS:
        client = Client()
        client.force_login(User.objects.get(username=username))
        site.clients[role] = client
    site.clients["anonymous"] = Client()


def shared_ids() -> dict:
    """Ids the pages need, from the bureau database (the city copy keeps them): the member bound to
    the demo's `dangyuan` log-in (城东分局第一党支部), whom all three users may open."""
    from dangjian.access.models import User

    return {"member": User.objects.get(username="dangyuan").member_id}


# Pages measured twice: as served (reminders and figures kept until the next write, core.datacache)
# and as computed after a write (the cache emptied before each request, not timed).
COMPUTED = ", computed"


def request(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url}: {response.status_code}")
    return response


def queries_and_bytes(client, url) -> tuple[int, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the queries of the computed page
    with CaptureQueriesContext(connection) as ctx:
        response = request(client, url)
    return len(ctx.captured_queries), len(response.content)


def plan(sql: str, params) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql, params)
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [row[-1] for row in cursor.fetchall()]


def explain(client, url, pick) -> tuple[str, list[str]]:
    """The plan of the query `pick` chooses among those the page runs (with its SQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        request(client, url)
    sql = pick([q["sql"] for q in ctx.captured_queries])
    # Re-run it through the cursor with its literal SQL: CaptureQueriesContext keeps the SQL with
    # parameters interpolated, which both databases accept here (numbers and quoted strings).
    return sql, plan(sql, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds (default 7), after 2 warm-up rounds")
    parser.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--explain", action="store_true", help="print the plans of /api/meetings and the member list")
    parser.add_argument("--label", default="", help="a word for the RESULTS.md section (before, after …)")
    args = parser.parse_args()

    bureau_name, city_name = city.db_names(args.scale, args.pg)
    city.setup_django(args.pg, bureau_name)
    from django.conf import settings
    from django.db import connection

    settings.ALLOWED_HOSTS = ["testserver"]
    city.ensure(args.scale, pg=args.pg)
    sites = [Site("bureau", bureau_name), Site("city", city_name)]
    figures = {}
    for site in sites:
        site.use()
        figures[site.label] = city.counts_line()
        login_clients(site)
    sites[0].use()
    ids = shared_ids()
    year = dt.date.today().year
    cases = [(label, url, role) for label, url in pages(year, ids) for role, _ in USERS]
    engine = "PostgreSQL" if args.pg else "SQLite"
    with connection.cursor():
        version = (f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}" if args.pg
                   else f"SQLite {connection.Database.sqlite_version}")

    counted = {}
    for site in sites:
        site.use()
        for label, url, role in cases:
            counted[(site.label, label, role)] = queries_and_bytes(site.clients[role], url)
    plans = []
    if args.explain:
        sites[1].use()
        plans.append(("/api/meetings as the city user", *explain(
            sites[1].clients["city"], "/api/meetings", lambda qs: next(q for q in qs if "orglife_meeting" in q
                                                                          and "LIMIT" in q))))
        plans.append(("member list as the branch secretary", *explain(
            sites[1].clients["secretary"], "/organizations/members/",
            lambda qs: next(q for q in qs if "organizations_member" in q and "LIMIT" in q and "name_key" in q))))

    times: dict = {}
    started = time.perf_counter()
    for round_number in range(2 + args.rounds):
        for site in sites:
            site.use()
            for label, url, role in [*cases, ("log-in page", LOGIN, "anonymous")]:
                if label.endswith(COMPUTED):
                    from django.core.cache import cache

                    cache.clear()
                elif any(other == f"{label}{COMPUTED}" for other, _u, _r in cases):
                    request(site.clients[role], url)  # as served: kept since the last clear (untimed)
                t0 = time.perf_counter()
                request(site.clients[role], url)
                if round_number >= 2:
                    times.setdefault((site.label, label, role), []).append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    median = {key: statistics.median(values) * 1000 for key, values in times.items()}

    lines = ["| page | user | queries bureau / city | ms bureau | ms city | city/bureau | KB city |",
             "|---|---|---|---|---|---|---|"]
    for label, _url, role in cases:
        qb, _ = counted[("bureau", label, role)]
        qc, size = counted[("city", label, role)]
        b, c = median[("bureau", label, role)], median[("city", label, role)]
        flag = "" if qb == qc else " ≠"
        lines.append(f"| {label} | {role} | {qb} / {qc}{flag} | {b:.0f} | {c:.0f} | {c / b:.2f} | {size / 1024:.0f} |")
    login = {site.label: median[(site.label, "log-in page", "anonymous")] for site in sites}
    throughput = ["", "Requests/s as a share of the log-in page's (same database, same rounds):", "",
                  "| page | user | bureau | city |", "|---|---|---|---|"]
    for label in ("member list", f"member list{COMPUTED}", "compliance matrix", f"compliance matrix{COMPUTED}"):
        for role, _ in USERS:
            throughput.append(f"| {label} | {role} | "
                              + " | ".join(f"{login[s.label] / median[(s.label, label, role)]:.3f}" for s in sites)
                              + " |")
    throughput.append("")
    throughput.append(f"log-in page: {login['bureau']:.1f} ms (bureau), {login['city']:.1f} ms (city).")
    throughput += ["", "The city-wide user against the bureau's party office, both on the city database (goal: home,",
                   "tree and lists within 2 ×):", "", "| page | ms city user | ms bureau user | city user / bureau user |",
                   "|---|---|---|---|"]
    for label, _url, role in cases:
        if role == "city":
            c, b = median[("city", label, "city")], median[("city", label, "bureau")]
            throughput.append(f"| {label} | {c:.0f} | {b:.0f} | {c / b:.2f} |")

    header = [f"### {engine}{' — ' + args.label if args.label else ''}", "",
              f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.node()}: {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {version}; scale {args.scale}; "
              f"median of {args.rounds} interleaved rounds ({seconds:.0f}s).",
              "", f"* bureau database: {figures['bureau']}", f"* city database: {figures['city']}", ""]
    explained = []
    for title, sql, rows in plans:
        tail = sql[sql.index(" FROM "):]  # the column list says nothing about the plan
        explained += ["", f"EXPLAIN, city scale, {title}:", "", "```", "SELECT …" + tail[:1200], "", *rows, "```"]
    text = "\n".join(header + lines + throughput + explained) + "\n"
    print(text)
    if args.write:
        write_section(engine, args.label, text)
    connection.close()
    return 0


def write_section(engine: str, label: str, text: str) -> None:
    """Replace this database's section with the same label in RESULTS.md (or append it)."""
    current = RESULTS.read_text() if RESULTS.exists() else "# City benchmark results\n\nWritten by bench/city_pages.py.\n\n"
    title = f"### {engine}{' — ' + label if label else ''}"
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^### |\Z)", re.S | re.M)
    if pattern.search(current):
        current = pattern.sub(lambda _m: text + "\n", current)
    else:
        current = current.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(current)


if __name__ == "__main__":
    sys.exit(main())
