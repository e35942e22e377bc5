"""The 花名册 export, in the layout the import reads (so it can be filled in and imported again)."""

from django.db.models import OuterRef, QuerySet, Subquery

from dangjian.core.dates import Precision, show_date
from dangjian.core.excel import SheetWriter, workbook_bytes, write_only_workbook
from dangjian.core.identity import mask_id_number, mask_phone
from dangjian.organizations.models import Member, Membership
from dangjian.organizations.workbook.layout import ROSTER_HEADERS, ROSTER_SHEET

# The roster's columns but the leaving ones: a member is exported with the day they came to their
# organisation and their 党籍状态 (someone off the roster re-imports only with a 离开日期 added).
EXPORT_HEADERS = tuple(h for h in ROSTER_HEADERS if h not in ("离开日期", "去向"))

_WIDTHS = {"姓名": 10, "民族": 8, "性别": 6, "出生日期": 12, "身份证号": 21, "入党日期": 12, "转正日期": 12,
           "党员类别": 10, "学历": 11, "职务": 16, "工作单位": 20, "所在党组织": 22, "联系电话": 15,
           "工作单位编码": 12, "所在党组织编码": 14, "转入本组织日期": 14, "党籍状态": 10}


def export_roster(members: QuerySet[Member], *, reveal: bool) -> bytes:
    """The members as a 花名册 .xlsx in the import's layout. ID numbers and phones are masked unless
    `reveal` (the caller audits a revealed export); every text cell is formula-safe (SEC-IP-04); ID
    and phone cells are text so Excel keeps every digit. One query whatever the number of members."""
    wb = write_only_workbook()
    sheet = SheetWriter(wb, ROSTER_SHEET, EXPORT_HEADERS, widths=_WIDTHS, text_columns=("身份证号", "联系电话"))
    current_stay = Membership.objects.filter(member=OuterRef("pk"), end__isnull=True).values("start")[:1]
    queryset = members.select_related("organization", "unit").annotate(since=Subquery(current_stay))
    if not queryset.ordered:
        queryset = queryset.order_by("organization__path", "name_key", "pk")  # pinyin order
    show_id = (lambda v: v) if reveal else mask_id_number
    show_phone = (lambda v: v) if reveal else mask_phone
    for m in queryset.iterator(chunk_size=2000):
        values = {
            "姓名": m.name, "性别": m.get_gender_display(), "民族": m.ethnicity, "出生日期": m.birth_date,
            "身份证号": show_id(m.id_number), "入党日期": _as_typed(m.joined_on, m.joined_on_precision),
            "转正日期": _as_typed(m.full_on, m.full_on_precision),
            "党员类别": m.get_category_display(), "学历": m.get_education_display() if m.education else "",
            "职务": m.post, "工作单位": m.unit.name if m.unit else "", "所在党组织": m.organization.name,
            "联系电话": show_phone(m.phone), "工作单位编码": m.unit.code if m.unit else "",
            "所在党组织编码": m.organization.code,
            "转入本组织日期": m.since if m.since != m.joined_on else None,
            "党籍状态": "正常" if m.status == Member.Status.ACTIVE else m.get_status_display(),
        }
        sheet.append([values[header] for header in EXPORT_HEADERS])
    return workbook_bytes(wb)


def _as_typed(day, precision):
    """A full date as a date cell; an incomplete one as the text it was typed as (1984年11月, 不详),
    which the import reads back to the same date and precision."""
    return day if precision == Precision.DAY else show_date(day, precision)
