"""Writes for organisational life. One service records a whole meeting (attendance, guests, agenda
items with votes) in one transaction with its audit entry; bad input raises ValidationError with
Chinese messages and nothing is saved. Late records are accepted and marked late, never refused."""

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dangjian.audit.services import (
    Actor,
    AuditItem,
    audit_changes,
    audit_record,
    audit_record_many,
    explained_conflict,
    snapshot,
)
from dangjian.audit.services import present as audit_value
from dangjian.core import uploads
from dangjian.core.updates import bump_version, check_version, model_update, normalise
from dangjian.organizations.models import Appointment, Member, Membership, Organization
from dangjian.organizations.selectors import member_votes_on, memberships_on, open_on, voters_on
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife.models import (
    DEMOCRATIC_APPRAISAL,
    FORM_LABELS,
    AgendaItem,
    Attendance,
    ContactPoint,
    Guest,
    HeartTalk,
    Meeting,
    MeetingAlsoCounts,
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
    # The unit's administrative leadership meets under the 党组 node (its members sit on it).
    MeetingKind.LEADERSHIP_MEETING: {K.LEADING_GROUP},
}
# Meetings of a body (its appointed members attend), as opposed to meetings of all members.
BODY_KINDS = {MeetingKind.COMMITTEE_MEETING, MeetingKind.LEADING_GROUP_MEETING, MeetingKind.CENTRAL_GROUP_STUDY,
              MeetingKind.DEMOCRATIC_LIFE_MEETING, MeetingKind.LEADERSHIP_MEETING}
# Meetings at which items are decided by vote.
AGENDA_KINDS = {MeetingKind.LEADING_GROUP_MEETING, MeetingKind.COMMITTEE_MEETING, MeetingKind.GENERAL_MEETING,
                MeetingKind.LEADERSHIP_MEETING}
SANZHONGYIDA = {AgendaItem.Category.MAJOR_MATTER, AgendaItem.Category.KEY_APPOINTMENT,
                AgendaItem.Category.MAJOR_PROJECT, AgendaItem.Category.LARGE_FUND}


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


class _Unset:
    """The value of an input field the caller did not give (see MeetingInput)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _given(value) -> bool:
    return value is not UNSET


@dataclass
class AgendaInput:
    """One agenda item. `id` names an item already on the meeting (it is updated in place and keeps
    its identity); None is a new item. A field left UNSET keeps the item's value (a new item: the
    default: no amount, no vote, chair spoke last, no decision)."""

    title: str
    category: str
    amount: Decimal | None = UNSET
    votes_for: int | None = UNSET
    votes_against: int | None = UNSET
    votes_abstain: int | None = UNSET
    chair_spoke_last: bool = UNSET
    decision: str = UNSET
    id: int | None = None


AGENDA_DEFAULTS = {"amount": None, "votes_for": None, "votes_against": None, "votes_abstain": None,
                   "chair_spoke_last": True, "decision": ""}


@dataclass
class GuestInput:
    """Someone at the meeting who was not expected. `name` as typed (or the member's name), `role`
    one of Guest.Role for counting (default 列席), `title` what was typed beside the name, kept as
    typed (市委党校教授). `id` names a guest already on the meeting; UNSET fields keep its values."""

    name: str = ""
    role: str = UNSET
    member: Member | None = UNSET
    title: str = UNSET
    id: int | None = None


GUEST_DEFAULTS = {"role": Guest.Role.OTHER, "member": None, "title": ""}


@dataclass
class MeetingInput:
    """A meeting as a caller gives it. The first four fields are always given; every other field
    may be left UNSET (the default), which means "not given": a new meeting takes the default
    (empty text, nobody named, no absences, guests, agenda or study themes), a corrected one keeps
    what it has. So a caller that knows only some fields (a page that does not show the minutes, a
    script fixing the place) can never clear the others by leaving them out. To clear a field, give
    its empty value ("" or None or [])."""

    organization: Organization
    kind: str
    starts_at: dt.datetime
    topics: str
    place: str = UNSET
    host: Member | None = UNSET
    recorder: Member | None = UNSET
    lecturer: Member | None = UNSET
    lecturer_name: str = UNSET
    minutes: str = UNSET
    # In the order typed; each name whole (never split on spaces).
    study_tags: list[str] = UNSET
    includes_appraisal: bool = UNSET
    # member id -> (reason, note) for those absent; everyone else expected was present.
    absences: dict[int, tuple[str, str]] = UNSET
    guests: list[GuestInput] = UNSET
    agenda: list[AgendaInput] = UNSET
    # 所属年度 of a yearly meeting (None: the year it was held); ignored for other meetings.
    covers_year: int | None = UNSET
    # The other forms this session served (meeting kinds; 民主评议 is `includes_appraisal`).
    also_counts: list[str] = UNSET


MEETING_DEFAULTS = {"place": "", "host": None, "recorder": None, "lecturer": None, "lecturer_name": "",
                    "minutes": "", "study_tags": [], "includes_appraisal": False, "absences": {}, "guests": [],
                    "agenda": [], "covers_year": None, "also_counts": []}


def _filled(obj, defaults: dict, current: dict | None = None):
    """A copy of the input `obj` with each UNSET field taken from `current` (the record's values)
    or, for a new record, from `defaults`."""
    source = defaults if current is None else current
    return replace(obj, **{name: source[name] for name in defaults if not _given(getattr(obj, name))})


def _new_meeting_input(data: MeetingInput) -> MeetingInput:
    data = _filled(data, MEETING_DEFAULTS)
    return replace(data, guests=[_filled(g, GUEST_DEFAULTS) for g in data.guests],
                   agenda=[_filled(a, AGENDA_DEFAULTS) for a in data.agenda])


def _agenda_values(item: AgendaItem) -> dict:
    return {name: getattr(item, name) for name in AGENDA_DEFAULTS}


def _corrected_input(data: MeetingInput, meeting: Meeting, errors: dict) -> tuple[MeetingInput, bool]:
    """`data` with every UNSET field taken from `meeting` as recorded; a guest or agenda item given
    by id takes its UNSET fields from that row. An id that is not on this meeting is an error.
    Returns the input and whether the absences were kept from the record (then people no longer
    expected, after a change of date or kind, simply drop out of them)."""
    guests = {g.pk: g for g in meeting.guests.select_related("member")}
    items = {a.pk: a for a in meeting.agenda_items.all()}
    current = {name: getattr(meeting, name) for name in
               ("place", "host", "recorder", "lecturer", "lecturer_name", "minutes", "includes_appraisal",
                "covers_year")}
    current |= {
        "study_tags": meeting.study_tag_names(),
        "also_counts": also_counts_of(meeting, with_appraisal=False),
        "absences": {a.member_id: (a.absence_reason, a.note) for a in meeting.attendances.filter(present=False)},
        "guests": [GuestInput(id=g.pk, name=g.name, role=g.role, member=g.member, title=g.title)
                   for g in sorted(guests.values(), key=lambda g: g.pk)],
        "agenda": [AgendaInput(id=a.pk, title=a.title, category=a.category, **_agenda_values(a))
                   for a in sorted(items.values(), key=lambda a: a.order)],
    }
    kept_absences = not _given(data.absences)
    data = _filled(data, MEETING_DEFAULTS, current)
    filled_guests, filled_agenda = [], []
    for guest in data.guests:
        row = guests.get(guest.id) if guest.id is not None else None
        if guest.id is not None and row is None:
            errors.setdefault("guests", []).append(f"列席人员（编号{guest.id}）不属于这次会议，不能修改。")
            continue
        filled_guests.append(_filled(guest, GUEST_DEFAULTS, None if row is None else {
            "role": row.role, "member": row.member, "title": row.title}))
    for index, item in enumerate(data.agenda, start=1):
        row = items.get(item.id) if item.id is not None else None
        if item.id is not None and row is None:
            errors.setdefault("agenda", []).append(_agenda_error(index, "title", "该议题不属于这次会议（编号不符），不能修改。"))
            continue
        filled_agenda.append(_filled(item, AGENDA_DEFAULTS, None if row is None else _agenda_values(row)))
    for name, ids in (("guests", [g.id for g in data.guests]), ("agenda", [a.id for a in data.agenda])):
        repeated = {pk for pk in ids if pk is not None and ids.count(pk) > 1}
        if repeated:
            errors.setdefault(name, []).append(f"编号{'、'.join(map(str, sorted(repeated)))}重复出现。")
    return replace(data, guests=filled_guests, agenda=filled_agenda), kept_absences


def _agenda_error(index: int, field_name: str, message: str) -> ValidationError:
    """An agenda item's problem: the text names the item (第2项议题：…); `params` say which item (from
    0, in the order given) and which of its fields, so a page can mark that row and field."""
    return ValidationError(f"第{index}项议题：{message}", code="agenda_item",
                           params={"item": index - 1, "field": field_name, "problem": message})


def _check(data: MeetingInput, now: dt.datetime, *, kept_absences: bool = False,
           was: Meeting | None = None) -> tuple[list[Member], dict]:
    """Validate a complete meeting input (no UNSET left); return (expected attendees, errors by
    field). With `kept_absences`, absences of people no longer expected are dropped, not refused.
    `was`: the record being corrected (a 民主评议 it already carried as that kind is not re-judged:
    a record made before the rule, or imported, stays editable)."""
    errors: dict[str, list] = {}

    def err(name, message):
        errors.setdefault(name, []).append(message)

    org, kind = data.organization, data.kind
    expected: list[Member] = []
    day = None
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
    if kept_absences:
        data.absences = {pk: value for pk, value in data.absences.items() if pk in expected_ids}
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
    if any(len(note.strip()) > NOTE_MAX for _reason, note in data.absences.values()):
        err("attendance", f"缺席说明不能超过 {NOTE_MAX} 字。")
    if data.agenda and kind not in AGENDA_KINDS:
        err("agenda", f"{MeetingKind(kind).label if kind in MeetingKind.values else '该会议'}不表决议题；议题应在党组会、党委会（支委会）或党员大会上决定。")
    present = len(expected_ids) - len([pk for pk in data.absences if pk in expected_ids])
    voters = voters_on(expected_ids, day) if expected_ids and day else set()
    present_voters = len([pk for pk in voters if pk not in data.absences])
    procedure = (orglife_rules.procedure(kind, org.kind, day)
                 if day and data.agenda and kind in AGENDA_KINDS else None)
    for index, item in enumerate(data.agenda, start=1):
        for field_name, message in agenda_item_problems(item, present=present_voters,
                                                        without_vote=present - present_voters):
            err("agenda", _agenda_error(index, field_name, message))
        message = category_problem(item.category, procedure)
        if message:
            err("agenda", _agenda_error(index, "category", message))
    for guest in data.guests:
        if not guest.name.strip() and guest.member is None:
            err("guests", "列席人员须填写姓名。")
        if guest.role not in Guest.Role.values:
            err("guests", "请选择列席人员身份。")
    long_tags = [t for t in data.study_tags if len(t.strip()) > TAG_MAX]
    if long_tags:
        err("study_tags", f"每个学习主题不能超过 {TAG_MAX} 字（“{long_tags[0][:20]}…”）。")
    for member in expected:  # 表决权 on the day, written on the attendance row
        member.has_vote = member.pk in voters
    if "kind" not in errors and "starts_at" not in errors:
        for message in also_counts_problems(org, kind, data.also_counts, day):
            err("also_counts", message)
        carried = was is not None and was.includes_appraisal and was.kind == kind
        if data.includes_appraisal and not carried and (message := appraisal_problem(kind, day)):
            err("includes_appraisal", message)
        if data.covers_year is not None and _forms_of(data) & set(orglife_rules.yearly_forms(day)):
            message = covers_year_problem(data.covers_year, day)
            if message:
                err("covers_year", message)
    return expected, errors


def _forms_of(data: MeetingInput) -> set[str]:
    """Every form a meeting input serves: its kind, its "also counts as" and 民主评议 when included."""
    return {data.kind, *data.also_counts, *([DEMOCRATIC_APPRAISAL] if data.includes_appraisal else [])}


def also_counts_problems(org: Organization, kind: str, also: list[str], day: dt.date) -> list[str]:
    """Why the session cannot also count as `also` (empty when it can): each form must be one the
    rule data lets a meeting of `kind` carry, and one this organisation holds."""
    problems = []
    allowed, rule = orglife_rules.combinable(kind, day)
    for form in dict.fromkeys(also):
        if form == DEMOCRATIC_APPRAISAL or form not in MeetingKind.values:
            problems.append(f"“同时计为”只能选会议类型（民主评议党员请勾选“本次含民主评议党员”）：{form}。")
        elif form == kind:
            continue
        elif form not in allowed:
            problems.append(_not_combinable(kind, form, allowed, rule))
        elif org.kind not in ALLOWED_ORG_KINDS[form]:
            problems.append(f"{org.get_kind_display()}不召开{FORM_LABELS[form]}，不能同时计为{FORM_LABELS[form]}。")
    return problems


def appraisal_problem(kind: str, day: dt.date) -> str:
    """Why a meeting of `kind` cannot carry 民主评议党员 ("" when it can): 民主评议 must be on the
    list of forms the rule data lets that kind also count as (orglife.combinable.*)."""
    allowed, rule = orglife_rules.combinable(kind, day)
    return "" if DEMOCRATIC_APPRAISAL in allowed else _not_combinable(kind, DEMOCRATIC_APPRAISAL, allowed, rule)


def _not_combinable(kind: str, form: str, allowed: tuple[str, ...], rule) -> str:
    label = MeetingKind(kind).label
    cite = f"（依据：{orglife_rules.cited(rule)}）" if rule else "（规则未规定该类会议可与其他形式合并）"
    permitted = "、".join(FORM_LABELS[f] for f in allowed) or "无"
    return f"{label}不能同时计为{FORM_LABELS[form]}：按规则，{label}可同时计为{permitted}{cite}。"


def covers_year_problem(covers_year: int, day: dt.date) -> str:
    """Why `covers_year` cannot be a yearly meeting's 所属年度 when held on `day` ("" when it can):
    the year it was held or the one before (a 组织生活会 for 2025 held in January 2026)."""
    if covers_year in (day.year, day.year - 1):
        return ""
    rule = orglife_rules.covers_year_rule(day)
    return (f"所属年度应为会议当年（{day.year}）或上一年（{day.year - 1}），不能是{covers_year}年："
            f"{rule.label}（依据：{orglife_rules.cited(rule)}：{rule.basis}）。")


def _effective_covers_year(data: MeetingInput, day: dt.date) -> int | None:
    """The 所属年度 stored: given, or the year held, for a meeting serving a yearly form; else None."""
    if not _forms_of(data) & set(orglife_rules.yearly_forms(day)):
        return None
    return data.covers_year if data.covers_year is not None else day.year


def also_counts_of(meeting: Meeting, *, with_appraisal: bool = True) -> list[str]:
    """The forms a recorded meeting also counts as, in a stable order."""
    forms = sorted(meeting.also_counts.values_list("kind", flat=True), key=list(FORM_LABELS).index)
    return forms if with_appraisal else [f for f in forms if f != DEMOCRATIC_APPRAISAL]


NOTE_MAX = Attendance._meta.get_field("note").max_length
TAG_MAX = StudyTag._meta.get_field("name").max_length


def category_problem(category: str, procedure) -> str:
    """Why a body may not decide an item of `category` ("" when it may): each body decides its own
    matters (rule data agenda.categories.*). A “三重一大” item at a branch meeting is refused."""
    if procedure is None or procedure.categories is None or category not in AgendaItem.Category.values:
        return ""
    allowed = procedure.categories.value
    if category in allowed:
        return ""
    label = AgendaItem.Category(category).label
    rule = procedure.categories
    if category in SANZHONGYIDA:
        return (f"{procedure.label}不决定“三重一大”事项（{label}）：“三重一大”事项由党组（党委）或局长办公会集体决策；"
                f"{procedure.label}决定的事项见{rule.citation}。")
    kinds = "、".join(AgendaItem.Category(c).label for c in allowed)
    return f"{procedure.label}不决定“{label}”事项，可决定：{kinds}（{rule.citation}）。"


def agenda_item_problems(item: AgendaInput, *, present: int | None, without_vote: int = 0) -> list[tuple[str, str]]:
    """What is wrong with one agenda item as entered (not the rule checks, which flag, not refuse),
    as (field, message) pairs. `present` is the number present with 表决权 (`without_vote` more were
    present without it: 预备党员, members under 留党察看); None: not known yet (a form checking a
    row on its own), so the votes are not compared with it."""
    problems = []
    if not item.title.strip():
        problems.append(("title", "请填写议题名称。"))
    if item.category not in AgendaItem.Category.values:
        problems.append(("category", "请选择议题类别。"))
    votes = (item.votes_for, item.votes_against, item.votes_abstain)
    if any(v is not None for v in votes) and any(v is None for v in votes):
        missing = next(name for name, v in zip(VOTE_FIELDS, votes, strict=True) if v is None)
        problems.append((missing, "赞成、反对、弃权票数须同时填写（未表决的议题三项都不填）。"))
    elif all(v is not None for v in votes):
        if any(v < 0 for v in votes):
            negative = next(name for name, v in zip(VOTE_FIELDS, votes, strict=True) if v < 0)
            problems.append((negative, "票数不能为负数。"))
        elif present is not None and sum(votes) > present and without_vote:
            problems.append(("votes_for", f"表决票数合计 {sum(votes)} 超过到会有表决权的人数 {present}：到会的"
                             f"{without_vote}名预备党员或受留党察看处分的党员没有表决权（《中国共产党章程》第七条；"
                             "《中国共产党纪律处分条例》），不能参加表决。"))
        elif present is not None and sum(votes) > present:
            problems.append(("votes_for", f"表决票数合计 {sum(votes)} 超过实到人数 {present}。"))
    if item.amount is not None and item.amount < 0:
        problems.append(("amount", "金额不能为负数。"))
    if item.category == AgendaItem.Category.LARGE_FUND and item.amount is None:
        problems.append(("amount", "大额度资金使用议题请填写金额（万元）。"))
    return problems


VOTE_FIELDS = ("votes_for", "votes_against", "votes_abstain")


def _status(starts_at: dt.datetime, now: dt.datetime) -> str:
    day = timezone.localtime(starts_at).date()
    late = (timezone.localtime(now).date() - day).days > orglife_rules.late_after_days(day)
    return Meeting.Status.LATE if late else Meeting.Status.ON_TIME


def meeting_problems(*, data: MeetingInput, meeting: Meeting | None = None) -> dict[str, list]:
    """The errors `meeting_record` (or, with `meeting`, `meeting_update`) would raise for `data`,
    without saving anything: a page calls it when its own fields are not all valid yet, so that
    every problem is reported on the first submit, not one round at a time."""
    errors: dict[str, list] = {}
    if meeting is None:
        _expected, errors = _check(_new_meeting_input(data), timezone.now())
    else:
        data, kept = _corrected_input(data, meeting, errors)
        _expected, found = _check(data, timezone.now(), kept_absences=kept, was=meeting)
        for name, messages in found.items():
            errors.setdefault(name, []).extend(messages)
    return errors


@transaction.atomic
def meeting_record(*, by: Actor, data: MeetingInput, entered_at: dt.datetime | None = None) -> Meeting:
    """Record a held meeting with its attendance (everyone expected, present unless listed absent),
    guests and agenda items. Entered long after the meeting, it is kept and marked 补录. Fields
    left UNSET take their defaults (see MeetingInput); an agenda item or guest must not carry an id.

    `entered_at` is for records transcribed from a paper ledger (and for the demo): when the entry
    was really made, between the meeting and now; lateness is judged from it. Default: now."""
    now = timezone.now()
    data = _new_meeting_input(data)
    expected, errors = _check(data, now)
    for name, rows in (("agenda", data.agenda), ("guests", data.guests)):
        if any(row.id is not None for row in rows):
            errors.setdefault(name, []).append("新记录的会议还没有议题或列席人员编号：新增的行请不要填写 id。")
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
        covers_year=_effective_covers_year(data, timezone.localtime(data.starts_at).date()),
    )
    _write_children(meeting, data, expected, existing=False)
    audit_record(by=by, action="meeting.record", obj=meeting, after=_summary(meeting, data, expected),
                 note="" if entered_at is now else f"按纸质台账补入，原录入时间 {timezone.localtime(entered_at):%Y-%m-%d %H:%M}")
    return meeting


MEETING_FIELDS = ["kind", "starts_at", "place", "host", "recorder", "lecturer", "lecturer_name", "topics",
                  "includes_appraisal", "covers_year", "status"]
# What a correction may change on the meeting row itself (its organisation stays; see meeting_update).
MEETING_EDITABLE = ["kind", "starts_at", "place", "host", "recorder", "lecturer", "lecturer_name", "topics", "minutes",
                    "includes_appraisal", "covers_year"]


@explained_conflict()
@transaction.atomic
def meeting_update(*, by: Actor, meeting: Meeting, data: MeetingInput, expected_version: int | None = None) -> Meeting:
    """Correct a meeting record. Fields left UNSET keep their values (see MeetingInput); the parts
    given are brought to what was given one row at a time, never deleted and recreated:

    - attendance rows are kept per member (updated in place); rows are added or removed only when
      a new date or kind changes who was expected;
    - guests and agenda items given with their `id` are updated in place (an UNSET field of theirs
      keeps its value), those without one are added, and those of the meeting not given are
      removed; an id that is not this meeting's is refused. Items are numbered in the order given;
    - study themes are kept in the order typed.

    So a row another record points at (a later 巡察 finding on an agenda item) keeps its target.
    Lateness is judged again from when the record was first made, so moving a meeting's date into
    an earlier month cannot pass off a late record as on time. The audit entry is one diff of the
    meeting and its parts, values compared as values (one time zone, normalised text): the fields
    that changed, and for attendance (by member id), guests and agenda items (by id) only the rows
    and fields that changed, a row added or removed in full against null; a correction that
    changes nothing writes no entry.

    `expected_version` is the version the form or client read: if anyone saved the meeting since,
    nothing is written and a Conflict names who, when and what (optimistic locking). A correction
    that changes anything, the meeting row or only its parts, counts one version."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)  # one correction at a time
    check_version(meeting, expected_version)
    if data.organization.pk != meeting.organization_id:
        raise ValidationError({"organization": "会议所属党组织不能更改；如记错了党组织，请删除这条记录后重新记录。"})
    errors: dict[str, list] = {}
    data, kept_absences = _corrected_input(data, meeting, errors)
    expected, found = _check(data, timezone.now(), kept_absences=kept_absences, was=meeting)
    for name, messages in found.items():
        errors.setdefault(name, []).extend(messages)
    if not errors and data.starts_at > meeting.recorded_at:
        errors["starts_at"] = [f"会议时间不能晚于该记录的录入时间（{timezone.localtime(meeting.recorded_at):%Y-%m-%d %H:%M}）。"]
    if errors:
        raise ValidationError(errors)
    before = _parts(meeting)
    data = replace(data, covers_year=_effective_covers_year(data, timezone.localtime(data.starts_at).date()))
    changes = model_update(instance=meeting, fields=[*MEETING_EDITABLE, "status"],
                           data={name: getattr(data, name) for name in MEETING_EDITABLE}
                           | {"status": _status(data.starts_at, meeting.recorded_at)},
                           expected_version=expected_version)
    row_changed = bool(changes)
    _write_children(meeting, data, expected, existing=True)
    after = _parts(meeting)
    for name in PART_NAMES:
        old, new = _diff_part(before[name], after[name])
        if old or new:
            changes[name] = (old, new)
    if changes and not row_changed:
        bump_version(meeting, expected_version)  # only its parts changed: still a new version
    audit_changes(by=by, action="meeting.update", obj=meeting, changes=changes)
    return meeting


PART_NAMES = ("attendance", "guests", "agenda", "study_tags", "also_counts")
ATTENDANCE_VALUES = ("present", "absence_reason", "note")
GUEST_VALUES = ("name", "role", "title", "member")
AGENDA_VALUES = ("order", "title", "category", "amount", "votes_for", "votes_against", "votes_abstain",
                 "chair_spoke_last", "decision")


def _row(instance, names) -> dict:
    """A child row's values as the audit trail compares and keeps them (core.updates.normalise,
    then audit.present: Decimals as text, rows as ids)."""
    fields = instance._meta
    return {name: audit_value(name, normalise(fields.get_field(name), getattr(instance, fields.get_field(name).attname)))
            for name in names}


def member_voting_rights_refresh(*, by: Actor, member: Member, start: dt.date, end: dt.date | None,
                                 reason: str = "", **_signal) -> list[Meeting]:
    """A write that changes a member's 表决权 on days already past (a 留党察看 recorded late, a 转正
    dated in the past): the member's attendance rows at meetings held from `start` until `end`
    (local days; `end` None: no end) take the 表决权 the member had that day (organizations'
    `member_votes_on`: 预备党员 and members under 留党察看 have none where the rule data says so),
    so those meetings' 应到/实到有表决权, quorum, void votes and pass-marks follow (they are counted
    from these rows). One audit entry per meeting changed (meeting.voting_rights, its attendance
    row before and after, `reason` as its note); call in the recording transaction (organizations'
    member_probation_record and member_confirm_full do, as a VOTING_RIGHTS_LISTENER). Returns the
    meetings changed. Eight queries (four of them the audit entries'), whatever the number of
    meetings (pinned in tests/orglife/test_voting_rights.py)."""
    tz = timezone.get_current_timezone()
    rows = Attendance.objects.filter(member=member,
                                     meeting__starts_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz))
    if end is not None:
        rows = rows.filter(meeting__starts_at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=tz))
    rows = list(rows.select_related("meeting").order_by("meeting__starts_at", "pk"))
    votes = member_votes_on(member, {timezone.localtime(a.meeting.starts_at).date() for a in rows})
    changed = [a for a in rows if votes[timezone.localtime(a.meeting.starts_at).date()] != a.has_vote]
    if not changed:
        return []
    for value in (True, False):
        Attendance.objects.filter(pk__in=[a.pk for a in changed if a.has_vote != value]).update(has_vote=value)
    key = str(member.pk)
    audit_record_many(by=by, items=[
        AuditItem("meeting.voting_rights", a.meeting, before={"attendance": {key: {"has_vote": a.has_vote}}},
                  after={"attendance": {key: {"has_vote": not a.has_vote}}}, note=reason)
        for a in changed])
    return [a.meeting for a in changed]


def _parts(meeting: Meeting) -> dict:
    """The parts of a meeting record kept in other tables, keyed by what identifies each row."""
    return {
        "attendance": {str(a.member_id): _row(a, ATTENDANCE_VALUES) for a in meeting.attendances.order_by()},
        "guests": {str(g.pk): _row(g, GUEST_VALUES) for g in meeting.guests.order_by("pk")},
        "agenda": {str(a.pk): _row(a, AGENDA_VALUES) for a in meeting.agenda_items.order_by("order")},
        "study_tags": meeting.study_tag_names(),
        "also_counts": also_counts_of(meeting),
    }


def _diff_part(before, after) -> tuple:
    """(before, after) naming only what changed: for keyed rows, the rows whose values differ with
    just the differing fields, a row added as null before, a row removed as null after; for the
    study themes, the two lists. ({}, {}) or ([], []) when nothing changed."""
    if isinstance(before, list):
        return (before, after) if before != after else ([], [])
    old, new = {}, {}
    for key in [*before, *(k for k in after if k not in before)]:
        b, a = before.get(key), after.get(key)
        if b is None or a is None:
            old[key], new[key] = b, a
        elif b != a:
            changed = [name for name in b if b[name] != a[name]]
            old[key], new[key] = {n: b[n] for n in changed}, {n: a[n] for n in changed}
    return old, new


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


def _write_children(meeting: Meeting, data: MeetingInput, expected: list[Member], *, existing: bool) -> None:
    """Bring attendance, guests, agenda items and study themes to `data` (complete, checked). A new
    meeting (`existing` False) only inserts. A corrected one updates rows in place with
    `model_update` (no query for a row that did not change), inserts and deletes only the rows
    that come or go, and renumbers items in two steps so that no two share a number on the way."""
    # Attendance, by member.
    rows = {a.member_id: a for a in meeting.attendances.all()} if existing else {}
    expected_ids = {m.pk for m in expected}
    gone = [a.pk for member_id, a in rows.items() if member_id not in expected_ids]
    if gone:
        Attendance.objects.filter(pk__in=gone).delete()
    new_rows = []
    for member in expected:
        reason, note = data.absences.get(member.pk, ("", ""))
        values = {"present": member.pk not in data.absences, "absence_reason": reason, "note": note.strip(),
                  "has_vote": getattr(member, "has_vote", True)}
        if member.pk in rows:
            model_update(instance=rows[member.pk], fields=list(values), data=values)
        else:
            new_rows.append(Attendance(meeting=meeting, member=member, **values))
    Attendance.objects.bulk_create(new_rows)

    # Guests, by id.
    guests = {g.pk: g for g in meeting.guests.all()} if existing else {}
    kept = {g.id for g in data.guests if g.id is not None}
    if set(guests) - kept:
        Guest.objects.filter(pk__in=set(guests) - kept).delete()
    new_guests = []
    for guest in data.guests:
        values = {"name": (guest.name.strip() or (guest.member.name if guest.member else "")).strip(),
                  "role": guest.role, "title": guest.title.strip(), "member": guest.member}
        if guest.id is not None:
            model_update(instance=guests[guest.id], fields=list(values), data=values)
        else:
            new_guests.append(Guest(meeting=meeting, **values))
    Guest.objects.bulk_create(new_guests)

    # Agenda items, by id, numbered in the order given.
    items = {a.pk: a for a in meeting.agenda_items.all()} if existing else {}
    kept = {a.id for a in data.agenda if a.id is not None}
    if set(items) - kept:
        AgendaItem.objects.filter(pk__in=set(items) - kept).delete()
    moving = [a.id for order, a in enumerate(data.agenda, start=1) if a.id is not None and items[a.id].order != order]
    if moving:  # out of the way first: (meeting, order) is unique at every step
        AgendaItem.objects.filter(pk__in=moving).update(order=F("order") + RENUMBER_OFFSET)
    new_items = []
    for order, item in enumerate(data.agenda, start=1):
        values = {"order": order, "title": item.title.strip(), "category": item.category, "amount": item.amount,
                  "votes_for": item.votes_for, "votes_against": item.votes_against,
                  "votes_abstain": item.votes_abstain, "chair_spoke_last": item.chair_spoke_last,
                  "decision": item.decision}
        if item.id is not None:
            if item.id in moving:
                items[item.id].order += RENUMBER_OFFSET
            model_update(instance=items[item.id], fields=list(values), data=values)
        else:
            new_items.append(AgendaItem(meeting=meeting, **values))
    AgendaItem.objects.bulk_create(new_items)

    # The forms it also served (民主评议 from includes_appraisal), the main kind left out.
    forms = {f for f in data.also_counts if f != data.kind} | ({DEMOCRATIC_APPRAISAL} if data.includes_appraisal else set())
    have = set(meeting.also_counts.values_list("kind", flat=True)) if existing else set()
    if have - forms:
        meeting.also_counts.filter(kind__in=have - forms).delete()
    MeetingAlsoCounts.objects.bulk_create([MeetingAlsoCounts(meeting=meeting, kind=f)
                                           for f in sorted(forms - have, key=list(FORM_LABELS).index)])

    # Study themes, in the order typed (the link rows' ids keep the order).
    names = list(dict.fromkeys(t.strip() for t in data.study_tags if t.strip()))
    if not existing or names != meeting.study_tag_names():
        if existing:
            meeting.study_tags.clear()
        tags = {t.name: t for t in StudyTag.objects.filter(name__in=names)}
        for name in names:
            if name not in tags:
                tags[name] = StudyTag.objects.get_or_create(name=name)[0]
        Meeting.study_tags.through.objects.bulk_create(
            [Meeting.study_tags.through(meeting=meeting, studytag=tags[name]) for name in names])


RENUMBER_OFFSET = 1000  # above any item number (at most a few dozen items a meeting)


def _summary(meeting: Meeting, data: MeetingInput, expected: list[Member]) -> dict:
    return {"organization": meeting.organization_id, "kind": meeting.kind, "starts_at": meeting.starts_at.isoformat(),
            "expected": len(expected), "absent": len(data.absences), "guests": len(data.guests),
            "agenda": len(data.agenda), "status": meeting.status, "covers_year": meeting.covers_year,
            "also_counts": sorted({f for f in data.also_counts if f != data.kind}
                                  | ({DEMOCRATIC_APPRAISAL} if data.includes_appraisal else set()))}


@transaction.atomic
def agenda_item_add(*, by: Actor, meeting: Meeting | None, item: AgendaInput) -> AgendaItem:
    """Add a decided item to a recorded meeting. An item always belongs to a meeting."""
    if meeting is None:
        raise ValidationError({"meeting": "议题须属于一次已记录的会议：请先记录召开的党组会、党委会或党员大会。"})
    if meeting.kind not in AGENDA_KINDS:
        raise ValidationError({"meeting": f"{meeting.get_kind_display()}不表决议题。"})
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)  # numbering items one at a time
    item = _filled(item, AGENDA_DEFAULTS)
    present = meeting.attendances.filter(present=True).count()
    present_voters = meeting.attendances.filter(present=True, has_vote=True).count()
    problems = [message for _field, message in agenda_item_problems(item, present=present_voters,
                                                                    without_vote=present - present_voters)]
    day = timezone.localtime(meeting.starts_at).date()
    problem = category_problem(item.category, orglife_rules.procedure(meeting.kind, meeting.organization.kind, day))
    if problem:
        problems.append(problem)
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


@transaction.atomic
def attachment_add(*, by: Actor, meeting: Meeting, upload) -> MeetingAttachment:
    """Attach optional evidence to a meeting (never required). Size, type and content are checked
    (`core.uploads`); the file is stored under a random name, the cleaned name is what people see."""
    uploads.check_upload(upload, allowed=uploads.ATTACHMENT_EXTENSIONS)
    name = uploads.display_name(upload.name)
    upload.name = uploads.stored_name(name)
    attachment = MeetingAttachment.objects.create(meeting=meeting, file=upload, name=name)
    audit_record(by=by, action="meeting.attach", obj=meeting, after={"attachment": attachment.name})
    return attachment


@transaction.atomic
def heart_talk_record(*, by: Actor, organization: Organization, held_on: dt.date, first: Member,
                      second: Member) -> HeartTalk:
    """Record that two people of `organization` had a 谈心谈话 on `held_on` (支部工作条例 第十九条).
    Both must have belonged to the organisation that day (its committee members are its members);
    the day must have passed and fall while the organisation existed."""
    errors: dict[str, list[str]] = {}
    if first.pk == second.pk:
        errors.setdefault("second", []).append("谈心谈话须在两人之间进行：谈话人和谈话对象不能是同一人。")
    if held_on > timezone.localdate():
        errors.setdefault("held_on", []).append("谈话日期不能晚于今天：请在谈话后记录。")
    elif held_on < organization.founded_on or (organization.dissolved_on and held_on >= organization.dissolved_on):
        errors.setdefault("held_on", []).append(f"谈话日期不在“{organization.name}”存续期间。")
    else:
        members = set(memberships_on(organization, held_on).values_list("member_id", flat=True))
        strangers = [m.name for m in (first, second) if m.pk not in members]
        if strangers:
            errors.setdefault("second", []).append(
                f"{'、'.join(strangers)}在{held_on:%Y-%m-%d}不是“{organization.name}”的党员，不能记为本支部的谈心谈话。")
    if errors:
        raise ValidationError(errors)
    talk = HeartTalk.objects.create(organization=organization, held_on=held_on, first=first, second=second,
                                    recorded_by=by.user)
    audit_record(by=by, action="heart_talk.record", obj=talk,
                 after={"organization": organization.pk, "held_on": held_on.isoformat(), "first": first.pk,
                        "second": second.pk})
    return talk
