"""Every service is audited, proven by enumeration.

The public functions of every `dangjian/*/services.py` are found by importing the modules (not by
reading their text). Each must have a case below that calls it with valid input from the bureau
personas and names the one audit action it must write and the object that entry must name, or be
exempted with a reason because it writes nothing. A new service without a case fails
`test_every_public_service_has_an_audit_case`."""

import copy
import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import dangjian
from dangjian.access.models import RoleAssignment
from dangjian.access.roles import Role
from dangjian.audit import services as audit
from dangjian.audit.models import AuditEntry
from dangjian.organizations import services as org
from dangjian.organizations.models import Appointment, Member, ProbationPeriod
from dangjian.orglife import services as life
from dangjian.orglife.models import MeetingKind
from dangjian.orglife.services import AgendaInput, MeetingInput
from tests.factories import valid_id_number

NOW = dt.datetime(2026, 11, 30, 10, 0)


def service_functions() -> dict[str, Callable]:
    """'app.function' -> function, for every public function defined in a dangjian/*/services.py."""
    found = {}
    for info in pkgutil.iter_modules(dangjian.__path__):
        try:
            module = importlib.import_module(f"dangjian.{info.name}.services")
        except ModuleNotFoundError as exc:
            if exc.name != f"dangjian.{info.name}.services":
                raise
            continue
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{info.name}.{name}"] = function
    return found


# ---------------------------------------------------------------- inputs

def _at(day: int, hour: int = 14) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=timezone.get_current_timezone())


def _meeting(b, by, kind=MeetingKind.COMMITTEE_MEETING):
    org_ = b.branch_a
    return life.meeting_record(by=by, data=MeetingInput(organization=org_, kind=kind, starts_at=_at(27), topics="研究"))


def _new_member_data(b) -> dict:
    birth = dt.date(1990, 3, 8)
    return dict(name="王五", gender="male", birth_date=birth, id_number=valid_id_number(birth), joined_on=dt.date(2015, 7, 1),
                full_on=dt.date(2016, 7, 1), category="full", education="bachelor", post="科员", unit=b.office,
                organization=b.branch_a, phone="13800009999")


def _probationary(b, by):
    data = _new_member_data(b) | {"category": "probationary", "full_on": None}
    return org.member_create(by=by, data=data)


def _ordinary_member(b):
    return Member.objects.filter(organization=b.branch_a).exclude(pk=b.member_a.pk).order_by("pk").first()


def _empty_branch(b):
    Member.objects.filter(organization=b.branch_b).update(status=Member.Status.TRANSFERRED_OUT)
    return b.branch_b


# ---------------------------------------------------------------- the table

@dataclass(frozen=True)
class Prepared:
    """A call whose set-up writes entries of its own: `prepare(bureau, by)` runs before the entries
    are counted, then `act(bureau, by, prepared)` makes the service call."""

    prepare: Callable
    act: Callable


@dataclass(frozen=True)
class Case:
    action: str
    # (bureau, actor) -> the object the entry must name; or a Prepared.
    call: Callable | Prepared
    persona: str = "party_office"


prepared = Prepared


CASES: dict[str, Case] = {
    # access
    "access.user_create": Case("user.create", lambda b, by: org_user(by), "sys_admin"),
    "access.user_set_active": Case("user.disable", lambda b, by: access().user_set_active(
        by=by, user=b.users["member"], active=False), "sys_admin"),
    "access.role_grant": Case("role.grant", lambda b, by: access().role_grant(
        by=by, user=b.users["member"], role=Role.BRANCH_SECRETARY, organization=b.branch_b), "security_admin"),
    "access.role_revoke": Case("role.revoke", lambda b, by: _revoke(b, by), "security_admin"),
    "access.password_change": Case("user.password_change", lambda b, by: access().password_change(
        by=by, user=b.users["party_office"], old_password="Test@12345", new_password="Qz7!another-pass")),
    "access.password_reset": Case("user.password_reset", lambda b, by: access().password_reset(
        by=by, user=b.users["member"])[0], "sys_admin"),
    "access.user_bind_member": Case("user.bind_member", lambda b, by: access().user_bind_member(
        by=by, user=b.users["no_role"], member=_ordinary_member(b)), "security_admin"),
    "access.user_unbind_member": Case("user.unbind_member", lambda b, by: access().user_unbind_member(
        by=by, user=b.users["member"]), "security_admin"),
    "access.otp_device_enrol": Case("auth.otp_enrol", lambda b, by: _enrol(b, by), "sys_admin"),
    "access.otp_verify": Case("auth.otp_verify", lambda b, by: access().otp_verify(
        by=by, user=b.users["sys_admin"], token=_code(_device(b.users["sys_admin"]).key)), "sys_admin"),
    "access.otp_device_remove": Case("auth.otp_remove", lambda b, by: access().otp_device_remove(
        by=by, user=b.users["sys_admin"], token=_code(_device(b.users["sys_admin"]).key)), "sys_admin"),
    "access.otp_device_reset": Case("auth.otp_reset", prepared(
        lambda b, by: _device(b.users["audit_admin"]),
        lambda b, by, device: access().otp_device_reset(by=by, user=b.users["audit_admin"])), "security_admin"),
    # audit: the helpers every service writes through
    "audit.audit_record": Case("test.record", lambda b, by: audit.audit_record(
        by=by, action="test.record", obj=b.member_a) and b.member_a),
    "audit.audit_record_many": Case("test.record", lambda b, by: audit.audit_record_many(
        by=by, items=[audit.AuditItem("test.record", b.member_a)]) and b.member_a),
    "audit.audit_changes": Case("test.change", lambda b, by: audit.audit_changes(
        by=by, action="test.change", obj=b.member_a, changes={"post": ("科员", "副科长")}) and b.member_a),
    "audit.audited_update": Case("member.update", lambda b, by: audit.audited_update(
        by=by, action="member.update", instance=b.member_a, fields=["post"], data={"post": "副科长"}) and b.member_a),
    "audit.audit_export": Case("member.export", lambda b, by: audit.audit_export(
        by=by, what="roster", obj=b.branch_a, count=4, masked=True) and b.branch_a),
    "audit.audited_transition": Case("member.leave", lambda b, by: _leave_through_helper(b, by)),
    # organisations
    "organizations.organization_create": Case("organization.create", lambda b, by: org.organization_create(
        by=by, parent=b.general_branch, code="BC", name="第三党支部", kind="branch", founded_on=dt.date(2026, 3, 1))),
    "organizations.organization_bulk_create": Case("organization.create", lambda b, by: org.organization_bulk_create(
        by=by, rows=[org.OrgRow("BC", "第三党支部", "branch", dt.date(2026, 3, 1), parent=b.general_branch)])["BC"]),
    "organizations.organization_restructure": Case("organization.restructure", lambda b, by: org.organization_restructure(
        by=by, organization=b.branch_b, on=dt.date(2026, 3, 1), note="因机构改革更名", name="城东分局党支部")),
    "organizations.organization_dissolve": Case("organization.dissolve", prepared(
        lambda b, by: _empty_branch(b),
        lambda b, by, branch: org.organization_dissolve(by=by, organization=branch, on=dt.date(2026, 6, 1)))),
    "organizations.organization_renew_term": Case("organization.renew_term", lambda b, by: org.organization_renew_term(
        by=by, organization=b.branch_a, on=dt.date(2026, 1, 5))),
    "organizations.organization_extend_term": Case("organization.extend_term", lambda b, by: org.organization_extend_term(
        by=by, organization=b.branch_a, approved_on=dt.date(2026, 11, 20), approved_by="局机关党委",
        document_number="临交机党〔2026〕9号", extended_to=dt.date(2027, 6, 30))),
    # branch_a has fewer than 7 正式党员: a 副书记 is the post it may add (支部工作条例 第二十条).
    "organizations.appointment_create": Case("appointment.create", lambda b, by: org.appointment_create(
        by=by, organization=b.branch_a, member=_ordinary_member(b), role=Appointment.Role.DEPUTY_SECRETARY,
        start=dt.date(2026, 1, 5))),
    "organizations.appointment_bulk_create": Case("appointment.create", lambda b, by: org.appointment_bulk_create(
        by=by, appointments=[org.AppointmentRow(b.branch_a, _ordinary_member(b), Appointment.Role.DEPUTY_SECRETARY,
                                  dt.date(2026, 1, 5))])[0]),
    "organizations.appointment_end": Case("appointment.end", lambda b, by: org.appointment_end(
        by=by, appointment=Appointment.objects.get(organization=b.branch_a), on=dt.date(2026, 6, 1))),
    "organizations.unit_create": Case("unit.create", lambda b, by: org.unit_create(
        by=by, parent=b.bureau_unit, code="U-NEW", name="财务处", kind="department", organization=b.branch_a)),
    "organizations.unit_update": Case("unit.update", lambda b, by: org.unit_update(
        by=by, unit=b.office, name="综合办公室", organization=b.branch_a)),
    "organizations.member_create": Case("member.create", lambda b, by: org.member_create(
        by=by, data=_new_member_data(b))),
    "organizations.member_bulk_create": Case("member.create", lambda b, by: org.member_bulk_create(
        by=by, rows=[org.member_clean(_new_member_data(b))])[0]),
    "organizations.membership_history_add": Case("member.history", prepared(
        lambda b, by: org.member_create(by=by, data=_new_member_data(b), since=dt.date(2020, 1, 1)),
        lambda b, by, member: org.membership_history_add(
            by=by, stays=[(member, b.branch_b, dt.date(2018, 1, 1), dt.date(2019, 12, 31))])[0].member)),
    "organizations.member_update": Case("member.update", lambda b, by: org.member_update(
        by=by, member=b.member_a, data={"post": "副科长"})),
    "organizations.member_transfer": Case("member.transfer", lambda b, by: org.member_transfer(
        by=by, member=_ordinary_member(b), to=b.branch_b, on=dt.date(2026, 6, 1))),
    "organizations.member_confirm_full": Case("member.confirm_full", prepared(
        _probationary, lambda b, by, member: org.member_confirm_full(by=by, member=member, on=dt.date(2026, 6, 1)))),
    "organizations.member_leave": Case("member.leave", lambda b, by: org.member_leave(
        by=by, member=_ordinary_member(b), status=Member.Status.DECEASED, on=dt.date(2026, 6, 1))),
    "organizations.member_bulk_leave": Case("member.leave", lambda b, by: org.member_bulk_leave(
        by=by, leaves=[(_ordinary_member(b), Member.Status.DECEASED, dt.date(2026, 6, 1), "")])[0]),
    "organizations.member_probation_record": Case("member.probation", lambda b, by: org.member_probation_record(
        by=by, member=_ordinary_member(b), start=dt.date(2026, 6, 1), end=dt.date(2027, 6, 1)).member),
    "organizations.member_reveal_id_number": Case("member.reveal_id_number", lambda b, by: org.member_reveal_id_number(
        by=by, member=b.member_a, reason="核对档案") and b.member_a),
    # organisational life
    "orglife.meeting_record": Case("meeting.record", lambda b, by: _meeting(b, by), "branch_secretary"),
    "orglife.meeting_update": Case("meeting.update", prepared(_meeting, lambda b, by, meeting: life.meeting_update(
        by=by, meeting=meeting, data=MeetingInput(organization=b.branch_a, kind=meeting.kind, starts_at=_at(27, 9),
                                                  topics="研究"))), "branch_secretary"),
    "orglife.meeting_delete": Case("meeting.delete", prepared(
        _meeting, lambda b, by, meeting: life.meeting_delete(by=by, meeting=meeting, reason="重复录入") or meeting),
        "branch_secretary"),
    "orglife.agenda_item_add": Case("agenda_item.add", prepared(_meeting, lambda b, by, meeting: life.agenda_item_add(
        by=by, meeting=meeting, item=AgendaInput(title="研究发展对象", category="member_development",
                                                 votes_for=1, votes_against=0, votes_abstain=0))),
        "branch_secretary"),
    "orglife.member_voting_rights_refresh": Case("meeting.voting_rights", prepared(
        lambda b, by: _meeting(b, by, MeetingKind.GENERAL_MEETING),
        lambda b, by, meeting: ProbationPeriod.objects.create(
            member=b.member_a, start=dt.date(2026, 11, 1), end=dt.date(2027, 11, 1)) and life.member_voting_rights_refresh(
            by=by, member=b.member_a, start=dt.date(2026, 11, 1), end=dt.date(2027, 11, 1))[0])),
    "orglife.contact_point_set": Case("contact_point.set", lambda b, by: life.contact_point_set(
        by=by, leader=b.member_b, organization=b.branch_a, year=2026)),
    "orglife.heart_talk_record": Case("heart_talk.record", lambda b, by: life.heart_talk_record(
        by=by, organization=b.branch_a, held_on=dt.date(2026, 11, 20), first=b.member_a,
        second=Member.objects.filter(memberships__organization=b.branch_a, memberships__end__isnull=True)
        .exclude(pk=b.member_a.pk).first()), "branch_secretary"),
    "orglife.attachment_add": Case("meeting.attach", prepared(_meeting, lambda b, by, meeting: life.attachment_add(
        by=by, meeting=meeting, upload=SimpleUploadedFile("签到表.pdf", b"%PDF-1.4")) and meeting),
        "branch_secretary"),
}

# Public functions that write nothing, with the reason. Only pure helpers and reads belong here.
EXEMPT: dict[str, str] = {
    "audit.snapshot": "pure: builds the masked before/after picture of an object",
    "audit.present": "pure: one value as the trail keeps it",
    "audit.entry_payload": "pure: the bytes an entry's MAC covers",
    "audit.compute_mac": "pure: an HMAC",
    "audit.audit_verify_chain": "read: walks the chain and reports the first broken link",
    "audit.head_mac": "pure: the head's HMAC over (seq, mac)",
    "audit.mask_personal_numbers": "pure: masks ID numbers and phones in an entry's text",
    "audit.checkpoint_take": "read: the head as a checkpoint, and the chain's state",
    "audit.checkpoint_line": "pure: a checkpoint as one signed JSON line",
    "audit.checkpoints_read": "pure: parses and checks the signatures of a checkpoint file",
    "audit.stale": "read: words an optimistic-locking Conflict from the record's latest entries",
    "organizations.term_years": "pure: a term length from the rule data",
    "organizations.member_clean": "pure: normalises and checks a member's fields (form, API, import)",
    "organizations.taken_id_hashes": "read: which of a file's ID numbers are registered (one lookup per file)",
    "organizations.appointment_check": "pure: the posts rules appointment_create applies (reads only)",
    "organizations.election_clean": "pure: checks a 换届's election figures for organization_renew_term",
    "organizations.probation_clean": "pure: checks a 留党察看's dates (form, API, member_probation_record)",
    "organizations.branch_committee_posts": "pure: the named 分工 a 支委会 has (rule data)",
    "organizations.early_election": "pure: whether a 换届 is more than the rule's months early (rule data)",
    "organizations.advance_problems": "pure: refuses an early 换届 without its approval, for organization_renew_term",
    "orglife.expected_attendees": "read: who was expected at a meeting",
    "orglife.agenda_item_problems": "pure: what is wrong with an agenda item as entered",
    "orglife.category_problem": "pure: why a body may not decide an item of a category (rule data)",
    "orglife.meeting_problems": "read: the errors a record or correction would raise, nothing saved",
    "orglife.also_counts_problems": "pure: why a session cannot also count as the forms given (rule data)",
    "orglife.covers_year_problem": "pure: why a 所属年度 is refused (rule data)",
    "orglife.appraisal_problem": "pure: why a meeting kind cannot carry 民主评议党员 (rule data)",
    "orglife.also_counts_of": "read: the forms a recorded meeting also counts as",
}


def access():
    from dangjian.access import services

    return services


def _device(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=True)


def _code(key: str) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key)):06d}"


def _enrol(b, by):
    key = "0123456789abcdef0123456789abcdef01234567"
    return access().otp_device_enrol(by=by, user=b.users["sys_admin"], key=key, token=_code(key))


def org_user(by):
    return access().user_create(by=by, username="wangwu", full_name="王五", password="Qz7!long-enough-pass")


def _revoke(b, by):
    assignment = RoleAssignment.objects.get(user=b.users["member"])
    named = copy.copy(assignment)  # deleting clears the pk of the instance deleted
    access().role_revoke(by=by, assignment=assignment)
    return named


def _leave_through_helper(b, by):
    member = _ordinary_member(b)
    audit.audited_transition(by=by, action="member.leave", workflow=org.MEMBER_ROSTER, instance=member,
                             to=Member.Status.DECEASED)
    return member


# ---------------------------------------------------------------- the tests

def test_every_public_service_has_an_audit_case():
    found = set(service_functions())
    missing = sorted(found - set(CASES) - set(EXEMPT))
    assert not missing, f"services with no audit case (add one to CASES, or exempt a pure helper): {missing}"
    stale = sorted((set(CASES) | set(EXEMPT)) - found)
    assert not stale, f"cases for functions that no longer exist: {stale}"
    assert not set(CASES) & set(EXEMPT)


def test_the_enumeration_finds_the_services_of_every_area():
    areas = {name.split(".")[0] for name in service_functions()}
    assert {"access", "audit", "organizations", "orglife"} <= areas


def test_a_service_without_a_case_would_be_caught(monkeypatch):
    def organization_merge(*, by, organization):  # a new write someone adds without an audit case
        organization.save()

    organization_merge.__module__ = org.__name__
    monkeypatch.setattr(org, "organization_merge", organization_merge, raising=False)
    assert "organizations.organization_merge" in set(service_functions()) - set(CASES) - set(EXEMPT)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("name", sorted(CASES))
def test_service_writes_exactly_its_audit_entry(name, bureau, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = CASES[name]
    user = bureau.users[case.persona]
    by = audit.Actor(user=user, name=user.username, roles=(case.persona,), ip="10.0.0.9")
    state = case.call.prepare(bureau, by) if isinstance(case.call, Prepared) else None
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    result = case.call.act(bureau, by, state) if isinstance(case.call, Prepared) else case.call(bureau, by)
    assert result is not None and hasattr(result, "_meta"), f"{name}: the case must return the audited object"
    written = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")
                   .values_list("action", "object_type", "object_id", "actor_name"))
    assert written == [(case.action, result._meta.label_lower, str(result.pk), user.username)], name


def test_unchanged_updates_write_no_entry(bureau):
    """The update services are the exception to 'one entry per call': nothing changed, no entry."""
    by = audit.Actor.system("test")
    before = AuditEntry.objects.count()
    org.member_update(by=by, member=bureau.member_a, data={"post": bureau.member_a.post})
    org.unit_update(by=by, unit=bureau.office, name=bureau.office.name, organization=bureau.office.organization)
    assert AuditEntry.objects.count() == before
