#!/usr/bin/env python
"""Restore drill: demo data, a backup taken while writers are creating members and one taken at
rest, the database wiped, each backup restored; every record must be back and the chain verify.

    .venv/bin/python bench/drill_restore.py [--writers 10] [--seconds 10] [--workers 3] [--pg]

1. A throwaway database with the demo bureau (`manage.py demo`).
2. gunicorn and `--writers` API writers for `--seconds`; half-way `manage.py backup` (online).
3. When they stop, `manage.py backup` again (at rest) and every table counted.
4. The database dropped (file deleted / DROP DATABASE), `manage.py restore --yes` of the backup at
   rest: every table must have the rows it had (the audit table one more: the restore's own
   entry) and audit_verify pass.
5. Dropped again, the online backup restored: every create acknowledged before that backup
   started must be there, and audit_verify pass.
"""

import sys
import threading
import time

from drills import BENCH_DIR, Server, Target, arguments, compare, machine, run_writers, table

COUNTS = """
import json
from dangjian.audit.backup import table_counts
print(json.dumps(table_counts()))
"""


def restore(target: Target, path) -> tuple[float, str]:
    started = time.monotonic()
    done = target.manage("restore", str(path), "--yes", check=False)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return time.monotonic() - started, lines[-1] if lines else "?"


def main() -> int:
    parser = arguments(__doc__, writers=10, seconds=10)
    args = parser.parse_args()

    target = Target("drill_restore", args.pg)
    seed = target.fresh()
    target.manage("demo")
    suffix = "dump" if args.pg else "sqlite3"
    online, at_rest = (BENCH_DIR / f"drill_restore.{name}.{suffix}" for name in ("online", "at_rest"))
    for path in (online, at_rest):
        path.unlink(missing_ok=True)

    server = Server(target, args.workers)
    server.start()
    result, backup_online = {}, {}

    def write():
        result["tally"] = run_writers(lambda: server.port, seed["token"], seed["organization"], args.writers,
                                      args.seconds, retry=False)

    writers = threading.Thread(target=write)
    writers.start()
    time.sleep(args.seconds / 2)
    backup_online["started"] = time.monotonic()
    target.manage("backup", "--output", str(online))
    backup_online["seconds"] = time.monotonic() - backup_online["started"]
    writers.join()
    server.stop()
    tally = result["tally"]
    started = time.monotonic()
    target.manage("backup", "--output", str(at_rest))
    backup_seconds = time.monotonic() - started
    before = target.shell(COUNTS)

    target.wipe()
    rest_seconds, rest_verify = restore(target, at_rest)
    after = target.shell(COUNTS)
    restore_entry = after.get("audit_auditentry", 0) - before["audit_auditentry"]
    differing = [t for t in before.keys() | after.keys()
                 if t != "audit_auditentry" and before.get(t) != after.get(t)]
    missing_rows = sum(max(0, before[t] - after.get(t, 0)) for t in before)

    target.wipe()
    online_seconds, online_verify = restore(target, online)
    # Creates answered before the online backup began must be in it; those answered while it ran may be.
    found = compare(target, tally, answered_before=backup_online["started"])
    print(table(f"Restore drill, {target.label}: demo bureau + {args.writers} API writers for {args.seconds:g} s "
                f"({machine()})", [
        ("tables", len(before)),
        ("rows at rest", f"{sum(before.values()):,}"),
        ("backup at rest (s, size)", f"{backup_seconds:.1f}, {at_rest.stat().st_size:,} bytes"),
        ("restore after wipe (s)", f"{rest_seconds:.1f}"),
        ("rows missing after restore", missing_rows),
        ("tables differing (audit aside)", len(differing) and ", ".join(sorted(differing))),
        ("audit entries added by the restore", restore_entry),
        ("audit_verify after restore", rest_verify),
        ("online backup under load (s)", f"{backup_online['seconds']:.1f}"),
        ("creates acknowledged before it began", found["acknowledged"]),
        ("of them missing after its restore", found["missing"]),
        ("creates acknowledged in the whole run", len(tally.acknowledged)),
        ("restore of the online backup (s)", f"{online_seconds:.1f}"),
        ("audit_verify after that restore", online_verify),
    ]))
    ok = missing_rows == 0 and not differing and restore_entry == 1 and found["missing"] == 0
    return 0 if ok and "审计链完整" in rest_verify and "审计链完整" in online_verify else 1


if __name__ == "__main__":
    sys.exit(main())
