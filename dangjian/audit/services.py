"""The audit trail's one write path. Every service calls `audit_record` inside its own transaction,
so a business change and its audit entry commit together or not at all (fail closed)."""

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from contextlib import ContextDecorator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dangjian.audit.actions import unversioned
from dangjian.audit.models import AuditEntry, AuditHead
from dangjian.core.client_ip import client_ip
from dangjian.core.identity import mask_id_number, mask_phone
from dangjian.core.transitions import Move, Workflow, transition
from dangjian.core.updates import VERSION, Changes, Conflict, model_update

# Fields whose values the trail keeps only masked: the trail must not become a copy of the roster.
MASKED_FIELDS = {"id_number": mask_id_number, "phone": mask_phone}
REDACTED_FIELDS = {"password"}


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which roles and from where. Built once per request (or per command)."""

    user: object | None
    name: str
    roles: tuple[str, ...] = ()
    ip: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user
        return cls(
            user=user if user.is_authenticated else None,
            name=user.get_username() if user.is_authenticated else "匿名",
            roles=_roles_of(user),
            ip=client_ip(request),
        )

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls(user=None, name=name, roles=("system",))


def _roles_of(user) -> tuple[str, ...]:
    """The user's role codes. Read through the `role_assignments` relation (the grants the access
    policy has already loaded for this request when it cached them), so the audit trail, which sits
    below the access area, does not import it."""
    if not user.is_authenticated:
        return ()
    grants = getattr(user, "_role_assignments", None)
    if grants is None:
        return tuple(sorted(set(user.role_assignments.values_list("role", flat=True))))
    return tuple(sorted({a.role for a in grants}))


def snapshot(obj, fields: list[str]) -> dict:
    """A JSON-safe, masked picture of `obj` for the before/after columns."""
    return {name: present(name, getattr(obj, name + "_id", None) if _is_fk(obj, name) else getattr(obj, name))
            for name in fields}


def present(name: str, value):
    """One field's value as the trail keeps it: masked or redacted where the field is sensitive,
    dates as ISO text (datetimes in the one local time zone), Decimals as text, rows as ids."""
    if name in REDACTED_FIELDS:
        return "***"
    if name in MASKED_FIELDS and value:
        return MASKED_FIELDS[name](value)
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "_meta"):
        return value.pk
    return value


def audit_changes(
    *, by: "Actor", action: str, obj, changes: Changes, note: str = "", after_extra: dict | None = None,
    always: bool = False,
) -> "AuditEntry | None":
    """Record `changes` (from `model_update`): before and after name exactly the changed fields,
    masked as `snapshot` masks them; `after_extra` adds facts that are not fields (posts ended).
    Nothing changed and nothing extra: no entry, unless `always` (a service whose act is itself
    the news, such as a dated event, records it even when no field moved)."""
    if not changes and not after_extra and not always:
        return None
    before = {name: present(name, old) for name, (old, _new) in changes.items()}
    after = {name: present(name, new) for name, (_old, new) in changes.items()} | (after_extra or {})
    return audit_record(by=by, action=action, obj=obj, before=before, after=after, note=note)


def audited_update(*, by: "Actor", action: str, instance, fields: list[str], data: dict, note: str = "",
                   expected_version: int | None = None) -> Changes:
    """`model_update` plus its audit entry, in one transaction. Only the keys of `data` that are in
    `fields` are set; the entry names exactly the fields whose values changed, and no entry is
    written when none did (an unchanged form saved again is not an event). With
    `expected_version`, a record someone else saved meanwhile is refused, worded by `stale`."""
    with explained_conflict(), transaction.atomic():
        changes = model_update(instance=instance, fields=fields, data=data, expected_version=expected_version)
        audit_changes(by=by, action=action, obj=instance, changes=changes, note=note)
    return changes


# How many of the record's latest entries a conflict message reads (a form open for a day may be
# several writes behind; the message names them all, up to this many).
STALE_ENTRIES = 20


def stale(conflict: Conflict) -> Conflict:
    """The Conflict worded for the second writer from the trail: who saved the record since they
    read it, when, and which fields changed (the record's latest entries, one per write since the
    version they read): "该记录已被 张三 于 14:05 修改，以下字段已变：地点、议题/主题；请核对后重新
    提交". Two queries (the entries, the actors' names)."""
    from dangjian.audit.display import describe_entries, key_labels

    instance = conflict.instance
    if instance is None:
        return conflict
    current = conflict.current
    if current is None:
        current = type(instance)._base_manager.filter(pk=instance.pk).values_list(VERSION, flat=True).first()
    behind = max(1, min(STALE_ENTRIES, (current or 0) - (conflict.expected or 0)))
    object_type = instance._meta.label_lower
    # Only writes of the record count a version: a reveal of the ID number, a 留党察看 period or a
    # meeting's voting rights recomputed are about the record, not writes of it (register_unversioned).
    entries = list(AuditEntry.objects.filter(object_type=object_type, object_id=str(instance.pk))
                   .exclude(action__in=unversioned()).order_by("-seq")[:behind])
    if not entries:
        return Conflict(instance=instance, expected=conflict.expected, current=current)
    describe_entries(entries, role_labels={})
    who = "、".join(dict.fromkeys(e.actor_label for e in entries))
    at = timezone.localtime(entries[0].at)
    when = f"{at:%H:%M}" if at.date() == timezone.localdate() else f"{at.month}月{at.day}日 {at:%H:%M}"
    keys = [key for e in reversed(entries) for side in (e.before, e.after) if isinstance(side, dict)
            for key in side if key != VERSION]
    fields = key_labels(object_type, keys)
    changed = f"，以下字段已变：{'、'.join(fields)}" if fields else ""
    return Conflict(f"该记录已被 {who} 于 {when} 修改{changed}；请核对后重新提交。",
                    instance=instance, expected=conflict.expected, current=current)


class explained_conflict(ContextDecorator):  # lower case: used like transaction.atomic
    """Re-raise a bare `Conflict` from the block worded by `stale`. Put it outside the write's
    transaction (as a decorator: above `@transaction.atomic`), so the write is rolled back before
    the trail is read."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, Conflict) and not exc.worded:
            raise stale(exc) from exc
        return False


def audited_transition(
    *, by: "Actor", action: str, workflow: Workflow, instance, to: str, values: dict | None = None,
    event: Callable | None = None, note: str = "", after_extra: dict | None = None,
):
    """`core.transitions.transition` with its audit entry: the move is refused (Chinese message)
    if the workflow does not allow it; otherwise the state is set, the event row written and the
    entry records the fields the move changed. Returns the event row (None without one)."""

    def record(move: Move) -> None:
        audit_changes(by=by, action=action, obj=instance, changes=move.changes, note=note,
                      after_extra=after_extra, always=True)

    with transaction.atomic():
        return transition(workflow=workflow, instance=instance, to=to, values=values, event=event, on_moved=record)


def _is_fk(obj, name: str) -> bool:
    field_ = obj._meta.get_field(name)
    return field_.many_to_one or field_.one_to_one


def entry_payload(entry: AuditEntry) -> bytes:
    """The canonical bytes the MAC covers: every column but the MACs themselves."""
    content = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "roles": entry.roles,
        "source_ip": entry.source_ip,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def compute_mac(prev_mac: str, payload: bytes) -> str:
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), prev_mac.encode() + payload, hashlib.sha256).hexdigest()


def _keyed(purpose: str, text: str) -> str:
    """An HMAC with the chain's key over `text`, bound to `purpose` so that a MAC made for one
    use (the head, a checkpoint) can never be passed off as another (an entry)."""
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), f"{purpose}\n{text}".encode(), hashlib.sha256).hexdigest()


def head_mac(seq: int, mac: str) -> str:
    """The head's own MAC over (seq, mac): without the key, nobody who can write the database can
    rewind or reset the head to match a cut chain."""
    return _keyed("audit-head", f"{seq}:{mac}")


# Personal numbers written anywhere in an entry's text (a log-in name typed as an ID number, a
# phone in a note or an object's name) are masked before the entry is written: an 18-character ID
# number (17 digits and a digit or X), a mobile number (11 digits from 13 to 19), a fixed line with
# its area code and a hyphen. Only whole numbers: digits or letters on either side do not match.
_PERSONAL_NUMBER_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?P<id>\d{17}[\dXx])|(?P<mobile>1[3-9]\d{9})|(?P<line>0\d{2,3}-\d{7,8}))(?![0-9A-Za-z])",
    re.ASCII,
)


def _mask_match(match: re.Match) -> str:
    if match.group("id"):
        return mask_id_number(match.group("id").upper())
    return mask_phone(match.group(0))


def mask_personal_numbers(value):
    """`value` (text, or JSON made of dicts, lists and text) with every ID number and phone masked."""
    if isinstance(value, str):
        return _PERSONAL_NUMBER_RE.sub(_mask_match, value)
    if isinstance(value, dict):
        return {key: mask_personal_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_personal_numbers(item) for item in value]
    return value


def audit_record(
    *, by: Actor, action: str, obj=None, before: dict | None = None, after: dict | None = None, note: str = ""
) -> AuditEntry:
    """Append one entry to the chain. Call inside the business transaction."""
    return audit_record_many(by=by, items=[AuditItem(action, obj, before, after, note)])[0]


@dataclass(frozen=True)
class AuditItem:
    action: str
    obj: object = None
    before: dict | None = None
    after: dict | None = None
    note: str = ""


def audit_record_many(*, by: Actor, items: list[AuditItem]) -> list[AuditEntry]:
    """Append several entries in one insert (bulk imports), chained exactly as one by one."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        at, seq, mac = timezone.now(), head.seq, head.mac
        entries = []
        for item in items:
            obj = item.obj
            seq += 1
            masked = mask_personal_numbers
            entry = AuditEntry(
                seq=seq, at=at, actor=by.user, actor_name=masked(by.name)[:150], roles=",".join(by.roles)[:300],
                source_ip=by.ip, action=item.action,
                object_type=obj._meta.label_lower if obj is not None else "",
                object_id=str(obj.pk) if obj is not None else "",
                object_repr=masked(str(obj))[:200] if obj is not None else "",
                before=masked(item.before), after=masked(item.after), note=masked(item.note)[:300], prev_mac=mac,
            )
            entry.mac = mac = compute_mac(entry.prev_mac, entry_payload(entry))
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries, batch_size=500)
        head.seq, head.mac, head.head_mac = seq, mac, head_mac(seq, mac)
        if any(item.action not in READS for item in items):
            head.data_seq += 1
        head.save(update_fields=["seq", "mac", "head_mac", "data_seq"])
    return entries


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_verify_chain(*, batch_size: int = 2000, checkpoints: list["Checkpoint"] | None = None) -> ChainBreak | None:
    """Walk the chain in order; return the first broken link, or None if the chain is whole.
    The head must exist and carry its own valid MAC, and must name the last entry. Each of
    `checkpoints` (signed lines kept outside the database) must still match: its entry present
    with the same MAC, so a tail cut below it, a wipe or a head copied from an older state shows."""
    expected_prev = "0" * 64
    expected_seq = 1
    last_seq = 0
    pinned = {c.seq: c for c in checkpoints or () if c.seq > 0}
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            return ChainBreak(expected_seq, f"缺少第 {expected_seq} 条记录（下一条为第 {entry.seq} 条）")
        if entry.prev_mac != expected_prev:
            return ChainBreak(entry.seq, "与上一条记录的链接不符")
        if not hmac.compare_digest(entry.mac, compute_mac(entry.prev_mac, entry_payload(entry))):
            return ChainBreak(entry.seq, "记录内容与其校验值不符（被修改过）")
        if entry.seq in pinned and not hmac.compare_digest(entry.mac, pinned[entry.seq].mac):
            return ChainBreak(entry.seq, f"与 {pinned[entry.seq].at} 的检查点不符（该处记录被整体替换过）")
        expected_prev, expected_seq, last_seq = entry.mac, entry.seq + 1, entry.seq
    if pinned and max(pinned) > last_seq:
        latest = pinned[max(pinned)]
        return ChainBreak(last_seq + 1, f"链尾被截断：{latest.at} 的检查点记到第 {latest.seq} 条，"
                                        f"数据库中只有 {last_seq} 条")
    head = AuditHead.objects.filter(id=1).first()
    if head is None:
        return ChainBreak(last_seq + 1, "链头缺失（链头被删除，记录可能被整体清除）")
    if not hmac.compare_digest(head.head_mac, head_mac(head.seq, head.mac)):
        return ChainBreak(head.seq + 1, f"链头校验值不符：链头被改写（记为第 {head.seq} 条），链尾可能被截断或整体清除")
    if head.seq != last_seq:
        return ChainBreak(last_seq + 1, f"链尾缺少记录：链头记为第 {head.seq} 条，实际只有 {last_seq} 条")
    if head.mac != expected_prev:
        return ChainBreak(last_seq, "链头与最后一条记录的校验值不符")
    return None


# Signed checkpoints: a line per run of `audit_checkpoint`, kept by the operator outside the
# database (a file, syslog). Each names the head at that moment and is signed with the chain's key.
@dataclass(frozen=True)
class Checkpoint:
    seq: int
    mac: str
    at: str

    def signed(self) -> dict:
        return {"seq": self.seq, "mac": self.mac, "at": self.at, "signature": _checkpoint_signature(self)}


def _checkpoint_signature(checkpoint: Checkpoint) -> str:
    return _keyed("audit-checkpoint", f"{checkpoint.seq}:{checkpoint.mac}:{checkpoint.at}")


class CheckpointError(Exception):
    """A checkpoint file that cannot be trusted (Chinese message naming the line)."""


def checkpoint_take() -> tuple[Checkpoint, "ChainBreak | None"]:
    """The head as it stands, as a checkpoint, and the chain's state (a checkpoint of a broken
    chain is still written, so the break is on record outside the database)."""
    head = AuditHead.objects.filter(id=1).first()
    seq, mac = (head.seq, head.mac) if head else (0, "0" * 64)
    return Checkpoint(seq=seq, mac=mac, at=timezone.localtime().isoformat(timespec="seconds")), audit_verify_chain()


def checkpoint_line(checkpoint: Checkpoint) -> str:
    return json.dumps(checkpoint.signed(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def checkpoints_read(lines) -> list[Checkpoint]:
    """Parse a checkpoint file's lines; any line that is not a checkpoint signed with the chain's
    key is refused (a forged or edited file must not vouch for a cut chain)."""
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            checkpoint = Checkpoint(seq=int(data["seq"]), mac=str(data["mac"]), at=str(data["at"]))
            signature = str(data["signature"])
        except (ValueError, KeyError, TypeError):
            raise CheckpointError(f"检查点文件第 {number} 行格式不正确") from None
        if not hmac.compare_digest(signature, _checkpoint_signature(checkpoint)):
            raise CheckpointError(f"检查点文件第 {number} 行签名无效（被改写或来自别的密钥）")
        found.append(checkpoint)
    return found


# What each kind of export is called in the trail: one action code per kind, one wording for all.
EXPORTS = {
    "roster": ("member.export", "花名册", "人"),
    "ledger": ("ledger.export", "组织生活台账", "条"),
    "minutes": ("minutes.export", "会议记录", "条"),
    "attachment": ("attachment.export", "会议附件", "个"),
}
# Entries that record a reading or a session, not a change of records: they leave the records'
# version (AuditHead.data_seq) alone, so a log-in, a failed one (anyone may send those), a search
# or an export does not throw away every result kept until the next write (core.datacache).
# Any other action, one added later included, moves it.
READS = frozenset({
    "auth.login", "auth.logout", "auth.login_failed", "auth.login_refused", "auth.otp_verify", "auth.otp_failed",
    "audit.search", "member.reveal_id_number", "backup.create", *(action for action, _noun, _unit in EXPORTS.values()),
})


def audit_export(*, by: Actor, what: str, obj=None, count: int | None = None, masked: bool | None,
                 note: str = "") -> AuditEntry:
    """Record that `by` took a copy of records out of the platform: `what` is a key of EXPORTS,
    `obj` the organisation or record exported (if one), `count` how many rows it carried, `masked`
    whether ID numbers and phones were left out or masked (None: a file the platform did not write,
    such as an uploaded attachment, whose contents it cannot vouch for). Call it once per file handed out, after
    the file was made and before it leaves (inside the same transaction when the file is written to
    disk). Reading the trail tells who exported what, how much, and whether unmasked."""
    if what not in EXPORTS:
        raise ValueError(f"unknown export {what!r}: add it to EXPORTS (and its label to its area's register_labels)")
    action, noun, unit = EXPORTS[what]
    text = f"导出{noun}"
    if count is not None:
        text += f" {count} {unit}"
    if masked is not None:
        text += "（不含完整身份证号和电话）" if masked else "（含完整身份证号和电话）"
    if note:
        text += f"：{note}"
    return audit_record(by=by, action=action, obj=obj, note=text)
