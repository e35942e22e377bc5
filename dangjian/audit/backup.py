"""Backup and restore of the whole database (`manage.py backup`, `manage.py restore`).

- **SQLite**: sqlite3's online backup API (`Connection.backup`) in one step, i.e. one consistent
  snapshot taken while the app serves (in WAL mode writers are not blocked), then
  `PRAGMA integrity_check` on the copy. The copy is a single file in rollback-journal mode.
  Never a raw `cp` of a live file: its WAL holds the latest commits.
- **PostgreSQL**: `pg_dump -Fc` (one consistent snapshot) and `pg_restore --clean --if-exists
  --single-transaction` (all or nothing), with the settings' connection; `pg_restore --list`
  reads the dump back as its check.

Both are audited (`backup.create`, `backup.restore`). The backup's entry is written before the
copy, so the backup holds the record of its own making; the restore's entry is appended to the
restored chain. A restore is refused unless the file is a backup of this application (an SQLite
file with its audit tables, or a custom-format dump listing them). The keys (`AUDIT_HMAC_KEY`,
`FIELD_*`) are never in a backup: keep them apart (README, Deployment)."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from dangjian.audit.services import Actor, audit_record

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
# A file without these is not a backup of this application.
REQUIRED_TABLES = ("django_migrations", "audit_auditentry", "audit_audithead")


class BackupError(Exception):
    """Why a backup or restore could not be done (Chinese, for the operator)."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    size: int
    sm3: str
    seconds: float


def default_output() -> Path:
    suffix = "dump" if connection.vendor == "postgresql" else "sqlite3"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.BASE_DIR) / "var" / "backups" / f"dangjian-{stamp}.{suffix}"


def file_sm3(path: Path) -> str:
    digest = hashlib.new("sm3")
    with open(path, "rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def table_counts() -> dict[str, int]:
    """Rows per table of the database as it stands (every table, not only the models')."""
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def backup_create(*, by: Actor, output: Path) -> BackupFile:
    """Copy the database, online, to `output` (readable by the app's user only); check the copy."""
    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} 已存在：请换一个文件名，不覆盖已有备份。")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"无法创建备份目录 {output.parent}：{error.strerror}") from None
    # Recorded before the copy, so the backup holds its own entry (the restored chain ends with it);
    # worded as a start, as a copy that then fails leaves it in the trail.
    audit_record(by=by, action="backup.create", note=f"开始数据库备份到 {output.name}")
    started = time.monotonic()
    part = output.with_name(output.name + ".part")
    part.unlink(missing_ok=True)
    try:
        os.close(os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        if connection.vendor == "postgresql":
            _pg_dump(part)
        else:
            _sqlite_backup(part)
        with open(part, "rb") as copy:
            os.fsync(copy.fileno())
        os.replace(part, output)
    except OSError as error:
        raise BackupError(f"无法写入备份文件 {output}：{error.strerror}") from None
    finally:
        part.unlink(missing_ok=True)
    return BackupFile(output, output.stat().st_size, file_sm3(output), time.monotonic() - started)


def backup_restore(*, by: Actor, path: Path) -> BackupFile:
    """Replace the whole database with the backup at `path`, then record the restore in the
    (restored) audit trail. The caller verifies the chain and shows the counts."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}，未做任何改动。")
    started = time.monotonic()
    with open(path, "rb") as data:
        head = data.read(len(SQLITE_MAGIC))
    if connection.vendor == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(_not_a_backup(path, head, "PostgreSQL（pg_dump -Fc）"))
        pg_tool("pg_restore")  # a missing program is not a bad file
        if problems := _pg_problems(path):
            raise BackupError(f"{path.name} 不是完好的本系统备份（{problems}），未做任何改动。")
        _pg_restore(path)
    else:
        if head != SQLITE_MAGIC:
            raise BackupError(_not_a_backup(path, head, "SQLite"))
        _sqlite_restore(path)
    ContentType.objects.clear_cache()  # ids may differ from what this process cached
    cache.clear()  # results kept under the records' version (core.datacache): the restored version may repeat one
    digest = file_sm3(path)
    audit_record(by=by, action="backup.restore", note=f"从备份 {path.name} 恢复（SM3 {digest[:16]}…）")
    return BackupFile(path, path.stat().st_size, digest, time.monotonic() - started)


def _not_a_backup(path: Path, head: bytes, expected: str) -> str:
    if head.startswith(PG_MAGIC) or head == SQLITE_MAGIC:
        found = "PostgreSQL" if head.startswith(PG_MAGIC) else "SQLite"
        return f"{path.name} 是 {found} 数据库的备份，当前数据库要求 {expected} 格式的备份，未做任何改动。"
    return f"{path.name} 不是本系统的数据库备份（应为 {expected} 格式），未做任何改动。"


# ---------------------------------------------------------------- SQLite

def _sqlite_backup(part: Path) -> None:
    connection.ensure_connection()
    copy = sqlite3.connect(part)
    try:
        # pages=-1 (the default): the whole database in one step, one read transaction, one
        # snapshot. Step-wise copying restarts whenever another connection writes, and under
        # steady load might never finish.
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        problems = _sqlite_problems(copy)
    finally:
        copy.close()
    if problems:
        raise BackupError(f"备份副本未通过完整性检查：{problems}")


def _sqlite_problems(db: sqlite3.Connection) -> str:
    """'' if the file is a sound backup of this application, else what is wrong (Chinese)."""
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        return f"无法读取（{error}）"
    if rows != [("ok",)]:
        return "；".join(row[0] for row in rows[:3])
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    return f"缺少本系统的数据表 {', '.join(missing)}" if missing else ""


def _sqlite_restore(path: Path) -> None:
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"无法打开备份文件 {path.name}：{error}") from None
    try:
        if problems := _sqlite_problems(source):
            raise BackupError(f"{path.name} 不是完好的本系统备份（{problems}），未做任何改动。")
        connection.close()
        connection.ensure_connection()
        # Page by page into the live file, under its write lock: other connections see the old
        # database or the restored one, never a mixture.
        try:
            source.backup(connection.connection)
        except sqlite3.OperationalError as error:  # e.g. locked: an app server is still writing
            raise BackupError(f"恢复未能进行（{error}）：请先停止所有应用服务再恢复。数据库未改动。") from None
    finally:
        source.close()
    connection.close()  # the next query reconnects and runs the settings' PRAGMAs again


# ---------------------------------------------------------------- PostgreSQL

def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program, or a Chinese message naming the package."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器同一主版本的 PostgreSQL 客户端程序"
                          f"（Debian/Ubuntu：apt-get install postgresql-client），或把它所在目录加入 PATH。")
    return found


def _pg_connection() -> tuple[list[str], dict]:
    """Command-line options and environment naming the settings' database."""
    db = connection.settings_dict
    options = []
    if db.get("HOST"):
        options += ["-h", db["HOST"]]
    if db.get("PORT"):
        options += ["-p", str(db["PORT"])]
    if db.get("USER"):
        options += ["-U", db["USER"]]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]  # not on the command line, where `ps` would show it
    return options, env


def _run(args: list[str], env: dict, what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["（无输出）"])[-1]
        raise BackupError(f"{what}失败：{detail}")
    return done.stdout


def _pg_dump(part: Path) -> None:
    options, env = _pg_connection()
    _run([pg_tool("pg_dump"), "-Fc", *options, "-f", str(part), connection.settings_dict["NAME"]], env, "pg_dump ")
    if problems := _pg_problems(part):
        raise BackupError(f"备份副本未通过检查：{problems}")


def _pg_problems(path: Path) -> str:
    """'' if `pg_restore --list` reads the whole table of contents and it lists this application's
    tables, else what is wrong (Chinese): a cut or foreign file fails here."""
    try:
        listing = _run([pg_tool("pg_restore"), "--list", str(path)], dict(os.environ), "pg_restore --list ")
    except BackupError as error:
        return str(error)
    tables = {line.split()[-2] for line in listing.splitlines() if " TABLE " in line and "TABLE DATA" not in line}
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    return f"缺少本系统的数据表 {', '.join(missing)}" if missing else ""


def _pg_restore(path: Path) -> None:
    options, env = _pg_connection()
    connection.close()
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", *options,
          "-d", connection.settings_dict["NAME"], str(path)], env, "pg_restore ")
