"""The orglife area's part of the JSON API (mounted by `dangjian.api.main`): meetings with their attendance, guests and agenda items (votes), and
the 三重一大 decision register. Writes go through `dangjian.orglife.services` with
`Actor.from_request`, so each lands in the audit trail and bad input is refused whole (nothing saved).

Access, as in `dangjian.api.main`'s docstring:
- Lists come from `policy.meetings(user, perm)`: `VIEW_MEETINGS` for meetings, `VIEW_DECISIONS` for
  the decision register; outside it, or without the permission, the list is empty.
- Details go through `policy.get_meeting` (404 outside scope).
- Writes need `RECORD_MEETINGS` on the meeting's organisation: not visible → 404, visible → 403.
- People named in a body (host, recorder, lecturer, absentees, guests) must be visible to the caller,
  so a member id cannot be used to learn a name. Three exceptions keep honest records possible:
  a person already on the meeting (a PUT resending what GET gave), a contact-point leader of the
  organisation (党建联系点, who joins its meetings from elsewhere), and an absentee who was
  expected on the day but has since transferred out of the caller's scope. An absentee the caller
  cannot see and who was not expected is refused without a name.

Times: `starts_at` is ISO 8601 with a time; without an offset it is local time (settings.TIME_ZONE,
Asia/Shanghai). Answers give local times with their offset.

The lists are the pages' selectors (`orglife.selectors.meeting_list`, `decision_register`), paged by
the one keyset cursor (`core.cursors`); operation ids are pinned to their names from before the API
was split by area (clients generated from the schema use them).
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from dangjian.access import policy
from dangjian.access.guards import get_for_change
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor
from dangjian.core.api import DETAIL_ERRORS, MAX_ID, MAX_PAGE, READ_ERRORS, WRITE_ERRORS, ApiError, Id, Versioned, text
from dangjian.core.cursors import decode_cursor, encode_cursor
from dangjian.organizations.models import Member, Organization
from dangjian.orglife import selectors as orglife_selectors
from dangjian.orglife import services
from dangjian.orglife.models import FORM_LABELS, AgendaItem, Attendance, Guest, Meeting, MeetingKind
from dangjian.orglife.selectors import decision_flags, decision_items, meeting_quorum, meeting_rows

router = Router()
# The service names the attendance problem "attendance"; the body calls the list "absences".
SERVICE_FIELDS = {"attendance": "absences"}
# How many decision-register rows one `flagged=true` request reads at most to fill a page (see
# decision_list): one bounded query, whatever the data.
FLAGGED_SCAN = 1000

# ---------------------------------------------------------------- input types

DATETIME_MESSAGE = ("时间格式应为 ISO 8601 日期加时间，如 2024-05-20T14:30 或 2024-05-20T14:30:00+08:00"
                    "（不带时区按北京时间），且须是实际存在的时间。")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?")


def _local_datetime(value):
    """An ISO datetime string → aware datetime; without an offset it is local time. Dates alone,
    words and timestamps are refused: a meeting is recorded with its hour."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and _ISO_DATETIME.fullmatch(value.strip()):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(DATETIME_MESSAGE) from None
    else:
        raise ValueError(DATETIME_MESSAGE)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    try:
        in_utc = parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(DATETIME_MESSAGE) from None
    if not 1900 <= in_utc.year <= 9998:
        raise ValueError("会议时间不在有效范围内。")
    return parsed


def _amount(value):
    """万元, at most 2 decimals and 10 integer digits (the column); a number or a decimal string.
    A negative amount is left to the service, which says so in its own words."""
    if value is None or isinstance(value, Decimal):
        parsed = value
    elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            parsed = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("金额应为数字（万元），如 80 或 12.5。") from None
    else:
        raise ValueError("金额应为数字（万元），如 80 或 12.5。")
    if parsed is not None:
        if not parsed.is_finite():
            raise ValueError("金额应为数字（万元），如 80 或 12.5。")
        if abs(parsed) >= Decimal(10) ** 10:  # checked first: quantize() fails on such numbers
            raise ValueError("金额超出允许的范围。")
        if parsed.as_tuple().exponent < -2 and parsed != parsed.quantize(Decimal("0.01")):
            raise ValueError("金额最多保留两位小数（万元）。")
    return parsed


def _at_most(n: int, what: str):
    def check(items):
        if len(items) > n:
            raise ValueError(f"{what}最多 {n} 项。")
        return items
    return AfterValidator(check)


StartsAt = Annotated[dt.datetime, BeforeValidator(_local_datetime)]
Amount = Annotated[Decimal | None, BeforeValidator(_amount)]
Votes = Annotated[int, Field(ge=0, le=2**31 - 1)]  # PositiveIntegerField
Kind = Literal[tuple(MeetingKind.values)]
# A form a session may also count as: a meeting kind (民主评议党员 is `includes_appraisal`; the
# service says so in its own words when it is sent here).
Form = Literal[tuple(FORM_LABELS)]
Category = Literal[tuple(AgendaItem.Category.values)]
AbsenceReason = Literal[tuple(Attendance.AbsenceReason.values)]
GuestRole = Literal[tuple(Guest.Role.values)]
LONG_TEXT = 20_000  # topics, decisions: no column limit, but no one writes more in one field
MINUTES = 200_000


class AbsenceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    member: Id = Field(description="缺席党员 id（须是会议当天的应到人员）")
    reason: AbsenceReason = Field(description="official 公差 / sick 病假 / personal 事假 / other 其他")
    note: text(200) = ""


class GuestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: Id | None = Field(None, description="修改时：已有列席人员的 id（原地修改）；新增的不填")
    name: text(100) = Field("", description="姓名；填了 member 可不填")
    role: GuestRole = Field(Guest.Role.OTHER, description="身份（用于统计）：contact_leader 联系点领导 / "
                            "lecturer 授课人 / supervisor 上级督导 / other 列席")
    title: text(100) = Field("", description="职务/说明，照原样保存，如“市委党校教授”")
    member: Id | None = Field(None, description="列席者如是党员，其 id")


class AgendaIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: Id | None = Field(None, description="修改会议时：已有议题的 id（原地修改，保留其身份）；新议题不填")
    title: text(300)
    category: Category
    amount: Amount = Field(None, description="金额（万元），最多两位小数")
    votes_for: Votes | None = None
    votes_against: Votes | None = None
    votes_abstain: Votes | None = None
    chair_spoke_last: bool = Field(True, description="主持人末位表态")
    decision: text(LONG_TEXT) = Field("", description="决定")


class MeetingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organization: Id = Field(description="召开会议的党组织 id（修改时不能更改）")
    kind: Kind
    starts_at: StartsAt = Field(description="ISO 8601 日期时间；不带时区按北京时间")
    topics: text(LONG_TEXT)
    place: text(200) = ""
    host: Id | None = Field(None, description="主持人（党员 id）")
    recorder: Id | None = Field(None, description="记录人（党员 id）")
    lecturer: Id | None = Field(None, description="授课人（党员 id）")
    lecturer_name: text(100) = Field("", description="外请授课人姓名")
    minutes: text(MINUTES) = ""
    study_tags: Annotated[list[text(100)], _at_most(20, "学习主题")] = Field(
        default_factory=list, description="学习主题，每项一个主题（照原样保存，不按空格拆分），按所给顺序")
    includes_appraisal: bool = Field(False, description="含民主评议党员（须是规则允许合并民主评议的会议类型）")
    covers_year: int | None = Field(None, description="所属年度（组织生活会、民主评议党员、民主生活会）：会议当年或上一年；"
                                    "不填为会议当年；其他会议不用")
    also_counts: Annotated[list[Form], _at_most(10, "同时计为")] = Field(
        default_factory=list, description="同时计为：本次会议同时算作的其他组织生活形式（会议类型），须是规则允许合并的")
    absences: Annotated[list[AbsenceIn], _at_most(5000, "缺席人员")] = Field(
        default_factory=list, description="缺席人员；其余应到人员均计为出席")
    guests: Annotated[list[GuestIn], _at_most(200, "列席人员")] = Field(default_factory=list)
    agenda: Annotated[list[AgendaIn], _at_most(100, "议题")] = Field(default_factory=list)


class MeetingUpdateIn(MeetingIn):
    version: Versioned.In = None


class AgendaItemIn(AgendaIn):
    meeting: Id | None = Field(description="议题所属会议 id；必须是已记录的会议")
    id: None = Field(None, description="新增议题没有 id", exclude=True)


class MeetingFilters(Schema):
    organization: Id | None = Field(None, description="党组织 id：含其下级党组织的会议")
    kind: Kind | None = None
    year: int | None = Field(None, ge=1900, le=2200)
    study_tag: text(100) | None = Field(None, description="学习主题名称")
    after: text(200) | None = Field(None, description="上一页返回的 next 游标")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class DecisionFilters(Schema):
    organization: Id | None = Field(None, description="党组织 id：含其下级党组织")
    year: int | None = Field(None, ge=1900, le=2200)
    category: Category | None = None
    flagged: bool = Field(False, description="只列有规则提示的议题（此时一页可能不足 limit 条，继续按 next 翻页）")
    after: text(200) | None = Field(None, description="上一页返回的 next 游标")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


# ---------------------------------------------------------------- output shapes

class FlagOut(Schema):
    text: str
    source: str = Field(description="规则出处")


class AgendaItemOut(Schema):
    id: int
    order: int
    title: str
    category: Category
    category_label: str
    amount: Decimal | None = Field(description="金额（万元）")
    votes_for: int | None
    votes_against: int | None
    votes_abstain: int | None
    chair_spoke_last: bool
    decision: str
    passed: bool | None = Field(description="赞成票超过应到会成员半数；未表决为 null")
    flags: list[FlagOut] = Field(description="违反议事规则之处（提示，不拒收）")


class DecisionOut(AgendaItemOut):
    meeting: int
    meeting_kind: Kind
    meeting_kind_label: str
    organization: int
    organization_name: str
    starts_at: dt.datetime
    expected: int = Field(description="应到")
    present: int = Field(description="实到")


class DecisionPage(Schema):
    items: list[DecisionOut]
    next: str | None = Field(description="下一页的游标（作为 after 传回）；没有下一页为 null")


class MeetingOut(Schema):
    id: int
    organization: int
    organization_name: str
    kind: Kind
    kind_label: str
    starts_at: dt.datetime
    place: str
    topics: str
    study_tags: list[str]
    status: Literal[tuple(Meeting.Status.values)] = Field(description="on_time 按时记录 / late 补录")
    covers_year: int | None = Field(description="所属年度（年度会议）；其他会议为 null")
    expected: int = Field(description="应到")
    present: int = Field(description="实到")
    attendance_rate: float | None = Field(description="实到/应到；无应到人员为 null")
    version: Versioned.Out


class MeetingPage(Schema):
    items: list[MeetingOut]
    next: str | None = Field(description="下一页的游标（作为 after 传回）；没有下一页为 null")


class AttendanceOut(Schema):
    member: int
    name: str
    present: bool
    has_vote: bool = Field(description="会议当天有表决权（预备党员、受留党察看处分期间的党员没有）")
    absence_reason: str
    note: str


class GuestOut(Schema):
    id: int
    name: str
    role: GuestRole
    title: str = Field(description="职务/说明")
    member: int | None


class QuorumOut(Schema):
    met: bool = Field(description="有表决权的到会人数达到法定人数；未达到则会议不能召开，表决无效")
    text: str
    source: str = Field(description="规则出处")


class MeetingDetailOut(MeetingOut):
    host: int | None
    host_name: str | None
    recorder: int | None
    recorder_name: str | None
    lecturer: int | None
    lecturer_member_name: str | None = Field(description="授课党员姓名（lecturer 的姓名）")
    lecturer_name: str = Field(description="外请授课人姓名")
    minutes: str
    includes_appraisal: bool
    also_counts: list[Form] = Field(description="同时计为")
    voters_expected: int = Field(description="应到有表决权")
    voters_present: int = Field(description="实到有表决权")
    quorum: QuorumOut | None = Field(description="法定人数（按该会议的议事规则）；不表决的会议为 null")
    votes_void: bool = Field(description="未达法定人数：本次会议的表决全部无效")
    recorded_at: dt.datetime
    attendances: list[AttendanceOut]
    guests: list[GuestOut]
    agenda_items: list[AgendaItemOut]


# ---------------------------------------------------------------- cursors

MEETING_CURSOR = (dt.datetime, int)  # (starts_at, id), newest first
DECISION_CURSOR = (dt.datetime, int, int)  # (meeting's starts_at, meeting id, order)


# ---------------------------------------------------------------- answers

def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _passed_and_flags(item: AgendaItem) -> tuple[bool | None, list[dict]]:
    passed, flags = decision_flags(item)
    return passed, [{"text": f.text, "source": f.source} for f in flags]


def _agenda_item_out(item: AgendaItem) -> dict:
    """An item annotated by `decision_items` (its meeting loaded)."""
    passed, flags = _passed_and_flags(item)
    return {
        "id": item.pk, "order": item.order, "title": item.title, "category": item.category,
        "category_label": item.get_category_display(), "amount": item.amount, "votes_for": item.votes_for,
        "votes_against": item.votes_against, "votes_abstain": item.votes_abstain,
        "chair_spoke_last": item.chair_spoke_last, "decision": item.decision, "passed": passed, "flags": flags,
    }


def _decision_out(item: AgendaItem) -> dict:
    meeting = item.meeting
    out = _agenda_item_out(item)
    return out | {
        "meeting": meeting.pk, "meeting_kind": meeting.kind, "meeting_kind_label": meeting.kind_label,
        "organization": meeting.organization_id, "organization_name": meeting.organization.name,
        "starts_at": _local(meeting.starts_at), "expected": item.expected, "present": item.present,
    }


def _meeting_out(meeting: Meeting, *, expected: int, present: int, tags: list[str]) -> dict:
    return {
        "id": meeting.pk, "organization": meeting.organization_id, "organization_name": meeting.organization.name,
        "kind": meeting.kind, "kind_label": meeting.kind_label, "starts_at": _local(meeting.starts_at),
        "place": meeting.place, "topics": meeting.topics, "study_tags": tags, "status": meeting.status,
        "covers_year": meeting.covers_year, "expected": expected, "present": present,
        "attendance_rate": round(present / expected, 4) if expected else None, "version": meeting.version,
    }


def _meeting_detail(meeting: Meeting) -> dict:
    """Five queries: attendances with names, guests, agenda items with 应到/实到, study tags, the
    forms it also counts as. `meeting` must have organization, host, recorder and lecturer loaded
    (policy.get_meeting does)."""
    attendances = list(meeting.attendances.select_related("member").order_by("member__name", "member_id"))
    guests = list(meeting.guests.order_by("id"))
    items = list(decision_items(AgendaItem.objects.filter(meeting=meeting)).order_by("order"))
    tags = meeting.study_tag_names()
    present = sum(1 for a in attendances if a.present)
    voters_expected = sum(1 for a in attendances if a.has_vote)
    voters_present = sum(1 for a in attendances if a.has_vote and a.present)
    quorum = meeting_quorum(meeting, voters_expected=voters_expected, voters_present=voters_present)
    host, recorder, lecturer = meeting.host, meeting.recorder, meeting.lecturer
    return _meeting_out(meeting, expected=len(attendances), present=present, tags=tags) | {
        "host": meeting.host_id, "host_name": host.name if host else None,
        "recorder": meeting.recorder_id, "recorder_name": recorder.name if recorder else None,
        "lecturer": meeting.lecturer_id, "lecturer_member_name": lecturer.name if lecturer else None,
        "lecturer_name": meeting.lecturer_name, "minutes": meeting.minutes,
        "includes_appraisal": meeting.includes_appraisal, "recorded_at": _local(meeting.recorded_at),
        "also_counts": services.also_counts_of(meeting, with_appraisal=False),
        "voters_expected": voters_expected, "voters_present": voters_present,
        "quorum": quorum and {"met": quorum.met, "text": quorum.text, "source": quorum.source},
        "votes_void": bool(quorum and not quorum.met),
        "attendances": [{"member": a.member_id, "name": a.member.name, "present": a.present, "has_vote": a.has_vote,
                         "absence_reason": a.absence_reason, "note": a.note} for a in attendances],
        "guests": [{"id": g.pk, "name": g.name, "role": g.role, "title": g.title, "member": g.member_id}
                   for g in guests],
        "agenda_items": [_agenda_item_out(i) for i in items],
    }


# ---------------------------------------------------------------- access helpers

def _get_meeting(user, pk: int) -> Meeting:
    return policy.get_record(user, Meeting, pk, Perm.VIEW_MEETINGS)


def _recordable_organization(user, pk: int) -> Organization:
    """The organisation named in a body, if the caller may record its meetings: not visible → 404,
    visible but not theirs to record → 403."""
    return get_for_change(user, policy.get_organization, pk, Perm.RECORD_MEETINGS, can=policy.can_on_organization,
                          field="organization", missing="所选党组织不存在，或不在您的权限范围内。",
                          refused=lambda org: f"您无权记录“{org.name}”的会议。")


def _recordable_meeting(user, pk: int, field: str | None = None) -> Meeting:
    """A meeting the caller may change: not visible → 404 (naming `field` when the id came in a
    body), visible but its organisation not theirs to record → 403."""
    return get_for_change(user, _get_meeting, pk, Perm.RECORD_MEETINGS, can=policy.can_on_record, field=field,
                          missing="所选会议不存在，或不在您的权限范围内。" if field else "",
                          refused="您可以查看该会议，但无权修改其记录。")


def _people(user, payload: MeetingIn, organization: Organization, meeting: Meeting | None) -> dict[int, Member]:
    """Every person the body names, checked against what the caller may name (module docstring).
    One query (the rules above are subqueries in it), a second only when an absentee is outside
    the caller's view (who was expected that day)."""
    person_fields = {"host": payload.host, "recorder": payload.recorder, "lecturer": payload.lecturer}
    absent_ids = [a.member for a in payload.absences]
    guest_ids = [g.member for g in payload.guests if g.member is not None]
    ids = {pk for pk in person_fields.values() if pk is not None} | set(absent_ids) | set(guest_ids)
    if not ids:
        return {}
    local_day = _local(payload.starts_at).date()
    # A PUT may resend whoever is on the record already (`meeting=`).
    nameable = orglife_selectors.nameable_people(user, organization=organization, year=local_day.year, meeting=meeting)
    people = {m.pk: m for m in nameable.filter(pk__in=ids)}

    errors = {}
    for name, pk in person_fields.items():
        if pk is not None and pk not in people:
            errors[name] = "所选人员不存在，或不在您的权限范围内。"
    if any(pk not in people for pk in guest_ids):
        errors["guests"] = "列席人员中有党员不存在，或不在您的权限范围内；非本组织人员请只填姓名。"
    if errors:
        raise ApiError(404, "".join(dict.fromkeys(errors.values())), errors)
    unseen = [pk for pk in absent_ids if pk not in people]
    if unseen:
        expected = {m.pk: m for m in services.expected_attendees(organization, payload.kind, local_day)}
        strangers = [pk for pk in unseen if pk not in expected]
        if strangers:
            shown = "、".join(f"编号{pk}" for pk in strangers)
            message = (f"{shown}在会议当天不是应到人员，或不在您的权限范围内，不能登记出缺席；"
                       "如系列席，请填在列席人员中。")
            raise ApiError(422, message, {"absences": message})
        people |= {pk: expected[pk] for pk in unseen}
    return people


def _meeting_input(user, payload: MeetingIn, organization: Organization,
                   meeting: Meeting | None = None) -> services.MeetingInput:
    seen: set[int] = set()
    for absence in payload.absences:
        if absence.member in seen:
            message = f"缺席人员中编号{absence.member}重复出现。"
            raise ApiError(422, message, {"absences": message})
        seen.add(absence.member)
    people = _people(user, payload, organization, meeting)
    return services.MeetingInput(
        organization=organization, kind=payload.kind, starts_at=payload.starts_at, topics=payload.topics,
        place=payload.place, host=people.get(payload.host), recorder=people.get(payload.recorder),
        lecturer=people.get(payload.lecturer), lecturer_name=payload.lecturer_name, minutes=payload.minutes,
        study_tags=payload.study_tags, includes_appraisal=payload.includes_appraisal,
        # Left out of the body: kept as they are (a client written before these fields existed
        # must not reset a meeting's 所属年度 or 同时计为 by updating its place).
        covers_year=payload.covers_year if "covers_year" in payload.model_fields_set else services.UNSET,
        also_counts=list(payload.also_counts) if "also_counts" in payload.model_fields_set else services.UNSET,
        absences={a.member: (a.reason, a.note) for a in payload.absences},
        guests=[services.GuestInput(id=g.id, name=g.name, role=g.role, title=g.title, member=people.get(g.member))
                for g in payload.guests],
        agenda=[_agenda_input(a) for a in payload.agenda],
    )


def _agenda_input(item: AgendaIn) -> services.AgendaInput:
    return services.AgendaInput(
        id=getattr(item, "id", None), title=item.title, category=item.category, amount=item.amount, votes_for=item.votes_for,
        votes_against=item.votes_against, votes_abstain=item.votes_abstain,
        chair_spoke_last=item.chair_spoke_last, decision=item.decision)


def _with_body_fields(call):
    """Run a service call; its ValidationError keys are renamed to the body's field names."""
    try:
        return call()
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError({SERVICE_FIELDS.get(name, name): errors
                               for name, errors in exc.error_dict.items()}) from None


def _filter_node(organization_id: int | None) -> Organization | None:
    """The organisation a list is cut to. Looked up outside the scope on purpose: the selectors cut
    to the scope first, so an unknown and an out-of-scope organisation both give an empty list."""
    if organization_id is None:
        return None
    # An id that names nothing becomes an unsaved node whose path ("~", outside the path alphabet)
    # matches no organisation.
    return Organization.objects.filter(pk=organization_id).only("path").first() or Organization(path="~")


# ---------------------------------------------------------------- meetings

@router.get("/meetings", response={200: MeetingPage, **READ_ERRORS}, tags=["组织生活"], summary="会议列表",
            description="按时间从近到远（同一时间按 id），用 after 游标翻页（每页最多 200 条）。",
            operation_id="dangjian_api_orglife_meeting_list")
def meeting_list(request, filters: Query[MeetingFilters]):
    # Queries: the caller's grants, the organisation filter's path (if given), the page with 应到
    # and 实到 counted in it, the page's study tags.
    meetings = orglife_selectors.meeting_list(
        request.user, organization=_filter_node(filters.organization), year=filters.year, kind=filters.kind or "",
        study_tag=(filters.study_tag or "").strip())
    after = decode_cursor(filters.after, MEETING_CURSOR)
    if after is not None:
        starts_at, pk = after
        meetings = meetings.filter(Q(starts_at__lt=starts_at) | Q(starts_at=starts_at, id__lt=pk))
    page = meeting_rows(meetings).order_by("-starts_at", "-id")
    rows = list(page[: filters.limit + 1])
    last = rows[filters.limit - 1] if len(rows) > filters.limit else None
    rows = rows[: filters.limit]
    tags: dict[int, list[str]] = {m.pk: [] for m in rows}
    for meeting_id, name in (Meeting.study_tags.through.objects.filter(meeting_id__in=list(tags)).order_by("id")
                             .values_list("meeting_id", "studytag__name")):
        tags[meeting_id].append(name)  # in the order typed
    items = [_meeting_out(m, expected=m.expected, present=m.present, tags=tags[m.pk]) for m in rows]
    return {"items": items, "next": encode_cursor((last.starts_at, last.pk) if last else None)}


@router.get("/meetings/{meeting_id}", response={200: MeetingDetailOut, **DETAIL_ERRORS}, tags=["组织生活"],
            summary="会议详情", description="含出缺席、列席人员和议题（表决结果、是否通过、规则提示）。",
            operation_id="dangjian_api_orglife_meeting_detail")
def meeting_detail(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    return _meeting_detail(_get_meeting(request.user, meeting_id))


@router.post("/meetings", response={201: MeetingDetailOut, **WRITE_ERRORS}, tags=["组织生活"],
             summary="记录会议",
             description="须对该党组织有“记录会议”权限。应到人员按会议当天的组织关系（党组会等按任职）自动列出，"
                         "absences 之外的均计为出席。会后超过规定天数录入的标为补录。",
            operation_id="dangjian_api_orglife_meeting_create")
def meeting_create(request, payload: MeetingIn):
    user = request.user
    organization = _recordable_organization(user, payload.organization)
    data = _meeting_input(user, payload, organization)
    meeting = _with_body_fields(lambda: services.meeting_record(by=Actor.from_request(request), data=data))
    return Status(201, _meeting_detail(meeting))


@router.put("/meetings/{meeting_id}", response={200: MeetingDetailOut, **WRITE_ERRORS}, tags=["组织生活"],
            summary="修改会议记录",
            description="整体替换：未传的字段取默认值（如不传 minutes 即清空会议记录），出缺席按所传内容。"
                        "议题和列席人员带 id 的按 id 原地修改（保留其身份，后续记录对它的引用不失效），"
                        "不带 id 的新增，未列出的删除；id 不属于该会议的拒收。议题按所传顺序编号。所属党组织不能更改。"
                        "传回读取时的 version，则他人在此期间已修改时答 409，不作任何修改。",
            operation_id="dangjian_api_orglife_meeting_update")
def meeting_update(request, payload: MeetingUpdateIn, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    user = request.user
    meeting = _recordable_meeting(user, meeting_id)
    organization = meeting.organization
    if payload.organization != meeting.organization_id:
        organization = _recordable_organization(user, payload.organization)  # the service then refuses the move
    data = _meeting_input(user, payload, organization, meeting)
    meeting = _with_body_fields(lambda: services.meeting_update(by=Actor.from_request(request), meeting=meeting,
                                                                data=data, expected_version=payload.version))
    return _meeting_detail(meeting)


# ---------------------------------------------------------------- agenda items and decisions

@router.post("/agenda-items", response={201: DecisionOut, **WRITE_ERRORS}, tags=["组织生活"],
             summary="增加议题",
             description="议题必须属于一次已记录的党组会、党委会（支委会）或党员大会；票数不能超过实到人数。",
            operation_id="dangjian_api_orglife_agenda_item_create")
def agenda_item_create(request, payload: AgendaItemIn):
    user = request.user
    meeting = None if payload.meeting is None else _recordable_meeting(user, payload.meeting, "meeting")
    item = services.agenda_item_add(by=Actor.from_request(request), meeting=meeting, item=_agenda_input(payload))
    return Status(201, _decision_out(decision_items(AgendaItem.objects.filter(pk=item.pk)).get()))


def _decision_position(item: AgendaItem) -> str:
    return encode_cursor((item.meeting.starts_at, item.meeting_id, item.order))


@router.get("/decisions", response={200: DecisionPage, **READ_ERRORS}, tags=["组织生活"], summary="“三重一大”等议题决策",
            description="权限范围内会议上的议题，按会议时间从近到远、会内按序号；含应到、实到、是否通过和规则提示。"
                        "flagged=true 只列有提示的议题：一次最多检查 1000 条，所以一页可能不足 limit 条（甚至为空），"
                        "继续按 next 翻页，直到 next 为 null。",
            operation_id="dangjian_api_orglife_decision_list")
def decision_list(request, filters: Query[DecisionFilters]):
    # Queries: the caller's grants, the organisation filter's path (if given), the page with 应到
    # and 实到 counted in it. Flags are computed in Python from the rule data (no query).
    items = orglife_selectors.decision_register(
        request.user, organization=_filter_node(filters.organization), year=filters.year,
        category=filters.category or "")
    after = decode_cursor(filters.after, DECISION_CURSOR)
    if after is not None:
        starts_at, meeting_id, order = after
        items = items.filter(Q(meeting__starts_at__lt=starts_at)
                             | Q(meeting__starts_at=starts_at, meeting_id__lt=meeting_id)
                             | Q(meeting__starts_at=starts_at, meeting_id=meeting_id, order__gt=order))
    items = decision_items(items).order_by("-meeting__starts_at", "-meeting_id", "order")
    size = filters.limit
    if not filters.flagged:
        rows = list(items[: size + 1])
        last = rows[size - 1] if len(rows) > size else None
        return {"items": [_decision_out(i) for i in rows[:size]],
                "next": _decision_position(last) if last else None}
    # Flags come from rule data in Python, so flagged rows cannot be filtered in SQL: read one
    # bounded window and keep the flagged ones. `next` points past the last row returned, or, when
    # the window ran out before the page filled, past the last row read.
    rows = list(items[: FLAGGED_SCAN + 1])
    more = len(rows) > FLAGGED_SCAN
    rows = rows[:FLAGGED_SCAN]
    out, last_returned, position = [], None, None
    for item in rows:
        answer = _decision_out(item)
        if not answer["flags"]:
            continue
        if len(out) == size:  # one more flagged row: there is a next page
            position = _decision_position(last_returned)
            break
        out.append(answer)
        last_returned = item
    else:
        if more:
            position = _decision_position(rows[-1])
    return {"items": out, "next": position}
