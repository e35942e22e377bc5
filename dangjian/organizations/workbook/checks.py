"""The checks of the bureau workbook import, row by row: every cell against what its column holds,
every row against the rest of the file, the database and the importing user's scope. Problems are
collected as `RowError`s; clean rows become plans that `importer` writes."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.access.roles import Perm
from dangjian.core.excel import RowError, RowErrors, Sheet
from dangjian.core.excel import cells as cell
from dangjian.core.identity import birth_date_from_id, gender_from_id
from dangjian.organizations.models import Appointment, Member, Organization, Unit
from dangjian.organizations.services import ALLOWED_PARENTS, member_clean
from dangjian.organizations.workbook.layout import (
    CATEGORIES,
    EDUCATIONS,
    FIELD_HEADERS,
    GENDERS,
    ORG_KINDS,
    ROLES,
    ROSTER_SHEET,
    UNIT_KINDS,
)
from dangjian.organizations.workbook.scope import OUT_OF_SCOPE, ImportScope

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


@dataclass
class AppointmentPlan:
    row: int
    organization_code: str
    id_number: str
    role: str
    start: dt.date


class RowChecks:
    """Checks every sheet against the database, the rest of the file and the user's scope; the rows
    that pass become plans (`org_plans`, `unit_plans`, `member_plans`, `appointment_plans`)."""

    def __init__(self, *, scope: ImportScope):
        self.errors: list[RowError] = []
        self.scope = scope
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
        self.roster_ids: set[str] = set()
        self.db_members: dict[str, Member] = {}
        self.org_plans: list[OrgPlan] = []
        self.unit_plans: list[UnitPlan] = []
        self.member_plans: list[MemberPlan] = []
        self.appointment_plans: list[AppointmentPlan] = []
        self.today = timezone.localdate()
        self._top_level_units: bool | None = None

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

    # ------------------------------------------------ 党组织

    def check_orgs(self, sheet: Sheet) -> None:
        first_row = {}
        for row, cells in sheet.rows:
            first_row.setdefault(cell.key(cells.get("编码")), row)
        seen: dict[str, tuple[int, str | None]] = {}  # code -> (row, kind) of rows above
        for row, cells in sheet.rows:
            errs = RowErrors(sheet, row, cells)
            code, name = self._code_and_name(
                errs, cells, model=Organization, noun="党组织", row_above=lambda c: seen[c][0] if c in seen else None,
                existing=self.db_orgs, visible=lambda o: self.scope.on_organization(o, Perm.VIEW_ORGANIZATIONS))
            kind = ORG_KINDS.get(cell.key(cells.get("类型")))
            if kind is None:
                errs.add("类型", "类型应为：" + "、".join(ORG_KINDS) + "。")
            parent_code = cell.key(cells.get("上级编码"))
            parent_kind, parent_known, parent = None, True, None
            if parent_code:
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
            defines = bool(code) and code not in seen and code not in self.db_orgs
            if code and code not in seen:
                seen[code] = (row, kind)
            stand_in = ImportScope.stand_in(parent, code=code, name=name, kind=kind or "", founded_on=founded_on)
            if self._define(errs, defines, stand_in, self.orgs_by_code, self.orgs_by_name, self.broken_orgs):
                self.org_plans.append(OrgPlan(row, code, name, kind, parent_code, founded_on))

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
        first_row = {}
        for row, cells in sheet.rows:
            first_row.setdefault(cell.key(cells.get("编码")), row)
        seen: dict[str, int] = {}
        for row, cells in sheet.rows:
            errs = RowErrors(sheet, row, cells)
            code, name = self._code_and_name(
                errs, cells, model=Unit, noun="单位", row_above=seen.get, existing=self.db_units,
                visible=lambda u: self.scope.on_unit(u, Perm.VIEW_UNITS))
            kind = UNIT_KINDS.get(cell.key(cells.get("类型")))
            if kind is None:
                errs.add("类型", "类型应为：" + "、".join(UNIT_KINDS) + "。")
            parent_code = cell.key(cells.get("上级编码"))
            if not parent_code:
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

    def check_members(self, sheet: Sheet) -> None:
        seen_ids: dict[str, int] = {}
        for row, cells in sheet.rows:
            errs = RowErrors(sheet, row, cells)
            data: dict = {"name": cell.text(cells.get("姓名"))}
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
            elif id_number in seen_ids:
                errs.add("身份证号", f"与第 {seen_ids[id_number]} 行的身份证号重复：同一名党员只应出现一次。")
            elif id_number:
                seen_ids[id_number] = row
                self.roster_ids.add(id_number)
            id_birth = _birth_from_id(id_number)
            data["gender"] = self._choice(errs, cells, "性别", GENDERS, "性别应填“男”或“女”。")
            if data["gender"] is None and cell.is_blank(cells.get("性别")) and id_birth:
                data["gender"] = gender_from_id(id_number)
            data["ethnicity"] = cell.text(cells.get("民族")) or "汉族"
            if len(data["ethnicity"]) > 20:
                errs.add("民族", "民族不能超过20个字。")
            for header, key in (("出生日期", "birth_date"), ("入党日期", "joined_on"), ("转正日期", "full_on")):
                try:
                    data[key] = cell.date(cells.get(header))
                except cell.CellError as exc:
                    errs.add(header, str(exc))
                    data[key] = None
            birth_blank = cell.is_blank(cells.get("出生日期"))
            if data["birth_date"] is None and birth_blank:
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
                        if not cell.is_blank(cells.get("所在党组织编码")) or "所在党组织" not in sheet.columns:
                            header = "所在党组织编码"
                    # A blank birth date or gender is read from the ID number; if that is wrong,
                    # the ID number's own error is the one to fix.
                    if name == "birth_date" and data.get("birth_date") is None and birth_blank and id_wrong:
                        continue
                    if name == "gender" and cell.is_blank(cells.get("性别")) and id_wrong:
                        continue
                    errs.add(header, message)
            if errs or unit_broken or org_broken:
                errs.emit(self.errors)
            else:
                self.member_plans.append(MemberPlan(row, data))

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
        if code:
            found = by_code.get(code)
            if found is None or not usable(found):
                errs.add(code_column, self._unknown(noun, code))
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
            errs.add(column, f"{where}：{missing}")
            return None, True
        return candidates[0], True

    # ------------------------------------------------ 任职

    def check_appointments(self, sheet: Sheet) -> None:
        wanted_ids = set()
        for _row, cells in sheet.rows:
            try:
                wanted_ids.add(cell.number_text(cells.get("身份证号"), "身份证号").upper())
            except cell.CellError:
                pass
        # Members already registered that the user can see (as the 任职 page offers), and the open
        # posts: two queries for the whole sheet.
        self.db_members = {m.id_number: m for m in
                           self.scope.members().filter(id_number__in=wanted_ids - self.roster_ids)}
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
            errs = RowErrors(sheet, row, cells)
            org_code = cell.key(cells.get("党组织编码"))
            org = self.orgs_by_code.get(org_code) if org_code else None
            if not org_code:
                errs.add("党组织编码", "请填写党组织编码。")
            elif org is None or not self._org_in_scope(org, Perm.MANAGE_ORGANIZATIONS):
                # The 任职 page asks MANAGE_ORGANIZATIONS on the organisation.
                errs.add("党组织编码", self._unknown("党组织", org_code, "应是系统中已有的党组织编码，"
                                                                      "或「党组织」表中的编码。"))
            elif org.dissolved_on:
                errs.add("党组织编码", f"党组织“{org.name}”已撤销。")
            try:
                id_number = cell.number_text(cells.get("身份证号"), "身份证号").upper()
            except cell.CellError as exc:
                errs.add("身份证号", str(exc))
                id_number = ""
            member_name = roster_names.get(id_number)
            if not id_number and "身份证号" not in errs:
                errs.add("身份证号", "请填写任职党员的身份证号。")
            elif id_number and id_number not in self.roster_ids:
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

    # ------------------------------------------------ helpers

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
            errs.add(header, message)
        return value


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
