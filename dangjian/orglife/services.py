"""Writes for organisational life. One service records a whole meeting (attendance, guests, agenda
items with votes) in one transaction with its audit entry; bad input raises ValidationError with
Chinese messages and nothing is saved. Late records are accepted and marked late, never refused."""

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.audit.services import Actor, audit_changes, audit_record, snapshot
from dangjian.core.updates import model_update
from dangjian.organizations.models import Appointment, Member, Membership, Organization
from dangjian.organizations.selectors import memberships_on, open_on
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife.models import (
    AgendaItem,
    Attendance,
    ContactPoint,
    Guest,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    StudyTag,
)

K = Organization.Kind
# Which organisations hold which kinds of meeting.
ALLOWED_ORG_KINDS = {
    MeetingKind.GENERAL_MEETING: {K.BRANCH},
    MeetingKind.COMMITTEE_MEETING: {K.BRANCH, K.GENERAL_BRANCH, K.ORGAN_COMMITTEE},
    MeetingKind.CELL_MEETING: {K.CELL},
    MeetingKind.PARTY_LECTURE: {K.BRANCH, K.GENERAL_BRANCH, K.ORGAN_COMMITTEE, K.LEADING_GROUP},
    MeetingKind.THEME_DAY: {K.BRANCH, K.GENERAL_BRANCH},
    MeetingKind.LEADING_GROUP_MEETING: {K.LEADING_GROUP},
    MeetingKind.CENTRAL_GROUP_STUDY: {K.LEADING_GROUP, K.ORGAN_COMMITTEE},
    MeetingKind.SPECIAL_MEETING: set(K.values),
    MeetingKind.DEMOCRATIC_LIFE_MEETING: {K.LEADING_GROUP, K.ORGAN_COMMITTEE},
    MeetingKind.ORGANIZATIONAL_LIFE_MEETING: {K.BRANCH, K.GENERAL_BRANCH},
}
# Meetings of a body (its appointed members attend), as opposed to meetings of all members.
BODY_KINDS = {MeetingKind.COMMITTEE_MEETING, MeetingKind.LEADING_GROUP_MEETING, MeetingKind.CENTRAL_GROUP_STUDY,
              MeetingKind.DEMOCRATIC_LIFE_MEETING}
# Meetings at which items are decided by vote.
AGENDA_KINDS = {MeetingKind.LEADING_GROUP_MEETING, MeetingKind.COMMITTEE_MEETING, MeetingKind.GENERAL_MEETING}


def expected_attendees(organization: Organization, kind: str, day: dt.date) -> list[Member]:
    """应到: who was expected at a meeting of `kind` held by `organization` on `day`.

    A body's meetings (支委会, 党组会, 中心组, 民主生活会) and everything the 党组 holds expect the
    members appointed to it on that day; other meetings expect everyone who belonged to the
    organisation (or a cell inside it) on that day, from the dated membership history."""
    if kind in BODY_KINDS or organization.kind == K.LEADING_GROUP:
        ids = Appointment.objects.filter(open_on(day), organization=organization).values("member_id")
    else:
        ids = memberships_on(organization, day).values("member_id")
    return list(Member.objects.filter(pk__in=ids).only("id", "name").order_by("name", "id"))


@dataclass
class AgendaInput:
    title: str
    category: str
    amount: Decimal | None = None
    votes_for: int | None = None
    votes_against: int | None = None
    votes_abstain: int | None = None
    chair_spoke_last: bool = True
    decision: str = ""


@dataclass
class GuestInput:
    name: str
    role: str = Guest.Role.OTHER
    member: Member | None = None


@dataclass
class MeetingInput:
    organization: Organization
    kind: str
    starts_at: dt.datetime
    topics: str
    place: str = ""
    host: Member | None = None
    recorder: Member | None = None
    lecturer: Member | None = None
    lecturer_name: str = ""
    minutes: str = ""
    study_tags: list[str] = field(default_factory=list)
    includes_appraisal: bool = False
    # member id -> (reason, note) for those absent; everyone else expected was present.
    absences: dict[int, tuple[str, str]] = field(default_factory=dict)
    guests: list[GuestInput] = field(default_factory=list)
    agenda: list[AgendaInput] = field(default_factory=list)


def _check(data: MeetingInput, now: dt.datetime) -> tuple[list[Member], dict]:
    """Validate a meeting; return (expected attendees, errors by field)."""
    errors: dict[str, list[str]] = {}

    def err(name, message):
        errors.setdefault(name, []).append(message)

    org, kind = data.organization, data.kind
    expected: list[Member] = []
    if kind not in MeetingKind.values:
        err("kind", "请选择会议类型。")
    elif org.kind not in ALLOWED_ORG_KINDS[kind]:
        err("kind", f"{org.get_kind_display()}不召开{MeetingKind(kind).label}。")
    if data.starts_at is None:
        err("starts_at", "请填写会议时间。")
    elif data.starts_at > now:
        err("starts_at", "会议时间不能晚于现在：请在会后记录已召开的会议。")
    else:
        day = timezone.localtime(data.starts_at).date() if timezone.is_aware(data.starts_at) else data.starts_at.date()
        if day < org.founded_on:
            err("starts_at", f"“{org.name}”于 {org.founded_on:%Y-%m-%d} 成立，会议不能早于此日。")
        elif org.dissolved_on and day >= org.dissolved_on:
            err("starts_at", f"“{org.name}”已于 {org.dissolved_on:%Y-%m-%d} 撤销。")
        elif "kind" not in errors:
            expected = expected_attendees(org, kind, day)
    if not data.topics.strip():
        err("topics", "请填写会议议题或主题。")
    expected_ids = {m.pk for m in expected}
    if expected or "starts_at" not in errors:
        strangers = [pk for pk in data.absences if pk not in expected_ids]
        if strangers:
            # Name only people who belonged to this organisation at some time: an arbitrary id must
            # not reveal the name of a member elsewhere in the bureau.
            names = dict(Membership.objects.filter(member_id__in=strangers, organization__path__startswith=org.path)
                         .values_list("member_id", "member__name"))
            shown = "、".join(names.get(pk, f"编号为{pk}的人员") for pk in strangers)
            err("attendance", f"{shown}在会议当天不是应到人员（不属于本组织或未任职），不能登记出缺席；如系列席，请填在列席人员中。")
    if any(reason not in Attendance.AbsenceReason.values for reason, _note in data.absences.values()):
        err("attendance", "请为每位缺席人员选择缺席原因（公差、病假、事假或其他）。")
    if data.agenda and kind not in AGENDA_KINDS:
        err("agenda", f"{MeetingKind(kind).label if kind in MeetingKind.values else '该会议'}不表决议题；议题应在党组会、党委会（支委会）或党员大会上决定。")
    present = len(expected_ids) - len([pk for pk in data.absences if pk in expected_ids])
    for index, item in enumerate(data.agenda, start=1):
        for message in agenda_item_problems(item, present=present):
            err("agenda", f"第{index}项议题：{message}")
    for guest in data.guests:
        if not guest.name.strip() and guest.member is None:
            err("guests", "列席人员须填写姓名。")
        if guest.role not in Guest.Role.values:
            err("guests", "请选择列席人员身份。")
    return expected, errors


def agenda_item_problems(item: AgendaInput, *, present: int) -> list[str]:
    """What is wrong with one agenda item as entered (not the rule checks, which flag, not refuse)."""
    problems = []
    if not item.title.strip():
        problems.append("请填写议题名称。")
    if item.category not in AgendaItem.Category.values:
        problems.append("请选择议题类别。")
    votes = (item.votes_for, item.votes_against, item.votes_abstain)
    if any(v is not None for v in votes) and any(v is None for v in votes):
        problems.append("赞成、反对、弃权票数须同时填写（未表决的议题三项都不填）。")
    elif all(v is not None for v in votes):
        if any(v < 0 for v in votes):
            problems.append("票数不能为负数。")
        elif sum(votes) > present:
            problems.append(f"表决票数合计 {sum(votes)} 超过实到人数 {present}。")
    if item.amount is not None and item.amount < 0:
        problems.append("金额不能为负数。")
    if item.category == AgendaItem.Category.LARGE_FUND and item.amount is None:
        problems.append("大额度资金使用议题请填写金额（万元）。")
    return problems


def _status(starts_at: dt.datetime, now: dt.datetime) -> str:
    day = timezone.localtime(starts_at).date()
    late = (timezone.localtime(now).date() - day).days > orglife_rules.late_after_days(day)
    return Meeting.Status.LATE if late else Meeting.Status.ON_TIME


@transaction.atomic
def meeting_record(*, by: Actor, data: MeetingInput, entered_at: dt.datetime | None = None) -> Meeting:
    """Record a held meeting with its attendance (everyone expected, present unless listed absent),
    guests and agenda items. Entered long after the meeting, it is kept and marked 补录.

    `entered_at` is for records transcribed from a paper ledger (and for the demo): when the entry
    was really made, between the meeting and now; lateness is judged from it. Default: now."""
    now = timezone.now()
    expected, errors = _check(data, now)
    entered_at = entered_at or now
    if not errors and not (data.starts_at <= entered_at <= now):
        errors["entered_at"] = ["录入时间应在会议之后、现在之前。"]
    if errors:
        raise ValidationError(errors)
    meeting = Meeting.objects.create(recorded_at=entered_at,
        organization=data.organization, kind=data.kind, starts_at=data.starts_at, place=data.place.strip(),
        host=data.host, recorder=data.recorder, lecturer=data.lecturer, lecturer_name=data.lecturer_name.strip(),
        topics=data.topics.strip(), minutes=data.minutes, includes_appraisal=data.includes_appraisal,
        status=_status(data.starts_at, entered_at), recorded_by=by.user,
    )
    _write_children(meeting, data, expected)
    audit_record(by=by, action="meeting.record", obj=meeting, after=_summary(meeting, data, expected),
                 note="" if entered_at is now else f"按纸质台账补入，原录入时间 {timezone.localtime(entered_at):%Y-%m-%d %H:%M}")
    return meeting


MEETING_FIELDS = ["kind", "starts_at", "place", "host", "recorder", "lecturer", "lecturer_name", "topics",
                  "includes_appraisal", "status"]
# What a correction may change on the meeting row itself (its organisation stays; see meeting_update).
MEETING_EDITABLE = ["kind", "starts_at", "place", "host", "recorder", "lecturer", "lecturer_name", "topics", "minutes",
                    "includes_appraisal"]


@transaction.atomic
def meeting_update(*, by: Actor, meeting: Meeting, data: MeetingInput) -> Meeting:
    """Correct a meeting record: its fields, attendance, guests and agenda are replaced as a whole.
    Lateness is judged again from when the record was first made, so moving a meeting's date into
    an earlier month cannot pass off a late record as on time. The audit entry names exactly what
    changed (fields by value, and the attendance, guests, agenda and study themes); a correction
    that changes nothing writes no entry."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)  # one correction at a time
    if data.organization.pk != meeting.organization_id:
        raise ValidationError({"organization": "会议所属党组织不能更改；如记错了党组织，请删除这条记录后重新记录。"})
    expected, errors = _check(data, timezone.now())
    if not errors and data.starts_at > meeting.recorded_at:
        errors["starts_at"] = [f"会议时间不能晚于该记录的录入时间（{timezone.localtime(meeting.recorded_at):%Y-%m-%d %H:%M}）。"]
    if errors:
        raise ValidationError(errors)
    before = _children(meeting)
    changes = model_update(instance=meeting, fields=[*MEETING_EDITABLE, "status"],
                           data={name: getattr(data, name) for name in MEETING_EDITABLE}
                           | {"status": _status(data.starts_at, meeting.recorded_at)})
    meeting.attendances.all().delete()
    meeting.guests.all().delete()
    meeting.agenda_items.all().delete()
    meeting.study_tags.clear()
    _write_children(meeting, data, expected)
    after = _children(meeting)
    changes.update({name: (before[name], after[name]) for name in before if before[name] != after[name]})
    # Values, not representations: the same time in another time zone, or the form saved again
    # unchanged, is no change and leaves no entry.
    audit_changes(by=by, action="meeting.update", obj=meeting, changes=changes)
    return meeting


def _children(meeting: Meeting) -> dict:
    """The parts of a meeting record kept in other tables, as the audit diff compares them."""
    return {
        "absent": sorted([a.member_id, a.absence_reason, a.note]
                         for a in meeting.attendances.filter(present=False).order_by()),
        "guests": sorted(([g.name, g.role, g.member_id] for g in meeting.guests.order_by()), key=str),
        "agenda": [[a.title, a.category, None if a.amount is None else str(a.amount), a.votes_for, a.votes_against,
                    a.votes_abstain, a.chair_spoke_last, a.decision] for a in meeting.agenda_items.order_by("order")],
        "study_tags": sorted(meeting.study_tags.values_list("name", flat=True)),
    }


@transaction.atomic
def meeting_delete(*, by: Actor, meeting: Meeting, reason: str) -> None:
    """Remove a meeting recorded by mistake (wrong organisation, recorded twice). The audit entry
    keeps what it said, so the removal itself is on the record."""
    if len(reason.strip()) < 2:
        raise ValidationError({"reason": "请说明删除原因（如：记错了党组织、重复录入）。"})
    meeting = Meeting.objects.select_for_update().select_related("organization").get(pk=meeting.pk)
    before = snapshot(meeting, ["organization", *MEETING_FIELDS]) | {
        "expected": meeting.attendances.count(), "present": meeting.attendances.filter(present=True).count(),
        "agenda": list(meeting.agenda_items.order_by("order").values_list("title", flat=True))}
    audit_record(by=by, action="meeting.delete", obj=meeting, before=before, note=reason.strip())
    meeting.delete()


def _write_children(meeting: Meeting, data: MeetingInput, expected: list[Member]) -> None:
    Attendance.objects.bulk_create([
        Attendance(meeting=meeting, member=m, present=m.pk not in data.absences,
                   absence_reason=data.absences.get(m.pk, ("", ""))[0], note=data.absences.get(m.pk, ("", ""))[1][:200])
        for m in expected
    ])
    Guest.objects.bulk_create([Guest(meeting=meeting, member=g.member, name=(g.name or g.member.name).strip(),
                                     role=g.role) for g in data.guests])
    AgendaItem.objects.bulk_create([
        AgendaItem(meeting=meeting, order=i, title=a.title.strip(), category=a.category, amount=a.amount,
                   votes_for=a.votes_for, votes_against=a.votes_against, votes_abstain=a.votes_abstain,
                   chair_spoke_last=a.chair_spoke_last, decision=a.decision)
        for i, a in enumerate(data.agenda, start=1)
    ])
    names = [t.strip() for t in data.study_tags if t.strip()]
    tags = [StudyTag.objects.get_or_create(name=name)[0] for name in dict.fromkeys(names)]
    if tags:
        meeting.study_tags.set(tags)


def _summary(meeting: Meeting, data: MeetingInput, expected: list[Member]) -> dict:
    return {"organization": meeting.organization_id, "kind": meeting.kind, "starts_at": meeting.starts_at.isoformat(),
            "expected": len(expected), "absent": len(data.absences), "guests": len(data.guests),
            "agenda": len(data.agenda), "status": meeting.status}


@transaction.atomic
def agenda_item_add(*, by: Actor, meeting: Meeting | None, item: AgendaInput) -> AgendaItem:
    """Add a decided item to a recorded meeting. An item always belongs to a meeting."""
    if meeting is None:
        raise ValidationError({"meeting": "议题须属于一次已记录的会议：请先记录召开的党组会、党委会或党员大会。"})
    if meeting.kind not in AGENDA_KINDS:
        raise ValidationError({"meeting": f"{meeting.get_kind_display()}不表决议题。"})
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)  # numbering items one at a time
    present = meeting.attendances.filter(present=True).count()
    problems = agenda_item_problems(item, present=present)
    if problems:
        raise ValidationError({"agenda": problems})
    order = (meeting.agenda_items.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    agenda_item = AgendaItem.objects.create(meeting=meeting, order=order, title=item.title.strip(),
                                            category=item.category, amount=item.amount, votes_for=item.votes_for,
                                            votes_against=item.votes_against, votes_abstain=item.votes_abstain,
                                            chair_spoke_last=item.chair_spoke_last, decision=item.decision)
    audit_record(by=by, action="agenda_item.add", obj=agenda_item,
                 after={"meeting": meeting.pk, "title": agenda_item.title, "category": agenda_item.category})
    return agenda_item


@transaction.atomic
def contact_point_set(*, by: Actor, leader: Member, organization: Organization, year: int) -> ContactPoint:
    """Link a leader to a branch for a year (党建联系点)."""
    if organization.kind != K.BRANCH:
        raise ValidationError({"organization": "党建联系点应为党支部。"})
    if not (2000 <= year <= timezone.localdate().year + 1):
        raise ValidationError({"year": "年度不在有效范围内。"})
    clash = ValidationError(f"{leader.name}已联系{organization.name}（{year}年）。")
    if ContactPoint.objects.filter(leader=leader, organization=organization, year=year).exists():
        raise clash
    try:
        with transaction.atomic():  # two officers saving the same link at once: one wins, one is told
            point = ContactPoint.objects.create(leader=leader, organization=organization, year=year)
    except IntegrityError:
        raise clash from None
    audit_record(by=by, action="contact_point.set", obj=point,
                 after={"leader": leader.pk, "organization": organization.pk, "year": year})
    return point


ATTACHMENT_EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".doc", ".xls", ".txt"}
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024


@transaction.atomic
def attachment_add(*, by: Actor, meeting: Meeting, upload) -> MeetingAttachment:
    """Attach optional evidence to a meeting (never required). Type and size are checked."""
    name = os.path.basename(upload.name or "")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ATTACHMENT_EXTENSIONS:
        raise ValidationError({"file": "附件只接受 PDF、图片（JPG/PNG）、Word、Excel 或文本文件。"})
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": "附件不能超过 20 MB。"})
    attachment = MeetingAttachment.objects.create(meeting=meeting, file=upload, name=name[:200])
    audit_record(by=by, action="meeting.attach", obj=meeting, after={"attachment": attachment.name})
    return attachment
