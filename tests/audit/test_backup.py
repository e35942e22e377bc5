"""`manage.py backup` and `manage.py restore`: what was backed up comes back, what came after goes,
the chain verifies; a restore without --yes or from a file that is not a backup changes nothing."""

import datetime as dt
import io
import re
import sqlite3

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dangjian.audit.backup import BackupError, file_sm3, pg_tool, table_counts
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor, audit_record
from dangjian.audit.triggers import drop_triggers
from dangjian.organizations import services as org
from dangjian.organizations.models import Member
from tests.factories import valid_id_number

pytestmark = pytest.mark.django_db(transaction=True)
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's backup API")
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs DATABASE_URL=postgres://…")


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _member_after_backup(bureau) -> Member:
    birth = dt.date(1991, 4, 2)
    return org.member_create(by=Actor.system("test"), data=dict(
        name="备份后", gender="male", birth_date=birth, id_number=valid_id_number(birth, seq=77),
        joined_on=dt.date(2015, 7, 1), full_on=dt.date(2016, 7, 1), category="full", education="bachelor",
        post="科员", unit=bureau.office, organization=bureau.branch_a, phone="13800007777"))


def _round_trip(bureau, path):
    before_members = set(Member.objects.values_list("pk", flat=True))
    _run("backup", "--output", str(path))
    counts = table_counts()  # with the backup's own entry, which the copy holds
    late = _member_after_backup(bureau)
    out = _run("restore", str(path), "--yes")
    assert set(Member.objects.values_list("pk", flat=True)) == before_members
    assert not Member.objects.filter(pk=late.pk).exists()
    after = table_counts()
    assert after.pop("audit_auditentry") == counts.pop("audit_auditentry") + 1  # the restore's own entry
    assert after == counts
    assert list(AuditEntry.objects.order_by("-seq").values_list("action", flat=True)[:2]) == [
        "backup.restore", "backup.create"]
    assert "审计链完整" in out
    assert re.search(rf"^  organizations_member +{len(before_members):,}$", out, re.M)
    return out


def test_restore_brings_back_the_database_as_backed_up_and_the_chain_verifies(bureau, tmp_path):
    _round_trip(bureau, tmp_path / "b.backup")


@sqlite_only
def test_sqlite_backup_is_one_private_file_that_passes_the_integrity_check(bureau, tmp_path):
    path = tmp_path / "b.sqlite3"
    out = _run("backup", "--output", str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "b.sqlite3-wal").exists() and not (tmp_path / "b.sqlite3.part").exists()
    copy = sqlite3.connect(path)
    assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert copy.execute("SELECT COUNT(*) FROM organizations_member").fetchone()[0] == Member.objects.count()
    copy.close()
    assert f"SM3：{file_sm3(path)}" in out


@postgres_only
def test_postgres_backup_is_a_pg_dump_custom_archive_and_restores(bureau, tmp_path):
    path = tmp_path / "b.dump"
    _round_trip(bureau, path)
    assert path.read_bytes()[:5] == b"PGDMP"


def test_backup_never_overwrites_an_existing_file(bureau, tmp_path):
    path = tmp_path / "old.backup"
    path.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="已存在"):
        call_command("backup", "--output", str(path))
    assert path.read_bytes() == b"an older backup"


def test_restore_refuses_without_yes_and_changes_nothing(bureau, tmp_path):
    path = tmp_path / "b.backup"
    _run("backup", "--output", str(path))
    late = _member_after_backup(bureau)
    entries = AuditEntry.objects.count()
    with pytest.raises(CommandError, match="请加 --yes"):
        call_command("restore", str(path))
    assert Member.objects.filter(pk=late.pk).exists()
    assert AuditEntry.objects.count() == entries


def _absent(path):
    pass


def _text(path):
    path.write_text("姓名,身份证号\n", encoding="utf-8")


def _foreign_sqlite(path):
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()


def _cut_backup(path):
    call_command("backup", "--output", str(path), stdout=io.StringIO())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _other_engine(path):
    path.write_bytes(b"PGDMP\x01\x0e\x00" if connection.vendor == "sqlite" else b"SQLite format 3\x00" + bytes(100))


@pytest.mark.parametrize("make", [_absent, _text, _foreign_sqlite, _cut_backup, _other_engine],
                         ids=["no-such-file", "text", "another-sqlite-file", "cut-backup", "other-engine"])
def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(bureau, tmp_path, make):
    path = tmp_path / "not-a-backup"
    make(path)
    members, entries = Member.objects.count(), AuditEntry.objects.count()
    with pytest.raises(CommandError, match="未做任何改动"):
        call_command("restore", str(path), "--yes")
    assert (Member.objects.count(), AuditEntry.objects.count()) == (members, entries)


def test_restoring_a_backup_whose_trail_was_edited_names_the_broken_link(bureau, tmp_path):
    for i in range(3):
        audit_record(by=Actor.system("test"), action="test.write", note=f"第{i}次")
    victim = AuditEntry.objects.order_by("seq")[1]
    drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET note = %s WHERE id = %s", ["改过", victim.pk])
    path = tmp_path / "edited.backup"
    _run("backup", "--output", str(path))
    with pytest.raises(CommandError, match=f"第 {victim.seq} 条"):
        call_command("restore", str(path), "--yes", stdout=io.StringIO())


def test_a_missing_pg_dump_is_named_with_its_package(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BackupError, match="找不到 pg_dump.*postgresql-client"):
        pg_tool("pg_dump")


@sqlite_only
def test_sqlite_restore_while_another_connection_writes_is_refused_and_changes_nothing(bureau, tmp_path):
    path = tmp_path / "b.sqlite3"
    _run("backup", "--output", str(path))
    late = _member_after_backup(bureau)
    name = connection.settings_dict["NAME"]
    writer = sqlite3.connect(name, uri=name.startswith("file:"), timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")  # an app server in the middle of a write
    try:
        with pytest.raises(CommandError, match="请先停止所有应用服务"):
            call_command("restore", str(path), "--yes")
    finally:
        writer.rollback()
        writer.close()
    assert Member.objects.filter(pk=late.pk).exists()
