"""Excel in and out: the bureau workbook (党组织, 单位, 花名册, 任职) and the party roster (花名册).

Import is all or nothing (REL-07). Every row of every sheet is read and checked first, and every
problem is collected with its sheet, Excel row number and column header; a file with any problem
writes nothing. A clean file is written through the ordinary services (so each record gets its own
audit entry, and the same rules apply as in the forms) inside one transaction, so a failure half-way
also leaves nothing behind. Re-importing a file that was already imported fails on the codes and ID
numbers it would duplicate, so it never creates duplicates.

Export writes the 花名册 sheet in the layout the import reads, with every text cell formula-safe
(SEC-IP-04) and the ID number and phone masked unless the caller asks otherwise.

The user-facing description of the format is docs/import-workbook.md; keep the two in step.
"""

import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dangjian.audit.services import Actor, audit_record
from dangjian.core.dates import parse_date
from dangjian.core.excel import safe_cell
from dangjian.core.identity import birth_date_from_id, gender_from_id, mask_id_number, mask_phone
from dangjian.organizations.models import Appointment, Member, Organization, Unit
from dangjian.organizations.services import (
    ALLOWED_PARENTS,
    appointment_create,
    member_bulk_create,
    member_clean,
    organization_create,
    unit_create,
)

ORG_SHEET, UNIT_SHEET, ROSTER_SHEET, APPOINTMENT_SHEET = "党组织", "单位", "花名册", "任职"
WORKBOOK_SHEETS = (ORG_SHEET, UNIT_SHEET, ROSTER_SHEET, APPOINTMENT_SHEET)

# Headers per sheet, in the order errors within a row are reported and the export writes them.
ORG_HEADERS = ("编码", "名称", "类型", "上级编码", "成立日期")
UNIT_HEADERS = ("编码", "名称", "类型", "上级编码", "服务党组织编码")
ROSTER_HEADERS = (
    "姓名", "性别", "民族", "出生日期", "身份证号", "入党日期", "转正日期", "党员类别", "学历", "职务",
    "工作单位", "所在党组织", "联系电话", "工作单位编码", "所在党组织编码",
)
APPOINTMENT_HEADERS = ("党组织编码", "身份证号", "职务", "任职日期")
# A header is required when every row must fill its cell. The roster needs 所在党组织 or 所在党组织编码.
REQUIRED_HEADERS = {
    ORG_SHEET: ("编码", "名称", "类型", "成立日期"),
    UNIT_SHEET: ("编码", "名称", "类型"),
    ROSTER_SHEET: ("姓名", "身份证号", "入党日期", "党员类别"),
    APPOINTMENT_SHEET: APPOINTMENT_HEADERS,
}
SHEET_HEADERS = {ORG_SHEET: ORG_HEADERS, UNIT_SHEET: UNIT_HEADERS, ROSTER_SHEET: ROSTER_HEADERS,
                 APPOINTMENT_SHEET: APPOINTMENT_HEADERS}
# Service field name -> column header, to place a service's ValidationError on the right cell.
FIELD_HEADERS = {
    ORG_SHEET: {"code": "编码", "name": "名称", "kind": "类型", "parent": "上级编码", "founded_on": "成立日期"},
    UNIT_SHEET: {"code": "编码", "name": "名称", "kind": "类型", "organization": "服务党组织编码"},
    ROSTER_SHEET: {
        "name": "姓名", "gender": "性别", "ethnicity": "民族", "birth_date": "出生日期", "id_number": "身份证号",
        "joined_on": "入党日期", "full_on": "转正日期", "category": "党员类别", "education": "学历", "post": "职务",
        "unit": "工作单位", "organization": "所在党组织", "phone": "联系电话",
    },
    APPOINTMENT_SHEET: {"organization": "党组织编码", "member": "身份证号", "role": "职务", "start": "任职日期"},
}

# The labels people type, beyond the exact choice labels, that mean the same thing.
ORG_KINDS = {label: value for value, label in Organization.Kind.choices}
UNIT_KINDS = {label: value for value, label in Unit.Kind.choices}
GENDERS = {label: value for value, label in Member.Gender.choices}
CATEGORIES = {label: value for value, label in Member.Category.choices} | {
    "正式": Member.Category.FULL, "预备": Member.Category.PROBATIONARY,
}
EDUCATIONS = {label: value for value, label in Member.Education.choices} | {
    "研究生": Member.Education.POSTGRADUATE, "博士": Member.Education.POSTGRADUATE,
    "硕士": Member.Education.POSTGRADUATE, "博士研究生": Member.Education.POSTGRADUATE,
    "硕士研究生": Member.Education.POSTGRADUATE, "本科": Member.Education.BACHELOR,
    "大专": Member.Education.JUNIOR_COLLEGE, "专科": Member.Education.JUNIOR_COLLEGE,
    "中专": Member.Education.SECONDARY, "高中": Member.Education.SECONDARY, "中专及高中": Member.Education.SECONDARY,
    "初中": Member.Education.BELOW, "小学": Member.Education.BELOW,
}
ROLES = {label: value for value, label in Appointment.Role.choices}
# member_clean speaks to a form ("请选择"); in a spreadsheet the person types.
_SPREADSHEET_WORDING = {
    ("gender", "请选择性别。"): "请填写性别：男或女。",
    ("category", "请选择党员类别。"): "请填写党员类别：正式党员或预备党员。",
    ("organization", "请选择所在党组织。"): "请填写所在党组织（编码或全称）。",
}

# A guard against a sheet with a runaway used range: far more rows than a city's roster.
MAX_ROWS_PER_SHEET = 100_000
# Excel keeps 15 significant digits of a number: a longer number in a numeric cell has lost digits.
_EXACT_NUMBER_LIMIT = 10**15
_ESCAPED_FORMULA = re.compile(r"^'[=+\-@\t\r\0]")
_HEADER_NOTE = re.compile(r"[（(][^）)]*[）)]$")
_MIDNIGHT = re.compile(r"[ T]0{1,2}:00(:00)?$")  # "2022-03-01 00:00:00", as some tools write a date


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded workbook. `row` is the Excel row number (the header is row 1;
    0 for a problem with the whole file); `column` is the header text as written in the file."""

    sheet: str
    row: int
    column: str
    value: str
    message: str

    def __str__(self):
        if not self.sheet:
            return self.message
        if not self.row:
            return f"工作表「{self.sheet}」：{self.message}"
        where = f"「{self.column}」" if self.column else ""
        return f"工作表「{self.sheet}」第 {self.row} 行{where}：{self.message}"


@dataclass
class ImportResult:
    """What an import did: every error found (then nothing was written), or the counts created
    per sheet label."""

    errors: list[RowError] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------- cells

class _CellError(Exception):
    """A cell that cannot be read as what its column holds; the message says what to fix."""


def _display(value) -> str:
    """A cell's value as the person sees it, for the error report."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


def _text(value) -> str:
    """Free text (names, posts): trimmed, a number typed into it read as written, and the quote
    our own export puts before formula-like text taken off again so an export re-imports as it was."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime):
        value = value.date()
    text = str(value).strip()
    if _ESCAPED_FORMULA.match(text):
        text = text[1:]
    return text


def _key(value) -> str:
    """Codes and choice labels: also folds full-width letters and digits (ＢＡ０１ → BA01)."""
    return unicodedata.normalize("NFKC", _text(value)).strip()


def _number_text(value, header: str) -> str:
    """ID numbers and phones are text. A number cell is read back as its digits while Excel kept
    them all; beyond 15 digits it did not, and only the person can restore them."""
    if isinstance(value, bool):
        raise _CellError(f"「{header}」应填写号码。")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_NUMBER_LIMIT:
            return str(int(value))
        raise _CellError(
            f"「{header}」被 Excel 存成了数字，超过15位的数字末尾已变成0或丢失，号码无法还原："
            f"请把「{header}」这一列设置为“文本”格式，重新填写完整号码后再导入。"
        )
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _text(value)))


def _date(value) -> dt.date | None:
    """A real date cell, or text in the forms `parse_date` reads; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # 20220301 typed into a number cell; a bare Excel serial (44621) is not guessed at.
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            value = str(int(value))
        else:
            raise _CellError(f"“{_display(value)}”不是日期：请写成 2022-3-1、2022年3月1日 或 2022.03.01，"
                             "或把单元格设为日期格式。")
    if not isinstance(value, str):
        raise _CellError("请填写日期，如 2022-3-1。")
    text = _MIDNIGHT.sub("", unicodedata.normalize("NFKC", value).strip())
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise _CellError(str(exc)) from None


def _canonical_header(value) -> str:
    """'身份证号*', ' 姓  名 ' and '出生日期（选填）' all name their column."""
    text = re.sub(r"\s+", "", _text(value)).replace("*", "").replace("＊", "")
    return _HEADER_NOTE.sub("", text)


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------- reading

@dataclass
class _Sheet:
    name: str
    columns: dict[str, str]  # canonical header -> header text as written in the file
    rows: list[tuple[int, dict]]  # (Excel row number, canonical header -> raw cell value)


class _RowErrors:
    """The errors of one row: the first per column, reported in the sheet's column order."""

    def __init__(self, sheet: _Sheet, row: int, cells: dict):
        self.sheet, self.row, self.cells = sheet, row, cells
        self.by_header: dict[str, tuple[str, str]] = {}

    def add(self, header: str, message: str, value=None) -> None:
        if header not in self.by_header:
            raw = self.cells.get(header) if value is None else value
            self.by_header[header] = (_display(raw), message)

    def __contains__(self, header: str) -> bool:
        return header in self.by_header

    def __bool__(self) -> bool:
        return bool(self.by_header)

    def emit(self, into: list[RowError]) -> None:
        order = SHEET_HEADERS[self.sheet.name] if self.sheet.name in SHEET_HEADERS else ()
        for header in sorted(self.by_header, key=lambda h: order.index(h) if h in order else len(order)):
            value, message = self.by_header[header]
            into.append(RowError(self.sheet.name, self.row, self.sheet.columns.get(header, header), value, message))


def _read_sheet(ws, name: str, headers: tuple[str, ...], errors: list[RowError]) -> _Sheet | None:
    """Read one sheet's header row and data rows (blank rows skipped). None if it is unusable;
    an empty sheet reads as a sheet with no rows."""
    try:
        ws.reset_dimensions()  # some tools write a wrong used range; read what is really there
        raw_rows = []
        for values in ws.iter_rows(values_only=True):
            raw_rows.append(values)
            if len(raw_rows) > MAX_ROWS_PER_SHEET + 1:
                break
    except Exception:  # a damaged sheet part: whatever the parser tripped on, the answer is the same
        errors.append(RowError(name, 0, "", "", "该工作表无法读取，文件可能已损坏："
                                                "请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"))
        return None
    if len(raw_rows) > MAX_ROWS_PER_SHEET + 1:
        errors.append(RowError(name, 0, "", "", f"超过 {MAX_ROWS_PER_SHEET} 行，请分成几个文件导入。"))
        return None
    if not raw_rows or all(_is_blank(v) for v in raw_rows[0]):
        return _Sheet(name, {}, [])
    index: dict[str, int] = {}
    columns: dict[str, str] = {}
    for position, value in enumerate(raw_rows[0]):
        header = _canonical_header(value)
        if header not in headers:
            continue  # extra columns (序号, 备注…) are the person's own
        if header in index:
            errors.append(RowError(name, 1, _text(value), _text(value),
                                   f"表头「{header}」出现了两次，请删去多余的一列。"))
            continue
        index[header], columns[header] = position, _text(value)
    missing = [h for h in REQUIRED_HEADERS[name] if h not in index]
    if name == ROSTER_SHEET and "所在党组织" not in index and "所在党组织编码" not in index:
        missing.append("所在党组织")
    for header in missing:
        errors.append(RowError(name, 1, header, "", f"缺少「{header}」列：请在第 1 行加上这一列的表头。"))
    if missing:
        return None
    rows = []
    for number, values in enumerate(raw_rows[1:], start=2):
        cells = {h: values[i] if i < len(values) else None for h, i in index.items()}
        # Blank in every column we read: a spacer, or a template row with only its 序号 filled in.
        if all(_is_blank(v) for v in cells.values()):
            continue
        rows.append((number, cells))
    return _Sheet(name, columns, rows)


def _open_workbook(file, errors: list[RowError]):
    try:
        return load_workbook(file, read_only=True, data_only=True, keep_links=False)
    except Exception:  # not a zip, not OOXML, an .xls: all mean "not a readable .xlsx" to the person
        errors.append(RowError("", 0, "", "", "无法读取该文件：请上传 Excel 工作簿（.xlsx）。"
                                              "如果是 .xls 或 .et 文件，请先用 Excel 或 WPS 另存为 .xlsx。"))
        return None


# ---------------------------------------------------------------- the importer

@dataclass
class _OrgPlan:
    row: int
    code: str
    name: str
    kind: str
    parent_code: str
    founded_on: dt.date


@dataclass
class _UnitPlan:
    row: int
    code: str
    name: str
    kind: str
    parent_code: str
    organization_code: str


@dataclass
class _MemberPlan:
    row: int
    data: dict  # member_clean's output; organisation and unit may be unsaved stand-ins from the file


@dataclass
class _AppointmentPlan:
    row: int
    organization_code: str
    id_number: str
    role: str
    start: dt.date


class _Importer:
    """Checks every sheet against the database and against the rest of the file, then writes."""

    def __init__(self, *, scope: Organization | None = None):
        self.errors: list[RowError] = []
        self.scope = scope
        # One query each: everything a reference in the file may point at. A bureau has tens of
        # organisations and units, a city a few thousand; both fit in memory with room to spare.
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
        self.roster_ids: set[str] = set()
        self.db_members: dict[str, Member] = {}
        self.org_plans: list[_OrgPlan] = []
        self.unit_plans: list[_UnitPlan] = []
        self.member_plans: list[_MemberPlan] = []
        self.appointment_plans: list[_AppointmentPlan] = []
        self.today = timezone.localdate()

    # ------------------------------------------------ 党组织

    def check_orgs(self, sheet: _Sheet) -> None:
        first_row = {}
        for row, cells in sheet.rows:
            first_row.setdefault(_key(cells.get("编码")), row)
        seen: dict[str, tuple[int, str | None]] = {}  # code -> (row, kind) of rows above
        for row, cells in sheet.rows:
            errs = _RowErrors(sheet, row, cells)
            code = _key(cells.get("编码"))
            if not code:
                errs.add("编码", "请填写编码。")
            elif len(code) > Organization._meta.get_field("code").max_length:
                errs.add("编码", "编码不能超过32个字符。")
            elif code in seen:
                errs.add("编码", f"编码 {code} 与第 {seen[code][0]} 行重复。")
            elif code in self.db_orgs:
                errs.add("编码", f"编码 {code} 已被党组织“{self.db_orgs[code].name}”使用；"
                                 "已导入过的党组织请从本表删去。")
            name = _text(cells.get("名称"))
            if not name:
                errs.add("名称", "请填写名称。")
            elif len(name) > 100:
                errs.add("名称", "名称不能超过100个字。")
            kind = ORG_KINDS.get(_key(cells.get("类型")))
            if kind is None:
                errs.add("类型", "类型应为：" + "、".join(ORG_KINDS) + "。")
            parent_code = _key(cells.get("上级编码"))
            parent_kind, parent_known = None, True
            if parent_code:
                parent_known = False
                if parent_code in seen:
                    parent_kind = seen[parent_code][1]
                    parent_known = parent_kind is not None
                elif parent_code == code:
                    errs.add("上级编码", "上级编码不能是本行自己的编码。")
                elif parent_code in first_row:
                    errs.add("上级编码", f"上级党组织 {parent_code} 在本表第 {first_row[parent_code]} 行，"
                                        "请把上级党组织排在下级之前。")
                elif parent_code in self.db_orgs:
                    parent = self.db_orgs[parent_code]
                    if parent.dissolved_on:
                        errs.add("上级编码", f"上级党组织“{parent.name}”已撤销。")
                    else:
                        parent_kind, parent_known = parent.kind, True
                else:
                    errs.add("上级编码", f"找不到编码为 {parent_code} 的党组织：上级编码应是系统中已有的党组织编码，"
                                        "或本表前面某一行的编码。")
            if kind is not None and parent_known and parent_kind not in ALLOWED_PARENTS[kind]:
                label = Organization.Kind(kind).label
                if parent_kind is None:
                    errs.add("上级编码", f"{label}应设在上级党组织之下，请填写上级编码。")
                else:
                    errs.add("上级编码", f"{label}不能设在{Organization.Kind(parent_kind).label}之下。")
            founded_on = self._required_date(errs, cells, "成立日期")
            if founded_on and founded_on > self.today:
                errs.add("成立日期", "成立日期不能晚于今天。")
            defines = bool(code) and code not in seen and code not in self.db_orgs
            if code and code not in seen:
                seen[code] = (row, kind)
            if self._define(errs, defines, Organization(code=code, name=name, kind=kind or "", founded_on=founded_on),
                            self.orgs_by_code, self.orgs_by_name, self.broken_orgs):
                self.org_plans.append(_OrgPlan(row, code, name, kind, parent_code, founded_on))

    def _define(self, errs: _RowErrors, defines: bool, stand_in, by_code: dict, by_name: dict, broken: set) -> bool:
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

    def check_units(self, sheet: _Sheet) -> None:
        first_row = {}
        for row, cells in sheet.rows:
            first_row.setdefault(_key(cells.get("编码")), row)
        seen: dict[str, int] = {}
        for row, cells in sheet.rows:
            errs = _RowErrors(sheet, row, cells)
            code = _key(cells.get("编码"))
            if not code:
                errs.add("编码", "请填写编码。")
            elif len(code) > Unit._meta.get_field("code").max_length:
                errs.add("编码", "编码不能超过32个字符。")
            elif code in seen:
                errs.add("编码", f"编码 {code} 与第 {seen[code]} 行重复。")
            elif code in self.db_units:
                errs.add("编码", f"编码 {code} 已被单位“{self.db_units[code].name}”使用；已导入过的单位请从本表删去。")
            name = _text(cells.get("名称"))
            if not name:
                errs.add("名称", "请填写名称。")
            elif len(name) > 100:
                errs.add("名称", "名称不能超过100个字。")
            kind = UNIT_KINDS.get(_key(cells.get("类型")))
            if kind is None:
                errs.add("类型", "类型应为：" + "、".join(UNIT_KINDS) + "。")
            parent_code = _key(cells.get("上级编码"))
            if parent_code and parent_code not in seen and parent_code not in self.db_units:
                if parent_code == code:
                    errs.add("上级编码", "上级编码不能是本行自己的编码。")
                elif parent_code in first_row:
                    errs.add("上级编码", f"上级单位 {parent_code} 在本表第 {first_row[parent_code]} 行，"
                                        "请把上级单位排在下级之前。")
                else:
                    errs.add("上级编码", f"找不到编码为 {parent_code} 的单位：上级编码应是系统中已有的单位编码，"
                                        "或本表前面某一行的编码。")
            org_code = _key(cells.get("服务党组织编码"))
            if org_code:
                org = self.orgs_by_code.get(org_code)
                if org is None:
                    errs.add("服务党组织编码", f"找不到编码为 {org_code} 的党组织：应是系统中已有的党组织编码，"
                                            "或「党组织」表中的编码。")
                elif org.dissolved_on:
                    errs.add("服务党组织编码", f"党组织“{org.name}”已撤销。")
            defines = bool(code) and code not in seen and code not in self.db_units
            if code and code not in seen:
                seen[code] = row
            if self._define(errs, defines, Unit(code=code, name=name, kind=kind or ""),
                            self.units_by_code, self.units_by_name, self.broken_units):
                self.unit_plans.append(_UnitPlan(row, code, name, kind, parent_code, org_code))

    # ------------------------------------------------ 花名册

    def check_members(self, sheet: _Sheet) -> None:
        seen_ids: dict[str, int] = {}
        for row, cells in sheet.rows:
            errs = _RowErrors(sheet, row, cells)
            data: dict = {"name": _text(cells.get("姓名"))}
            if len(data["name"]) > 50:
                errs.add("姓名", "姓名不能超过50个字。")
            for header, key in (("身份证号", "id_number"), ("联系电话", "phone")):
                try:
                    data[key] = _number_text(cells.get(header), header)
                except _CellError as exc:
                    errs.add(header, str(exc))
                    data[key] = ""
            if "*" in data["phone"]:
                errs.add("联系电话", "联系电话已脱敏（含*号）：请填写完整号码，或留空。")
            id_number = data["id_number"].upper()
            if "*" in id_number:
                errs.add("身份证号", "身份证号已脱敏（含*号），无法据此登记：请填写完整的18位身份证号。")
            elif id_number in seen_ids:
                errs.add("身份证号", f"与第 {seen_ids[id_number]} 行的身份证号重复：同一名党员只应出现一次。")
            elif id_number:
                seen_ids[id_number] = row
                self.roster_ids.add(id_number)
            id_birth = _birth_from_id(id_number)
            data["gender"] = self._choice(errs, cells, "性别", GENDERS, "性别应填“男”或“女”。")
            if data["gender"] is None and _is_blank(cells.get("性别")) and id_birth:
                data["gender"] = gender_from_id(id_number)
            data["ethnicity"] = _text(cells.get("民族")) or "汉族"
            if len(data["ethnicity"]) > 20:
                errs.add("民族", "民族不能超过20个字。")
            for header, key in (("出生日期", "birth_date"), ("入党日期", "joined_on"), ("转正日期", "full_on")):
                try:
                    data[key] = _date(cells.get(header))
                except _CellError as exc:
                    errs.add(header, str(exc))
                    data[key] = None
            birth_blank = _is_blank(cells.get("出生日期"))
            if data["birth_date"] is None and birth_blank:
                data["birth_date"] = id_birth
            data["category"] = self._choice(errs, cells, "党员类别", CATEGORIES,
                                            "党员类别应填“正式党员”或“预备党员”（也可写“正式”“预备”）。")
            data["education"] = self._choice(errs, cells, "学历", EDUCATIONS,
                                             "学历应为：" + "、".join(Member.Education.labels) + "，或留空。") or ""
            data["post"] = _text(cells.get("职务"))
            if len(data["post"]) > 100:
                errs.add("职务", "职务不能超过100个字。")
            data["unit"], unit_broken = self._resolve_unit(errs, cells)
            data["organization"], org_broken = self._resolve_org(errs, cells)
            try:
                data = member_clean(data)
            except ValidationError as exc:
                id_wrong = "身份证号" in errs or "id_number" in exc.message_dict
                for name, messages in exc.message_dict.items():
                    header = FIELD_HEADERS[ROSTER_SHEET].get(name, "")
                    message = _SPREADSHEET_WORDING.get((name, messages[0]), messages[0])
                    if name == "organization":
                        if org_broken or "所在党组织编码" in errs:
                            continue  # the cause is reported where it is: the organisation's own row, the code
                        if not _is_blank(cells.get("所在党组织编码")) or "所在党组织" not in sheet.columns:
                            header = "所在党组织编码"
                    # A blank birth date or gender is read from the ID number; if that is wrong,
                    # the ID number's own error is the one to fix.
                    if name == "birth_date" and data.get("birth_date") is None and birth_blank and id_wrong:
                        continue
                    if name == "gender" and _is_blank(cells.get("性别")) and id_wrong:
                        continue
                    errs.add(header, message)
            if errs or unit_broken or org_broken:
                errs.emit(self.errors)
            else:
                self.member_plans.append(_MemberPlan(row, data))

    def _resolve_org(self, errs: _RowErrors, cells: dict) -> tuple[Organization | None, bool]:
        """所在党组织 (code or exact name) and/or 所在党组织编码; (organisation, points at a bad row)."""
        org, found = self._resolve_reference(
            errs, cells, column="所在党组织", noun="党组织", by_code=self.orgs_by_code, by_name=self.orgs_by_name,
            prefer_scope=True, missing="请填写系统中已有党组织的编码或全称（或本文件「党组织」表中的编码）。")
        if org is None:
            if not found:
                errs.add("所在党组织", "请填写所在党组织（编码或全称）。")
            return None, False
        if org.code in self.broken_orgs:
            return org, True
        if self.scope is not None and not (org.path and org.path.startswith(self.scope.path)):
            errs.add("所在党组织编码" if _key(cells.get("所在党组织编码")) else "所在党组织",
                     f"“{org.name}”不在“{self.scope.name}”范围内，你只能导入本组织及其下级党组织的党员。")
        return org, False

    def _resolve_unit(self, errs: _RowErrors, cells: dict) -> tuple[Unit | None, bool]:
        """工作单位 (name or code) and/or 工作单位编码; both may be blank."""
        unit, _found = self._resolve_reference(
            errs, cells, column="工作单位", noun="单位", by_code=self.units_by_code, by_name=self.units_by_name,
            missing="请填写系统中已有单位的名称或编码（或本文件「单位」表中的编码），也可留空。")
        return unit, unit is not None and unit.code in self.broken_units

    def _resolve_reference(self, errs: _RowErrors, cells: dict, *, column: str, noun: str, by_code: dict,
                           by_name: dict, missing: str, prefer_scope: bool = False):
        """A reference to an organisation or unit, written as a code in「<column>编码」and/or a code
        or exact name in「<column>」; with `prefer_scope`, a name shared by several organisations
        means the one inside the import's scope. Returns (object or None, whether anything was written)."""
        code_column = column + "编码"
        code, text = _key(cells.get(code_column)), _text(cells.get(column))
        if code:
            found = by_code.get(code)
            if found is None:
                errs.add(code_column, f"找不到编码为 {code} 的{noun}。")
                return None, True
            if text and text not in (found.name, found.code) and _key(text) != found.code:
                errs.add(column, f"「{column}」填的是“{text}”，而编码 {code} 是“{found.name}”："
                                 "请改成一致，或清空其中一格。")
            return found, True
        if not text:
            return None, False
        found = by_code.get(_key(text))
        if found is not None:
            return found, True
        candidates = by_name.get(text, [])
        if prefer_scope and self.scope is not None and len(candidates) > 1:
            inside = [c for c in candidates if c.path and c.path.startswith(self.scope.path)]
            candidates = inside or candidates
        if len(candidates) > 1:
            codes = "、".join(c.code for c in candidates)
            errs.add(column, f"名称为“{text}”的{noun}不止一个（编码 {codes}），请改填编码。")
            return None, True
        if not candidates:
            errs.add(column, f"找不到{noun}“{text}”：{missing}")
            return None, True
        return candidates[0], True

    # ------------------------------------------------ 任职

    def check_appointments(self, sheet: _Sheet) -> None:
        wanted_ids = set()
        for _row, cells in sheet.rows:
            try:
                wanted_ids.add(_number_text(cells.get("身份证号"), "身份证号").upper())
            except _CellError:
                pass
        # Members already registered, and the open posts they hold: two queries for the whole sheet.
        self.db_members = {m.id_number: m for m in Member.objects.filter(id_number__in=wanted_ids - self.roster_ids)}
        open_posts = {}
        secretary_since: dict[str, tuple[dt.date, str]] = {}
        for org_code, id_number, role, start, name in Appointment.objects.filter(end__isnull=True).values_list(
                "organization__code", "member__id_number", "role", "start", "member__name"):
            open_posts[(org_code, id_number, role)] = (start, name)
            if role == Appointment.Role.SECRETARY:
                secretary_since[org_code] = (start, name)
        seen: dict[tuple, int] = {}
        roster_names = {p.data["id_number"]: p.data["name"] for p in self.member_plans}
        for row, cells in sheet.rows:
            errs = _RowErrors(sheet, row, cells)
            org_code = _key(cells.get("党组织编码"))
            org = self.orgs_by_code.get(org_code) if org_code else None
            if not org_code:
                errs.add("党组织编码", "请填写党组织编码。")
            elif org is None:
                errs.add("党组织编码", f"找不到编码为 {org_code} 的党组织：应是系统中已有的党组织编码，"
                                      "或「党组织」表中的编码。")
            elif org.dissolved_on:
                errs.add("党组织编码", f"党组织“{org.name}”已撤销。")
            try:
                id_number = _number_text(cells.get("身份证号"), "身份证号").upper()
            except _CellError as exc:
                errs.add("身份证号", str(exc))
                id_number = ""
            member_name = roster_names.get(id_number)
            if not id_number and "身份证号" not in errs:
                errs.add("身份证号", "请填写任职党员的身份证号。")
            elif id_number and id_number not in self.roster_ids:
                member = self.db_members.get(id_number)
                if member is None:
                    errs.add("身份证号", "找不到该身份证号的党员：应是系统中已登记的党员，或本文件「花名册」中的党员。")
                elif member.status != Member.Status.ACTIVE:
                    errs.add("身份证号", f"{member.name}不是在册党员（{member.get_status_display()}），不能任职。")
                else:
                    member_name = member.name
            role = self._choice(errs, cells, "职务", ROLES, "职务应为：书记、副书记、委员。")
            if role is None and "职务" not in errs:
                errs.add("职务", "请填写职务：书记、副书记或委员。")
            start = self._required_date(errs, cells, "任职日期")
            if start and start > self.today:
                errs.add("任职日期", "任职日期不能晚于今天。")
            key = (org_code, id_number, role)
            if org_code and id_number and role:
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
                self.appointment_plans.append(_AppointmentPlan(row, org_code, id_number, role, start))

    # ------------------------------------------------ helpers

    def _required_date(self, errs: _RowErrors, cells: dict, header: str) -> dt.date | None:
        try:
            day = _date(cells.get(header))
        except _CellError as exc:
            errs.add(header, str(exc))
            return None
        if day is None:
            errs.add(header, f"请填写{header}。")
        return day

    @staticmethod
    def _choice(errs: _RowErrors, cells: dict, header: str, mapping: dict, message: str):
        text = _key(cells.get(header))
        if not text:
            return None
        value = mapping.get(text)
        if value is None:
            errs.add(header, message)
        return value

    # ------------------------------------------------ writing

    def write(self, *, by: Actor, action: str, labels: tuple[str, ...]) -> dict[str, int]:
        """Write every planned row through its service, all in one transaction. A service refusing
        a row here (someone registered the same ID number a moment ago) rolls everything back."""
        self.at: tuple[str, int] = ("", 0)
        orgs: dict[str, Organization] = {}
        units: dict[str, Unit] = {}
        with transaction.atomic():
            for plan in self.org_plans:
                self.at = (ORG_SHEET, plan.row)
                parent = None
                if plan.parent_code:
                    # Fetched afresh: inserting a sorted sibling may have moved the parent's path.
                    parent_pk = (orgs.get(plan.parent_code) or self.db_orgs[plan.parent_code]).pk
                    parent = Organization.objects.get(pk=parent_pk)
                orgs[plan.code] = organization_create(
                    by=by, parent=parent, code=plan.code, name=plan.name, kind=plan.kind,
                    founded_on=plan.founded_on, note="工作簿导入",
                )
            for plan in self.unit_plans:
                self.at = (UNIT_SHEET, plan.row)
                parent = None
                if plan.parent_code:
                    parent = Unit.objects.get(pk=(units.get(plan.parent_code) or self.db_units[plan.parent_code]).pk)
                org = None
                if plan.organization_code:
                    org = orgs.get(plan.organization_code) or self.db_orgs[plan.organization_code]
                units[plan.code] = unit_create(by=by, parent=parent, code=plan.code, name=plan.name,
                                               kind=plan.kind, organization=org)
            rows = []
            for plan in self.member_plans:
                data = dict(plan.data)
                if data["organization"].pk is None:
                    data["organization"] = orgs[data["organization"].code]
                if data.get("unit") is not None and data["unit"].pk is None:
                    data["unit"] = units[data["unit"].code]
                rows.append(data)
            # Rows were checked by member_clean above; written in bulk (a few inserts for any count).
            self.at = (ROSTER_SHEET, self.member_plans[0].row if self.member_plans else 0)
            members = {m.id_number: m for m in member_bulk_create(by=by, rows=rows)}
            for plan in self.appointment_plans:
                self.at = (APPOINTMENT_SHEET, plan.row)
                org = orgs.get(plan.organization_code) or self.db_orgs[plan.organization_code]
                member = members.get(plan.id_number) or self.db_members[plan.id_number]
                appointment_create(by=by, organization=org, member=member, role=plan.role, start=plan.start)
            counts = {ORG_SHEET: len(self.org_plans), UNIT_SHEET: len(self.unit_plans),
                      ROSTER_SHEET: len(self.member_plans), APPOINTMENT_SHEET: len(self.appointment_plans)}
            created = {label: counts[label] for label in labels}
            self.at = ("", 0)
            audit_record(by=by, action=action,
                         note="导入：" + "，".join(f"{label} {n} 行" for label, n in created.items()))
        return created

    def write_failed(self, exc: Exception, columns: dict[str, dict[str, str]]) -> None:
        sheet, row = self.at
        if isinstance(exc, ValidationError):
            if hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    header = FIELD_HEADERS.get(sheet, {}).get(name, "")
                    column = columns.get(sheet, {}).get(header, header)
                    self.errors.append(RowError(sheet, row, column, "", messages[0] + "（本次未导入任何数据）"))
                return
            self.errors.append(RowError(sheet, row, "", "", exc.messages[0] + "（本次未导入任何数据）"))
            return
        self.errors.append(RowError(sheet, row, "", "", "写入时与系统中的数据冲突（可能有人刚录入了相同的记录），"
                                                        "本次未导入任何数据，请稍后重新导入。"))


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


def _run(importer: _Importer, sheets: list[_Sheet], *, by: Actor, action: str) -> ImportResult:
    checks = {ORG_SHEET: importer.check_orgs, UNIT_SHEET: importer.check_units,
              ROSTER_SHEET: importer.check_members, APPOINTMENT_SHEET: importer.check_appointments}
    for sheet in sheets:
        checks[sheet.name](sheet)
    if importer.errors:
        return ImportResult(errors=importer.errors)
    try:
        created = importer.write(by=by, action=action, labels=tuple(s.name for s in sheets))
    except (ValidationError, IntegrityError) as exc:
        importer.write_failed(exc, {s.name: s.columns for s in sheets})
        return ImportResult(errors=importer.errors)
    return ImportResult(created=created)


# ---------------------------------------------------------------- public API

def import_workbook(file, *, by: Actor) -> ImportResult:
    """Load a bureau from one workbook: sheets 党组织, 单位, 花名册, 任职 (any present, in that
    order), columns found by header text. All or nothing: any error anywhere writes nothing, and
    every error is returned with its sheet, row and column. `file` is a path or a binary file."""
    errors: list[RowError] = []
    wb = _open_workbook(file, errors)
    if wb is None:
        return ImportResult(errors=errors)
    try:
        names = {name.strip(): name for name in wb.sheetnames}
        sheets = []
        for label in WORKBOOK_SHEETS:
            if label in names:
                sheet = _read_sheet(wb[names[label]], label, SHEET_HEADERS[label], errors)
                if sheet is not None:
                    sheets.append(sheet)
    finally:
        wb.close()
    if not errors and not any(label in names for label in WORKBOOK_SHEETS):
        errors.append(RowError("", 0, "", "", "工作簿中没有可导入的工作表：工作表应命名为"
                                              "「党组织」「单位」「花名册」「任职」（至少其一）。"))
    if errors:
        return ImportResult(errors=errors)
    importer = _Importer()
    return _run(importer, sheets, by=by, action="workbook.import")


def import_roster(file, *, by: Actor, organization_scope: Organization | None = None) -> ImportResult:
    """Register members from a 花名册: the sheet so named, else the workbook's first sheet. Rows
    refer to organisations and units already in the system. With `organization_scope`, every row's
    organisation must be that organisation or below it. All or nothing, as `import_workbook`."""
    errors: list[RowError] = []
    wb = _open_workbook(file, errors)
    if wb is None:
        return ImportResult(errors=errors)
    try:
        names = {name.strip(): name for name in wb.sheetnames}
        ws = wb[names[ROSTER_SHEET]] if ROSTER_SHEET in names else wb.worksheets[0]
        # Errors name the sheet as the person sees it in the file.
        sheet = _read_sheet(ws, ROSTER_SHEET, ROSTER_HEADERS, errors)
    finally:
        wb.close()
    if sheet is None or errors:
        return ImportResult(errors=_renamed(errors, ws.title))
    importer = _Importer(scope=organization_scope)
    result = _run(importer, [sheet], by=by, action="roster.import")
    result.errors = _renamed(result.errors, ws.title)
    return result


def _renamed(errors: list[RowError], title: str) -> list[RowError]:
    if title == ROSTER_SHEET:
        return errors
    return [RowError(title if e.sheet == ROSTER_SHEET else e.sheet, e.row, e.column, e.value, e.message)
            for e in errors]


# ---------------------------------------------------------------- export

_DATE_FORMAT = "yyyy-mm-dd"
_TEXT_FORMAT = "@"
_WIDTHS = {"姓名": 10, "民族": 8, "性别": 6, "出生日期": 12, "身份证号": 21, "入党日期": 12, "转正日期": 12,
           "党员类别": 10, "学历": 11, "职务": 16, "工作单位": 20, "所在党组织": 22, "联系电话": 15,
           "工作单位编码": 12, "所在党组织编码": 14}


def export_roster(members: QuerySet[Member], *, reveal: bool) -> bytes:
    """The members as a 花名册 .xlsx in the import's layout (so it can be filled in and imported
    again). ID numbers and phones are masked unless `reveal` (the caller audits a revealed export);
    every text cell is formula-safe; ID and phone cells are text so Excel keeps every digit.
    One query whatever the number of members."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ROSTER_SHEET)
    for position, header in enumerate(ROSTER_HEADERS, start=1):
        ws.column_dimensions[get_column_letter(position)].width = _WIDTHS.get(header, 12)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in ROSTER_HEADERS:
        cell = WriteOnlyCell(ws, value=header)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)

    queryset = members.select_related("organization", "unit")
    if not queryset.ordered:
        queryset = queryset.order_by("organization__path", "name", "pk")
    show_id = (lambda v: v) if reveal else mask_id_number
    show_phone = (lambda v: v) if reveal else mask_phone
    for m in queryset.iterator(chunk_size=2000):
        values = {
            "姓名": m.name, "性别": m.get_gender_display(), "民族": m.ethnicity, "出生日期": m.birth_date,
            "身份证号": show_id(m.id_number), "入党日期": m.joined_on, "转正日期": m.full_on,
            "党员类别": m.get_category_display(), "学历": m.get_education_display() if m.education else "",
            "职务": m.post, "工作单位": m.unit.name if m.unit else "", "所在党组织": m.organization.name,
            "联系电话": show_phone(m.phone), "工作单位编码": m.unit.code if m.unit else "",
            "所在党组织编码": m.organization.code,
        }
        row = []
        for header in ROSTER_HEADERS:
            value = values[header]
            cell = WriteOnlyCell(ws, value=safe_cell(value))
            if isinstance(value, dt.date):
                cell.number_format = _DATE_FORMAT
            elif header in ("身份证号", "联系电话"):
                cell.number_format = _TEXT_FORMAT
            row.append(cell)
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
