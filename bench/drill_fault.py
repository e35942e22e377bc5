#!/usr/bin/env python
"""Fault drill: writers create members through the API while gunicorn workers are killed with
kill -9, and once the master with all its workers; no acknowledged create may be lost.

    .venv/bin/python bench/drill_fault.py [--writers 20] [--seconds 60] [--workers 3] [--kills 6] [--pg]

As bench/drill_load.py, but every failed attempt (connection refused or cut, 5xx, 409) is sent again
with the same Idempotency-Key, as a client should, until answered or 30 s after the end. During the
run a random worker is killed (-9) `--kills` times, evenly spaced; half-way the master and all its
workers are killed (-9) in one instant and gunicorn is started again on the same port. Then:
acknowledged vs committed, and audit_verify.
"""

import random
import sys
import threading
import time

from drills import Server, Target, arguments, compare, machine, run_writers, table


def main() -> int:
    parser = arguments(__doc__, writers=20, seconds=60)
    parser.add_argument("--kills", type=int, default=6, help="workers killed with -9 during the run")
    args = parser.parse_args()

    target = Target("drill_fault", args.pg)
    seed = target.fresh()
    server = Server(target, args.workers)
    server.start()
    events = {"workers killed": 0, "master crashes": 0, "restart s": 0.0}
    done = threading.Event()

    def faults():
        step = args.seconds / (args.kills + 2)
        for i in range(1, args.kills + 2):
            if done.wait(step):
                return
            if i == args.kills // 2 + 1:  # half-way: the whole service dies mid-write
                started = time.monotonic()
                server.crash()
                server.start()
                events["master crashes"] += 1
                events["restart s"] = round(time.monotonic() - started, 1)
            elif pids := server.worker_pids():
                server.kill9(random.choice(pids))
                events["workers killed"] += 1

    chaos = threading.Thread(target=faults)
    chaos.start()
    try:
        tally = run_writers(lambda: server.port, seed["token"], seed["organization"], args.writers, args.seconds,
                            retry=True)
    finally:
        done.set()
        chaos.join()
        server.stop()
    found = compare(target, tally)
    print(table(f"Fault drill, {target.label}: {args.writers} writers, {args.seconds:g} s, "
                f"{args.workers} gunicorn workers ({machine()})", [
        ("workers killed (-9)", events["workers killed"]),
        ("master + workers killed (-9), restarted", f"{events['master crashes']} (back in {events['restart s']} s)"),
        ("attempts", tally.attempts),
        ("failed attempts (retried, same key)", sum(tally.errors.values())),
        *((f"  {kind}", n) for kind, n in tally.errors.most_common()),
        ("creates never answered 2xx", tally.given_up),
        ("acknowledged (2xx)", found["acknowledged"]),
        ("committed", found["committed"]),
        ("lost (acknowledged, not committed)", found["missing"]),
        ("acknowledged with another id", found["wrong id"]),
        ("committed, not acknowledged", found["unacknowledged committed"]),
        ("keys left reserved (answer never kept)", found["reserved"]),
        ("committed with their audit entry", found["audited"]),
        ("audit_verify", target.audit_verify()),
    ]))
    return 0 if found["missing"] == 0 and found["wrong id"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
