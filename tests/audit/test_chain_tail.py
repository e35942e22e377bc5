"""Hole 3 of issue 8, replayed: someone with write access to the database (the guard triggers
dropped) cuts the chain's tail, wipes it, or rewinds its head. Each is detected by `audit_verify`:
by the head's own MAC, and against the signed checkpoints kept outside the database."""

import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dangjian.audit.models import AuditEntry, AuditHead
from dangjian.audit.services import Actor, audit_record, audit_verify_chain
from dangjian.audit.triggers import drop_triggers

BY = Actor.system("test")
pytestmark = pytest.mark.django_db(transaction=True)


def _write(n):
    for i in range(n):
        audit_record(by=BY, action="test.write", note=f"第{i}次")


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _cut_tail_and_rewind_head(keep):
    """The attack of hole 3: delete every entry after `keep` and set the head to that entry."""
    drop_triggers(connection)
    last = AuditEntry.objects.get(seq=keep)
    _sql("DELETE FROM audit_auditentry WHERE seq > %s", [keep])
    _sql("UPDATE audit_audithead SET seq = %s, mac = %s WHERE id = 1", [keep, last.mac])


def _wipe_and_reset_head():
    drop_triggers(connection)
    _sql("DELETE FROM audit_auditentry")
    _sql("UPDATE audit_audithead SET seq = 0, mac = %s WHERE id = 1", ["0" * 64])


def _verify(*args):
    call_command("audit_verify", *args)


@pytest.fixture
def checkpoints(tmp_path, settings):
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.jsonl")
    return tmp_path / "audit-checkpoints.jsonl"


def test_untouched_chain_verifies_with_and_without_checkpoints(checkpoints):
    _write(5)
    call_command("audit_checkpoint")
    _write(3)
    call_command("audit_checkpoint")
    _verify()
    _verify("--checkpoints", str(checkpoints))
    assert [json.loads(line)["seq"] for line in checkpoints.read_text().splitlines()] == [5, 8]


def test_cut_tail_with_rewound_head_is_detected_by_the_head_mac():
    _write(60)
    _cut_tail_and_rewind_head(10)
    with pytest.raises(CommandError, match="链头校验值不符"):
        _verify()


def test_wipe_with_reset_head_is_detected_by_the_head_mac():
    _write(5)
    _wipe_and_reset_head()
    with pytest.raises(CommandError, match="链头校验值不符"):
        _verify()


def test_wipe_of_entries_and_head_is_detected():
    _write(5)
    drop_triggers(connection)
    _sql("DELETE FROM audit_auditentry")
    _sql("DELETE FROM audit_audithead")
    with pytest.raises(CommandError, match="链头缺失"):
        _verify()


def test_head_restored_from_an_old_copy_passes_alone_but_not_against_a_checkpoint(checkpoints):
    # The head's MAC cannot stop a head copied whole from an earlier state (an old backup): it
    # was genuine once. The checkpoint taken since then pins the later tail.
    _write(10)
    old_head = AuditHead.objects.values("seq", "mac", "head_mac").get(id=1)
    _write(50)
    call_command("audit_checkpoint")
    drop_triggers(connection)
    _sql("DELETE FROM audit_auditentry WHERE seq > 10")
    _sql("UPDATE audit_audithead SET seq = %s, mac = %s, head_mac = %s WHERE id = 1",
         [old_head["seq"], old_head["mac"], old_head["head_mac"]])
    _verify()  # the limit of the head MAC alone
    with pytest.raises(CommandError, match="链尾被截断.*第 60 条.*只有 10 条"):
        _verify("--checkpoints", str(checkpoints))


def test_wipe_then_a_fresh_chain_is_detected_against_the_checkpoint(checkpoints):
    # Wipe everything, head included, and let the platform write a new, internally valid chain.
    _write(5)
    call_command("audit_checkpoint")
    drop_triggers(connection)
    _sql("DELETE FROM audit_auditentry")
    _sql("DELETE FROM audit_audithead")
    _write(7)
    _verify()
    with pytest.raises(CommandError, match="第 5 条.*检查点不符"):
        _verify("--checkpoints", str(checkpoints))


def test_cut_tail_and_wipe_are_detected_against_the_checkpoint(checkpoints):
    _write(60)
    call_command("audit_checkpoint")
    _cut_tail_and_rewind_head(10)
    with pytest.raises(CommandError, match="链尾被截断"):
        _verify("--checkpoints", str(checkpoints))
    _wipe_and_reset_head()
    with pytest.raises(CommandError, match="链尾被截断.*只有 0 条"):
        _verify("--checkpoints", str(checkpoints))


def test_a_forged_or_edited_checkpoint_is_refused(checkpoints):
    _write(5)
    call_command("audit_checkpoint")
    line = json.loads(checkpoints.read_text())
    checkpoints.write_text(json.dumps({**line, "seq": 3}) + "\n")
    with pytest.raises(CommandError, match="第 1 行签名无效"):
        _verify("--checkpoints", str(checkpoints))
    checkpoints.write_text("不是检查点\n")
    with pytest.raises(CommandError, match="第 1 行格式不正确"):
        _verify("--checkpoints", str(checkpoints))


def test_checkpoint_is_logged_and_bad_paths_get_a_chinese_message(checkpoints, settings, tmp_path, caplog):
    _write(2)
    with caplog.at_level(logging.INFO, logger="dangjian.audit.checkpoint"):
        call_command("audit_checkpoint")
    assert '"seq":2' in caplog.text and '"signature"' in caplog.text
    with pytest.raises(CommandError, match="无法读取检查点文件"):
        _verify("--checkpoints", str(tmp_path / "nowhere.jsonl"))
    settings.AUDIT_CHECKPOINT_FILE = None
    with pytest.raises(CommandError, match="未指定检查点文件"):
        call_command("audit_checkpoint")
    with pytest.raises(CommandError, match="无法写入检查点文件"):
        call_command("audit_checkpoint", "--file", str(tmp_path / "no-dir" / "x.jsonl"))


def test_checkpoint_of_a_broken_chain_is_written_and_reports_the_break(checkpoints):
    _write(5)
    _wipe_and_reset_head()
    with pytest.raises(CommandError, match="已记录检查点，但审计链.*断开"):
        call_command("audit_checkpoint")
    assert checkpoints.read_text().count("\n") == 1
    assert audit_verify_chain() is not None


def test_checkpoint_reaches_syslog_when_configured(tmp_path):
    # A separate process with the deployment's environment: the signed line arrives on the socket.
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    address = str(tmp_path / "log.sock")
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(address)
    sink.settimeout(10)
    env = {**os.environ, "DEBUG": "1", "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
           "AUDIT_SYSLOG_ADDRESS": address, "AUDIT_CHECKPOINT_FILE": str(tmp_path / "ckpt.jsonl")}
    env.pop("DATABASE_URL", None)
    manage = [sys.executable, str(Path(__file__).resolve().parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, capture_output=True)
    done = subprocess.run([*manage, "audit_checkpoint"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    received = sink.recv(4096).decode()
    sink.close()
    line = (tmp_path / "ckpt.jsonl").read_text().strip()
    assert line in received and '"signature"' in line
