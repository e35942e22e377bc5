"""The bureau workbook's layout: sheet names, column headers, and the labels people type for each
choice. Shared by the importer and the exporter; docs/import-workbook.md describes it for people."""

from dangjian.organizations.models import Appointment, Member, Organization, Unit

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
SHEET_HEADERS = {ORG_SHEET: ORG_HEADERS, UNIT_SHEET: UNIT_HEADERS, ROSTER_SHEET: ROSTER_HEADERS,
                 APPOINTMENT_SHEET: APPOINTMENT_HEADERS}
# A header is required when every row must fill its cell.
REQUIRED_HEADERS = {
    ORG_SHEET: ("编码", "名称", "类型", "成立日期"),
    UNIT_SHEET: ("编码", "名称", "类型"),
    ROSTER_SHEET: ("姓名", "身份证号", "入党日期", "党员类别"),
    APPOINTMENT_SHEET: APPOINTMENT_HEADERS,
}
# Of each group at least one header is required: the roster needs 所在党组织 or 所在党组织编码.
REQUIRED_ONE_OF = {ROSTER_SHEET: (("所在党组织", "所在党组织编码"),)}
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
