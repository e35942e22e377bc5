"""The page matrix: every route of the URLconf (the API has its own tests) × every persona, a grant
without descendants and an anonymous visitor × GET and POST. A route added without a row here fails
`test_every_route_is_in_the_matrix`.

Codes: 2 = 200 (the page, or a form re-shown with its errors), 3 = 302 (done and redirected; for the
anonymous column, sent to log in), 4 = 404 (outside the role's permissions or scope: we never confirm
that a record exists to someone who may not see it). POSTs are empty: a form answers with its errors
and changes nothing; an action that needs no input (log out, enable/disable, revoke) is done.

The records named in the URLs belong to branch A (第一党支部) unless the route says otherwise; the
narrow persona holds party_office on 第一党总支 *without* descendants, so branch A is outside it."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from dangjian.access.models import RoleAssignment
from dangjian.access.roles import Role
from dangjian.audit.services import Actor
from dangjian.organizations.models import Appointment
from dangjian.orglife import services as orglife_services
from dangjian.orglife.models import MeetingAttachment, MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.factories import make_user

PERSONAS = ["party_office", "branch_secretary", "sibling_secretary", "leader", "inspection_office", "unit_liaison",
            "discipline", "member", "sys_admin", "security_admin", "audit_admin", "no_role", "narrow", "anonymous"]


@dataclass
class Records:
    meeting: object
    attachment: object
    appointment: object
    assignment: object
    user: object


def records(bureau) -> Records:
    when = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=3), dt.time(9),
                               tzinfo=timezone.get_current_timezone())
    meeting = orglife_services.meeting_record(by=Actor.system("test"), data=MeetingInput(
        organization=bureau.branch_a, kind=MeetingKind.THEME_DAY, starts_at=when, topics="主题党日"))
    attachment = MeetingAttachment.objects.create(meeting=meeting, name="签到表.pdf",
                                                  file=ContentFile(b"%PDF-1.4", name="sign.pdf"))
    appointment = Appointment.objects.get(organization=bureau.branch_a, end__isnull=True)
    assignment = RoleAssignment.objects.get(user=bureau.users["sibling_secretary"])
    return Records(meeting, attachment, appointment, assignment, bureau.users["no_role"])


def _r(name, *args):
    return lambda b, r: reverse(name, args=[a(b, r) if callable(a) else a for a in args])


def _member_a(b, r):
    return b.member_a.pk


ROUTES = {
    "home": _r("home"),
    "todos": _r("todos"),
    "access:login": _r("access:login"),
    "access:logout": _r("access:logout"),
    "access:users": _r("access:users"),
    "access:user_toggle": _r("access:user_toggle", lambda b, r: r.user.pk),
    "access:user_password_reset": _r("access:user_password_reset", lambda b, r: r.user.pk),
    "access:password_change": _r("access:password_change"),
    "access:otp": _r("access:otp"),
    "access:otp_verify": _r("access:otp_verify"),
    "access:otp_enrol": _r("access:otp_enrol"),
    "access:otp_devices": _r("access:otp_devices"),
    "access:otp_reset": _r("access:otp_reset", lambda b, r: b.users["sys_admin"].pk),
    "access:bindings": _r("access:bindings"),
    "access:binding_remove": _r("access:binding_remove", lambda b, r: b.users["member"].pk),
    "access:roles": _r("access:roles"),
    "access:role_revoke": _r("access:role_revoke", lambda b, r: r.assignment.pk),
    "organizations:tree": _r("organizations:tree"),
    "organizations:pick": lambda b, r: reverse("organizations:pick") + "?q=支部",
    "organizations:create": _r("organizations:create"),
    "organizations:detail": _r("organizations:detail", lambda b, r: b.branch_a.pk),
    "organizations:tree_children": _r("organizations:tree_children", lambda b, r: b.branch_a.pk),
    "organizations:restructure": _r("organizations:restructure", lambda b, r: b.branch_a.pk),
    "organizations:renew_term": _r("organizations:renew_term", lambda b, r: b.branch_a.pk),
    "organizations:extend_term": _r("organizations:extend_term", lambda b, r: b.branch_a.pk),
    "organizations:appoint": _r("organizations:appoint", lambda b, r: b.branch_a.pk),
    "organizations:dissolve": _r("organizations:dissolve", lambda b, r: b.branch_a.pk),
    "organizations:appointment_end": _r("organizations:appointment_end", lambda b, r: b.branch_a.pk,
                                        lambda b, r: r.appointment.pk),
    "organizations:units": _r("organizations:units"),
    "organizations:unit_create": _r("organizations:unit_create"),
    "organizations:members": _r("organizations:members"),
    "organizations:member_create": _r("organizations:member_create"),
    "organizations:member_export": _r("organizations:member_export"),
    "organizations:member_import": _r("organizations:member_import"),
    "organizations:member_detail": _r("organizations:member_detail", _member_a),
    "organizations:member_edit": _r("organizations:member_edit", _member_a),
    "organizations:member_transfer": _r("organizations:member_transfer", _member_a),
    "organizations:member_confirm_full": _r("organizations:member_confirm_full", _member_a),
    "organizations:member_probation": _r("organizations:member_probation", _member_a),
    "organizations:member_leave": _r("organizations:member_leave", _member_a),
    "organizations:member_reveal": _r("organizations:member_reveal", _member_a),
    "orglife:meetings": _r("orglife:meetings"),
    "orglife:meeting_create": _r("orglife:meeting_create"),
    "orglife:meeting_expected": _r("orglife:meeting_expected"),
    "orglife:meeting_detail": _r("orglife:meeting_detail", lambda b, r: r.meeting.pk),
    "orglife:meeting_edit": _r("orglife:meeting_edit", lambda b, r: r.meeting.pk),
    "orglife:meeting_delete": _r("orglife:meeting_delete", lambda b, r: r.meeting.pk),
    "orglife:meeting_minutes": _r("orglife:meeting_minutes", lambda b, r: r.meeting.pk),
    "orglife:attachment_upload": _r("orglife:attachment_upload", lambda b, r: r.meeting.pk),
    "orglife:attachment_download": _r("orglife:attachment_download", lambda b, r: r.meeting.pk,
                                      lambda b, r: r.attachment.pk),
    "orglife:ledger": _r("orglife:ledger", lambda b, r: b.branch_a.pk),
    "orglife:matrix": _r("orglife:matrix"),
    "orglife:calendar": _r("orglife:calendar", lambda b, r: b.branch_a.pk),
    "orglife:heart_talk_create": _r("orglife:heart_talk_create", lambda b, r: b.branch_a.pk),
    "orglife:decisions": _r("orglife:decisions"),
    "orglife:contact_points": _r("orglife:contact_points"),
    "audit:search": _r("audit:search"),
    "reports:metrics": _r("reports:metrics"),
    "reports:metric_detail": _r("reports:metric_detail", "organizations.full_members"),
    "reports:rules": _r("reports:rules"),
}

# Columns: party_office, branch_secretary, sibling_secretary, leader, inspection_office, unit_liaison,
# discipline, member, sys_admin, security_admin, audit_admin, no_role, narrow, anonymous.
# (5 = 405: the route takes the other method only; B = 400: the reveal fragment asks for its reason.)
MATRIX = {
    #                       GET               POST
    "home": ("22222222222223", "22222222222223"),
    "todos": ("22222222222223", "22222222222223"),  # each user's own reminders, from the same providers
    "reports:rules": ("22222222222223", "22222222222223"),  # rule data: the same for everyone signed in
    "access:login": ("33333333333332", "33333333333332"),
    "access:logout": ("55555555555555", "33333333333333"),
    "access:users": ("44444444244443", "44444444244443"),
    "access:user_toggle": ("55555555555553", "44444444344443"),
    "access:user_password_reset": ("55555555555553", "44444444244443"),
    "access:password_change": ("22222222222223", "22222222222223"),
    # The second factor's pages: only for accounts that need it (the three admins, passed here:
    # verify and enrol send them on); the reset (of sys_admin's app) by the security admin only.
    "access:otp": ("44444444222443", "44444444222443"),
    "access:otp_verify": ("44444444333443", "44444444333443"),
    "access:otp_enrol": ("44444444333443", "44444444333443"),
    "access:otp_devices": ("44444444424443", "44444444424443"),
    "access:otp_reset": ("55555555555553", "44444444434443"),
    "access:bindings": ("44444444424443", "44444444424443"),
    "access:binding_remove": ("55555555555553", "44444444434443"),
    "access:roles": ("44444444424443", "44444444424443"),
    "access:role_revoke": ("55555555555553", "44444444434443"),
    "organizations:tree": ("22222424444423", "22222424444423"),
    "organizations:pick": ("22222424444423", "22222424444423"),  # matches within the reader's own scope
    "organizations:create": ("24444444444423", "24444444444423"),
    "organizations:detail": ("22422424444443", "22422424444443"),
    "organizations:tree_children": ("22422424444443", "22422424444443"),  # the detail's readers, by VIEW_ORGANIZATIONS
    "organizations:restructure": ("24444444444443", "24444444444443"),
    "organizations:renew_term": ("24444444444443", "24444444444443"),
    "organizations:extend_term": ("24444444444443", "24444444444443"),
    "organizations:appoint": ("24444444444443", "24444444444443"),
    "organizations:dissolve": ("24444444444443", "24444444444443"),
    "organizations:appointment_end": ("24444444444443", "24444444444443"),
    "organizations:units": ("22222224444423", "22222224444423"),
    "organizations:unit_create": ("24444444444423", "24444444444423"),
    "organizations:members": ("22224424444423", "22224424444423"),
    "organizations:member_create": ("22244444444423", "22244444444423"),
    "organizations:member_export": ("22244444444423", "22244444444423"),
    "organizations:member_import": ("24444444444423", "24444444444423"),
    "organizations:member_detail": ("22424422444443", "22424422444443"),
    "organizations:member_edit": ("22444444444443", "22444444444443"),
    "organizations:member_transfer": ("22444444444443", "22444444444443"),
    "organizations:member_confirm_full": ("22444444444443", "22444444444443"),
    "organizations:member_probation": ("22444444444443", "22444444444443"),
    "organizations:member_leave": ("22444444444443", "22444444444443"),
    "organizations:member_reveal": ("55555555555553", "B444444B444443"),
    "orglife:meetings": ("22222424444423", "22222424444423"),
    "orglife:meeting_create": ("22244444444423", "22244444444423"),
    "orglife:meeting_expected": ("22244444444423", "22244444444423"),
    "orglife:meeting_detail": ("22422424444443", "22422424444443"),
    "orglife:meeting_edit": ("22444444444443", "22444444444443"),
    "orglife:meeting_delete": ("22444444444443", "22444444444443"),
    "orglife:meeting_minutes": ("22422424444443", "22422424444443"),
    "orglife:attachment_upload": ("33444444444443", "33444444444443"),
    "orglife:attachment_download": ("22422424444443", "22422424444443"),
    "orglife:ledger": ("22422424444443", "22422424444443"),
    "orglife:matrix": ("22222424444423", "22222424444423"),
    "orglife:calendar": ("22422424444443", "22422424444443"),
    "orglife:heart_talk_create": ("22444444444443", "22444444444443"),
    "orglife:decisions": ("24422424444423", "24422424444423"),
    "orglife:contact_points": ("22222424444423", "22222424444423"),
    "audit:search": ("44444444442443", "44444444442443"),
    "reports:metrics": ("22222444444423", "22222444444423"),
    "reports:metric_detail": ("22224444444423", "22224444444423"),
}
CODES = {200: "2", 302: "3", 400: "B", 403: "F", 404: "4", 405: "5"}


def _page_routes(patterns=None, namespace=None):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if (p.namespace or namespace) != "api":
                yield from _page_routes(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield f"{namespace}:{p.name}" if namespace else p.name


def test_every_route_is_in_the_matrix():
    routes = set(_page_routes())
    assert None not in routes, "every page route needs a name"
    assert routes == set(ROUTES) == set(MATRIX), (routes ^ set(MATRIX)) | (routes ^ set(ROUTES))


@pytest.mark.parametrize("route", list(MATRIX))
def test_route_matrix(bureau, settings, tmp_path, route):
    settings.MEDIA_ROOT = str(tmp_path)
    bureau.users["narrow"] = make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    url = ROUTES[route](bureau, records(bureau))
    clients = {}
    for persona in PERSONAS:
        clients[persona] = Client()
        if persona != "anonymous":
            clients[persona].force_login(bureau.users[persona])
    wrong = []
    for method, expected in zip(("GET", "POST"), MATRIX[route], strict=True):
        for persona, code in zip(PERSONAS, expected, strict=True):
            with transaction.atomic():  # each request's writes are undone before the next
                response = clients[persona].get(url) if method == "GET" else clients[persona].post(url, {})
                transaction.set_rollback(True)
            got = CODES.get(response.status_code, str(response.status_code))
            if got != code:
                wrong.append(f"{persona} {method} {url}: expected {code}, got {got}")
    assert not wrong, "\n".join(wrong)
