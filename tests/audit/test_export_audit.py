"""Every copy of records taken out of the platform leaves exactly one audit entry, written by the
one helper (audit_export), with the action of its kind: the roster page, the roster command, the
组织生活台账 and a meeting's 会议记录."""

import datetime as dt
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.actions import labels
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import EXPORTS, Actor, audit_export
from dangjian.orglife.models import MeetingKind
from dangjian.orglife.services import MeetingInput, meeting_record

SYSTEM = Actor.system("test")


@contextmanager
def new_entries():
    """The audit entries written inside the block (logging in happens before it)."""
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    entries: list[AuditEntry] = []
    yield entries
    entries.extend(AuditEntry.objects.filter(seq__gt=last).order_by("seq"))


@pytest.fixture
def theme_day(bureau):
    year = timezone.localdate().year - 1
    return meeting_record(by=SYSTEM, data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, topics="学习",
        starts_at=dt.datetime(year, 4, 15, 14, 30, tzinfo=timezone.get_current_timezone())))


def test_party_office_roster_download_is_audited_once_as_a_masked_roster_export(bureau, client_for):
    client = client_for("party_office")
    with new_entries() as entries:
        response = client.get(reverse("organizations:member_export"), {"organization": bureau.branch_a.pk})
    assert response.status_code == 200
    [entry] = entries
    assert entry.action == "member.export" and entry.actor_name == "dangban"
    assert (entry.object_type, entry.object_id) == ("organizations.organization", str(bureau.branch_a.pk))
    assert entry.note == "导出花名册 4 人（不含完整身份证号和电话）"  # 张三 in 第一党小组 and three others


def test_roster_command_is_audited_once_and_says_when_it_was_unmasked(bureau, tmp_path):
    with new_entries() as entries:
        call_command("export_roster", org="BB", out=str(tmp_path / "roster.xlsx"), reveal=True)
    [entry] = entries
    assert entry.action == "member.export" and entry.actor_name == "命令行导出"
    assert entry.object_id == str(bureau.branch_b.pk)
    assert entry.note == "导出花名册 4 人（含完整身份证号和电话）"


def test_branch_secretary_ledger_download_is_audited_once_with_the_organisation_and_year(
        bureau, client_for, theme_day):
    client = client_for("branch_secretary")
    year = theme_day.starts_at.year
    with new_entries() as entries:
        response = client.get(reverse("orglife:ledger", args=[bureau.branch_a.pk]), {"year": year})
    assert response.status_code == 200
    [entry] = entries
    assert entry.action == "ledger.export" and entry.actor_name == "shuji_a"
    assert (entry.object_type, entry.object_id) == ("organizations.organization", str(bureau.branch_a.pk))
    assert entry.note == f"导出组织生活台账（不含完整身份证号和电话）：{year}年"


def test_branch_secretary_minutes_download_is_audited_once_with_the_meeting(bureau, client_for, theme_day):
    client = client_for("branch_secretary")
    with new_entries() as entries:
        response = client.get(reverse("orglife:meeting_minutes", args=[theme_day.pk]))
    assert response.status_code == 200
    [entry] = entries
    assert entry.action == "minutes.export"
    assert (entry.object_type, entry.object_id) == ("orglife.meeting", str(theme_day.pk))
    assert entry.note == "导出会议记录（不含完整身份证号和电话）"


def test_sibling_secretary_refused_a_download_leaves_no_export_entry(bureau, client_for, theme_day):
    client = client_for("sibling_secretary")
    with new_entries() as entries:
        assert client.get(reverse("orglife:meeting_minutes", args=[theme_day.pk])).status_code == 404
        assert client.get(reverse("orglife:ledger", args=[bureau.branch_a.pk])).status_code == 404
    assert entries == []


def test_every_export_kind_has_its_own_action_with_a_chinese_label():
    actions = [action for action, _, _ in EXPORTS.values()]
    assert len(set(actions)) == len(actions) == 4
    assert all(labels().get(action) for action in actions)


def test_an_unknown_export_kind_is_refused(bureau):
    with pytest.raises(ValueError):
        audit_export(by=SYSTEM, what="everything", masked=True)
