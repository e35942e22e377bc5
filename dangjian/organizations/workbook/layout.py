"""The bureau workbook's layout: sheet names, column headers, and the labels people type for each
choice. Shared by the importer and the exporter; docs/import-workbook.md describes it for people."""

import tomllib
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from dangjian.organizations.models import Appointment, Member, Organization, Unit

ORG_SHEET, UNIT_SHEET, ROSTER_SHEET, APPOINTMENT_SHEET = "党组织", "单位", "花名册", "任职"
HISTORY_SHEET = "组织关系"  # members' earlier stays, before the organisation they are in now
WORKBOOK_SHEETS = (ORG_SHEET, UNIT_SHEET, ROSTER_SHEET, HISTORY_SHEET, APPOINTMENT_SHEET)

# Headers per sheet, in the order errors within a row are reported and the export writes them.
ORG_HEADERS = ("编码", "名称", "类型", "上级编码", "成立日期", "撤销日期", "最近换届日期")
UNIT_HEADERS = ("编码", "名称", "类型", "上级编码", "服务党组织编码")
ROSTER_HEADERS = (
    "姓名", "性别", "民族", "出生日期", "身份证号", "入党日期", "转正日期", "党员类别", "学历", "职务",
    "工作单位", "所在党组织", "联系电话", "工作单位编码", "所在党组织编码",
    "转入本组织日期", "党籍状态", "离开日期", "去向",
)
HISTORY_HEADERS = ("身份证号", "党组织编码", "转入日期", "转出日期")
APPOINTMENT_HEADERS = ("党组织编码", "身份证号", "职务", "任职日期", "免职日期")
SHEET_HEADERS = {ORG_SHEET: ORG_HEADERS, UNIT_SHEET: UNIT_HEADERS, ROSTER_SHEET: ROSTER_HEADERS,
                 HISTORY_SHEET: HISTORY_HEADERS, APPOINTMENT_SHEET: APPOINTMENT_HEADERS}
# A header is required when every row must fill its cell.
REQUIRED_HEADERS = {
    ORG_SHEET: ("编码", "名称", "类型", "成立日期"),
    UNIT_SHEET: ("编码", "名称", "类型"),
    ROSTER_SHEET: ("姓名", "身份证号", "入党日期", "党员类别"),
    HISTORY_SHEET: HISTORY_HEADERS,
    APPOINTMENT_SHEET: ("党组织编码", "身份证号", "职务", "任职日期"),
}
# Of each group at least one header is required: the roster needs 所在党组织 or 所在党组织编码.
REQUIRED_ONE_OF = {ROSTER_SHEET: (("所在党组织", "所在党组织编码"),)}
# Service field name -> column header, to place a service's ValidationError on the right cell.
FIELD_HEADERS = {
    ORG_SHEET: {"code": "编码", "name": "名称", "kind": "类型", "parent": "上级编码", "founded_on": "成立日期"},
    HISTORY_SHEET: {"member": "身份证号", "organization": "党组织编码", "start": "转入日期", "end": "转出日期"},
    UNIT_SHEET: {"code": "编码", "name": "名称", "kind": "类型", "organization": "服务党组织编码"},
    ROSTER_SHEET: {
        "name": "姓名", "gender": "性别", "ethnicity": "民族", "birth_date": "出生日期", "id_number": "身份证号",
        "joined_on": "入党日期", "full_on": "转正日期", "category": "党员类别", "education": "学历", "post": "职务",
        "unit": "工作单位", "organization": "所在党组织", "phone": "联系电话",
    },
    APPOINTMENT_SHEET: {"organization": "党组织编码", "member": "身份证号", "role": "职务", "start": "任职日期",
                        "end": "免职日期"},
}

# The labels people type, beyond the exact choice labels, that mean the same thing: our own short
# forms here, other systems' wording in aliases.toml.
ALIASES_FILE = Path(__file__).with_name("aliases.toml")


def _read_aliases() -> dict:
    with ALIASES_FILE.open("rb") as f:
        data = tomllib.load(f)
    for section in ("headers", "guarded"):
        for sheet, entries in data.get(section, {}).items():
            unknown = set(entries.values() if section == "headers" else ()) - set(SHEET_HEADERS.get(sheet, ()))
            if sheet not in SHEET_HEADERS or unknown:
                raise ImproperlyConfigured(f"{ALIASES_FILE}: [{section}.{sheet}] names an unknown sheet or header {unknown}")
    return data


ALIASES = _read_aliases()
SHEET_ALIASES: dict[str, str] = ALIASES.get("sheets", {})
HEADER_ALIASES: dict[str, dict[str, str]] = ALIASES.get("headers", {})
# Columns read and not stored (named after an import), and columns that change a row's meaning
# (read; a cell other than blank or one of the neutral values is refused).
IGNORED_HEADERS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in ALIASES.get("ignored", {}).items()}
GUARDED_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    sheet: {header: tuple(values) for header, values in entries.items()}
    for sheet, entries in ALIASES.get("guarded", {}).items()
}
AMBIGUOUS_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    column: {value: tuple(means) for value, means in entries.items()}
    for column, entries in ALIASES.get("ambiguous", {}).items()
}


def _choices(column: str, choices) -> dict[str, str]:
    """Label -> value for a choice column: our labels, then the aliases of aliases.toml."""
    by_label = {label: value for value, label in choices}
    for alias, label in ALIASES.get("values", {}).get(column, {}).items():
        if label not in by_label:
            raise ImproperlyConfigured(f"{ALIASES_FILE}: [values.{column}] {alias} = {label}: no such choice")
        by_label.setdefault(alias, by_label[label])
    return by_label


ORG_KINDS = _choices("类型", Organization.Kind.choices)
UNIT_KINDS = _choices("单位类型", Unit.Kind.choices)
GENDERS = _choices("性别", Member.Gender.choices)
CATEGORIES = _choices("党员类别", Member.Category.choices)
EDUCATIONS = _choices("学历", Member.Education.choices)
ROLES = _choices("职务", Appointment.Role.choices)
# 党籍状态: blank or 正常 is on the roster; the others register the member and then take them off it on
# 离开日期, as the 离开花名册 page does.
STATUSES = _choices("党籍状态", [(Member.Status.ACTIVE, "正常"), *[
    (value, label) for value, label in Member.Status.choices]])
