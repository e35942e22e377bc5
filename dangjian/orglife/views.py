"""Pages for organisational life. Thin views over the orglife services and selectors; every object
comes through the access policy."""

import datetime as dt
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor, audit_export
from dangjian.core import datacache
from dangjian.core.cursors import after_id, page_after, page_links
from dangjian.core.downloads import file_response
from dangjian.core.forms import apply_service_errors, keep_current_version, mark_invalid, parse_id
from dangjian.core.templatetags.dangjian import compliance_badge
from dangjian.core.uploads import KINDS, content_type_for
from dangjian.organizations.models import Member, Organization
from dangjian.organizations.selectors import bureau_of, subtree_ids
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import selectors, services
from dangjian.orglife.forms import (
    AgendaFormSet,
    ContactPointForm,
    GuestFormSet,
    HeartTalkForm,
    MeetingDeleteForm,
    MeetingForm,
)
from dangjian.orglife.models import (
    FORM_LABELS,
    AgendaItem,
    Attendance,
    ContactPoint,
    Guest,
    Meeting,
    MeetingKind,
    StudyTag,
)

MATRIX_PAGE = 100
# A treebeard path (the matrix's page anchor): steps of the tree's alphabet.
PATH = re.compile(rf"(?:[{re.escape(Organization.alphabet)}]{{{Organization.steplen}}})*")
LIST_PAGE = 50
SHORT_LABELS = {
    "general_meeting": "大会", "committee_meeting": "支委", "cell_meeting": "小组", "party_lecture": "党课",
    "theme_day": "党日", "organizational_life_meeting": "组织生活会", "democratic_appraisal": "评议",
    "central_group_study": "中心组", "secretary_lecture": "书记党课",
}


# The first year the rule data covers in full (支部工作条例 2018): pages that check records against
# the rules (台账, matrix, calendar) offer no earlier year; lists of records go back further.
RULES_FROM_YEAR = 2018


def _year(request, earliest: int = 2000) -> int:
    year = parse_id(request.GET.get("year"))
    this_year = timezone.localdate().year
    return year if year is not None and earliest <= year <= this_year else this_year


def _scope(request, perm):
    """The organisation chosen in ?org= (within the user's scope), or the top of their scope."""
    policy.require_perm(request.user, perm)
    orgs = policy.organizations(request.user, perm).order_by("path")
    org_id = parse_id(request.GET.get("org"))
    scope = orgs.filter(pk=org_id).first() if org_id is not None else orgs.first()
    if scope is None:
        raise Http404
    return orgs, scope


def _scope_choices(orgs, scope):
    """Organisations to offer in the scope selector: the levels above branches (a city has ~2,000
    branches; each branch is reached through its parent or its calendar), plus the current one."""
    return orgs.filter(Q(kind__in=[Organization.Kind.WORKING_COMMITTEE, Organization.Kind.LEADING_GROUP,
                                   Organization.Kind.ORGAN_COMMITTEE,
                                   Organization.Kind.GENERAL_BRANCH]) | Q(pk=scope.pk),
                       dissolved_on__isnull=True)


# ---------------------------------------------------------------- meetings

@login_required
def meeting_list(request):
    orgs, scope = _scope(request, Perm.VIEW_MEETINGS)
    year = _year(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in MeetingKind.values else ""
    meetings = selectors.meeting_list(request.user, organization=scope, year=year, kind=kind)
    month = parse_id(request.GET.get("month"))
    if month is not None and 1 <= month <= 12:
        meetings = meetings.filter(starts_at__month=month)
    before = parse_id(request.GET.get("before"))
    if before is not None:
        meetings = meetings.filter(id__lt=before)
    rows = list(selectors.meeting_rows(meetings).order_by("-id")[: LIST_PAGE + 1])
    for row in rows:
        row.quorum = selectors.row_quorum(row)
    query = request.GET.copy()
    query.pop("before", None)
    return render(request, "orglife/meetings.html", {
        "meetings": rows[:LIST_PAGE], "scope": scope, "year": year, "kind": kind, "kinds": MeetingKind.choices,
        "organizations": _scope_choices(orgs, scope), "years": range(timezone.localdate().year, 2017, -1),
        "next_url": f"?{query.urlencode()}&before={rows[LIST_PAGE - 1].pk}" if len(rows) > LIST_PAGE else "",
        "can_record": policy.has_perm(request.user, Perm.RECORD_MEETINGS),
    })


@login_required
def meeting_detail(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.VIEW_MEETINGS)
    attendances = list(meeting.attendances.select_related("member").order_by("-present", "member__name"))
    items = list(selectors.decision_items(meeting.agenda_items.all()).order_by("order"))
    for item in items:
        item.passed, item.flags = selectors.decision_flags(item)
    present = sum(1 for a in attendances if a.present)
    voters = [a for a in attendances if a.has_vote]
    voters_present = sum(1 for a in voters if a.present)
    return render(request, "orglife/meeting_detail.html", {
        "also_counts": [FORM_LABELS[f] for f in services.also_counts_of(meeting)],
        "meeting_flags": selectors.meeting_flags(meeting, expected=len(attendances), present=present),
        "meeting": meeting, "attendances": attendances, "present": present, "expected": len(attendances),
        "voters_expected": len(voters), "voters_present": voters_present,
        "quorum": selectors.meeting_quorum(meeting, voters_expected=len(voters), voters_present=voters_present),
        "guests": list(meeting.guests.order_by("id")), "items": items, "tags": meeting.study_tag_names(),
        "attachments": list(meeting.attachments.order_by("uploaded_at")),
        "can_edit": policy.can_on_organization(request.user, meeting.organization, Perm.RECORD_MEETINGS),
    })


def _absences_from_post(post) -> dict[int, tuple[str, str]]:
    absences = {}
    for key, reason in post.items():
        pk = parse_id(key[7:]) if key.startswith("absent_") else None
        if pk is not None and reason:
            absences[pk] = (reason, post.get(f"note_{pk}", ""))
    return absences


def _kept_rows(formset) -> list:
    """The row forms that stand for a record after this save: not blank, not ticked for removal."""
    if not formset.is_bound:
        return []
    return [f for f in formset.forms
            if hasattr(f, "cleaned_data") and not f.cleaned_data.get("DELETE") and not f.is_blank()]


def _meeting_input(form, agenda, guests, post, meeting) -> services.MeetingInput | None:
    """The meeting as the page gives it: every field the page shows, and nothing it does not (those
    stay UNSET, so a correction keeps them). None while the organisation, kind or time is not valid
    (then the service cannot check the rest yet)."""
    d = getattr(form, "cleaned_data", {})
    if not all(d.get(name) for name in ("organization", "kind", "starts_at")):
        return None
    leaders = d.get("contact_leaders") or []
    existing = {}
    if meeting is not None:
        existing = {g.member_id: g.pk for g in meeting.guests.filter(role=Guest.Role.CONTACT_LEADER,
                                                                      member__in=[m.pk for m in leaders])}
    guest_rows = [f.guest_input() for f in _kept_rows(guests)] if guests.is_bound else [
        services.GuestInput(id=g.pk) for g in (meeting.guests.exclude(role=Guest.Role.CONTACT_LEADER)
                                               if meeting is not None else [])]
    guest_rows += [services.GuestInput(id=existing[m.pk]) if m.pk in existing else
                   services.GuestInput(name=m.name, role=Guest.Role.CONTACT_LEADER, member=m) for m in leaders]
    def shown(name, value):
        # A text box or list the page did not render is not sent by the browser at all (an empty
        # one is sent empty): then it was not given, and a correction keeps the record's value.
        return value if name in post else services.UNSET

    return services.MeetingInput(
        organization=d["organization"], kind=d["kind"], starts_at=d["starts_at"], topics=d.get("topics") or "",
        place=shown("place", d.get("place") or ""), host=shown("host", d.get("host")),
        recorder=shown("recorder", d.get("recorder")), lecturer=shown("lecturer", d.get("lecturer")),
        lecturer_name=shown("lecturer_name", d.get("lecturer_name") or ""), minutes=shown("minutes", d.get("minutes") or ""),
        study_tags=form.study_tag_list() if "study_tags" in post or "common_tags" in post else services.UNSET,
        includes_appraisal=bool(d.get("includes_appraisal")), absences=_absences_from_post(post), guests=guest_rows,
        also_counts=list(d.get("also_counts") or []), covers_year=shown("covers_year", d.get("covers_year")),
        agenda=[f.agenda_input() for f in _kept_rows(agenda)] if agenda.is_bound else services.UNSET)


def _show_service_errors(form, agenda, errors: dict) -> None:
    """A service's errors on the page: an agenda item's on its row and field (the row is marked),
    anything else on the form's field of that name or at the top. Fields that already show an
    error of their own are not given a second one."""
    rows = _kept_rows(agenda)
    for name, found in errors.items():
        for error in found:
            params = getattr(error, "params", None) or {}
            message = error.message if isinstance(error, ValidationError) else str(error)
            if name == "agenda" and "item" in params and params["item"] < len(rows):
                row = rows[params["item"]]
                if params["field"] not in row.errors:
                    row.add_error(params["field"], params.get("problem", message))
            elif name in form.fields:
                if name not in form.errors:
                    form.add_error(name, message)
            else:
                form.add_error(None, message)
    mark_invalid(form)
    for row in rows:
        mark_invalid(row)


def _common_tags(day: dt.date) -> list[str]:
    """Study themes to tick rather than type: the study campaigns (学习教育, rule data) in effect on
    the meeting's day first, then the themes most used that year and the one before (12 in all)."""
    campaigns = [c.tag for c in orglife_rules.campaigns_on(day)]
    since = timezone.make_aware(dt.datetime(day.year - 1, 1, 1))
    used = list(StudyTag.objects.filter(meetings__starts_at__gte=since).exclude(name__in=campaigns)
                .annotate(uses=Count("meetings")).order_by("-uses", "name").values_list("name", flat=True)[:12])
    return [*campaigns, *used][:max(12, len(campaigns))]


def _form_day(request, meeting) -> dt.date:
    """The meeting's day as the form stands (posted, or recorded, or today): its campaigns are offered."""
    raw = request.POST.get("starts_at") or request.GET.get("starts_at") or ""
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        return timezone.localtime(meeting.starts_at).date() if meeting is not None else timezone.localdate()


def _meeting_form(request, meeting=None):
    user = request.user
    live = Q(dissolved_on__isnull=True) | Q(pk=meeting.organization_id) if meeting else Q(dissolved_on__isnull=True)
    recordable = policy.organizations(user, Perm.RECORD_MEETINGS).filter(live).order_by("path")
    # Hosts, recorders and lecturers: the chosen organisation's members (not the whole city's),
    # its leaders, and whoever the record already names.
    org_id = parse_id(request.POST.get("organization") or request.GET.get("organization")) or (
        meeting.organization_id if meeting else None)
    chosen = recordable.filter(pk=org_id).first() if org_id else None
    leaders = selectors.nameable_leaders(user)
    # Who may be named (the one selector), narrowed to a short list: the chosen organisation's
    # active members, the leaders, and whoever the record already names.
    own = Q(status=Member.Status.ACTIVE)
    if chosen is not None:
        own &= Q(organization__in=subtree_ids(chosen))
    offered = own | Q(pk__in=leaders.order_by().values("pk"))
    contact_guests = []
    if meeting is not None:
        offered |= Q(pk__in=[pk for pk in (meeting.host_id, meeting.recorder_id, meeting.lecturer_id) if pk])
        # Contact-point leaders already on the record stay ticked even if no longer offered.
        contact_guests = list(meeting.guests.filter(role=Guest.Role.CONTACT_LEADER, member__isnull=False)
                              .values_list("member_id", flat=True))
        leaders = Member.objects.filter(Q(pk__in=leaders.order_by().values("pk")) | Q(pk__in=contact_guests)
                                        ).order_by("name")
    members = selectors.nameable_people(user, meeting=meeting).filter(offered).order_by("name", "id")
    if meeting is not None:
        ticked = set(contact_guests)
        initial = {"organization": meeting.organization_id, "kind": meeting.kind,
                   "starts_at": timezone.localtime(meeting.starts_at), "place": meeting.place,
                   "host": meeting.host_id, "recorder": meeting.recorder_id, "lecturer": meeting.lecturer_id,
                   "lecturer_name": meeting.lecturer_name, "topics": meeting.topics, "minutes": meeting.minutes,
                   "includes_appraisal": meeting.includes_appraisal, "covers_year": meeting.covers_year,
                   "also_counts": services.also_counts_of(meeting, with_appraisal=False),
                   "study_tags": "\n".join(meeting.study_tag_names()), "contact_leaders": sorted(ticked),
                   "version": meeting.version}
        guest_initial = [{"id": g.pk, "name": g.name, "role": g.role, "title": g.title}
                         for g in meeting.guests.order_by("id")
                         if not (g.role == Guest.Role.CONTACT_LEADER and g.member_id in ticked)]
        agenda_initial = [{"id": a.pk, "title": a.title, "category": a.category, "amount": a.amount,
                           "votes_for": a.votes_for, "votes_against": a.votes_against,
                           "votes_abstain": a.votes_abstain, "chair_spoke_last": a.chair_spoke_last,
                           "decision": a.decision}
                          for a in meeting.agenda_items.order_by("order")]
        year = timezone.localtime(meeting.starts_at).year
    else:
        initial = {"organization": request.GET.get("organization"), "kind": request.GET.get("kind"),
                   "includes_appraisal": False}
        guest_initial, agenda_initial = [], []
        year = timezone.localdate().year
    post = request.POST if request.method == "POST" else None
    day = _form_day(request, meeting)
    form = MeetingForm(post, initial=initial, organizations=recordable, members=members, leaders=leaders,
                       common_tags=_common_tags(day), year=day.year if 2000 <= day.year <= 2100 else year)
    # A part whose rows were not sent at all (a client that posts only the meeting's own fields)
    # is not given, and the record keeps it; the page itself always sends both.
    agenda = AgendaFormSet(post if post and "agenda-TOTAL_FORMS" in post else None, prefix="agenda",
                           initial=agenda_initial)
    guests = GuestFormSet(post if post and "guests-TOTAL_FORMS" in post else None, prefix="guests",
                          initial=guest_initial)
    if post is not None:
        # Every part is checked on the first submit (no short-circuit), and the service's own checks
        # run as soon as the organisation, kind and time are valid, so all problems show at once.
        valid = all([form.is_valid(), not agenda.is_bound or agenda.is_valid(),
                     not guests.is_bound or guests.is_valid()])
        data = _meeting_input(form, agenda, guests, post, meeting)
        actor = Actor.from_request(request)
        if valid:
            try:
                if meeting is None:
                    meeting = services.meeting_record(by=actor, data=data)
                else:
                    services.meeting_update(by=actor, meeting=meeting, data=data,
                                            expected_version=form.cleaned_data.get("version"))
            except ValidationError as exc:
                keep_current_version(form, exc)
                _show_service_errors(form, agenda, exc.error_dict if hasattr(exc, "error_dict")
                                     else {NON_FIELD_ERRORS: exc.error_list})
            else:
                note = "（会后超过规定天数录入，已标记为补录）" if meeting.status == meeting.Status.LATE else ""
                messages.success(request, f"已记录：{meeting.organization.name}{meeting.kind_label}{note}。")
                return redirect(meeting)
        elif data is not None:
            _show_service_errors(form, agenda, services.meeting_problems(data=data, meeting=meeting))
        for row in guests.forms if guests.is_bound else []:  # also listed in the summary at the top
            for field_name, errors in row.errors.items():
                for message in errors:
                    label = row.fields[field_name].label if field_name in row.fields else "列席人员"
                    form.add_error(None, f"列席人员第 {guests.forms.index(row) + 1} 行{label}：{message}")
    absences = _absences_from_post(request.POST) if request.method == "POST" else (
        {a.member_id: (a.absence_reason, a.note) for a in meeting.attendances.filter(present=False)} if meeting else {})
    return render(request, "orglife/meeting_form.html", {
        "form": form, "formset": agenda, "guests": guests, "meeting": meeting,
        "attendance": _attendance_context(request.user, form, absences),
        "agenda_kinds": sorted(services.AGENDA_KINDS),
    })


def _attendance_context(user, form, absences):
    """The expected attendees for the organisation, kind and date currently in the form."""
    data = form.data if form.is_bound else {}
    org_id = data.get("organization") or form.initial.get("organization")
    kind = data.get("kind") or form.initial.get("kind")
    raw_at = data.get("starts_at") or (form.initial.get("starts_at").strftime("%Y-%m-%dT%H:%M")
                                       if form.initial.get("starts_at") else "")
    return expected_rows(user, org_id, kind, raw_at, absences)


def expected_rows(user, org_id, kind, raw_at, absences):
    org_id = parse_id(org_id)
    org = policy.organizations(user, Perm.RECORD_MEETINGS).filter(pk=org_id).first() if org_id is not None else None
    if org is None or kind not in MeetingKind.values:
        return {"ready": False}
    try:
        day = dt.date.fromisoformat(str(raw_at)[:10]) if raw_at else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    expected = services.expected_attendees(org, kind, day)
    return {"ready": True, "day": day, "org": org, "rows": [
        {"member": m, "reason": absences.get(m.pk, ("", ""))[0], "note": absences.get(m.pk, ("", ""))[1]}
        for m in expected], "reasons": Attendance.AbsenceReason.choices, "note_max": services.NOTE_MAX}


@login_required
def meeting_create(request):
    policy.require_perm(request.user, Perm.RECORD_MEETINGS)
    return _meeting_form(request)


@login_required
def meeting_edit(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.RECORD_MEETINGS)
    return _meeting_form(request, meeting)


@login_required
def meeting_expected(request):
    """htmx fragment: the attendance table for the organisation, kind and date chosen. The form
    sends the absences already marked with the request, so people still expected keep them."""
    policy.require_perm(request.user, Perm.RECORD_MEETINGS)
    context = expected_rows(request.user, request.GET.get("organization", ""), request.GET.get("kind", ""),
                            request.GET.get("starts_at", ""), _absences_from_post(request.GET))
    return render(request, "orglife/_attendance.html", {"attendance": context})


@login_required
def meeting_delete(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.RECORD_MEETINGS)
    label = f"{meeting.organization.name}{meeting.kind_label}（{timezone.localtime(meeting.starts_at):%Y-%m-%d}）"
    form = MeetingDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_delete(by=Actor.from_request(request), meeting=meeting, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已删除：{label}。")
            return redirect("orglife:meetings")
    return render(request, "orglife/meeting_delete.html", {"form": form, "meeting": meeting, "label": label})


@login_required
def attachment_upload(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.RECORD_MEETINGS)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要上传的文件。")
        else:
            try:
                attachment = services.attachment_add(by=Actor.from_request(request), meeting=meeting, upload=upload)
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, f"已上传附件：{attachment.name}。")
    return redirect(meeting)


@login_required
def attachment_download(request, pk, attachment_pk):
    """Attachments are served through the access policy, never from a public media URL, and each
    download is audited as an export."""
    meeting = policy.get_record(request.user, Meeting, pk, Perm.VIEW_MEETINGS)
    attachment = meeting.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    try:
        content = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit_export(by=Actor.from_request(request), what="attachment", obj=attachment, masked=None,
                 note=attachment.name)
    return file_response(content, filename=attachment.name, content_type=content_type_for(attachment.name))


@login_required
def meeting_minutes(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.VIEW_MEETINGS)
    from dangjian.orglife.paperwork import meeting_minutes_docx

    content = meeting_minutes_docx(meeting)
    audit_export(by=Actor.from_request(request), what="minutes", obj=meeting, masked=True)
    local = timezone.localtime(meeting.starts_at)
    return file_response(content, content_type=KINDS["docx"].content_type,
                         filename=f"{meeting.organization.name}{meeting.kind_label}会议记录{local:%Y%m%d}.docx")


@login_required
def ledger(request, org_pk):
    """The 台账 of an organisation in scope; its rows are read through the policy again inside
    ledger_xlsx, so a grant that excludes descendants gets no branch's meetings."""
    org = policy.get_organization(request.user, org_pk, Perm.VIEW_MEETINGS)
    from dangjian.orglife.paperwork import ledger_xlsx

    year = _year(request, RULES_FROM_YEAR)
    content = ledger_xlsx(user=request.user, organization=org, year=year)
    audit_export(by=Actor.from_request(request), what="ledger", obj=org, masked=True, note=f"{year}年")
    return file_response(content, content_type=KINDS["xlsx"].content_type,
                         filename=f"{org.name}{year}年组织生活台账.xlsx")


# ---------------------------------------------------------------- compliance

def _decorate(table, *, year: int | None = None, user=None):
    """Ready a compliance table for a page: each row's cells by month (`row.months`, the month and
    its cells), each cell's short label and the meeting kind its ✗ badge records. Given the year
    and whether the reader may record (the matrix), also the badges themselves, built here once
    with the two URLs reversed once: `cell.html` (which the compliance_cell tag then returns as
    is) and `row.month_html`, the month and its badges as one string, for a template that prints
    a month's cell without a tag per badge. A bureau's page has about a thousand badges; a tag
    reversing two URLs for each cost ten times the page's SQL. Whether a ✗ badge links to the
    form is decided per organisation from the user's grants (no query): a reader who may record
    for some organisations but not others gets links only where the form will take them."""
    if year is not None:
        meetings_url, create_url = reverse("orglife:meetings"), reverse("orglife:meeting_create")
        calendar_url = reverse("orglife:calendar", args=[0])  # "…/0/calendar/": the pk put in per row
    for row in table.rows:
        months = row.by_month()
        row.months = [(m, months.get(m, [])) for m in range(1, 13)]
        for _, cells in row.months:
            for cell in cells:
                cell.short = SHORT_LABELS.get(cell.requirement.key, cell.requirement.label)
                cell.create_kind = cell.requirement.kind or MeetingKind.ORGANIZATIONAL_LIFE_MEETING
        if year is None:
            continue
        can_record = policy.can_on_organization(user, row.org, Perm.RECORD_MEETINGS)
        prepared_for = (row.org.pk, year, can_record)
        row.month_html = []
        for m, cells in row.months:
            for cell in cells:
                cell.html = SafeString(compliance_badge(
                    cell, org_pk=row.org.pk, year=year, can_record=can_record, meetings_url=meetings_url,
                    create_url=create_url))
                cell.html_for = prepared_for
            # The month as text: the template prints it as is, where an int would go through number
            # localisation (about a tenth of the page's time over its ~500 cells).
            row.month_html.append((str(m), SafeString("".join(cell.html for cell in cells))))
        # The whole table row, for a template that loops over rows only (issue 11: a 100-row page
        # printed through ~2,900 template variables cost more than the compliance selector).
        org = row.org
        url = calendar_url.replace("/0/", f"/{org.pk}/", 1)
        row.html = SafeString(
            f'<tr data-org="{escape(org.code)}"><td class="text-nowrap tree-indent-{org.depth - 3}">'
            f'<a href="{url}?year={year}">{escape(org.name)}</a></td>'
            + "".join(f'<td class="small" data-month="{m}">{badges}</td>' for m, badges in row.month_html)
            + "</tr>")
    return table


@login_required
def matrix(request):
    """Organisations × months for one year: held, missing, due; each cell links onward. The page's
    rows are prepared once until the next write (core.datacache): most readers open the matrix
    again and again between two meetings recorded, and preparing 100 rows is five times the
    rest of the page."""
    orgs, scope = _scope(request, Perm.VIEW_MEETINGS)
    year = _year(request, RULES_FROM_YEAR)
    after = request.GET.get("after", "")
    if not PATH.fullmatch(after):  # a tree path or nothing: anything else starts at the first page
        after = ""
    today = timezone.localdate()
    prepared = datacache.remember(f"matrix:{request.user.pk}:{scope.pk}:{year}:{today.isoformat()}:{after}",
                                  lambda: _matrix_page(request.user, scope, year=year, after=after, today=today))
    held, required = prepared["held"], prepared["required"]
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "orglife/matrix.html", {
        "rate": f"{held * 100 / required:.1f}%" if required else "—",
        "rows": prepared["rows"], "scope": scope, "year": year, "organizations": _scope_choices(orgs, scope),
        "years": range(today.year, RULES_FROM_YEAR - 1, -1), "months": range(1, 13), "held": held, "required": required,
        "next_url": f"?{query.urlencode()}&after={prepared['last']}" if prepared["more"] else "",
        "rules": orglife_rules.requirements(min(today, dt.date(year, 12, 31))),
        "this_month": today.month if year == today.year else None,
    })


def _matrix_page(user, scope, *, year: int, after: str, today: dt.date) -> dict:
    """One page of the matrix (MATRIX_PAGE organisations of `scope`'s subtree after the path
    `after`) as the template prints it: each table row's HTML, the periods held and required."""
    subtree = policy.organizations_under(user, Perm.VIEW_MEETINGS, scope)
    page = subtree.filter(path__gt=after) if after else subtree
    # Keyset by path: the page's paths (one more to know whether a next page exists).
    paths = list(page.order_by("path").values_list("path", flat=True)[: MATRIX_PAGE + 1])
    last = paths[min(len(paths), MATRIX_PAGE) - 1] if paths else ""
    table = _decorate(selectors.compliance(page.filter(path__lte=last), year=year, today=today), year=year, user=user)
    held, required = table.rate()
    return {"rows": [row.html for row in table.rows], "held": held, "required": required, "last": last,
            "more": len(paths) > MATRIX_PAGE}


@login_required
def calendar(request, org_pk):
    """One organisation's year: its (and its cells') meetings by month, and what each month required."""
    org = policy.get_organization(request.user, org_pk, Perm.VIEW_MEETINGS)
    policy.require_perm(request.user, Perm.VIEW_MEETINGS)
    year = _year(request, RULES_FROM_YEAR)
    today = timezone.localdate()
    subtree = policy.organizations_under(request.user, Perm.VIEW_MEETINGS, org)
    table = _decorate(selectors.compliance(subtree, year=year, today=today))
    meetings = (selectors.meeting_rows(selectors.meeting_list(request.user, organization=org, year=year))
                .prefetch_related("also_counts").order_by("starts_at"))
    by_month = {m: [] for m in range(1, 13)}
    for meeting in meetings:
        by_month[timezone.localtime(meeting.starts_at).month].append(meeting)
    required = {m: [(row.org, c) for row in table.rows for c in dict(row.months)[m]] for m in range(1, 13)}
    # Both name members: shown only to a reader who may view the members of this organisation.
    names_members = policy.can_on_organization(request.user, org, Perm.VIEW_MEMBERS)
    talks = (selectors.heart_talk_coverage(org, year=year, today=today)
             if names_members and org.kind == Organization.Kind.BRANCH else [])
    dual = (selectors.dual_life(org, year=year, today=today)
            if names_members and org.kind == Organization.Kind.LEADING_GROUP else [])
    return render(request, "orglife/calendar.html", {
        "talks": talks, "dual_life": dual,
        "org": org, "year": year, "years": range(today.year, RULES_FROM_YEAR - 1, -1),
        "months": [(m, by_month[m], required[m]) for m in range(1, 13)],
        "can_record": policy.can_on_organization(request.user, org, Perm.RECORD_MEETINGS),
        "this_month": today.month if year == today.year else None,
    })


@login_required
def heart_talk_create(request, org_pk):
    """Record a 谈心谈话 between two people of one organisation (支部工作条例 第十九条)."""
    org = policy.get_organization(request.user, org_pk, Perm.RECORD_MEETINGS)
    policy.require_perm(request.user, Perm.RECORD_MEETINGS)
    form = HeartTalkForm(request.POST or None, people=selectors.talk_people(org),
                         initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            talk = services.heart_talk_record(by=Actor.from_request(request), organization=org,
                                              held_on=d["held_on"], first=d["first"], second=d["second"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已登记{d['first'].name}与{d['second'].name}的谈心谈话。")
            return redirect(reverse("orglife:calendar", args=[org.pk]) + f"?year={talk.held_on.year}#heart-talks")
    return render(request, "orglife/heart_talk_form.html", {"form": form, "org": org})


# ---------------------------------------------------------------- decisions and contact points

@login_required
def decisions(request):
    """The 三重一大 register for a year: every item decided, its vote and the rules it broke."""
    orgs, scope = _scope(request, Perm.VIEW_DECISIONS)
    year = _year(request)
    # By default the register holds the four 三重一大 categories; "all" adds every decided item.
    category = request.GET.get("category", "sanzhongyida")
    if category not in AgendaItem.Category.values and category != "all":
        category = "sanzhongyida"
    items = selectors.decision_register(request.user, organization=scope, year=year,
                                        category="" if category == "all" else category)
    rows = list(selectors.decision_items(items).order_by("meeting__starts_at", "order"))
    for item in rows:
        item.passed, item.flags = selectors.decision_flags(item)
    if request.GET.get("flagged") == "1":
        rows = [r for r in rows if r.flags]
    return render(request, "orglife/decisions.html", {
        "items": rows, "scope": scope, "year": year, "category": category,
        "categories": AgendaItem.Category.choices, "flagged_only": request.GET.get("flagged") == "1",
        "organizations": _scope_choices(orgs, scope), "years": range(timezone.localdate().year, 2017, -1),
        "flag_count": sum(1 for r in rows if r.flags),
    })


@login_required
def contact_points(request):
    """The contact points of a year in the chosen scope, a page at a time (each page's attendance
    counted for its own rows), and the form that sets one for the scope's bureau: its 党组's
    leaders and the branches in scope. A 市直机关工委 spans the bureaus (a city has ~750 党组
    members): a bureau is chosen first."""
    orgs, scope = _scope(request, Perm.VIEW_MEETINGS)
    year = _year(request)
    can_manage = policy.has_perm(request.user, Perm.MANAGE_CONTACT_POINTS)
    bureau = bureau_of(scope) if can_manage else None
    form = None
    if bureau is not None:
        branches = policy.organizations_under(request.user, Perm.MANAGE_CONTACT_POINTS, scope).filter(
            kind=Organization.Kind.BRANCH, dissolved_on__isnull=True).order_by("path")
        leaders = selectors.nameable_leaders(request.user, Perm.MANAGE_CONTACT_POINTS, within=bureau)
        form = ContactPointForm(request.POST or None, leaders=leaders, branches=branches, initial={"year": year})
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                services.contact_point_set(by=Actor.from_request(request), leader=d["leader"],
                                           organization=d["organization"], year=d["year"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "已设置党建联系点。")
                return redirect(reverse("orglife:contact_points") + f"?org={scope.pk}&year={d['year']}")
    points = policy.records_under(request.user, ContactPoint, Perm.VIEW_MEETINGS, scope)
    after = after_id(request.GET.get("after"))
    rows, next_position = page_after(selectors.contact_points(points, year=year), after=after, size=LIST_PAGE)
    return render(request, "orglife/contact_points.html", {
        "points": rows, "scope": scope, "year": year, "years": range(timezone.localdate().year, 2017, -1),
        "organizations": _scope_choices(orgs, scope), "form": form, "choose_bureau": can_manage and bureau is None,
        **page_links(request.GET, next_position, at_start=after is None),
    })


