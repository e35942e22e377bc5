"""The bureau workbook import (党组织, 单位, 花名册, 任职) and the 花名册 import: one service,
`import_workbook`, for the page, the command and the roster upload alike.

All or nothing (REL-07). Every row of every sheet is checked against the file, the database and
the importing user's scope (`checks.py`, `scope.py`), and every problem is collected with its
sheet, Excel row number and column header; a file with any problem leaves nothing. It is all one
transaction: while the file is clean so far, the plans are written through the services as they
are checked (so each record gets its own audit entry, and the same rules apply as in the forms),
the 花名册 streaming in a batch at a time so that memory stays flat in rows; after the first
problem the checks go on without writing, and the end rolls everything back. The
organisation tree, the roster, earlier stays, posts and leavers go through the services' bulk forms
(`organization_bulk_create`, `member_bulk_create`, `membership_history_add`,
`appointment_bulk_create`, `member_bulk_leave`): the statements an import sends do not grow with its
rows (tests/organizations/test_workbook_bulk.py); units, 换届 and 撤销 are still written one by one.
Re-importing a file that was already imported fails on the codes and ID numbers it would duplicate,
so it never creates duplicates, and it never changes or moves a record that already exists.

The user-facing description of the format is docs/import-workbook.md; keep the two in step.
"""

import datetime as dt
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.audit.services import Actor, audit_record
from dangjian.core import crypto
from dangjian.core.excel import RowError, Sheet, open_workbook, read_sheet
from dangjian.core.excel.reader import renamed
from dangjian.organizations.models import Member, Organization, PendingImport, Unit
from dangjian.organizations.services import (
    AppointmentRow,
    OrgRow,
    appointment_bulk_create,
    member_bulk_create,
    member_bulk_leave,
    membership_history_add,
    organization_bulk_create,
    organization_dissolve,
    organization_renew_term,
    unit_create,
)
from dangjian.organizations.workbook.checks import RowChecks
from dangjian.organizations.workbook.layout import (
    APPOINTMENT_SHEET,
    FIELD_HEADERS,
    GUARDED_HEADERS,
    HEADER_ALIASES,
    HISTORY_SHEET,
    IGNORED_HEADERS,
    ORG_SHEET,
    REQUIRED_HEADERS,
    REQUIRED_ONE_OF,
    ROSTER_SHEET,
    SHEET_ALIASES,
    SHEET_HEADERS,
    UNIT_SHEET,
    WORKBOOK_SHEETS,
)
from dangjian.organizations.workbook.scope import ImportScope


@dataclass
class ImportResult:
    """What an import did: every error found (then nothing was written), or the counts created
    per sheet label."""

    errors: list[RowError] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    # What the import did not take as typed, said after it: columns not imported, names tidied.
    notes: list[str] = field(default_factory=list)
    # A rehearsal: `created` is what the import would create; nothing was kept.
    preview: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------- writing

# Rows read back and written per call of the later bulk services (stays, leavers).
WRITE_SLICE = 1000


class _Writer:
    """Writes the plans through their services inside the import's one transaction, as the checks
    go: the organisation tree and units before the roster, each roster batch as it is checked
    (`members`), the rest once every sheet is checked (`finish`). It writes only while the file is
    clean so far: after the first problem (or a service's refusal, placed on its row) it only lets
    the checks run on, and the caller rolls everything back. Members are kept as their pks only."""

    def __init__(self, checks: RowChecks, *, by: Actor, columns: dict[str, dict[str, str]]):
        self.checks, self.by, self.columns = checks, by, columns
        self.at = ["", 0]  # the row being written, for the error if a service refuses it
        self.refused = False
        self.orgs: dict[str, Organization] | None = None
        self.units: dict[str, Unit] = {}

    @property
    def live(self) -> bool:
        return not self.refused and self.checks.clean

    def _guarded(self, write):
        """`write()` in a savepoint: a service's refusal becomes the row's error and stops the writing."""
        if not self.live:
            return None
        try:
            with transaction.atomic():
                return write()
        except (ValidationError, IntegrityError) as exc:
            self.refused = True
            _write_failed(self.checks.errors, self.at, exc, self.columns)
            return None

    def tree(self) -> None:
        if self.orgs is None:
            self._guarded(self._write_tree)

    def _write_tree(self) -> None:
        checks, by, at = self.checks, self.by, self.at
        planned_orgs = {plan.code for plan in checks.org_plans}
        # The whole tree in a few statements (treebeard's load_bulk), not a sorted insert each.
        orgs = _named_row(at, ORG_SHEET, checks.org_plans, organization_bulk_create, by=by, note="工作簿导入", rows=[
            OrgRow(plan.code, plan.name, plan.kind, plan.founded_on,
                   parent=(plan.parent_code if plan.parent_code in planned_orgs else checks.db_orgs[plan.parent_code])
                   if plan.parent_code else None)
            for plan in checks.org_plans])
        for plan in checks.unit_plans:
            at[:] = (UNIT_SHEET, plan.row)
            parent = None
            if plan.parent_code:
                parent = Unit.objects.get(pk=(self.units.get(plan.parent_code) or checks.db_units[plan.parent_code]).pk)
            org = None
            if plan.organization_code:
                org = orgs.get(plan.organization_code) or checks.db_orgs[plan.organization_code]
            self.units[plan.code] = unit_create(by=by, parent=parent, code=plan.code, name=plan.name,
                                                kind=plan.kind, organization=org)
        self.orgs = orgs

    def members(self, plans: list) -> dict[str, int] | None:
        """One roster batch (checked by member_clean): a few inserts; {ID number: pk}, or None when not written."""
        self.tree()
        return self._guarded(lambda: self._write_members(plans))

    def _write_members(self, plans: list) -> dict[str, int]:
        self.at[:] = (ROSTER_SHEET, plans[0].row)
        rows = []
        for plan in plans:
            data = dict(plan.data, since=plan.since)
            if data["organization"].pk is None:
                data["organization"] = self.orgs[data["organization"].code]
            if data.get("unit") is not None and data["unit"].pk is None:
                data["unit"] = self.units[data["unit"].code]
            rows.append(data)
        return {m.id_number: m.pk for m in member_bulk_create(by=self.by, rows=rows)}

    def finish(self, *, action: str, labels: tuple[str, ...]) -> dict[str, int]:
        self.tree()
        self._guarded(self._write_rest)
        checks = self.checks
        counts = {ORG_SHEET: len(checks.org_plans), UNIT_SHEET: len(checks.unit_plans),
                  ROSTER_SHEET: checks.member_count, HISTORY_SHEET: len(checks.stay_plans),
                  APPOINTMENT_SHEET: len(checks.appointment_plans)}
        created = {label: counts[label] for label in labels}
        if self.live:
            self.at[:] = ("", 0)
            audit_record(by=self.by, action=action,
                         note="导入：" + "，".join(f"{label} {n} 行" for label, n in created.items()))
        return created

    def _members(self, id_numbers) -> dict[str, Member]:
        """This file's members among `id_numbers`, read back (in_bulk batches under the database's
        limit on query parameters)."""
        pks = sorted({pk for n in id_numbers if (pk := self.checks.roster_pk(n))})
        return {m.id_number: m for m in Member.objects.in_bulk(pks).values()}

    def _write_rest(self) -> None:
        checks, by, at = self.checks, self.by, self.at

        def org_of(code: str) -> Organization:
            return self.orgs.get(code) or checks.db_orgs[code]

        for start in range(0, len(checks.stay_plans), WRITE_SLICE):
            stays = checks.stay_plans[start:start + WRITE_SLICE]
            members = self._members(p.id_number for p in stays)
            at[:] = (HISTORY_SHEET, stays[0].row)
            membership_history_add(by=by, stays=[(members[p.id_number], org_of(p.organization_code), p.start, p.end)
                                                 for p in stays])
        # In the order they were held: a secretary appointed ends the one before.
        posts = sorted(checks.appointment_plans, key=lambda p: (p.start, p.row))
        members = self._members(p.id_number for p in posts)
        _named_row(at, APPOINTMENT_SHEET, posts, appointment_bulk_create, by=by, appointments=[
            AppointmentRow(org_of(plan.organization_code), members.get(plan.id_number) or checks.db_members[plan.id_number],
                           plan.role, plan.start, plan.end)
            for plan in posts])
        del members
        # Then what happened after: members leaving the roster, 换届, 撤销 (the deepest first).
        for start in range(0, len(checks.leavers), WRITE_SLICE):
            leavers = checks.leavers[start:start + WRITE_SLICE]
            members = self._members(p.id_number for p in leavers)
            _named_row(at, ROSTER_SHEET, leavers, member_bulk_leave, by=by, leaves=[
                (members[plan.id_number], plan.status, plan.left_on, plan.destination) for plan in leavers])
        orgs = self.orgs
        for plan in checks.org_plans:
            if plan.renewed_on:
                at[:] = (ORG_SHEET, plan.row)
                organization_renew_term(by=by, organization=Organization.objects.get(pk=orgs[plan.code].pk),
                                        on=plan.renewed_on, note="工作簿导入：最近换届")
        dissolved = [p for p in checks.org_plans if p.dissolved_on]
        # Fetched afresh (one query): inserting sorted siblings may have moved their paths.
        fresh = Organization.objects.in_bulk([orgs[p.code].pk for p in dissolved])
        for plan in sorted(dissolved, key=lambda p: -len(fresh[orgs[p.code].pk].path)):
            at[:] = (ORG_SHEET, plan.row)
            organization_dissolve(by=by, organization=fresh[orgs[plan.code].pk], on=plan.dissolved_on,
                                  note="工作簿导入")


def _named_row(at: list, sheet: str, plans: list, service, **kwargs):
    """Call a bulk service on `plans`' rows; a row it refuses (`ValidationError.index`, its place in
    the list) is named by its sheet and Excel row, as the one-by-one services were."""
    at[:] = (sheet, plans[0].row if plans else 0)
    try:
        return service(**kwargs)
    except ValidationError as exc:
        if getattr(exc, "index", None) is not None:
            at[:] = (sheet, plans[exc.index].row)
        raise


def _write_failed(errors: list[RowError], at: list, exc: Exception, columns: dict[str, dict[str, str]]) -> None:
    """The service's refusal, placed on the row (and column) being written when it came."""
    sheet, row = at
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                header = FIELD_HEADERS.get(sheet, {}).get(name, "")
                column = columns.get(sheet, {}).get(header, header)
                errors.append(RowError(sheet, row, column, "", messages[0] + "（本次未导入任何数据）"))
            return
        errors.append(RowError(sheet, row, "", "", exc.messages[0] + "（本次未导入任何数据）"))
        return
    errors.append(RowError(sheet, row, "", "", "写入时与系统中的数据冲突（可能有人刚录入了相同的记录），"
                                               "本次未导入任何数据，请稍后重新导入。"))


# ---------------------------------------------------------------- the service

def _sheet_label(title: str) -> str:
    """Our name for a sheet titled `title` in the file: our own names, or another system's (aliases.toml)."""
    title = title.strip()
    return SHEET_ALIASES.get(title, title)


def _read(wb, errors: list[RowError], *, roster_only: bool) -> tuple[list[Sheet], dict[str, str]]:
    """The sheets to import, and the title each sheet has in the file (errors name a sheet as the
    person sees it); the file's errors go to `errors`. Every sheet streams (`read_sheet(stream=True)`):
    only its header is read here, its rows when its turn comes (the 花名册's a batch at a time, the
    others whole, as their checks look at a sheet more than once), so the workbook stays open until then."""
    found = {}
    for ws in wb.worksheets:  # the first sheet of a name wins, as the person sees them in order
        label = _sheet_label(ws.title)
        if label in WORKBOOK_SHEETS and (label == ROSTER_SHEET or not roster_only):
            found.setdefault(label, ws)
    if roster_only and ROSTER_SHEET not in found:
        found[ROSTER_SHEET] = wb.worksheets[0]
    sheets = []
    for label in WORKBOOK_SHEETS:
        if label not in found:
            continue
        sheet = read_sheet(found[label], label, SHEET_HEADERS[label], errors, required=REQUIRED_HEADERS[label],
                           required_one_of=REQUIRED_ONE_OF.get(label, ()), aliases=HEADER_ALIASES.get(label),
                           extra=tuple(GUARDED_HEADERS.get(label, {})), ignored=IGNORED_HEADERS.get(label, ()),
                           stream=True)
        if sheet is not None:
            sheets.append(sheet)
    titles = {label: ws.title for label, ws in found.items()}
    if not errors and not found:
        errors.append(RowError("", 0, "", "", "工作簿中没有可导入的工作表：工作表应命名为"
                                              "「党组织」「单位」「花名册」「任职」（至少其一）。"))
    return sheets, titles


def import_workbook(file, *, by: Actor, user, roster_only: bool = False, dry_run: bool = False) -> ImportResult:
    """The one import: sheets 党组织, 单位, 花名册, 任职 (any present, in that order; with
    `roster_only`, just the 花名册: the sheet so named, else the first sheet), columns found by header
    text. `file` is a path or a binary file.

    `user` is the importing user, and every row is checked against their grants (`ImportScope`): a
    row that would write outside them is refused, named by sheet, row and column, and a reference
    to something outside them reads as a reference to nothing. `user=None` is unscoped and is only
    for the operator's `import_workbook` command on the server.

    All or nothing: any error anywhere writes nothing, and every error is returned with its sheet,
    row and column. Each record is written by its service (with its audit entry), plus one audit
    entry for the import.

    With `dry_run`, the import is rehearsed: written in full, then rolled back, so the counts it
    returns (`preview=True`) and every refusal are exactly those of the real import."""
    errors: list[RowError] = []
    wb = open_workbook(file, errors)
    if wb is None:
        return ImportResult(errors=errors)
    try:
        sheets, titles = _read(wb, errors, roster_only=roster_only)
        result = _check_and_write(sheets, errors, by=by, user=user, dry_run=dry_run,
                                  action="roster.import" if roster_only else "workbook.import") if not errors else None
    finally:
        wb.close()
    if result is not None and result.ok:
        result.notes = [_titled(n, titles) for n in result.notes]
        return result
    errors = result.errors if result is not None else errors
    for label, title in titles.items():
        errors = renamed(errors, label, title)
    return ImportResult(errors=errors)


class _RolledBack(Exception):
    pass


def _check_and_write(sheets: list[Sheet], read_errors: list[RowError], *, by: Actor, user, dry_run: bool,
                     action: str) -> ImportResult:
    """Every sheet checked in order and, while the file is clean so far, written as it is checked
    (the roster a batch at a time), all inside one transaction that any problem rolls back."""
    checks = RowChecks(scope=ImportScope(user), sheets={s.name for s in sheets})
    check = {ORG_SHEET: checks.check_orgs, UNIT_SHEET: checks.check_units,
             ROSTER_SHEET: lambda sheet: checks.check_members(sheet, written=writer.members),
             HISTORY_SHEET: checks.check_stays, APPOINTMENT_SHEET: checks.check_appointments}
    writer = _Writer(checks, by=by, columns={s.name: s.columns for s in sheets})
    try:
        with transaction.atomic():
            for sheet in sheets:
                if sheet.name != ROSTER_SHEET:
                    sheet.rows = list(sheet.rows)
                checks.check_columns(sheet)
                check[sheet.name](sheet)
                sheet.rows = []  # checked: its plans (and the roster's entries) hold what the write needs
                if read_errors:  # a runaway or damaged roster, found as it streamed: said alone
                    raise _RolledBack
            created = writer.finish(action=action, labels=tuple(s.name for s in sheets))
            checks.finish()
            if checks.errors or dry_run:
                raise _RolledBack
    except _RolledBack:
        if read_errors:
            return ImportResult(errors=read_errors)
        if checks.errors:
            return ImportResult(errors=checks.errors)
        return ImportResult(created=created, notes=checks.notes, preview=True)
    return ImportResult(created=created, notes=checks.notes)


def _titled(note: str, titles: dict[str, str]) -> str:
    for label, title in titles.items():
        note = note.replace(f"「{label}」", f"「{title}」")
    return note


# ---------------------------------------------------------------- preview, then confirm

_SEALED = "organizations.pendingimport.content"
EXPIRED = "这次预览已过期（或已经确认、取消过），未导入任何数据：请重新上传文件。"


def import_preview(file, *, by: Actor, user, file_name: str, roster_only: bool = False
                   ) -> tuple[ImportResult, PendingImport | None]:
    """Check and rehearse an upload (`dry_run`); when it is clean, keep it for its uploader to
    confirm (`import_confirm`) after seeing what it would create and what it would not take."""
    content = file.read()
    result = import_workbook(io.BytesIO(content), by=by, user=user, roster_only=roster_only, dry_run=True)
    if not result.ok:
        return result, None
    PendingImport.objects.filter(created_at__lt=_pending_since()).delete()
    pending = PendingImport.objects.create(user=user, file_name=file_name[:200], roster_only=roster_only,
                                           sealed_content=crypto.provider().encrypt(content, context=_SEALED))
    return result, pending


def import_confirm(*, pending_id, by: Actor, user) -> ImportResult:
    """Import a previewed upload for real: checked again (the system may have changed since), all or
    nothing as ever. A preview is its uploader's alone, confirmed once, within the time allowed."""
    pending = _pending(pending_id, user)
    if pending is None:
        return ImportResult(errors=[RowError("", 0, "", "", EXPIRED)])
    content = crypto.provider().decrypt_bytes(pending.sealed_content, context=_SEALED)
    result = import_workbook(io.BytesIO(content), by=by, user=user, roster_only=pending.roster_only)
    pending.delete()
    return result


def import_cancel(*, pending_id, user) -> None:
    pending = _pending(pending_id, user)
    if pending is not None:
        pending.delete()


def _pending_since() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=settings.PENDING_IMPORT_MINUTES)


def _pending(pending_id, user) -> PendingImport | None:
    try:
        pk = int(pending_id)
    except (TypeError, ValueError):
        return None
    return PendingImport.objects.filter(pk=pk, user=user, created_at__gte=_pending_since()).first()


def import_roster(file, *, by: Actor, user) -> ImportResult:
    """Register members from a 花名册 (a branch's upload): `import_workbook` with `roster_only`."""
    return import_workbook(file, by=by, user=user, roster_only=True)
