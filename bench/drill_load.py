#!/usr/bin/env python
"""Load drill: N writers create members through the API for T seconds; every acknowledged create
must be in the database.

    .venv/bin/python bench/drill_load.py [--writers 20] [--seconds 60] [--workers 3] [--pg]

A throwaway database (var/bench/drill_load.sqlite3, or with --pg the PostgreSQL database
dangjian_bench_drill_load), gunicorn with --workers on it, one party-office user with an API token.
Each writer POSTs /api/members (own Idempotency-Key per create) and records the id of every 2xx
answer; failed attempts are errors and are not retried. Then the rows are counted in the database.
"""

import statistics
import sys
import time

from drills import Server, Target, arguments, compare, machine, percentile, run_writers, table


def main() -> int:
    parser = arguments(__doc__, writers=20, seconds=60)
    args = parser.parse_args()

    target = Target("drill_load", args.pg)
    seed = target.fresh()
    server = Server(target, args.workers)
    server.start()
    started = time.monotonic()
    try:
        tally = run_writers(lambda: server.port, seed["token"], seed["organization"], args.writers, args.seconds,
                            retry=False)
    finally:
        elapsed = time.monotonic() - started
        server.stop()
    found = compare(target, tally)
    print(table(f"Load drill, {target.label}: {args.writers} writers, {args.seconds:g} s, "
                f"{args.workers} gunicorn workers ({machine()})", [
        ("requests", tally.attempts),
        ("errors", sum(tally.errors.values()) or 0),
        *((f"  {kind}", n) for kind, n in tally.errors.most_common()),
        ("acknowledged (2xx)", found["acknowledged"]),
        ("committed", found["committed"]),
        ("missing (acknowledged, not committed)", found["missing"]),
        ("committed, not acknowledged", found["unacknowledged committed"]),
        ("committed with their audit entry", found["audited"]),
        ("requests/s (acknowledged/s)", f"{tally.attempts / elapsed:.1f} ({found['acknowledged'] / elapsed:.1f})"),
        ("latency median / p95 (ms)", f"{statistics.median(tally.latencies or [0]) * 1000:.0f} / "
                                      f"{percentile(tally.latencies, 0.95) * 1000:.0f}"),
        ("audit_verify", target.audit_verify()),
    ]))
    ok = not tally.errors and found["missing"] == 0 and found["wrong id"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
