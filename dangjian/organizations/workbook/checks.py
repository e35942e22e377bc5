"""The checks of the bureau workbook import, row by row: every cell against what its column holds,
every row against the rest of the file, the database and the importing user's scope. Problems are
collected as `RowError`s; clean rows become plans that `importer` writes."""

import copy
import datetime as dt
import itertools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.access.roles import Perm
from dangjian.core.crypto import search_hash
from dangjian.core.dates import PartialDate, Precision
from dangjian.core.excel import RowError, RowErrors, Sheet
from dangjian.core.excel import cells as cell
from dangjian.core.excel.reader import canonical_header
from dangjian.core.identity import birth_date_from_id, gender_from_id, normalize_person_name
from dangjian.organizations.models import Appointment, Member, Membership, Organization, Unit
from dangjian.organizations.services import (
    ALLOWED_PARENTS,
    MEMBER_HOLDING_KINDS,
    SUPERSEDES,
    _chunks,
    member_clean,
    taken_id_hashes,
    term_years,
)
from dangjian.organizations.workbook.layout import (
    AMBIGUOUS_VALUES,
    APPOINTMENT_SHEET,
    CATEGORIES,
    EDUCATIONS,
    FIELD_HEADERS,
    GENDERS,
    GUARDED_HEADERS,
    HEADER_ALIASES,
    ORG_KINDS,
    ORG_SHEET,
    ROLES,
    ROSTER_SHEET,
    SHEET_HEADERS,
    STATUSES,
    UNIT_KINDS,
    UNIT_SHEET,
    WORKBOOK_SHEETS,
)
from dangjian.organizations.workbook.scope import OUT_OF_SCOPE, ImportScope

# Roster rows checked (and written) at a time: the memory of one batch, whatever the file's size.
ROSTER_BATCH = 1000
# RowChecks.roster packs a row number (at most MAX_ROWS_PER_SHEET + 1) and a member pk in one int.
ROW_BITS = 20
ROW_MASK = (1 << ROW_BITS) - 1
ROLE_WORDS = "、".join(Appointment.Role.labels)
# member_clean speaks to a form ("请选择"); in a spreadsheet the person types.
_SPREADSHEET_WORDING = {
    ("gender", "请选择性别。"): "请填写性别：男或女。",
    ("category", "请选择党员类别。"): "请填写党员类别：正式党员或预备党员。",
    ("organization", "请选择所在党组织。"): "请填写所在党组织（编码或全称）。",
}


@dataclass
class OrgPlan:
    row: int
    code: str
    name: str
    kind: str
    parent_code: str
    founded_on: dt.date
    dissolved_on: dt.date | None = None
    renewed_on: dt.date | None = None  # the last 换届, when after the founding


@dataclass
class UnitPlan:
    row: int
    code: str
    name: str
    kind: str
    parent_code: str
    organization_code: str


@dataclass
class MemberPlan:
    row: int
    data: dict  # member_clean's output; organisation and unit may be unsaved stand-ins from the file
    since: dt.date | None = None  # the start of the stay in the organisation the row names
    status: str = Member.Status.ACTIVE  # another status: taken off the roster on `left_on`
    left_on: dt.date | None = None
    destination: str = ""


@dataclass(slots=True)
class RosterEntry:
    """What the later sheets (组织关系, 任职) need of a clean roster row once its plan is let go:
    kept while the row is not written (`RowChecks.unwritten`), else read back from its member."""

    row: int
    joined_on: dt.date
    since: dt.date | None
    left_on: dt.date | None
    name: str
    pk: int | None = None


@dataclass
class LeaverPlan:
    """A roster row taken off the roster on `left_on`, after the rest is written."""

    row: int
    id_number: str
    status: str
    left_on: dt.date
    destination: str


@dataclass
class StayPlan:
    """An earlier, closed stay of a member of this file's roster (组织关系 sheet)."""

    row: int
    id_number: str
    organization_code: str
    start: dt.date
    end: dt.date


@dataclass
class AppointmentPlan:
    row: int
    organization_code: str
    id_number: str
    role: str
    start: dt.date
    end: dt.date | None = None


class RowChecks:
    """Checks every sheet against the database, the rest of the file and the user's scope; the rows
    that pass become plans (`org_plans`, `unit_plans`, `stay_plans`, `appointment_plans`; the roster's
    go, a batch at a time, to the importer's writer, and leave a `RosterEntry` each)."""

    def __init__(self, *, scope: ImportScope, sheets=WORKBOOK_SHEETS):
        self.errors: list[RowError] = []
        self.notes: list[str] = []  # said after a clean import: what was not taken as typed
        self.scope = scope
        self.sheets = frozenset(sheets)  # the sheets this file has
        # References to codes or names that resolve to nothing usable, gathered so that a code
        # missing on many rows is reported once: (sheet, column, written) -> rows.
        self._unresolved: dict[tuple[str, str, str], list[int]] = {}
        self._unresolved_messages: dict[tuple[str, str, str], str] = {}
        self._renamed: list[tuple[int, str, str]] = []  # roster rows whose name was tidied
        # Rows already in the system exactly as the file has them (a file imported twice): said
        # once for all of them, not as a complaint on every column of every row.
        self.existing: dict[str, list[int]] = {}
        self.rows_read: dict[str, int] = {}
        # One query each: everything a reference in the file may point at. A bureau has tens of
        # organisations and units, a city a few thousand; both fit in memory with room to spare.
        # Whether the user may use each one is asked of the scope as it is referred to.
        self.db_orgs = {o.code: o for o in Organization.objects.all()}
        self.db_units = {u.code: u for u in Unit.objects.all()}
        # Stand-ins for the rows of this file, unsaved, so member_clean can check them as it would
        # the saved ones (it reads kind, name and dissolved_on). Codes of rows with errors are
        # remembered so a row that only points at a bad row is not blamed for it.
        self.orgs_by_code: dict[str, Organization] = dict(self.db_orgs)
        self.units_by_code: dict[str, Unit] = dict(self.db_units)
        self.orgs_by_name = _by_name(self.db_orgs.values())
        self.units_by_name = _by_name(self.db_units.values())
        self.broken_orgs: set[str] = set()
        self.broken_units: set[str] = set()
        # The one thing kept per roster row, for the duplicate's message and the later sheets:
        # ID number -> its row number | its member's pk << ROW_BITS (0 until written; a row with a
        # problem is never written). A clean row not written (the file has a problem) keeps its
        # RosterEntry in `unwritten` instead: memory flat in rows for a clean file.
        self.roster: dict[str, int] = {}
        self.unwritten: dict[str, RosterEntry] = {}
        self.member_count = 0  # clean roster rows
        self.leavers: list[LeaverPlan] = []  # roster rows taken off the roster (已转出, 已去世 …)
        self.db_members: dict[str, Member] = {}
        self.org_plans: list[OrgPlan] = []
        self.unit_plans: list[UnitPlan] = []
        self.stay_plans: list[StayPlan] = []
        self.appointment_plans: list[AppointmentPlan] = []
        self._defaulted_since = 0
        self.promotions = 0  # posts the import ends because their holder takes a higher post there
        self.incomplete_dates: dict[str, int] = {}  # roster column -> dates known to the month, year or 不详
        self.today = timezone.localdate()
        self._top_level_units: bool | None = None

    @property
    def clean(self) -> bool:
        """No problem found so far (`finish` turns the gathered ones into errors)."""
        return not (self.errors or self._unresolved or self.existing)

    def _unknown(self, noun: str, code: str, hint: str = "") -> str:
        """A code that names nothing the user may use. Scoped, "not there" and "not yours" read the
        same, so the message reveals nothing outside the user's scope."""
        what = f"找不到编码为 {code} 的{noun}" if self.scope.unscoped else f"编码为 {code} 的{noun}{OUT_OF_SCOPE}"
        return f"{what}：{hint}" if hint else f"{what}。"

    def _org_in_scope(self, org: Organization, perm: Perm) -> bool:
        """A row of this file that has its own errors is not blamed again where it is referred to."""
        return (org.pk is None and org.code in self.broken_orgs) or self.scope.on_organization(org, perm)

    def _may_found_top_level_unit(self) -> bool:
        if self._top_level_units is None:
            self._top_level_units = self.scope.may_found_top_level_unit()
        return self._top_level_units

    # ------------------------------------------------ columns

    def check_columns(self, sheet: Sheet) -> None:
        """Columns the import does not store are said, never dropped without a word: a header one
        letter off a known one is refused as a likely typo; others are named after the import
        (aliases.toml lists the known ones: the national system's export). A guarded column (党籍状态,
        撤销日期 …) is read, and a row it says is not current is refused until that history imports."""
        known = (*SHEET_HEADERS[sheet.name], *HEADER_ALIASES.get(sheet.name, {}), *GUARDED_HEADERS.get(sheet.name, {}))
        unread = []
        for written in sheet.unknown:
            header = canonical_header(written)
            typo = next((k for k in known if len(header) >= 3 and _one_edit_apart(header, k)), None)
            if typo:
                target = HEADER_ALIASES.get(sheet.name, {}).get(typo, typo)
                self.errors.append(RowError(sheet.name, 1, written, written,
                                            f"不认识表头「{written}」，是否应为「{target}」？请改正表头后再导入。"))
            else:
                unread.append(written)
        if unread:
            self.notes.append(f"工作表「{sheet.name}」中的列" + "".join(f"「{c}」" for c in unread)
                              + "不是可导入的列，其内容没有导入。")
        if sheet.ignored:
            self.notes.append(f"工作表「{sheet.name}」中的列" + "".join(f"「{c}」" for c in sheet.ignored)
                              + "按设计不导入（见导入说明“其他系统导出的表”）。")
        guarded = {h: v for h, v in GUARDED_HEADERS.get(sheet.name, {}).items() if h in sheet.columns}
        meaning = {ROSTER_SHEET: "在册党员", ORG_SHEET: "现有党组织", UNIT_SHEET: "现有单位",
                   APPOINTMENT_SHEET: "现任职务"}.get(sheet.name, "")
        if not guarded:
            return
        if isinstance(sheet.rows, list):
            for row, cells in sheet.rows:
                self._check_guarded(sheet, row, cells, guarded, meaning)
        else:  # a streamed sheet: each row as it goes by, on its way to the sheet's own checks
            sheet.rows = self._guarded_stream(sheet, sheet.rows, guarded, meaning)

    def _guarded_stream(self, sheet: Sheet, rows, guarded: dict, meaning: str):
        for row, cells in rows:
            self._check_guarded(sheet, row, cells, guarded, meaning)
            yield row, cells

    def _check_guarded(self, sheet: Sheet, row: int, cells: dict, guarded: dict, meaning: str) -> None:
        errs = RowErrors(sheet, row, cells)
        for header, neutral in guarded.items():
            value = cell.key(cells.get(header))
            if value and value not in neutral:
                errs.add(header, f"本平台暂不导入「{header}」，而这一行的“{cell.display(cells.get(header))}”"
                                 f"说明它已不是{meaning}：照常导入会把它当作{meaning}。请从表中删去这一行，"
                                 "在系统中办理相应手续。")
        errs.emit(self.errors)

    def _already_there(self, sheet: Sheet, row: int) -> None:
        self.existing.setdefault(sheet.name, []).append(row)

    def finish(self) -> None:
        """After every sheet: rows already imported, said once; a reference that resolves to nothing
        on several rows, once; names tidied."""
        self._report_existing()
        for key, rows in self._unresolved.items():
            sheet, column, _written = key
            message = self._unresolved_messages[key]
            if len(rows) > 1:
                shown = "、".join(str(r) for r in rows[:10]) + ("等" if len(rows) > 10 else "")
                message += f"（共 {len(rows)} 行引用它：第 {shown} 行）"
            self.errors.append(RowError(sheet, rows[0], column, _written, message))
        # In the order a person reads the file: by sheet, then row (a row's own columns stay in order).
        self.errors.sort(key=lambda e: (WORKBOOK_SHEETS.index(e.sheet) if e.sheet in WORKBOOK_SHEETS else -1, e.row))
        if self.promotions:
            self.notes.append(f"工作表「{APPOINTMENT_SHEET}」中 {self.promotions} 项任职将在同一党员升任该党组织更高职务之日结束"
                              "（如副书记升任书记后不再任副书记），均记入审计日志。")
        if self.incomplete_dates:
            counts = "、".join(f"{header} {n} 个" for header, n in self.incomplete_dates.items())
            self.notes.append(f"工作表「{ROSTER_SHEET}」中 {sum(self.incomplete_dates.values())} 个日期不完整（只有年月、只有年份或不详）："
                              f"{counts}。按填写的样子保存和显示；需要具体日子的规则按可能的最早一天计"
                              "（见导入说明“日期怎么填”）。")
        if self._defaulted_since:
            self.notes.append(f"工作表「{ROSTER_SHEET}」中 {self._defaulted_since} 名党员入党早于所在党组织成立，又没有填写"
                              "“转入本组织日期”：按党组织成立日期计入。")
        unknown_terms = [p.name for p in self.org_plans if not p.renewed_on and not p.dissolved_on
                         and term_years(p.kind, p.founded_on) is None and term_years(p.kind, self.today) is not None]
        if unknown_terms:
            shown = "、".join(unknown_terms[:10]) + ("等" if len(unknown_terms) > 10 else "")
            self.notes.append(f"{len(unknown_terms)} 个党组织任期未知（成立于任期制施行前，又没有填写“最近换届日期”）：{shown}。"
                              "请在党组织页面登记最近一次换届。")
        if self._renamed:
            shown = "；".join(f"第 {row} 行“{typed}”→“{name}”" for row, typed, name in self._renamed[:10])
            more = f"等 {len(self._renamed)} 行" if len(self._renamed) > 10 else ""
            self.notes.append(f"工作表「{ROSTER_SHEET}」中姓名里的空格或间隔号已统一：{shown}{more}。")

    def _report_existing(self) -> None:
        if not self.existing:
            return
        counts = "、".join(f"「{sheet}」{len(rows)} 行" for sheet, rows in self.existing.items())
        if sum(map(len, self.existing.values())) == sum(self.rows_read.values()):
            message = (f"这个文件已经导入过：其中每一行都已在系统中（{counts}），本次未导入任何数据。"
                       "如要补充新的党组织、党员或任职，请只在表中保留新的行。")
            self.errors.insert(0, RowError("", 0, "", "", message))
            return
        for sheet, rows in self.existing.items():
            shown = "、".join(str(r) for r in rows[:10]) + ("等" if len(rows) > 10 else "")
            self.errors.append(RowError(sheet, 0, "", "", f"第 {shown} 行共 {len(rows)} 行已在系统中（以前导入或录入过），"
                                                          "请从表中删去这些行，只保留新的行。"))

    # ------------------------------------------------ 党组织

    def check_orgs(self, sheet: Sheet) -> None:
        first_row, parents = {}, {}
        for row, cells in sheet.rows:
            first_row.setdefault(cell.key(cells.get("编码")), row)
            parents.setdefault(cell.key(cells.get("编码")), cell.key(cells.get("上级编码")))
        loops = _loops(parents)
        seen: dict[str, tuple[int, str | None]] = {}  # code -> (row, kind) of rows above
        self.rows_read[sheet.name] = len(sheet.rows)
        for row, cells in sheet.rows:
            if self._is_existing(sheet, row, cells, self.db_orgs, Perm.VIEW_ORGANIZATIONS):
                continue
            errs = RowErrors(sheet, row, cells)
            code, name = self._code_and_name(
                errs, cells, model=Organization, noun="党组织", row_above=lambda c: seen[c][0] if c in seen else None,
                existing=self.db_orgs, visible=lambda o: self.scope.on_organization(o, Perm.VIEW_ORGANIZATIONS))
            kind = ORG_KINDS.get(cell.key(cells.get("类型")))
            if kind is None:
                errs.add("类型", "类型应为：" + "、".join(ORG_KINDS) + "。")
            parent_code = cell.key(cells.get("上级编码"))
            parent_kind, parent_known, parent = None, True, None
            if code in loops:
                parent_known = False
                _report_loop(errs, loops[code], first_row)
            elif parent_code:
                parent_known = False
                if parent_code in seen:
                    parent_kind = seen[parent_code][1]
                    parent_known = parent_kind is not None
                    parent = self.orgs_by_code.get(parent_code)
                    # New under new: allowed where the user's grant will cover the parent once founded.
                    if parent is not None and not self._org_in_scope(parent, Perm.MANAGE_ORGANIZATIONS):
                        errs.add("上级编码", f"上级党组织 {parent_code}（本表第 {seen[parent_code][0]} 行）成立后"
                                            "不在您的管理范围内，不能在它之下再成立党组织。")
                elif parent_code == code:
                    errs.add("上级编码", "上级编码不能是本行自己的编码。")
                elif parent_code in first_row:
                    errs.add("上级编码", f"上级党组织 {parent_code} 在本表第 {first_row[parent_code]} 行，"
                                        "请把上级党组织排在下级之前。")
                elif parent_code in self.db_orgs and self.scope.on_organization(
                        self.db_orgs[parent_code], Perm.MANAGE_ORGANIZATIONS):
                    parent = self.db_orgs[parent_code]
                    if parent.dissolved_on:
                        errs.add("上级编码", f"上级党组织“{parent.name}”已撤销。")
                    else:
                        parent_kind, parent_known = parent.kind, True
                else:
                    errs.add("上级编码", self._unknown("党组织", parent_code, "上级编码应是系统中已有的党组织编码，"
                                                                            "或本表前面某一行的编码。"))
            if kind is not None and parent_known and parent_kind not in ALLOWED_PARENTS[kind]:
                label = Organization.Kind(kind).label
                if parent_kind is None:
                    errs.add("上级编码", f"{label}应设在上级党组织之下，请填写上级编码。")
                else:
                    errs.add("上级编码", f"{label}不能设在{Organization.Kind(parent_kind).label}之下。")
            if not parent_code and not self.scope.unscoped:
                # As on the page, which always asks for a parent: a new top-level organisation (another
                # bureau's tree) is the operator's, through the import_workbook command on the server.
                errs.add("上级编码", "请填写上级编码：只能在您管理的党组织之下成立党组织；"
                                    "顶层党组织由系统管理员在服务器上导入。")
            founded_on = self._required_date(errs, cells, "成立日期")
            if founded_on and founded_on > self.today:
                errs.add("成立日期", "成立日期不能晚于今天。")
            dissolved_on = self._dated_after(errs, cells, "撤销日期", founded_on, "成立日期")
            renewed_on = self._dated_after(errs, cells, "最近换届日期", founded_on, "成立日期")
            if renewed_on and dissolved_on and renewed_on > dissolved_on:
                errs.add("最近换届日期", "最近换届日期不能晚于撤销日期。")
            if renewed_on and kind and term_years(kind, renewed_on) is None:
                errs.add("最近换届日期", f"{Organization.Kind(kind).label}不实行任期制换届，请留空。")
            defines = bool(code) and code not in seen and code not in self.db_orgs
            if code and code not in seen:
                seen[code] = (row, kind)
            stand_in = ImportScope.stand_in(parent, code=code, name=name, kind=kind or "", founded_on=founded_on,
                                            dissolved_on=dissolved_on)
            if self._define(errs, defines, stand_in, self.orgs_by_code, self.orgs_by_name, self.broken_orgs):
                self.org_plans.append(OrgPlan(row, code, name, kind, parent_code, founded_on, dissolved_on,
                                              renewed_on if renewed_on != founded_on else None))
        self._check_dissolved_children(sheet)

    def _check_dissolved_children(self, sheet: Sheet) -> None:
        """A 撤销 organisation's sub-organisations in the file are 撤销 too, no later than it."""
        plans = {p.code: p for p in self.org_plans}
        for plan in self.org_plans:
            parent = plans.get(plan.parent_code)
            if parent and parent.dissolved_on and (not plan.dissolved_on or plan.dissolved_on > parent.dissolved_on):
                self.errors.append(RowError(sheet.name, plan.row, sheet.columns.get("撤销日期", "撤销日期"),
                                            str(plan.dissolved_on or ""),
                                            f"上级党组织 {parent.code} 已于 {parent.dissolved_on} 撤销，"
                                            "其下级党组织应在同日或之前撤销。"))

    def _is_existing(self, sheet: Sheet, row: int, cells: dict, existing: dict, perm: Perm) -> bool:
        """A row whose code is in the system under the same name, where the user may see it: imported
        before. (A code taken by another name is a clash, reported on the row; one the user may not
        see reads as any taken code.)"""
        found = existing.get(cell.key(cells.get("编码")))
        if found is None or found.name != cell.text(cells.get("名称")) or not self._visible(found, perm):
            return False
        self._already_there(sheet, row)
        return True

    def _visible(self, obj, perm: Perm) -> bool:
        return self.scope.on_unit(obj, perm) if isinstance(obj, Unit) else self.scope.on_organization(obj, perm)

    @staticmethod
    def _code_and_name(errs: RowErrors, cells, *, model, noun: str, row_above, existing: dict, visible
                       ) -> tuple[str, str]:
        """The 编码 and 名称 columns of a tree's sheet (organisations, units): both required, within
        their columns' lengths, the code neither repeated above in the sheet (`row_above(code)` gives
        that row) nor taken in the database. Codes are unique bureau-wide, so a taken code is refused;
        whose it is is said only if the importer may see it (`visible`)."""
        code = cell.key(cells.get("编码"))
        if not code:
            errs.add("编码", "请填写编码。")
        elif len(code) > model._meta.get_field("code").max_length:
            errs.add("编码", f"编码不能超过{model._meta.get_field('code').max_length}个字符。")
        elif (above := row_above(code)) is not None:
            errs.add("编码", f"编码 {code} 与第 {above} 行重复。")
        elif code in existing:
            owner = f"{noun}“{existing[code].name}”" if visible(existing[code]) else ""
            errs.add("编码", f"编码 {code} 已被{owner}使用；已导入过的{noun}请从本表删去。")
        name = cell.text(cells.get("名称"))
        if not name:
            errs.add("名称", "请填写名称。")
        elif len(name) > 100:
            errs.add("名称", "名称不能超过100个字。")
        return code, name

    def _define(self, errs: RowErrors, defines: bool, stand_in, by_code: dict, by_name: dict, broken: set) -> bool:
        """Register a row that defines a new organisation or unit, so later rows and sheets can refer
        to it (a bad row is remembered as broken, so referrers are not blamed twice). Emits the
        row's errors; returns whether the row is clean and can be planned."""
        if defines:
            by_code[stand_in.code] = stand_in
            by_name.setdefault(stand_in.name, []).append(stand_in)
        if errs:
            if defines:
                broken.add(stand_in.code)
            errs.emit(self.errors)
            return False
        return True

    # ------------------------------------------------ 单位

    def check_units(self, sheet: Sheet) -> None:
        first_row, parents = {}, {}
        for row, cells in sheet.rows:
            first_row.setdefault(cell.key(cells.get("编码")), row)
            parents.setdefault(cell.key(cells.get("编码")), cell.key(cells.get("上级编码")))
        loops = _loops(parents)
        seen: dict[str, int] = {}
        self.rows_read[sheet.name] = len(sheet.rows)
        for row, cells in sheet.rows:
            if self._is_existing(sheet, row, cells, self.db_units, Perm.VIEW_UNITS):
                continue
            errs = RowErrors(sheet, row, cells)
            code, name = self._code_and_name(
                errs, cells, model=Unit, noun="单位", row_above=seen.get, existing=self.db_units,
                visible=lambda u: self.scope.on_unit(u, Perm.VIEW_UNITS))
            kind = UNIT_KINDS.get(cell.key(cells.get("类型")))
            if kind is None:
                errs.add("类型", "类型应为：" + "、".join(UNIT_KINDS) + "。")
            parent_code = cell.key(cells.get("上级编码"))
            if code in loops:
                _report_loop(errs, loops[code], first_row)
            elif not parent_code:
                if not self._may_found_top_level_unit():
                    errs.add("上级编码", "请填写上级单位编码：只有管理顶层党组织的用户才能新建顶层单位。")
            elif parent_code in seen:
                pass  # a unit of this file, under a unit the user manages (its own row was checked)
            elif parent_code == code:
                errs.add("上级编码", "上级编码不能是本行自己的编码。")
            elif parent_code in first_row:
                errs.add("上级编码", f"上级单位 {parent_code} 在本表第 {first_row[parent_code]} 行，"
                                    "请把上级单位排在下级之前。")
            elif parent_code not in self.db_units or not self.scope.on_unit(self.db_units[parent_code],
                                                                             Perm.MANAGE_UNITS):
                errs.add("上级编码", self._unknown("单位", parent_code, "上级编码应是系统中已有的单位编码，"
                                                                      "或本表前面某一行的编码。"))
            org_code = cell.key(cells.get("服务党组织编码"))
            if org_code:
                org = self.orgs_by_code.get(org_code)
                if org is None or not self._org_in_scope(org, Perm.MANAGE_UNITS):
                    errs.add("服务党组织编码", self._unknown("党组织", org_code, "应是系统中已有的党组织编码，"
                                                                           "或「党组织」表中的编码。"))
                elif org.dissolved_on:
                    errs.add("服务党组织编码", f"党组织“{org.name}”已撤销。")
            defines = bool(code) and code not in seen and code not in self.db_units
            if code and code not in seen:
                seen[code] = row
            if self._define(errs, defines, Unit(code=code, name=name, kind=kind or ""),
                            self.units_by_code, self.units_by_name, self.broken_units):
                self.unit_plans.append(UnitPlan(row, code, name, kind, parent_code, org_code))

    # ------------------------------------------------ 花名册

    def check_members(self, sheet: Sheet, written=None) -> None:
        """The roster, ROSTER_BATCH rows at a time as the sheet streams in: each batch's clean rows
        are handed to `written(plans)` (the importer writes them while the file is clean so far, and
        returns {ID number: member pk}), then let go; what later sheets need of each row stays, in a
        `RosterEntry` (`self.roster`)."""
        self.rows_read[sheet.name] = 0
        for batch in _batched(sheet.rows, ROSTER_BATCH):
            self.rows_read[sheet.name] += len(batch)
            plans = self._check_member_batch(sheet, batch)
            pks = written(plans) if written and plans else None
            for plan in plans:
                if pks is not None:
                    number = plan.data["id_number"]
                    self.roster[number] = plan.row | pks[number] << ROW_BITS
                    del self.unwritten[number]
                if plan.status != Member.Status.ACTIVE:
                    self.leavers.append(LeaverPlan(plan.row, plan.data["id_number"], plan.status, plan.left_on,
                                                   plan.destination))
            self.member_count += len(plans)

    def _check_member_batch(self, sheet: Sheet, rows) -> list["MemberPlan"]:
        plans = []
        registered = self._registered_here(rows)
        # Every ID number of the batch looked up once, not a query per row in member_clean.
        taken = taken_id_hashes(_id_cell(cells) for _row, cells in rows)
        for row, cells in rows:
            if _id_cell(cells) in registered:
                self._already_there(sheet, row)
                continue
            errs = RowErrors(sheet, row, cells)
            typed = cell.text(cells.get("姓名"))
            data: dict = {"name": normalize_person_name(typed)}
            if data["name"] != typed:
                self._renamed.append((row, typed, data["name"]))
            if len(data["name"]) > 50:
                errs.add("姓名", "姓名不能超过50个字。")
            for header, key in (("身份证号", "id_number"), ("联系电话", "phone")):
                try:
                    data[key] = cell.number_text(cells.get(header), header)
                except cell.CellError as exc:
                    errs.add(header, str(exc))
                    data[key] = ""
            if "*" in data["phone"]:
                errs.add("联系电话", "联系电话已脱敏（含*号）：请填写完整号码，或留空。")
            id_number = data["id_number"].upper()
            if "*" in id_number:
                errs.add("身份证号", "身份证号已脱敏（含*号），无法据此登记：请填写完整的18位身份证号。")
            elif id_number in self.roster:
                errs.add("身份证号", f"与第 {self.roster[id_number] & ROW_MASK} 行的身份证号重复：同一名党员只应出现一次。")
            elif id_number:
                self.roster[id_number] = row
            id_birth = _birth_from_id(id_number)
            data["gender"] = self._choice(errs, cells, "性别", GENDERS, "性别应填“男”或“女”。")
            if data["gender"] is None and cell.is_blank(cells.get("性别")) and id_birth:
                data["gender"] = gender_from_id(id_number)
            data["ethnicity"] = cell.text(cells.get("民族")) or "汉族"
            if len(data["ethnicity"]) > 20:
                errs.add("民族", "民族不能超过20个字。")
            for header, key in (("入党日期", "joined_on"), ("转正日期", "full_on")):
                typed = self._partial_date(errs, cells, header)
                data[key] = typed and typed.day
                data[f"{key}_precision"] = typed.precision if typed else Precision.DAY
            # The birth date is the ID number's; 出生日期 (出生年月 in the national system's export)
            # may say only its month or year, and must agree with it.
            birth = self._partial_date(errs, cells, "出生日期")
            birth_blank = birth is None or not birth.complete
            data["birth_date"] = birth.day if birth else None
            if birth_blank and (birth is None or birth.day is None or (
                    id_birth and birth.day <= id_birth <= birth.latest)):
                data["birth_date"] = id_birth
            data["category"] = self._choice(errs, cells, "党员类别", CATEGORIES,
                                            "党员类别应填“正式党员”或“预备党员”（也可写“正式”“预备”）。")
            data["education"] = self._choice(errs, cells, "学历", EDUCATIONS,
                                             "学历应为：" + "、".join(Member.Education.labels) + "，或留空。") or ""
            data["post"] = cell.text(cells.get("职务"))
            if len(data["post"]) > 100:
                errs.add("职务", "职务不能超过100个字。")
            data["unit"], unit_broken = self._resolve_unit(errs, cells)
            data["organization"], org_broken = self._resolve_org(errs, cells)
            org = data["organization"]
            if org is not None and org.pk is None and org.dissolved_on and self._leaving(cells):
                # Registered live, taken off the roster, then the organisation is dissolved: the order
                # the import writes in (checked against the dates below).
                data["organization"] = copy.copy(org)
                data["organization"].dissolved_on = None
            try:
                data = member_clean(data, taken=taken)
            except ValidationError as exc:
                id_wrong = "身份证号" in errs or "id_number" in exc.message_dict
                for name, messages in exc.message_dict.items():
                    header = FIELD_HEADERS[ROSTER_SHEET].get(name, "")
                    message = _SPREADSHEET_WORDING.get((name, messages[0]), messages[0])
                    if name == "organization":
                        if org_broken or "所在党组织编码" in errs:
                            continue  # the cause is reported where it is: the organisation's own row, the code
                        if not cell.is_blank(cells.get("所在党组织编码")) or "所在党组织" not in sheet.columns:
                            header = "所在党组织编码"
                    # A blank birth date or gender is read from the ID number; if that is wrong,
                    # the ID number's own error is the one to fix.
                    if name == "birth_date" and data.get("birth_date") is None and birth_blank and id_wrong:
                        continue
                    if name == "gender" and cell.is_blank(cells.get("性别")) and id_wrong:
                        continue
                    errs.add(header, message)
            plan = self._roster_history(errs, cells, row, data)
            if errs or unit_broken or org_broken:
                errs.emit(self.errors)
            else:
                plans.append(plan)
                self.roster[plan.data["id_number"]] = row
                self.unwritten[plan.data["id_number"]] = RosterEntry(
                    row, plan.data["joined_on"], plan.since, plan.left_on, plan.data["name"])
        return plans

    def roster_pk(self, id_number: str) -> int:
        """The member written for this file's roster row of `id_number` (0: none)."""
        return self.roster.get(id_number, 0) >> ROW_BITS

    def roster_entries(self, id_numbers) -> dict[str, RosterEntry]:
        """This file's clean roster rows among `id_numbers`: those written read back from their
        members and current stays (two queries per 900), the others as kept."""
        entries = {n: self.unwritten[n] for n in id_numbers if n in self.unwritten}
        by_pk = {pk: n for n in id_numbers if (pk := self.roster_pk(n))}
        left = {p.id_number: p.left_on for p in self.leavers if p.id_number in id_numbers}
        pks = sorted(by_pk)
        for chunk in _chunks(pks):
            since = dict(Membership.objects.filter(member_id__in=chunk, end__isnull=True)
                         .values_list("member_id", "start"))
            for pk, name, joined_on in Member.objects.filter(pk__in=chunk).values_list("pk", "name", "joined_on"):
                number = by_pk[pk]
                entries[number] = RosterEntry(self.roster[number] & ROW_MASK, joined_on, since.get(pk), left.get(number),
                                              name, pk)
        return entries

    @staticmethod
    def _leaving(cells: dict) -> bool:
        status = STATUSES.get(cell.key(cells.get("党籍状态")))
        return status is not None and status != Member.Status.ACTIVE

    def _roster_history(self, errs: RowErrors, cells: dict, row: int, data: dict) -> MemberPlan:
        """转入本组织日期 (the start of the current stay), 党籍状态 with 离开日期 and 去向."""
        joined, org = data.get("joined_on"), data.get("organization")
        founded = getattr(org, "founded_on", None)
        since = self._dated_after(errs, cells, "转入本组织日期", joined, "入党日期")
        if since and founded and since < founded:
            errs.add("转入本组织日期", f"转入本组织日期不能早于该党组织的成立日期（{founded}）。")
        if since is None and joined and founded and founded > joined:
            since = founded  # nobody belongs to an organisation before it existed
            self._defaulted_since += 1
        status = self._choice(errs, cells, "党籍状态", STATUSES,
                              "党籍状态应为：正常、已转出、已去世、已出党（也可写“在册”“转出”“去世”“出党”），或留空。")
        status = status or Member.Status.ACTIVE
        left_on = self._dated_after(errs, cells, "离开日期", since or joined, "转入本组织日期" if since else "入党日期")
        if status == Member.Status.ACTIVE and left_on:
            errs.add("离开日期", "党籍状态为正常的党员不应填写离开日期。")
        elif status != Member.Status.ACTIVE and left_on is None and "离开日期" not in errs:
            errs.add("离开日期", f"党籍状态为“{Member.Status(status).label}”，请填写离开日期（转出、去世或出党的日期）。")
        # The organisation as the file or the system has it (a leaver's row was checked against a live copy).
        dissolved = getattr(self.orgs_by_code.get(getattr(org, "code", "")), "dissolved_on", None)
        if dissolved and left_on and left_on > dissolved:
            errs.add("离开日期", f"所在党组织已于 {dissolved} 撤销，离开日期不能晚于此日。")
        destination = cell.text(cells.get("去向"))
        if len(destination) > 200:
            errs.add("去向", "去向不能超过200个字。")
        return MemberPlan(row, data, since, status, left_on, destination)

    def _registered_here(self, rows) -> set[str]:
        """The batch's ID numbers already registered to a member the user may see, under the same
        name: rows imported before (one query). Others are checked row by row as today: a number
        registered to someone else, or outside the user's scope, is refused on its row. A number
        met earlier in this file is its duplicate (said on the row), even once that row is written."""
        wanted = {i for _row, cells in rows if (i := _id_cell(cells)) and i not in self.roster}
        if not wanted:
            return set()
        names = {_id_cell(cells): normalize_person_name(cell.text(cells.get("姓名"))) for _row, cells in rows}
        return {m.id_number for m in self.scope.members().with_id_numbers(*wanted).only("id_number", "name")
                if names.get(m.id_number) == m.name}

    def _resolve_org(self, errs: RowErrors, cells: dict) -> tuple[Organization | None, bool]:
        """所在党组织 (code or exact name) and/or 所在党组织编码, among the organisations on which the
        user may manage members (as the member form offers); (organisation, points at a bad row)."""
        org, found = self._resolve_reference(
            errs, cells, column="所在党组织", noun="党组织", by_code=self.orgs_by_code, by_name=self.orgs_by_name,
            usable=lambda o: self._org_in_scope(o, Perm.MANAGE_MEMBERS),
            missing="请填写系统中已有党组织的编码或全称（或本文件「党组织」表中的编码）。")
        if org is None:
            if not found:
                errs.add("所在党组织", "请填写所在党组织（编码或全称）。")
            return None, False
        return org, org.pk is None and org.code in self.broken_orgs

    def _resolve_unit(self, errs: RowErrors, cells: dict) -> tuple[Unit | None, bool]:
        """工作单位 (name or code) and/or 工作单位编码, among the units the user can see (as the
        member form offers); both may be blank."""
        unit, _found = self._resolve_reference(
            errs, cells, column="工作单位", noun="单位", by_code=self.units_by_code, by_name=self.units_by_name,
            usable=lambda u: self.scope.on_unit(u, Perm.VIEW_UNITS),
            missing="请填写系统中已有单位的名称或编码（或本文件「单位」表中的编码），也可留空。")
        return unit, unit is not None and unit.pk is None and unit.code in self.broken_units

    def _resolve_reference(self, errs: RowErrors, cells: dict, *, column: str, noun: str, by_code: dict,
                           by_name: dict, usable, missing: str):
        """A reference to an organisation or unit, written as a code in「<column>编码」and/or a code
        or exact name in「<column>」, to one that is `usable` by the importing user: one that is not
        reads as one that does not exist. Returns (object or None, whether anything was written)."""
        code_column = column + "编码"
        code, text = cell.key(cells.get(code_column)), cell.text(cells.get(column))
        sheet_of = {"党组织": ORG_SHEET, "单位": UNIT_SHEET}[noun]
        hint = "" if sheet_of in self.sheets else f"本文件没有「{sheet_of}」工作表，被引用的{noun}须已在系统中。"
        if code:
            found = by_code.get(code)
            if found is None or not usable(found):
                self._unresolvable(errs, code_column, code, self._unknown(noun, code, hint))
                return None, True
            if text and text not in (found.name, found.code) and cell.key(text) != found.code:
                errs.add(column, f"「{column}」填的是“{text}”，而编码 {code} 是“{found.name}”："
                                 "请改成一致，或清空其中一格。")
            return found, True
        if not text:
            return None, False
        found = by_code.get(cell.key(text))
        if found is not None and usable(found):
            return found, True
        candidates = [c for c in by_name.get(text, []) if usable(c)]
        if len(candidates) > 1:
            codes = "、".join(c.code for c in candidates)
            errs.add(column, f"名称为“{text}”的{noun}不止一个（编码 {codes}），请改填编码。")
            return None, True
        if not candidates:
            where = "找不到" + f"{noun}“{text}”" if self.scope.unscoped else f"{noun}“{text}”{OUT_OF_SCOPE}"
            self._unresolvable(errs, column, text, f"{where}：{hint or missing}")
            return None, True
        return candidates[0], True

    def _unresolvable(self, errs: RowErrors, column: str, written: str, message: str) -> None:
        """A reference that resolves to nothing: reported once per value with the rows using it
        (`finish`), so a missing sheet or a code mistyped in a template is one line, not hundreds.
        The row still counts as having an error (nothing is written)."""
        key = (errs.sheet.name, errs.sheet.columns.get(column, column), written)
        self._unresolved.setdefault(key, []).append(errs.row)
        self._unresolved_messages[key] = message
        errs.mark(column)

    # ------------------------------------------------ 组织关系

    def check_stays(self, sheet: Sheet) -> None:
        """Earlier stays of this file's members, closed, one after another, before the current one,
        each within its organisation's life."""
        self.rows_read[sheet.name] = len(sheet.rows)
        by_member: dict[str, list[StayPlan]] = {}
        roster = self.roster_entries({_id_cell(cells) for _row, cells in sheet.rows})
        for row, cells in sheet.rows:
            errs = RowErrors(sheet, row, cells)
            id_number = _id_cell(cells)
            plan = roster.get(id_number)
            if not id_number:
                errs.add("身份证号", "请填写党员的身份证号。")
            elif plan is None:
                errs.add("身份证号", "以前的组织关系只能为本文件「花名册」中（且无误）的党员导入。")
            org_code = cell.key(cells.get("党组织编码"))
            org = self.orgs_by_code.get(org_code)
            if not org_code:
                errs.add("党组织编码", "请填写党组织编码。")
            elif org is None or not self._org_in_scope(org, Perm.MANAGE_MEMBERS):
                errs.add("党组织编码", self._unknown("党组织", org_code, "应是系统中已有的党组织编码，"
                                                                      "或「党组织」表中的编码。"))
            elif org.kind not in MEMBER_HOLDING_KINDS:
                errs.add("党组织编码", "党员应编入党支部或党小组。")
            start = self._required_date(errs, cells, "转入日期")
            end = self._required_date(errs, cells, "转出日期")
            if start and end and end < start:
                errs.add("转出日期", "转出日期不能早于转入日期。")
            if plan and start and start < plan.joined_on:
                errs.add("转入日期", f"转入日期不能早于入党日期（{plan.joined_on}）。")
            current = plan and (plan.since or plan.joined_on)
            if current and end and end > current:
                errs.add("转出日期", f"以前的组织关系应在转入现所在党组织（{current}）之前结束。")
            if org is not None and start and org.founded_on and start < org.founded_on:
                errs.add("转入日期", f"该党组织 {org.founded_on} 才成立。")
            if org is not None and end and org.dissolved_on and end > org.dissolved_on:
                errs.add("转出日期", f"该党组织已于 {org.dissolved_on} 撤销。")
            if errs or org_code in self.broken_orgs:
                errs.emit(self.errors)
                continue
            stay = StayPlan(row, id_number, org_code, start, end)
            by_member.setdefault(id_number, []).append(stay)
            self.stay_plans.append(stay)
        for stays in by_member.values():
            stays.sort(key=lambda st: st.start)
            for before, after in zip(stays, stays[1:], strict=False):
                if after.start < before.end:
                    self.errors.append(RowError(sheet.name, after.row, sheet.columns.get("转入日期", "转入日期"),
                                                str(after.start), f"与第 {before.row} 行的组织关系时间重叠"
                                                                  f"（那段至 {before.end}）。"))

    # ------------------------------------------------ 任职

    def check_appointments(self, sheet: Sheet) -> None:
        wanted_ids = set()
        for _row, cells in sheet.rows:
            try:
                wanted_ids.add(cell.number_text(cells.get("身份证号"), "身份证号").upper())
            except cell.CellError:
                pass
        # Members already registered that the user can see (as the 任职 page offers), and the open
        # posts: two queries for the whole sheet. ID numbers are stored encrypted, so both match
        # on the search hash (`by_hash` gives back the number as the sheet spells it).
        by_hash = {search_hash(number, kind="id_number"): number for number in wanted_ids if number}
        registered = [digest for digest, number in by_hash.items() if number not in self.roster]
        self.db_members = {by_hash[m.id_number_hash]: m for m in
                           self.scope.members().filter(id_number_hash__in=registered)}
        open_posts = {}
        secretary_since: dict[str, tuple[dt.date, str]] = {}
        for org_code, id_hash, role, start, name in Appointment.objects.filter(end__isnull=True).values_list(
                "organization__code", "member__id_number_hash", "role", "start", "member__name"):
            open_posts[(org_code, by_hash.get(id_hash, id_hash), role)] = (start, name)
            if role == Appointment.Role.SECRETARY:
                secretary_since[org_code] = (start, name)
        seen: dict[tuple, int] = {}
        # Each member's open posts per organisation, (role, start, row or None for the database's):
        # for the promotion rules (a 副书记 made 书记 no longer holds 副书记).
        held: dict[tuple[str, str], list[tuple[str, dt.date, int | None]]] = {}
        for (held_org, held_id, held_role), (held_start, _name) in open_posts.items():
            held.setdefault((held_org, held_id), []).append((held_role, held_start, None))
        roster = self.roster_entries(wanted_ids)
        roster_names = {number: entry.name for number, entry in roster.items()}
        self.rows_read[sheet.name] = len(sheet.rows)
        for row, cells in sheet.rows:
            if self._is_open_post(cells, open_posts):
                self._already_there(sheet, row)
                continue
            errs = RowErrors(sheet, row, cells)
            org_code = cell.key(cells.get("党组织编码"))
            org = self.orgs_by_code.get(org_code) if org_code else None
            if not org_code:
                errs.add("党组织编码", "请填写党组织编码。")
            elif org is None or not self._org_in_scope(org, Perm.MANAGE_ORGANIZATIONS):
                # The 任职 page asks MANAGE_ORGANIZATIONS on the organisation.
                errs.add("党组织编码", self._unknown("党组织", org_code, "应是系统中已有的党组织编码，"
                                                                      "或「党组织」表中的编码。"))
            elif org.dissolved_on and org.pk is not None:
                errs.add("党组织编码", f"党组织“{org.name}”已撤销。")
            try:
                id_number = cell.number_text(cells.get("身份证号"), "身份证号").upper()
            except cell.CellError as exc:
                errs.add("身份证号", str(exc))
                id_number = ""
            member_name = roster_names.get(id_number)
            if not id_number and "身份证号" not in errs:
                errs.add("身份证号", "请填写任职党员的身份证号。")
            elif id_number and id_number not in self.roster:
                member = self.db_members.get(id_number)
                if member is None:
                    where = "找不到该身份证号的党员" if self.scope.unscoped else f"该身份证号的党员{OUT_OF_SCOPE}"
                    errs.add("身份证号", f"{where}：应是系统中已登记的党员，或本文件「花名册」中的党员。")
                elif member.status != Member.Status.ACTIVE:
                    errs.add("身份证号", f"{member.name}不是在册党员（{member.get_status_display()}），不能任职。")
                else:
                    member_name = member.name
            role = self._choice(errs, cells, "职务", ROLES, f"职务应为：{ROLE_WORDS}。")
            if role is None and "职务" not in errs:
                errs.add("职务", f"请填写职务：{ROLE_WORDS}。")
            start = self._required_date(errs, cells, "任职日期")
            if start and start > self.today:
                errs.add("任职日期", "任职日期不能晚于今天。")
            end = self._dated_after(errs, cells, "免职日期", start, "任职日期")
            holder = roster.get(id_number)
            if holder and holder.left_on and start and start > holder.left_on:
                errs.add("任职日期", f"该党员已于 {holder.left_on} 离开花名册，不能在此后任职。")
            if org is not None and org.dissolved_on and start and start > org.dissolved_on:
                errs.add("任职日期", f"该党组织已于 {org.dissolved_on} 撤销，任职日期不能晚于此日。")
            elif org is not None and org.dissolved_on and end and end > org.dissolved_on:
                errs.add("免职日期", f"该党组织已于 {org.dissolved_on} 撤销，免职日期不能晚于此日。")
            if org_code and id_number and role and start and "党组织编码" not in errs:
                self._check_promotion(errs, held.get((org_code, id_number), ()), role, start, end)
            if end is not None:
                # A past post: recorded as it was; the current holders are not its business.
                if errs or org_code in self.broken_orgs:
                    errs.emit(self.errors)
                else:
                    self.appointment_plans.append(AppointmentPlan(row, org_code, id_number, role, start, end))
                continue
            key = (org_code, id_number, role)
            # Who holds a post is told only for an organisation the user manages.
            if "党组织编码" not in errs and id_number and role:
                label = Appointment.Role(role).label
                if key in seen:
                    errs.add("身份证号", f"与第 {seen[key]} 行重复：同一党员在同一党组织的{label}任职只应出现一次。")
                elif key in open_posts:
                    since, holder = open_posts[key]
                    errs.add("身份证号", f"{holder}已是该党组织的{label}（自 {since} 起），无需再导入。")
                seen.setdefault(key, row)
                if role == Appointment.Role.SECRETARY and start:
                    current = secretary_since.get(org_code)
                    if current and current[0] > start:
                        errs.add("任职日期", f"现任书记{current[1]}自 {current[0]} 任职，"
                                            "新任书记的任职日期不能早于此日；请按任职先后排列各行。")
                    elif not errs:
                        secretary_since[org_code] = (start, member_name or "")
            if errs or org_code in self.broken_orgs:
                errs.emit(self.errors)
            else:
                self.appointment_plans.append(AppointmentPlan(row, org_code, id_number, role, start))
                held.setdefault((org_code, id_number), []).append((role, start, row))

    def _check_promotion(self, errs: RowErrors, held, role: str, start: dt.date, end: dt.date | None) -> None:
        """A post against the same member's open posts in the same organisation (services.SUPERSEDES):
        a promotion ends the lower posts on its day, so it cannot predate them; a lower post is an
        earlier one, begun and (if its 免职日期 is given) ended before the higher post. Counted for
        the preview's note."""
        label = Appointment.Role(role).label
        for held_role, since, row in held:
            held_label = Appointment.Role(held_role).label
            where = f"（本表第 {row} 行）" if row else ""
            if held_role in SUPERSEDES.get(role, ()) and end is None:
                if since > start:
                    errs.add("任职日期", f"该党员自 {since} 起任{held_label}{where}，升任{label}的日期不能早于此日。")
                else:
                    self.promotions += 1
            elif role in SUPERSEDES.get(held_role, ()):
                if start >= since:
                    errs.add("任职日期", f"该党员自 {since} 起任{held_label}{where}，不再同时任{label}："
                                        f"以前担任的{label}请填写实际的任职日期和免职日期（不晚于 {since}）。")
                elif end and end > since:
                    errs.add("免职日期", f"该党员自 {since} 起升任{held_label}{where}，{label}的免职日期不能晚于此日。")
                elif end is None:
                    self.promotions += 1

    def _is_open_post(self, cells: dict, open_posts: dict) -> bool:
        """The same person in the same post of an organisation the user manages, since the same day."""
        org = self.db_orgs.get(cell.key(cells.get("党组织编码")))
        role = ROLES.get(cell.key(cells.get("职务")))
        try:
            start = cell.date(cells.get("任职日期"))
        except cell.CellError:
            return False
        held = open_posts.get((org.code if org else "", _id_cell(cells), role))
        return bool(held and held[0] == start and self.scope.on_organization(org, Perm.MANAGE_ORGANIZATIONS))

    # ------------------------------------------------ helpers

    def _dated_after(self, errs: RowErrors, cells: dict, header: str, earliest: dt.date | None,
                     earliest_label: str) -> dt.date | None:
        """An optional date column: not after today, not before `earliest` (another column's date)."""
        try:
            day = cell.date(cells.get(header))
        except cell.CellError as exc:
            errs.add(header, str(exc))
            return None
        if day and day > self.today:
            errs.add(header, f"{header}不能晚于今天。")
        elif day and earliest and day < earliest:
            errs.add(header, f"{header}不能早于{earliest_label}（{earliest}）。")
        return day

    def _partial_date(self, errs: RowErrors, cells: dict, header: str) -> PartialDate | None:
        """A member date that may be known only to the month or year, or 不详 (core/dates.py);
        counted for the preview's note when it is incomplete."""
        try:
            typed = cell.partial_date(cells.get(header))
        except cell.CellError as exc:
            errs.add(header, str(exc))
            return None
        if typed and not typed.complete:
            self.incomplete_dates[header] = self.incomplete_dates.get(header, 0) + 1
        return typed

    def _required_date(self, errs: RowErrors, cells: dict, header: str) -> dt.date | None:
        try:
            day = cell.date(cells.get(header))
        except cell.CellError as exc:
            errs.add(header, str(exc))
            return None
        if day is None:
            errs.add(header, f"请填写{header}。")
        return day

    @staticmethod
    def _choice(errs: RowErrors, cells: dict, header: str, mapping: dict, message: str):
        text = cell.key(cells.get(header))
        if not text:
            return None
        value = mapping.get(text)
        if value is None:
            means = AMBIGUOUS_VALUES.get(header, {}).get(text)
            errs.add(header, f"“{text}”可能是{'或'.join(means)}，请写明其一。" if means else message)
        return value


def _batched(rows, size: int):
    """Lists of `size` rows (the last may be shorter) from any iterable, read as it goes."""
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _id_cell(cells: dict) -> str:
    try:
        return cell.number_text(cells.get("身份证号"), "身份证号").upper()
    except cell.CellError:
        return ""


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter replaced, added or dropped: 身份正号 for 身份证号, 出生日 for 出生日期."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _loops(parents: dict[str, str]) -> dict[str, list[str]]:
    """Each code on a loop of 上级编码 within the sheet -> the loop, starting at its first row's code
    (A → B → A: neither can be founded first, and reordering the rows cannot help)."""
    loops: dict[str, list[str]] = {}
    for start in parents:
        path, current = [start], parents[start]
        while current in parents and current not in path and current not in loops:
            path.append(current)
            current = parents[current]
        if current == start and len(path) > 1:
            for code in path:
                loops[code] = path
    return loops


def _report_loop(errs: RowErrors, loop: list[str], first_row: dict[str, int]) -> None:
    """Once, on the loop's first row; its other rows are not clean and say nothing more."""
    if first_row[loop[0]] != errs.row:
        errs.mark("上级编码")
        return
    chain = " → ".join([*loop, loop[0]])
    rows = "、".join(str(first_row[c]) for c in loop)
    errs.add("上级编码", f"上级编码形成了循环：{chain}（第 {rows} 行），这些组织互为上级，没有一个能先成立："
                        "请改正其中一个上级编码。")


def _by_name(objects) -> dict[str, list]:
    index: dict[str, list] = {}
    for obj in objects:
        index.setdefault(obj.name, []).append(obj)
    return index


def _birth_from_id(id_number: str) -> dt.date | None:
    if len(id_number) != 18 or not (id_number[:17].isascii() and id_number[:17].isdigit()):
        return None
    try:
        return birth_date_from_id(id_number)
    except ValueError:
        return None
