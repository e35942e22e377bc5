"""Pages for organisational life. Thin views over the orglife services and selectors; every object
comes through the access policy."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor, audit_export
from dangjian.core.forms import apply_service_errors, form_page, parse_id
from dangjian.core.templatetags.dangjian import compliance_badge
from dangjian.organizations.models import Member, Organization
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import selectors, services
from dangjian.orglife.forms import AgendaFormSet, ContactPointForm, MeetingDeleteForm, MeetingForm
from dangjian.orglife.models import AgendaItem, Attendance, ContactPoint, Guest, Meeting, MeetingKind

MATRIX_PAGE = 100
LIST_PAGE = 50
SHORT_LABELS = {
    "general_meeting": "大会", "committee_meeting": "支委", "cell_meeting": "小组", "party_lecture": "党课",
    "theme_day": "党日", "organizational_life_meeting": "组织生活会", "democratic_appraisal": "评议",
    "central_group_study": "中心组", "secretary_lecture": "书记党课",
}


def _year(request) -> int:
    year = parse_id(request.GET.get("year"))
    this_year = timezone.localdate().year
    return year if year is not None and 2000 <= year <= this_year else this_year


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
    return orgs.filter(Q(kind__in=[Organization.Kind.LEADING_GROUP, Organization.Kind.ORGAN_COMMITTEE,
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
    return render(request, "orglife/meeting_detail.html", {
        "meeting": meeting, "attendances": attendances, "present": present, "expected": len(attendances),
        "guests": list(meeting.guests.all()), "items": items, "tags": list(meeting.study_tags.all()),
        "attachments": list(meeting.attachments.order_by("uploaded_at")),
        "can_edit": policy.can_on_organization(request.user, meeting.organization, Perm.RECORD_MEETINGS),
    })


def _absences_from_post(post) -> dict[int, tuple[str, str]]:
    absences = {}
    for key, reason in post.items():
        pk = parse_id(key[7:]) if key.startswith("absent_") else None
        if pk is not None and reason:
            absences[pk] = (reason, post.get(f"note_{pk}", "").strip())
    return absences


def _agenda_from_formset(formset) -> list[services.AgendaInput]:
    items = []
    for form in formset.forms:
        d = form.cleaned_data if form.is_valid() else {}
        if not d or not (d.get("title") or "").strip():
            continue
        items.append(services.AgendaInput(
            title=d["title"], category=d.get("category") or "", amount=d.get("amount"),
            votes_for=d.get("votes_for"), votes_against=d.get("votes_against"), votes_abstain=d.get("votes_abstain"),
            chair_spoke_last=bool(d.get("chair_spoke_last")), decision=d.get("decision") or ""))
    return items


def _meeting_input(form, formset, post) -> services.MeetingInput:
    d = form.cleaned_data
    guests = [services.GuestInput(name=m.name, role=Guest.Role.CONTACT_LEADER, member=m)
              for m in d.get("contact_leaders") or []]
    guests += [services.GuestInput(name=name, role=role) for name, role in form.other_guest_list()]
    return services.MeetingInput(
        organization=d["organization"], kind=d["kind"], starts_at=d["starts_at"], topics=d.get("topics") or "",
        place=d.get("place") or "", host=d.get("host"), recorder=d.get("recorder"), lecturer=d.get("lecturer"),
        lecturer_name=d.get("lecturer_name") or "", minutes=d.get("minutes") or "", study_tags=form.study_tag_list(),
        includes_appraisal=bool(d.get("includes_appraisal")), absences=_absences_from_post(post), guests=guests,
        agenda=_agenda_from_formset(formset))


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
    offered = Q(status=Member.Status.ACTIVE) | Q(pk__in=leaders.order_by().values("pk"))
    if chosen is not None:
        offered = Q(status=Member.Status.ACTIVE, organization__path__startswith=chosen.path) | Q(
            pk__in=leaders.order_by().values("pk"))
    if meeting is not None:
        offered |= Q(pk__in=[pk for pk in (meeting.host_id, meeting.recorder_id, meeting.lecturer_id) if pk])
    members = selectors.nameable_people(user, meeting=meeting).filter(offered).order_by("name", "id")
    if meeting is not None:
        initial = {"organization": meeting.organization_id, "kind": meeting.kind,
                   "starts_at": timezone.localtime(meeting.starts_at), "place": meeting.place,
                   "host": meeting.host_id, "recorder": meeting.recorder_id, "lecturer": meeting.lecturer_id,
                   "lecturer_name": meeting.lecturer_name, "topics": meeting.topics, "minutes": meeting.minutes,
                   "includes_appraisal": meeting.includes_appraisal,
                   "study_tags": "、".join(t.name for t in meeting.study_tags.all()),
                   "contact_leaders": [g.member_id for g in meeting.guests.all() if g.role == Guest.Role.CONTACT_LEADER],
                   "other_guests": "\n".join(f"{g.name} {g.get_role_display()}" for g in meeting.guests.all()
                                             if g.role != Guest.Role.CONTACT_LEADER)}
        agenda_initial = [{"title": a.title, "category": a.category, "amount": a.amount, "votes_for": a.votes_for,
                           "votes_against": a.votes_against, "votes_abstain": a.votes_abstain,
                           "chair_spoke_last": a.chair_spoke_last, "decision": a.decision}
                          for a in meeting.agenda_items.order_by("order")]
    else:
        initial = {"organization": request.GET.get("organization"), "kind": request.GET.get("kind"),
                   "includes_appraisal": False}
        agenda_initial = []
    form = MeetingForm(request.POST or None, initial=initial, organizations=recordable, members=members,
                       leaders=leaders)
    formset = AgendaFormSet(request.POST or None, prefix="agenda", initial=agenda_initial)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = _meeting_input(form, formset, request.POST)
        try:
            if meeting is None:
                meeting = services.meeting_record(by=Actor.from_request(request), data=data)
            else:
                services.meeting_update(by=Actor.from_request(request), meeting=meeting, data=data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            note = "（会后超过规定天数录入，已标记为补录）" if meeting.status == meeting.Status.LATE else ""
            messages.success(request, f"已记录：{meeting.organization.name}{meeting.kind_label}{note}。")
            return redirect(meeting)
    absences = _absences_from_post(request.POST) if request.method == "POST" else (
        {a.member_id: (a.absence_reason, a.note) for a in meeting.attendances.filter(present=False)} if meeting else {})
    return render(request, "orglife/meeting_form.html", {
        "form": form, "formset": formset, "meeting": meeting,
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
        for m in expected], "reasons": Attendance.AbsenceReason.choices}


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
    """htmx fragment: the attendance table for the organisation, kind and date chosen."""
    policy.require_perm(request.user, Perm.RECORD_MEETINGS)
    context = expected_rows(request.user, request.GET.get("organization", ""), request.GET.get("kind", ""),
                            request.GET.get("starts_at", ""), {})
    return render(request, "orglife/_attendance.html", {"attendance": context})


@login_required
def meeting_delete(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.RECORD_MEETINGS)
    label = f"{meeting.organization.name}{meeting.kind_label}（{timezone.localtime(meeting.starts_at):%Y-%m-%d}）"
    return form_page(request, MeetingDeleteForm(request.POST or None), lambda d: services.meeting_delete(
        by=Actor.from_request(request), meeting=meeting, reason=d["reason"]), done="orglife:meetings",
        title=f"删除会议记录：{label}", back=meeting.get_absolute_url(), success=f"已删除：{label}。")


@login_required
def attachment_upload(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.RECORD_MEETINGS)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要上传的文件。")
        else:
            try:
                services.attachment_add(by=Actor.from_request(request), meeting=meeting, upload=upload)
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, f"已上传附件：{upload.name}。")
    return redirect(meeting)


@login_required
def attachment_download(request, pk, attachment_pk):
    """Attachments are served through the access policy, never from a public media URL."""
    meeting = policy.get_record(request.user, Meeting, pk, Perm.VIEW_MEETINGS)
    attachment = meeting.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
def meeting_minutes(request, pk):
    meeting = policy.get_record(request.user, Meeting, pk, Perm.VIEW_MEETINGS)
    from dangjian.orglife.paperwork import meeting_minutes_docx

    content = meeting_minutes_docx(meeting)
    audit_export(by=Actor.from_request(request), what="minutes", obj=meeting, masked=True)
    response = HttpResponse(content, content_type=(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    local = timezone.localtime(meeting.starts_at)
    response["Content-Disposition"] = content_disposition_header(
        True, f"{meeting.organization.name}{meeting.kind_label}会议记录{local:%Y%m%d}.docx")
    return response


@login_required
def ledger(request, org_pk):
    """The 台账 of an organisation in scope; its rows are read through the policy again inside
    ledger_xlsx, so a grant that excludes descendants gets no branch's meetings."""
    org = policy.get_organization(request.user, org_pk, Perm.VIEW_MEETINGS)
    from dangjian.orglife.paperwork import ledger_xlsx

    year = _year(request)
    content = ledger_xlsx(user=request.user, organization=org, year=year)
    audit_export(by=Actor.from_request(request), what="ledger", obj=org, masked=True, note=f"{year}年")
    response = HttpResponse(content, content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = content_disposition_header(True, f"{org.name}{year}年组织生活台账.xlsx")
    return response


# ---------------------------------------------------------------- compliance

def _decorate(table, *, year: int | None = None, can_record: bool | None = None):
    """Ready a compliance table for a page: each row's cells by month (`row.months`, the month and
    its cells), each cell's short label and the meeting kind its ✗ badge records. Given the year
    and whether the reader may record (the matrix), also the badges themselves, built here once
    with the two URLs reversed once: `cell.html` (which the compliance_cell tag then returns as
    is) and `row.month_html`, the month and its badges as one string, for a template that prints
    a month's cell without a tag per badge. A bureau's page has about a thousand badges; a tag
    reversing two URLs for each cost ten times the page's SQL."""
    if year is not None:
        meetings_url, create_url = reverse("orglife:meetings"), reverse("orglife:meeting_create")
    for row in table.rows:
        months = row.by_month()
        row.months = [(m, months.get(m, [])) for m in range(1, 13)]
        for _, cells in row.months:
            for cell in cells:
                cell.short = SHORT_LABELS.get(cell.requirement.key, cell.requirement.label)
                cell.create_kind = cell.requirement.kind or MeetingKind.ORGANIZATIONAL_LIFE_MEETING
        if year is None:
            continue
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
    return table


@login_required
def matrix(request):
    """Organisations × months for one year: held, missing, due; each cell links onward."""
    orgs, scope = _scope(request, Perm.VIEW_MEETINGS)
    year = _year(request)
    subtree = policy.organizations_under(request.user, Perm.VIEW_MEETINGS, scope)
    after = request.GET.get("after", "")
    page = subtree.filter(path__gt=after) if after else subtree
    # Keyset by path: the page's paths (one more to know whether a next page exists).
    paths = list(page.order_by("path").values_list("path", flat=True)[: MATRIX_PAGE + 1])
    last = paths[min(len(paths), MATRIX_PAGE) - 1] if paths else ""
    page = page.filter(path__lte=last)
    today = timezone.localdate()
    can_record = policy.has_perm(request.user, Perm.RECORD_MEETINGS)
    table = _decorate(selectors.compliance(page, year=year, today=today), year=year, can_record=can_record)
    held, required = table.rate()
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "orglife/matrix.html", {
        "rate": f"{held * 100 / required:.1f}%" if required else "—",
        "table": table, "scope": scope, "year": year, "organizations": _scope_choices(orgs, scope),
        "years": range(today.year, 2017, -1), "months": range(1, 13), "held": held, "required": required,
        "next_url": f"?{query.urlencode()}&after={last}" if len(paths) > MATRIX_PAGE else "",
        "rules": orglife_rules.requirements(min(today, dt.date(year, 12, 31))),
        "can_record": can_record,
    })


@login_required
def calendar(request, org_pk):
    """One organisation's year: its (and its cells') meetings by month, and what each month required."""
    org = policy.get_organization(request.user, org_pk, Perm.VIEW_MEETINGS)
    policy.require_perm(request.user, Perm.VIEW_MEETINGS)
    year = _year(request)
    today = timezone.localdate()
    subtree = policy.organizations_under(request.user, Perm.VIEW_MEETINGS, org)
    table = _decorate(selectors.compliance(subtree, year=year, today=today))
    meetings = selectors.meeting_rows(selectors.meeting_list(request.user, organization=org, year=year)
                                      ).order_by("starts_at")
    by_month = {m: [] for m in range(1, 13)}
    for meeting in meetings:
        by_month[timezone.localtime(meeting.starts_at).month].append(meeting)
    required = {m: [(row.org, c) for row in table.rows for c in dict(row.months)[m]] for m in range(1, 13)}
    return render(request, "orglife/calendar.html", {
        "org": org, "year": year, "years": range(today.year, 2017, -1),
        "months": [(m, by_month[m], required[m]) for m in range(1, 13)],
        "can_record": policy.can_on_organization(request.user, org, Perm.RECORD_MEETINGS),
    })


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
    orgs, scope = _scope(request, Perm.VIEW_MEETINGS)
    year = _year(request)
    can_manage = policy.has_perm(request.user, Perm.MANAGE_CONTACT_POINTS)
    form = None
    if can_manage:
        branches = policy.organizations(request.user, Perm.MANAGE_CONTACT_POINTS).filter(
            kind=Organization.Kind.BRANCH, dissolved_on__isnull=True).order_by("path")
        form = ContactPointForm(request.POST or None, leaders=selectors.nameable_leaders(request.user, Perm.MANAGE_CONTACT_POINTS),
                                branches=branches, initial={"year": year})
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                services.contact_point_set(by=Actor.from_request(request), leader=d["leader"],
                                           organization=d["organization"], year=d["year"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "已设置党建联系点。")
                return redirect(reverse("orglife:contact_points") + f"?year={d['year']}")
    points = selectors.contact_points(policy.records_under(request.user, ContactPoint, Perm.VIEW_MEETINGS, scope),
                                      year=year)
    return render(request, "orglife/contact_points.html", {
        "points": points, "year": year, "years": range(timezone.localdate().year, 2017, -1), "form": form,
    })


