"""The bureau-wide compliance matrix and 台账: how much of each request is SQL, and how much Python?

    DEBUG=1 .venv/bin/python bench/orglife_pages.py [--rounds N] [--keep] [--profile matrix|ledger|matrix1]

Builds the demo bureau (`manage.py demo`: 临江市交通运输局, a year of organisational life) in a
throwaway SQLite file, logs in as the party office (`dangban`, granted on the 党组 with everything
under it), and requests through the test client, for this year:
  * matrix:  GET /orglife/matrix/?org=<党组>   (the bureau's first page: up to 100 organisations),
  * ledger:  GET /orglife/ledger/<党组>/        (the bureau-wide .xlsx),
  * matrix1: the matrix of one branch, for reference: what any page costs whatever its size.
Each once cold (the first time the page is served in the process: its templates compiled, its
modules imported; the URLconf is imported before, and its cost printed apart) and then `--rounds`
times warm, interleaved. For every request it separates the time spent in the database driver
(execute, every fetch and commit, timed around the driver's calls) from the whole request, and prints
total/SQL: 1 would mean every millisecond is the database's, 2 that Python (ORM, view, template,
openpyxl) costs as much again. The target is 2. Compare ratios, not absolute times: the machine is
shared and noisy, and the ratio is taken within each request, so load moves both sides alike.
With --profile, one more warm request of that page runs under cProfile.
"""

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="bench-orglife-"))
os.environ.pop("DATABASE_URL", None)  # always the throwaway SQLite file, never a configured server
os.environ["SQLITE_PATH"] = str(TMP / "orglife-pages.sqlite3")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.utils import CursorWrapper  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import get_resolver, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from dangjian.access.models import User  # noqa: E402
from dangjian.demo.logins import EAST_BRANCH, ROOT_CODE  # noqa: E402
from dangjian.demo.runner import build_demo  # noqa: E402
from dangjian.organizations.models import Organization  # noqa: E402
from dangjian.orglife.models import AgendaItem, Meeting  # noqa: E402

TARGET = 2  # total request time over its SQL time (issue 7)


class SqlClock:
    """Seconds spent inside the database driver: execute/executemany, every fetch and every
    commit. Fetching counts as SQL because SQLite does the work of a query while rows are stepped
    through, not when `execute` returns; Django's converters run after the fetch and count as
    Python."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0


CLOCK = SqlClock()


class TimedCursor(CursorWrapper):
    def _timed(self, fn, *args):
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            CLOCK.seconds += time.perf_counter() - started

    def execute(self, sql, params=None):
        CLOCK.queries += 1
        return self._timed(super().execute, sql, params)

    def executemany(self, sql, param_list):
        CLOCK.queries += 1
        return self._timed(super().executemany, sql, param_list)

    def fetchone(self):
        return self._timed(self.cursor.fetchone)

    def fetchmany(self, size=None):
        return self._timed(self.cursor.fetchmany, *(() if size is None else (size,)))

    def fetchall(self):
        return self._timed(self.cursor.fetchall)

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row


def install_clock():
    """Every cursor of the default connection, debug or not, is timed (and not logged: DEBUG's
    query log would add the same bookkeeping to both sides, but costs memory over many rounds),
    and so is every commit (the session saved at the end of each request waits for it)."""
    connection.make_debug_cursor = lambda cursor: TimedCursor(cursor, connection)
    connection.make_cursor = lambda cursor: TimedCursor(cursor, connection)
    commit = connection._commit

    def timed_commit():
        started = time.perf_counter()
        try:
            return commit()
        finally:
            CLOCK.seconds += time.perf_counter() - started

    connection._commit = timed_commit


def measure(fn) -> tuple[float, float, int]:
    """(total seconds, SQL seconds, queries) of one call."""
    CLOCK.seconds, CLOCK.queries = 0.0, 0
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started, CLOCK.seconds, CLOCK.queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="warm requests per page (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database (its path is printed)")
    parser.add_argument("--profile", choices=("matrix", "ledger", "matrix1"), help="cProfile one warm request of a page")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    result = build_demo()
    root = Organization.objects.get(code=ROOT_CODE)
    user = User.objects.get(username="dangban")
    year = timezone.localdate().year
    print(f"demo bureau built in {time.perf_counter() - started:.0f}s ({result.seconds:.0f}s demo) in "
          f"{connection.settings_dict['NAME']}: {Organization.objects.count()} organisations, "
          f"{Meeting.objects.count()} meetings, {AgendaItem.objects.count()} agenda items; year {year}; "
          f"SQLite {connection.Database.sqlite_version}")
    # The page cache of a file database survives in the OS; close the connection so the cold
    # request at least opens its own.
    connection.close()
    install_clock()

    client = Client()
    client.force_login(user)
    branch = Organization.objects.get(code=EAST_BRANCH)
    started = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018 (imports every area's URLs and the API)
    urlconf_ms = (time.perf_counter() - started) * 1000
    matrix_url, ledger_url = reverse("orglife:matrix"), reverse("orglife:ledger", args=[root.pk])
    pages = {
        "matrix": lambda: client.get(matrix_url, {"org": root.pk, "year": year}),
        "ledger": lambda: client.get(ledger_url, {"year": year}),
        # The same matrix page for one branch: what every page pays whatever its size (session,
        # user, grants, layout, the ORM building a dozen queries). Not a target, a reference.
        "matrix1": lambda: client.get(matrix_url, {"org": branch.pk, "year": year}),
    }
    sizes = {}

    def checked(name):
        def run():
            response = pages[name]()
            assert response.status_code == 200, (name, response.status_code)
            sizes[name] = len(response.content)
        return run

    cold = {name: measure(checked(name)) for name in pages}
    warm = {name: [] for name in pages}
    for _ in range(args.rounds):  # interleaved: every page sees the same machine load
        for name in pages:
            warm[name].append(measure(checked(name)))

    print(f"\n{'page':8}{'load':6}{'total ms':>10}{'SQL ms':>9}{'Python ms':>11}{'total/SQL':>11}"
          f"{'queries':>9}{'bytes':>10}")
    verdicts = []
    for name in pages:
        total = statistics.median(t for t, _, _ in warm[name])
        sql = statistics.median(s for _, s, _ in warm[name])
        ratios = sorted(t / s for t, s, _ in warm[name])
        # Warm: the median of each request's own ratio (the SQL side jitters with commits).
        for load, (t, s, queries), ratio in (("cold", cold[name], cold[name][0] / cold[name][1]),
                                             ("warm", (total, sql, warm[name][0][2]), statistics.median(ratios))):
            print(f"{name:8}{load:6}{t * 1000:>10.0f}{s * 1000:>9.1f}{(t - s) * 1000:>11.0f}"
                  f"{ratio:>11.2f}{queries:>9}{sizes[name]:>10}")
            if name != "matrix1":
                verdicts.append(f"{name} {load} {ratio:.2f} {'ok' if ratio <= TARGET else 'over'}")
        print(f"{'':14}warm total/SQL of each of the {args.rounds} requests: {ratios[0]:.2f} .. {ratios[-1]:.2f}")
    print(f"\nmatrix1 is the matrix of one branch ({branch.name}): the cost of any page, for reference.")
    print(f"The first request of a process also imports the URLconf and the API: {urlconf_ms:.0f} ms here, "
          "paid once whatever the page (not in the cold rows).")
    print(f"target total/SQL <= {TARGET:g}: " + "; ".join(verdicts))

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        checked(args.profile)()
        profiler.disable()
        stats = pstats.Stats(profiler)
        print(f"\n--- {args.profile}, one warm request: by cumulative time")
        stats.sort_stats("cumulative").print_stats(35)
        print(f"--- {args.profile}, one warm request: by own time")
        stats.sort_stats("tottime").print_stats(25)

    connection.close()
    if args.keep:
        print(f"kept {TMP}")
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
