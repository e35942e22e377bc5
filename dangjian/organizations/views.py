"""Pages for organisations, units and members. Thin views: parse input, make one domain call
(a selector or a service), render. Every object is fetched through the access policy."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.access import policy
from dangjian.access.guards import get_for_change
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor, audit_export
from dangjian.core import datacache, uploads
from dangjian.core.cursors import BadCursor, decode_cursor, page_links
from dangjian.core.downloads import file_response
from dangjian.core.forms import form_page, org_picker_html, parse_id
from dangjian.organizations import selectors, services
from dangjian.organizations.forms import (
    AppointmentEndForm,
    AppointmentForm,
    ConfirmFullForm,
    DissolveForm,
    ExtendTermForm,
    LeaveForm,
    MemberFilterForm,
    MemberForm,
    OrganizationCreateForm,
    ProbationForm,
    RenewTermForm,
    RestructureForm,
    RevealForm,
    TransferForm,
    UnitForm,
)
from dangjian.organizations.models import Member, Organization

PAGE_SIZE = 50


def _member_holding(user, perm=Perm.MANAGE_MEMBERS):
    return policy.organizations(user, perm).filter(
        kind__in=services.MEMBER_HOLDING_KINDS, dissolved_on__isnull=True).order_by("path")


# ---------------------------------------------------------------- organisations

# The tree page shows the first levels of the user's scope that fit in TREE_BUDGET rows (a
# bureau's ~45 organisations: the whole tree); deeper nodes are opened on demand (htmx), a node's
# children TREE_BUDGET at a time. A city's 3,000 organisations were a 1.3 MB page (issue 11).
TREE_BUDGET = 100
TREE_SEARCH_LIMIT = 50


def _tree_scope(request):
    policy.require_perm(request.user, Perm.VIEW_ORGANIZATIONS)
    show_dissolved = request.GET.get("dissolved") == "1"
    visible = policy.organizations(request.user)
    if not show_dissolved:
        visible = visible.filter(dissolved_on__isnull=True)
    return visible, show_dissolved


def _first_levels(visible) -> tuple[int | None, bool]:
    """The deepest level down to which the user's organisations fit in TREE_BUDGET rows (at least
    the top level), and whether anything lies below it. One query: the count at each depth."""
    by_depth = sorted(visible.order_by().values_list("depth").annotate(n=Count("pk")))
    shown, last = 0, None
    for depth, n in by_depth:
        if last is not None and shown + n > TREE_BUDGET:
            return last, True
        shown, last = shown + n, depth
    return last, False


@login_required
def tree(request):
    visible, show_dissolved = _tree_scope(request)
    today = timezone.localdate()
    query = request.GET.get("q", "").strip()[:50]
    closed_below = None
    if query:
        found = visible.filter(name__icontains=query)
        rows = selectors.organization_rows(request.user, today=today, include_dissolved=show_dissolved,
                                           among=found, limit=TREE_SEARCH_LIMIT)
    else:
        depth, deeper = _first_levels(visible)
        rows = selectors.organization_rows(request.user, today=today, include_dissolved=show_dissolved,
                                           among=visible.filter(depth__lte=depth or 0))
        closed_below = depth if deeper else None
    return render(request, "organizations/tree.html", {
        "rows": rows, "show_dissolved": show_dissolved, "q": query, "closed_below": closed_below,
        "search_limit": TREE_SEARCH_LIMIT,
        "can_create": policy.has_perm(request.user, Perm.MANAGE_ORGANIZATIONS),
    })


@login_required
def tree_children(request, pk):
    """A node's children (TREE_BUDGET at a time, keyset by path: ?after=): table rows for the tree
    page (htmx), or on their own page when asked without JavaScript."""
    visible, show_dissolved = _tree_scope(request)
    org = policy.get_organization(request.user, pk, Perm.VIEW_ORGANIZATIONS)
    children = visible.filter(path__startswith=org.path, depth=org.depth + 1)
    after = request.GET.get("after", "")
    if after:
        children = children.filter(path__gt=after[:255])
    rows = selectors.organization_rows(request.user, today=timezone.localdate(), include_dissolved=show_dissolved,
                                       among=children, limit=TREE_BUDGET + 1)
    more = rows[TREE_BUDGET - 1].org.path if len(rows) > TREE_BUDGET else ""
    context = {"rows": rows[:TREE_BUDGET], "parent": org, "more_after": more, "closed_below": org.depth + 1,
               "show_dissolved": show_dissolved}
    template = "organizations/_tree_rows.html" if request.htmx else "organizations/tree.html"
    return render(request, template, context)


PICK_LIMIT = 20


@login_required
def organization_pick(request):
    """htmx fragment for a searchable organisation picker (core.forms.TreePicker): <option>s of
    the organisations whose name contains ?q=, at most PICK_LIMIT, among those on which the reader
    holds ?perm= (kinds and liveness as the form asked). Labels name the top-level organisation
    too: a city has many a 第一党支部. Whatever is picked, the form validates it against its own
    queryset. Bad parameters: no options, never an error."""
    perm = request.GET.get("perm") or Perm.VIEW_ORGANIZATIONS
    if perm not in Perm.values:
        raise Http404
    policy.require_perm(request.user, perm)
    found = policy.organizations(request.user, perm)
    kinds = [k for k in request.GET.get("kinds", "").split(",") if k]
    if kinds:
        found = found.filter(kind__in=[k for k in kinds if k in Organization.Kind.values])
    if request.GET.get("live") == "1":
        found = found.filter(dissolved_on__isnull=True)
    query = request.GET.get("q", "").strip()[:50]
    orgs = list(found.filter(name__icontains=query).order_by("path")[:PICK_LIMIT + 1]) if query else []
    step = Organization.steplen
    tops = {path: (name, kind) for path, name, kind in Organization.objects.filter(
        path__in={o.path[:n * step] for o in orgs[:PICK_LIMIT] for n in (1, 2)}).values_list("path", "name", "kind")}

    def bureau(org):
        """The bureau an organisation belongs to: its root, or under a city root the level below."""
        level = 2 if tops.get(org.path[:step], ("", ""))[1] == Organization.Kind.WORKING_COMMITTEE else 1
        return tops.get(org.path[:level * step], (None,))[0] if org.depth > level else None

    return render(request, "organizations/_pick_options.html", {
        "orgs": [(o, bureau(o)) for o in orgs[:PICK_LIMIT]],
        "more": len(orgs) > PICK_LIMIT, "query": query, "blank": request.GET.get("blank") == "1",
    })


@login_required
def detail(request, pk):
    org = policy.get_organization(request.user, pk)
    today = timezone.localdate()
    row = next(iter(selectors.organization_rows(request.user, today=today, include_dissolved=True,
                                                 among=Organization.objects.filter(pk=org.pk))), None)
    return render(request, "organizations/detail.html", {
        "org": org, "row": row,
        "ancestors": Organization.objects.get_ancestors(org),
        "children": policy.organizations(request.user).filter(path__startswith=org.path, depth=org.depth + 1)
                    .order_by("code"),
        "appointments": org.appointments.select_related("member__organization", "organization").order_by("end", "role", "start"),
        "events": org.events.order_by("-on", "-id"),
        "units": org.units.order_by("code"),
        "can_manage": policy.can_on_organization(request.user, org, Perm.MANAGE_ORGANIZATIONS),
        "today": today,
    })


def _manage_form(request, pk, form_class, service, template_title, **form_kwargs):
    org = policy.get_organization(request.user, pk, Perm.MANAGE_ORGANIZATIONS)
    form = form_class(request.POST or None, initial={"version": org.version},
                      **{k: v(org) for k, v in form_kwargs.items()})
    return form_page(request, form, lambda d: service(org, d, Actor.from_request(request)), done=org,
                     title=f"{org.name}：{template_title}", back=org.get_absolute_url(),
                     success=f"已保存：{org.name}{template_title}。")


@login_required
def create(request):
    policy.require_perm(request.user, Perm.MANAGE_ORGANIZATIONS)
    parents = policy.organizations(request.user, Perm.MANAGE_ORGANIZATIONS).filter(
        dissolved_on__isnull=True).order_by("path")
    form = OrganizationCreateForm(request.POST or None, organizations=parents,
                                  initial={"parent": request.GET.get("parent")})
    return form_page(request, form, lambda d: services.organization_create(
        by=Actor.from_request(request), parent=d["parent"], code=d["code"], name=d["name"], kind=d["kind"],
        founded_on=d["founded_on"], note=d["note"], document_number=d["document_number"]),
        title="成立党组织", back=reverse("organizations:tree"), success=lambda org: f"已成立：{org.name}。")


@login_required
def restructure(request, pk):
    def run(org, d, by):
        services.organization_restructure(by=by, organization=org, on=d["on"], note=d["note"], name=d["name"] or None,
                                          parent=d["parent"], document_number=d["document_number"],
                                          expected_version=d["version"])
    return _manage_form(request, pk, RestructureForm, run, "调整",
                        organizations=lambda org: policy.organizations(request.user, Perm.MANAGE_ORGANIZATIONS)
                        .filter(dissolved_on__isnull=True).exclude(path__startswith=org.path).order_by("path"))


@login_required
def renew_term(request, pk):
    def run(org, d, by):
        services.organization_renew_term(by=by, organization=org, on=d["on"], note=d["note"],
                                         voters_expected=d["voters_expected"], voters_present=d["voters_present"],
                                         results=d["results"], approved_by=d["approved_by"],
                                         document_number=d["document_number"], expected_version=d["version"])
    return _manage_form(request, pk, RenewTermForm, run, "换届")


@login_required
def extend_term(request, pk):
    def run(org, d, by):
        services.organization_extend_term(by=by, organization=org, approved_on=d["approved_on"],
                                          approved_by=d["approved_by"], document_number=d["document_number"],
                                          extended_to=d["extended_to"], note=d["note"],
                                          expected_version=d["version"])
    return _manage_form(request, pk, ExtendTermForm, run, "延期换届")


@login_required
def dissolve(request, pk):
    def run(org, d, by):
        services.organization_dissolve(by=by, organization=org, on=d["on"], note=d["note"])
    return _manage_form(request, pk, DissolveForm, run, "撤销", organization=lambda org: org)


@login_required
def appoint(request, pk):
    def run(org, d, by):
        services.appointment_create(by=by, organization=org, member=d["member"], role=d["role"], start=d["start"])
    return _manage_form(request, pk, AppointmentForm, run, "任职", organization=lambda org: org,
                        members=lambda org: policy.members(request.user).filter(status=Member.Status.ACTIVE)
                        .select_related("organization").order_by("name"))


@login_required
def appointment_end(request, pk, appointment_pk):
    org = policy.get_organization(request.user, pk, Perm.MANAGE_ORGANIZATIONS)
    appointment = get_object_or_404(org.appointments.select_related("member"), pk=appointment_pk, end__isnull=True)
    form = AppointmentEndForm(request.POST or None)
    post = f"{appointment.get_role_display()}职务"
    return form_page(request, form, lambda d: services.appointment_end(
        by=Actor.from_request(request), appointment=appointment, on=d["end"]), done=org,
        title=f"免职：{org.name}{appointment.get_role_display()} {appointment.member.name}",
        back=org.get_absolute_url(), success=f"已免去{appointment.member.name}的{post}。")


# ---------------------------------------------------------------- units

@login_required
def units(request):
    policy.require_perm(request.user, Perm.VIEW_UNITS)
    rows = policy.units(request.user).select_related("organization").order_by("path")
    return render(request, "organizations/units.html", {
        "units": rows, "can_create": policy.has_perm(request.user, Perm.MANAGE_UNITS)})


@login_required
def unit_create(request):
    policy.require_perm(request.user, Perm.MANAGE_UNITS)
    form = UnitForm(request.POST or None, units=policy.units(request.user, Perm.MANAGE_UNITS).order_by("path"),
                    organizations=policy.organizations(request.user, Perm.MANAGE_UNITS)
                    .filter(dissolved_on__isnull=True).order_by("path"))
    def create_unit(d):
        # A new top-level unit (another bureau's tree) only for those granted a top-level organisation.
        if d["parent"] is None and not policy.organizations(request.user, Perm.MANAGE_UNITS).filter(depth=1).exists():
            raise ValidationError({"parent": "请选择上级单位。"})
        return services.unit_create(by=Actor.from_request(request), parent=d["parent"], code=d["code"],
                                    name=d["name"], kind=d["kind"], organization=d["organization"])

    return form_page(request, form, create_unit, done="organizations:units", title="添加单位",
        back=reverse("organizations:units"), success=lambda unit: f"已添加单位：{unit.name}。")


# ---------------------------------------------------------------- members

@login_required
def member_list(request):
    policy.require_perm(request.user, Perm.VIEW_MEMBERS)
    filters = MemberFilterForm(request.GET)
    filters.is_valid()
    f = filters.cleaned_data
    scope = None
    if f.get("organization"):
        scope = policy.organizations(request.user).filter(pk=f["organization"]).first()
    status = (f.get("status") or "") if "status" in request.GET else Member.Status.ACTIVE  # 在册 unless asked
    members = selectors.member_queryset(request.user, q=(f.get("q") or "").strip(), organization=scope,
                                        category=f.get("category") or "", status=status)
    try:
        after = decode_cursor(f.get("after"), selectors.MEMBER_CURSOR)
    except BadCursor:
        after = None  # a damaged cursor restarts at the first page
    def prepare() -> dict:
        rows, next_position = selectors.keyset_page(members, after=after, size=PAGE_SIZE)
        selectors.label_organizations([m.organization for m in rows])
        for m in rows:  # decided from the cached grants: no query per row
            m.numbers = selectors.member_numbers(request.user, m)
        return {"rows": render_to_string("organizations/_member_rows.html", {"members": rows}),
                "next": next_position, "total": selectors.member_total(members),
                "picker": org_picker_html("organization", policy.organizations(request.user).filter(
                    dissolved_on__isnull=True).order_by("path"), scope, empty="全部党组织")}

    # A page is kept until the next write (core.datacache), per reader, filters and position: the
    # list is opened and paged far more often than members change. A search by name is typed once:
    # computed, not kept. The rows show numbers, so a shared cache holds them sealed (personal).
    if f.get("q"):
        page = prepare()
    else:
        page = datacache.remember(
            f"members:{request.user.pk}:{getattr(scope, 'pk', '')}:{f.get('category') or ''}:{status}:{after}",
            prepare, personal=True)
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "organizations/members.html", {
        "rows": page["rows"], "picker": page["picker"], "total": page["total"],
        "filters": filters, "scope": scope, "status": status,
        **page_links(request.GET, page["next"], at_start=after is None),
        "can_create": policy.has_perm(request.user, Perm.MANAGE_MEMBERS),
        "can_export": policy.has_perm(request.user, Perm.EXPORT_MEMBERS),
        "can_import": policy.has_perm(request.user, Perm.IMPORT_WORKBOOK),
        "export_query": query.urlencode(),
    })


@login_required
def member_detail(request, pk):
    member = policy.get_member(request.user, pk)
    return render(request, "organizations/member_detail.html", {
        "member": member,
        "numbers": selectors.member_numbers(request.user, member),
        "can_reveal": policy.can_on_member(request.user, member, Perm.UNMASK_ID),
        "can_manage": policy.can_on_member(request.user, member, Perm.MANAGE_MEMBERS),
        "history": selectors.member_history(request.user, member),
        "reveal_form": RevealForm(),
    })


@login_required
@require_POST
def member_reveal(request, pk):
    # Pages answer 404 whether the member is out of view or merely not the reader's to unmask.
    member = get_for_change(request.user, policy.get_member, pk, Perm.UNMASK_ID, can=policy.can_on_member, hide=True)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return HttpResponse('<span class="text-danger">请填写查看事由。</span>', status=400)
    number = services.member_reveal_id_number(by=Actor.from_request(request), member=member,
                                              reason=form.cleaned_data["reason"])
    # The same audited read shows the full birth date, which the page gives others as a year only
    # (it is digits 7-14 of the number just revealed).
    return HttpResponse(f'<code>{number}</code> <span class="text-muted small">（已留痕）</span>'
                        f'<span id="birth-date" hx-swap-oob="innerHTML">{member.birth_date:%Y-%m-%d}</span>')


@login_required
def member_create(request):
    policy.require_perm(request.user, Perm.MANAGE_MEMBERS)
    form = MemberForm(request.POST or None, organizations=_member_holding(request.user),
                      units=policy.units(request.user).order_by("path"),
                      initial={"organization": request.GET.get("organization")})
    return form_page(request, form, lambda d: services.member_create(by=Actor.from_request(request), data=d),
                     title="登记党员", back=reverse("organizations:members"),
                     success=lambda member: f"已登记党员：{member.name}。")


@login_required
def member_edit(request, pk):
    member = policy.get_member(request.user, pk, Perm.MANAGE_MEMBERS)
    initial = {f: getattr(member, f) for f in services.MEMBER_FIELDS if f not in ("organization", "unit", "status")}
    initial |= {"unit": member.unit_id, "version": member.version}
    form = MemberForm(request.POST or None, initial=initial, organizations=_member_holding(request.user),
                      units=policy.units(request.user).order_by("path"), instance=member)
    return form_page(request, form, lambda d: services.member_update(by=Actor.from_request(request), member=member,
                                                                      data=d, expected_version=d.get("version")),
                     title=f"修改党员信息：{member.name}", back=member.get_absolute_url(),
                     success=f"已保存：{member.name}。")


@login_required
def member_transfer(request, pk):
    member = policy.get_member(request.user, pk, Perm.MANAGE_MEMBERS)
    # A secretary may send a member to any organisation of the bureau they can see; receiving is
    # recorded in the same step (one record, not two).
    targets = policy.organizations(request.user).filter(kind__in=services.MEMBER_HOLDING_KINDS,
                                                        dissolved_on__isnull=True).order_by("path")
    form = TransferForm(request.POST or None, organizations=targets)
    return form_page(request, form, lambda d: services.member_transfer(
        by=Actor.from_request(request), member=member, to=d["to"], on=d["on"], note=d["note"]),
        title=f"组织关系转接：{member.name}", back=member.get_absolute_url(),
        success=f"已办理组织关系转接：{member.name}。")


@login_required
def member_confirm_full(request, pk):
    member = policy.get_member(request.user, pk, Perm.MANAGE_MEMBERS)
    return form_page(request, ConfirmFullForm(request.POST or None), lambda d: services.member_confirm_full(
        by=Actor.from_request(request), member=member, on=d["on"]), title=f"预备党员转正：{member.name}",
        back=member.get_absolute_url(), success=f"已办理转正：{member.name}。")


@login_required
def member_probation(request, pk):
    member = policy.get_member(request.user, pk, Perm.MANAGE_MEMBERS)
    return form_page(request, ProbationForm(request.POST or None), lambda d: services.member_probation_record(
        by=Actor.from_request(request), member=member, start=d["start"], end=d["end"],
        document_number=d["document_number"], note=d["note"]).member, title=f"留党察看：{member.name}",
        back=member.get_absolute_url(), success=f"已记录留党察看：{member.name}。")


@login_required
def member_leave(request, pk):
    member = policy.get_member(request.user, pk, Perm.MANAGE_MEMBERS)
    return form_page(request, LeaveForm(request.POST or None), lambda d: services.member_leave(
        by=Actor.from_request(request), member=member, status=d["status"], on=d["on"], note=d["note"]),
        title=f"离开花名册：{member.name}", back=member.get_absolute_url(),
        success=f"已登记：{member.name}不再在册，记录保留。")


@login_required
def member_export(request):
    policy.require_perm(request.user, Perm.EXPORT_MEMBERS)
    from dangjian.organizations.workbook import export_roster

    members = policy.members(request.user, Perm.EXPORT_MEMBERS).filter(status=Member.Status.ACTIVE)
    scope = None
    if request.GET.get("organization"):
        org_id = parse_id(request.GET["organization"])
        scope = policy.organizations(request.user, Perm.EXPORT_MEMBERS).filter(pk=org_id).first() if org_id else None
        if scope is None:
            raise Http404
        members = members.filter(organization__path__startswith=scope.path)
    members = members.order_by("organization__path", "name_key", "id")
    content = export_roster(members, reveal=False)
    audit_export(by=Actor.from_request(request), what="roster", obj=scope, count=members.count(), masked=True)
    # e.g. 城东分局第一党支部花名册20261202.xlsx (RFC 6266 filename*, as the 台账 and 会议记录 are named)
    top = scope or _export_root(request.user)
    selectors.label_organizations([top])  # a cell is named with its branch: 第一党支部 · 第一党小组
    return file_response(content, content_type=uploads.KINDS["xlsx"].content_type,
                         filename=f"{top.display_name if top else '党员'}花名册{timezone.localdate():%Y%m%d}.xlsx")


def _export_root(user) -> Organization | None:
    """The organisation at the top of the user's export scope, whose name the whole roster file
    takes; None when the scope has several tops (e.g. two sibling branches). Two queries."""
    scope = policy.organizations(user, Perm.EXPORT_MEMBERS)
    top = scope.order_by("path").only("name", "path").first()  # in path order an ancestor comes first
    if top is None or scope.exclude(path__startswith=top.path).exists():
        return None
    return top


def _refused_upload(upload) -> str:
    """Why a workbook upload cannot be read (size, extension, content), or ""."""
    try:
        uploads.check_upload(upload, allowed=uploads.WORKBOOK_EXTENSIONS)
    except ValidationError as exc:
        return "；".join(exc.messages)
    return ""


@login_required
def member_import(request):
    """Upload → a preview of what the import would create and what it would not take (a rehearsal,
    rolled back) → 确认导入 imports it, checked again; any problem at either step writes nothing."""
    policy.require_perm(request.user, Perm.IMPORT_WORKBOOK)
    from dangjian.organizations.workbook import import_cancel, import_confirm, import_preview

    result = pending = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "cancel":
            import_cancel(pending_id=request.POST.get("pending"), user=request.user)
            messages.info(request, "已取消，未导入任何数据。")
            return redirect("organizations:member_import")
        if action == "confirm":
            result = import_confirm(pending_id=request.POST.get("pending"), by=Actor.from_request(request),
                                    user=request.user)
            if result.ok:
                counts = "，".join(f"{k} {v} 条" for k, v in result.created.items())
                messages.success(request, f"导入成功：{counts}。")
                for note in result.notes:
                    messages.warning(request, note)
                return redirect("organizations:members")
        else:
            upload = request.FILES.get("file")
            refused = "请选择一个 .xlsx 格式的工作簿。" if upload is None else _refused_upload(upload)
            if refused:
                messages.error(request, refused)
            else:
                # Every row is checked against this user's grants; nothing is kept if any is refused.
                result, pending = import_preview(upload, by=Actor.from_request(request), user=request.user,
                                                 file_name=upload.name)
    return render(request, "organizations/import.html", {"result": result, "pending": pending,
                                                         "pending_minutes": settings.PENDING_IMPORT_MINUTES})

