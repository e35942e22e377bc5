"""One meeting's 会议记录 as a .docx on a GB/T 9704 page (layout: dangjian.core.documents)."""

import datetime as dt

from django.utils import timezone

from dangjian.core import documents as gw
from dangjian.organizations.models import Organization
from dangjian.orglife import selectors
from dangjian.orglife.models import AgendaItem, Attendance, Guest, Meeting, MeetingKind
from dangjian.orglife.paperwork.wording import absence_text, amount_text, guest_text, vote_text

# Title of the record per kind; the organisation's name goes in front. Where the kind would repeat
# the organisation ("第一党小组党小组会"), the usual shorter form is used.
_TITLES = {
    MeetingKind.GENERAL_MEETING: "党员大会会议记录",
    MeetingKind.CELL_MEETING: "会议记录",
    MeetingKind.PARTY_LECTURE: "党课记录",
    MeetingKind.THEME_DAY: "主题党日活动记录",
    MeetingKind.LEADING_GROUP_MEETING: "会议记录",
    MeetingKind.CENTRAL_GROUP_STUDY: "理论学习中心组学习记录",
    MeetingKind.SPECIAL_MEETING: "专题会议记录",
    MeetingKind.DEMOCRATIC_LIFE_MEETING: "民主生活会会议记录",
    MeetingKind.ORGANIZATIONAL_LIFE_MEETING: "组织生活会会议记录",
}
_COMMITTEE_TITLES = {Organization.Kind.BRANCH: "支委会会议记录", Organization.Kind.GENERAL_BRANCH: "委员会会议记录"}


def minutes_title(meeting: Meeting) -> str:
    """第一党支部党员大会会议记录, 第一党支部支委会会议记录, 市交通运输局党组会议记录…"""
    org = meeting.organization
    if meeting.kind == MeetingKind.COMMITTEE_MEETING:
        suffix = _COMMITTEE_TITLES.get(org.kind, "会议记录")  # 局机关党委 + 会议记录
    else:
        suffix = _TITLES.get(meeting.kind, f"{meeting.get_kind_display()}会议记录")
    return f"{org.name}{suffix}"


def _meeting_time(value: dt.datetime) -> str:
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def meeting_minutes_docx(meeting: Meeting) -> bytes:
    """The 会议记录 of one meeting as a .docx: the header table (time, place, host, recorder,
    lecturer, 应到/实到, absentees with reasons, guests, study themes, topics), the minutes, the
    agenda items with their votes and rule flags (提示), and the signature lines. Single-sided
    paper: page numbers centred, only the faces it uses in the font table.

    Five queries whatever the size of the meeting: the meeting with its organisation and people,
    its attendance with the members, its guests, its agenda items with 应到/实到 (decision_items),
    its study themes. The meeting passed in is only used for its primary key: the caller has
    already checked that the user may read it (policy.get_meeting)."""
    meeting = (Meeting.objects.select_related("organization", "host", "recorder", "lecturer")
               .get(pk=meeting.pk))
    attendances = list(Attendance.objects.filter(meeting=meeting).select_related("member")
                       .order_by("member__name", "member_id"))
    guests = list(Guest.objects.filter(meeting=meeting).order_by("id"))
    items = list(selectors.decision_items(AgendaItem.objects.filter(meeting=meeting)).order_by("order"))
    tags = meeting.study_tag_names()

    present = [a for a in attendances if a.present]
    absent = [a for a in attendances if not a.present]
    lecturer = meeting.lecturer.name if meeting.lecturer else meeting.lecturer_name

    heading = minutes_title(meeting)
    doc = gw.new_document(page_numbers="centre", font_alternatives=(gw.FANGSONG, gw.XIAOBIAOSONG))
    doc.core_properties.title = heading
    doc.core_properties.author = meeting.organization.name  # not "python-docx"
    gw.add_title(doc, heading)

    rows: list[tuple] = [
        ("会议时间", _meeting_time(meeting.starts_at)),
        ("会议地点", meeting.place or "—"),
        ("主持人", meeting.host.name if meeting.host else "—", "记录人", meeting.recorder.name if meeting.recorder else "—"),
    ]
    if meeting.kind == MeetingKind.PARTY_LECTURE or lecturer:
        rows.append(("授课人", lecturer or "—"))
    voters = [a for a in attendances if a.has_vote]
    quorum = selectors.meeting_quorum(meeting, voters_expected=len(voters),
                                      voters_present=sum(1 for a in voters if a.present))
    rows.append(("应到人数", f"{len(attendances)}人", "实到人数", f"{len(present)}人"))
    if len(voters) != len(attendances):
        rows.append(("应到有表决权", f"{len(voters)}人", "实到有表决权", f"{sum(1 for a in voters if a.present)}人"))
    if quorum is not None:
        rows.append(("法定人数", f"{quorum.text}（依据：{quorum.source}）"))
    rows += [
        ("出席人员", "、".join(a.member.name for a in present) or "无"),
        ("缺席人员及原因", "、".join(absence_text(a.member.name, a.absence_reason, a.note) for a in absent) or "无"),
        ("列席人员", "、".join(guest_text(g.name, g.role, g.title) for g in guests) or "无"),
        ("学习主题", "、".join(tags) or "—"),
        ("会议议题", gw.text_lines(meeting.topics) or ["—"]),
    ]
    gw.add_label_table(doc, rows)

    para = gw.add_paragraph
    para(doc)
    para(doc, "会议内容", face=gw.HEITI, keep_with_next=True)
    for line in gw.text_lines(meeting.minutes) or ["（未录入会议内容）"]:
        para(doc, line)

    if items:
        para(doc)
        para(doc, "议题及表决情况", face=gw.HEITI, keep_with_next=True)
    for item in items:
        passed, flags = selectors.decision_flags(item)
        para(doc, f"{item.order}. {item.title}", bold=True, keep_with_next=True)
        facts = f"类别：{item.get_category_display()}"
        if item.amount is not None:
            facts += f"；金额：{amount_text(item.amount)}万元"
        para(doc, f"{facts}。")
        counts = (f"应到{item.expected}人，实到{item.present}人" if item.voters_expected == item.expected else
                  f"应到有表决权{item.voters_expected}人，实到有表决权{item.voters_present}人")
        if item.votes_for is None:
            para(doc, f"表决结果：未记录表决（{counts}）。")
        elif passed is None:
            para(doc, f"表决结果：{vote_text(item)}（{counts}），表决无效。")
        else:
            outcome = "通过" if passed else "未通过"
            para(doc, f"表决结果：{vote_text(item)}（{counts}），{outcome}。")
        for index, line in enumerate(gw.text_lines(item.decision)):
            para(doc, f"决定：{line}" if index == 0 else line)
        for flag in flags:
            para(doc, f"提示：{flag.text}（依据：{flag.source}）")

    para(doc)
    para(doc)
    para(doc, "主持人（签字）：　　　　记录人（签字）：", indent_chars=2)
    return gw.docx_bytes(doc)
