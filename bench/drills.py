"""What the three drills share: a throwaway database, gunicorn on it, writers through the API.

Nothing here imports Django: the drills drive the application as an operator would, through
`manage.py` (migrate, shell, backup, restore, audit_verify) and HTTP (gunicorn, the JSON API with a
bearer token). Standard library only (urllib/http.client), plus psycopg, already a dependency, to
create and drop the throwaway PostgreSQL database. See bench/README.md.
"""

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")

# Runs inside `manage.py shell`: an organisation, a party-office user granted on it, a token.
SEED = """
import datetime as dt, json
from django.utils import timezone
from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import Role
from dangjian.api.tokens import api_token_create
from dangjian.audit.services import Actor
from dangjian.organizations.models import Organization
founded = dt.date(2018, 1, 1)
root = Organization.objects.add_root({"code": "DRILL", "name": "演练局党组", "kind": "leading_group", "founded_on": founded})
branch = Organization.objects.add_child(root, {"code": "DRILL-B", "name": "演练党支部", "kind": "branch", "founded_on": founded})
user = User.objects.create_user(username="drill", password="Drill@2026x", full_name="演练")
user.password_changed_at = timezone.now()
user.save(update_fields=["password_changed_at"])
RoleAssignment.objects.create(user=user, role=Role.PARTY_OFFICE, organization=root, include_descendants=True)
token, secret = api_token_create(by=Actor.system("演练"), user=user, name="演练写入")
print(json.dumps({"token": secret, "organization": branch.pk}))
"""

# Runs inside `manage.py shell`: every drill member (request number -> id) and their audit entries.
COMMITTED = """
import json
from dangjian.api.models import IdempotencyKey
from dangjian.audit.models import AuditEntry
from dangjian.organizations.models import Member
rows = dict(Member.objects.filter(post__startswith="演练请求").values_list("post", "pk"))
audited = set(AuditEntry.objects.filter(action="member.create", object_type="organizations.member")
              .values_list("object_id", flat=True))
print(json.dumps({"members": {k.removeprefix("演练请求"): pk for k, pk in rows.items()},
                  "audited": sum(str(pk) in audited for pk in rows.values()),
                  "reserved": IdempotencyKey.objects.filter(status__isnull=True).count()}))
"""


def arguments(doc: str, *, writers: int, seconds: float) -> argparse.ArgumentParser:
    """The options every drill takes; a drill adds its own."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--writers", type=int, default=writers, help="writer threads")
    parser.add_argument("--seconds", type=float, default=seconds, help="how long they write")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (BENCH_PG_URL) instead of SQLite")
    return parser


class Target:
    """A throwaway database: var/bench/<name>.sqlite3 (WAL, as configured), or with `pg` the
    PostgreSQL database dangjian_bench_<name> on BENCH_PG_URL's server (dropped first)."""

    def __init__(self, name: str, pg: bool):
        self.name, self.pg = name, pg
        self.label = "PostgreSQL" if pg else "SQLite"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
        self.env["DEBUG"] = "1"  # development keys and hosts; the same for every drill
        self.db_name = f"dangjian_bench_{name}"
        self.sqlite = BENCH_DIR / f"{name}.sqlite3"
        if pg:
            self.env["DATABASE_URL"] = f"{PG_SERVER}/{self.db_name}"
        else:
            self.env["SQLITE_PATH"] = str(self.sqlite)

    def wipe(self) -> None:
        """Drop the database entirely (file or PostgreSQL database) and create it empty."""
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        if self.pg:
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                server.execute(f'CREATE DATABASE "{self.db_name}"')
        else:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.sqlite}{suffix}").unlink(missing_ok=True)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if check and done.returncode != 0:
            sys.exit(f"manage.py {' '.join(args[:1])} failed:\n{done.stdout}{done.stderr}")
        return done

    def shell(self, code: str) -> dict:
        return json.loads(self.manage("shell", "-c", code).stdout.strip().splitlines()[-1])

    def fresh(self) -> dict:
        """Wipe, migrate, seed: returns {"token", "organization"}."""
        self.wipe()
        self.manage("migrate", "--noinput")
        return self.shell(SEED)

    def audit_verify(self) -> str:
        done = self.manage("audit_verify", check=False)
        return (done.stdout + done.stderr).strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn dangjian.wsgi, as in the README's deployment, on a local port."""

    def __init__(self, target: Target, workers: int):
        self.target, self.workers, self.port = target, workers, free_port()
        self.log = open(BENCH_DIR / f"{target.name}.gunicorn.log", "a")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [GUNICORN, "dangjian.wsgi", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "30"],
            cwd=ROOT, env=self.target.env, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = request(self.port, "GET", "/api/openapi.json")
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        sys.exit(f"gunicorn did not start: see {self.log.name}")

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def kill9(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def crash(self) -> None:
        """kill -9 of the master and, in the same instant, of every worker: the service dies mid-write."""
        workers = self.worker_pids()
        self.kill9(self.process.pid)
        for pid in workers:
            self.kill9(pid)
        self.process.wait()
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload.startswith(b"{") else {}
    finally:
        connection.close()


_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(k: int) -> str:
    """A checksum-valid ID number, unique per request number k (1,000 per birth date)."""
    body = f"330102{dt.date(1950, 1, 1) + dt.timedelta(days=k // 1000):%Y%m%d}{k % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def member_body(k: int, organization: int) -> dict:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=k // 1000)
    return {"organization": organization, "name": "演练党员", "gender": "male" if k % 2 else "female",
            "birth_date": birth.isoformat(), "id_number": id_number(k), "joined_on": "2000-07-01",
            "full_on": "2001-07-01", "category": "full", "post": f"演练请求{k}"}


@dataclass
class Tally:
    acknowledged: dict = field(default_factory=dict)  # request number -> member id (a 2xx answer)
    answered_at: dict = field(default_factory=dict)  # request number -> time.monotonic() of that answer
    errors: Counter = field(default_factory=Counter)  # what went wrong, per attempt
    attempts: int = 0
    given_up: int = 0  # requests never answered 2xx (still 409/5xx/refused at the end)
    latencies: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_writers(port_of, token: str, organization: int, writers: int, seconds: float, retry: bool) -> Tally:
    """`writers` threads POST /api/members for `seconds`, each create with its own Idempotency-Key.
    With `retry`, an attempt that failed (connection refused or cut, 5xx, 409 still running) is
    sent again with the same key until it is answered 2xx or 30 s after the end; without, every
    failed attempt is an error and the writer moves on. `port_of()` gives the current port."""
    tally, numbers = Tally(), itertools.count()
    stop = time.monotonic() + seconds
    auth = {"Authorization": f"Bearer {token}"}

    def writer():
        while time.monotonic() < stop:
            k = next(numbers)
            body, headers = member_body(k, organization), auth | {"Idempotency-Key": uuid.uuid4().hex}
            while True:
                started = time.monotonic()
                try:
                    status, answer = request(port_of(), "POST", "/api/members", body, headers)
                    outcome = f"HTTP {status}"
                except (OSError, http.client.HTTPException) as error:
                    status, outcome = 0, type(error).__name__
                with tally.lock:
                    tally.attempts += 1
                    if 200 <= status < 300:
                        tally.acknowledged[k] = answer["id"]
                        tally.answered_at[k] = time.monotonic()
                        tally.latencies.append(time.monotonic() - started)
                    else:
                        tally.errors[outcome] += 1
                if 200 <= status < 300 or 400 <= status < 500 and status != 409:
                    break  # answered, or refused for good (a bad body is not retried)
                if not retry or time.monotonic() > stop + 30:
                    with tally.lock:
                        tally.given_up += 1
                    break
                time.sleep(0.2)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def compare(target: Target, tally: Tally, answered_before: float | None = None) -> dict:
    """Acknowledged creates (those answered before `answered_before`, if given) against the rows
    committed in the database."""
    found = target.shell(COMMITTED)
    committed = {int(k): pk for k, pk in found["members"].items()}
    acked = {k: pk for k, pk in tally.acknowledged.items()
             if answered_before is None or tally.answered_at[k] < answered_before}
    return {
        "acknowledged": len(acked),
        "committed": len(committed),
        "missing": sum(1 for k in acked if k not in committed),  # acknowledged, not in the database
        "wrong id": sum(1 for k, pk in acked.items() if k in committed and committed[k] != pk),
        "unacknowledged committed": sum(1 for k in committed if k not in acked),
        "audited": found["audited"],
        "reserved": found["reserved"],  # keys reserved whose answer was never kept
    }


def table(title: str, rows: list[tuple[str, object]]) -> str:
    width = max(len(name) for name, _ in rows)
    lines = [title, "-" * len(title)] + [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} CPU ({model}), load {load:.1f}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
