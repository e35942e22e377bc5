"""No record outside the grant, proven by ids (issue 8, item 2).

A *sentinel* bureau: the bureau of tests/conftest.py with its half year of meetings, and in every
organisation one record of every kind the access policy knows (its own three: organisations, units,
members; and every type an area registered, read from `policy.registered()`), each text field
carrying a unique marker 哨NNN兵 that names the record it belongs to. Every persona (every role of
access/roles.py on its natural node, the two grants without descendants, a member seeing only
their own record, an account with no role, one account holding two roles on different nodes) reads:

- every page the crawl reaches from the home page (tests/access/crawling.py), this year's only;
- every route of the URLconf with the id of every sentinel record of its kind substituted;
- every organisation filter of those pages (``?org=``, ``?organization=``) set to every organisation;
- every GET route of the API (from its OpenAPI schema): lists paged to the end, with every
  organisation filter, and details for every id;
- every export and download (roster and 台账 .xlsx, 会议记录 .docx, attachments), read as text;
- every metric's drill-down, for the whole scope and for every organisation.

From every answer (HTML, JSON, the text of a file, its file name) the markers are read and mapped
back to record ids; each must be a record the persona may read, which the test decides on its own,
from the persona's role assignments and the role table (not by asking the policy, so a policy that
leaks cannot vouch for itself). A record may be read when the persona holds one of the permissions
its kind needs (READ_PERMS) on its organisation, or when it is named by such a record (a member as
a meeting's attendee or an organisation's committee member, the organisation a member belongs to:
NAMES), or is an ancestor of a readable organisation (its heading shows the path), or, to whoever
records an organisation's meetings, a member of it or of its 党小组 (the expected attendees the
meeting form lists, names only). Any route given the id of a record the persona may not read at all
must answer 404.

Two exposures are by design (三员分立): the audit administrator reads the whole trail, so markers
quoted in audit entries on /audit/ are not counted for a persona holding VIEW_AUDIT; the security
administrator picks organisations and members by name on the role and binding pages (ACCOUNT_PAGES)."""

import html
import io
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dangjian.access import policy
from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import ROLE_PERMISSIONS, Perm, Role
from dangjian.audit.services import Actor
from dangjian.core import metrics as metric_registry
from dangjian.organizations.collation import name_key
from dangjian.organizations.models import Appointment, Member, Membership, Organization, OrganizationEvent, Unit
from dangjian.orglife import services as orglife
from dangjian.orglife.models import AgendaItem, Attendance, ContactPoint, Guest, Meeting, MeetingAttachment, MeetingKind
from dangjian.orglife.services import AgendaInput, GuestInput, MeetingInput
from tests.access.crawling import NOW, at, crawl, record_the_year
from tests.factories import MemberFactory, make_unit, make_user
from tests.factories import grant as grant_role

YEAR = NOW.year
MARK = re.compile(r"哨(\d{3})兵")
P = Perm

# The permissions that let a record of each kind be read, on the organisation it belongs to. Every
# kind the policy scopes must be here (a new registered type fails `test_every_kind_is_sentinelled`).
ANY_GRANT = frozenset(Perm.values)
READ_PERMS: dict[type[Model], frozenset[str]] = {
    Organization: ANY_GRANT,  # a grant on an organisation shows its name (scope pickers, headings)
    Unit: frozenset({P.VIEW_UNITS}),
    Member: frozenset({P.VIEW_MEMBERS}),
    Appointment: frozenset({P.VIEW_ORGANIZATIONS}),
    Membership: frozenset({P.VIEW_MEMBERS}),
    OrganizationEvent: frozenset({P.VIEW_ORGANIZATIONS}),
    Meeting: frozenset({P.VIEW_MEETINGS}),
    Attendance: frozenset({P.VIEW_MEETINGS}),
    Guest: frozenset({P.VIEW_MEETINGS}),
    MeetingAttachment: frozenset({P.VIEW_MEETINGS}),
    AgendaItem: frozenset({P.VIEW_MEETINGS, P.VIEW_DECISIONS}),  # on its meeting's page, or the register
    ContactPoint: frozenset({P.VIEW_MEETINGS}),
}
# The records a readable record names (one step): shown with it, so readable with it.
NAMES: dict[type[Model], tuple[str, ...]] = {
    Organization: (), Unit: ("organization",), Member: ("organization", "unit"),
    Appointment: ("organization", "member"), Membership: ("organization", "member"),
    OrganizationEvent: ("organization",), Meeting: ("organization", "host", "recorder", "lecturer"),
    Attendance: ("member",), Guest: ("member",), MeetingAttachment: (), AgendaItem: (),
    ContactPoint: ("organization", "leader"),
}

# Every role on its natural node, the two grants without descendants, an account without a role, and
# one holding two roles on different nodes (巡察办 on the 党组, so figures everywhere, but members only
# as the secretary of 第二党支部: a figure's records need the figure's permission, not VIEW_METRICS).
PERSONAS = ["party_office", "branch_secretary", "sibling_secretary", "leader", "inspection_office", "unit_liaison",
            "discipline", "member", "sys_admin", "security_admin", "audit_admin", "no_role", "narrow",
            "narrow_secretary", "two_roles"]
# URL arguments → the kind of record they name ("metric": a metric key). A route with an argument
# not listed here fails `test_every_route_argument_is_scanned`.
ROUTE_ARGS: dict[str, dict[str, object]] = {
    **{f"organizations:{n}": {"pk": Organization} for n in ("detail", "restructure", "renew_term", "extend_term",
                                                            "appoint", "dissolve", "tree_children")},
    "organizations:appointment_end": {"pk": Organization, "appointment_pk": Appointment},
    **{f"organizations:member_{n}": {"pk": Member} for n in ("detail", "edit", "transfer", "confirm_full", "leave",
                                                            "reveal", "probation")},
    **{f"orglife:{n}": {"pk": Meeting} for n in ("meeting_detail", "meeting_edit", "meeting_delete",
                                                 "meeting_minutes", "attachment_upload")},
    "orglife:attachment_download": {"pk": Meeting, "attachment_pk": MeetingAttachment},
    "orglife:ledger": {"org_pk": Organization},
    "orglife:calendar": {"org_pk": Organization},
    "orglife:heart_talk_create": {"org_pk": Organization},
    **{f"access:{n}": {"pk": User} for n in ("user_toggle", "user_password_reset", "binding_remove", "otp_reset")},
    "access:role_revoke": {"pk": RoleAssignment},
    "reports:metric_detail": {"key": "metric"},
}
# A child record named with its parent: the parent is found through this field.
PARENT = {Appointment: "organization", MeetingAttachment: "meeting"}
# Query parameters naming an organisation, set to every organisation on every page that has them;
# and pages that take one but are reached by script rather than by a link.
ORG_PARAMS = ("org", "organization")
FRAGMENTS = {
    "orglife:meeting_expected": {"kind": MeetingKind.GENERAL_MEETING, "starts_at": f"{YEAR}-06-01T09:00"},
    "orglife:meeting_create": {"kind": MeetingKind.COMMITTEE_MEETING},
    "organizations:member_create": {},
    "organizations:member_export": {},
}
METRIC_PATH = "/reports/metrics/"
# API path parameters → the kind of record they name.
API_ARGS = {"organization_id": Organization, "unit_id": Unit, "member_id": Member, "meeting_id": Meeting}


# The security administrator grants roles on any organisation and binds accounts to members picked
# from a list of 姓名 · 所在党组织 (docs/security.md, 访问控制（三员分立）): on these pages, and only
# there, a persona holding MANAGE_ROLES reads every organisation's, unit's and member's name (no other
# field of any record).
ACCOUNT_PAGES = ("/accounts/roles/", "/accounts/bindings/")


# ---------------------------------------------------------------- the sentinel bureau

@dataclass(frozen=True)
class Ref:
    model: type[Model]
    pk: int

    def __str__(self):
        return f"{self.model.__name__}#{self.pk}"


class Sentinels:
    """The markers, the records they belong to, each record's organisation and the records it names."""

    def __init__(self):
        self.owner: dict[int, Ref] = {}
        self.records: dict[type[Model], list[Model]] = defaultdict(list)
        self.targets: dict[type[Model], list[Model]] = defaultdict(list)  # one of each kind per organisation

    def mark(self, obj: Model) -> str:
        number = len(self.owner) + 1
        assert number < 1000
        self.owner[number] = Ref(type(obj), obj.pk)
        if obj not in self.records[type(obj)]:
            self.records[type(obj)].append(obj)
        return f"哨{number:03d}兵"

    def keep(self, obj: Model) -> None:
        """A record with no text of its own (it is seen by the names it shows), put into URLs."""
        self.records[type(obj)].append(obj)

    def refs(self) -> set[Ref]:
        return set(self.owner.values())

    def pick_targets(self) -> None:
        """The records put into URLs: the first of each kind in each organisation."""
        for model, objs in self.records.items():
            by_org = {}
            for obj in objs:
                by_org.setdefault(organization_of(Ref(model, obj.pk)), obj)
            self.targets[model] = list(by_org.values())


def organization_of(ref: Ref) -> int | None:
    """The organisation a record belongs to, by the lookup its area registered (the declaration,
    not the policy's scoping)."""
    if ref.model is Organization:
        return ref.pk
    return ref.model.objects.filter(pk=ref.pk).values_list(_org_lookup(ref.model), flat=True).get()


MEETING_KINDS = {  # one meeting of each organisation, of a kind it holds, with agenda where it may have one
    Organization.Kind.LEADING_GROUP: (MeetingKind.LEADING_GROUP_MEETING, True),
    Organization.Kind.ORGAN_COMMITTEE: (MeetingKind.COMMITTEE_MEETING, True),
    Organization.Kind.GENERAL_BRANCH: (MeetingKind.COMMITTEE_MEETING, True),
    Organization.Kind.BRANCH: (MeetingKind.GENERAL_MEETING, True),
    Organization.Kind.CELL: (MeetingKind.CELL_MEETING, False),
}


def _sentinel_member(s: Sentinels, org: Organization, unit: Unit | None) -> Member:
    member = MemberFactory(organization=org, unit=unit)
    member.name = s.mark(member)
    Member.objects.filter(pk=member.pk).update(name=member.name, name_key=name_key(member.name))
    return member


def build_sentinels(bureau) -> Sentinels:
    """One record of every kind in every organisation, every text field marked."""
    s = Sentinels()
    by = Actor.system("test")
    orgs = [bureau.root, bureau.committee, bureau.general_branch, bureau.branch_a, bureau.cell_a, bureau.branch_b]
    for day, org in enumerate(orgs, start=1):
        org.name = f"{org.name}{s.mark(org)}"
        Organization.objects.filter(pk=org.pk).update(name=org.name)
        # 第二党支部's unit lies under 城东分局, the unit liaison's grant.
        unit = make_unit(bureau.east if org == bureau.branch_b else bureau.bureau_unit, organization=org)
        Unit.objects.filter(pk=unit.pk).update(name=f"单位{s.mark(unit)}")
        member = _sentinel_member(s, org, unit)
        membership = Membership.objects.get(member=member)
        Membership.objects.filter(pk=membership.pk).update(note=s.mark(membership))
        committee = _sentinel_member(s, org, unit)
        appointment = Appointment.objects.create(organization=org, member=committee,
                                                 role=Appointment.Role.COMMITTEE_MEMBER, start=NOW.date().replace(month=1))
        s.keep(appointment)
        event = OrganizationEvent.objects.create(organization=org, kind=OrganizationEvent.Kind.RESTRUCTURED,
                                                 on=NOW.date().replace(month=3, day=day))
        OrganizationEvent.objects.filter(pk=event.pk).update(note=s.mark(event), document_number=s.mark(event))
        kind, with_agenda = MEETING_KINDS[org.kind]
        agenda = [AgendaInput(title="议题", category=AgendaItem.Category.ORDINARY, decision="同意")] if with_agenda else []
        meeting = orglife.meeting_record(by=by, data=MeetingInput(
            organization=org, kind=kind, starts_at=at(NOW.date().replace(month=5, day=day)), topics="主题",
            host=member, agenda=agenda, guests=[GuestInput(name="来宾", title="说明")]))
        Meeting.objects.filter(pk=meeting.pk).update(topics=s.mark(meeting), place=s.mark(meeting),
                                                     minutes=s.mark(meeting))
        for item in meeting.agenda_items.all():
            AgendaItem.objects.filter(pk=item.pk).update(title=s.mark(item), decision=s.mark(item))
        for guest in meeting.guests.all():
            Guest.objects.filter(pk=guest.pk).update(name=s.mark(guest), title=s.mark(guest))
        attendance = meeting.attendances.order_by("pk").first()
        Attendance.objects.filter(pk=attendance.pk).update(note=s.mark(attendance))
        attachment = MeetingAttachment.objects.create(meeting=meeting, name="附件", file=ContentFile(b"", name="a.txt"))
        marker = s.mark(attachment)
        attachment.name = f"{marker}.txt"
        attachment.file.save("a.txt", ContentFile(marker.encode()), save=False)
        attachment.save()
        # A member named by no other record (joined after the meeting, holding no post): seen only
        # where members are read (the roster, a member's page, the member figures' drill-downs).
        _sentinel_member(s, org, unit)
        if org.kind == Organization.Kind.BRANCH:  # a leader of the 党组 linked to the branch
            leader = _sentinel_member(s, bureau.root, None)
            point = ContactPoint.objects.create(leader=leader, organization=org, year=YEAR)
            s.keep(point)
    # The member persona's own record (张三, of 第一党小组): their post is marked.
    Member.objects.filter(pk=bureau.member_a.pk).update(post=s.mark(bureau.member_a))
    s.pick_targets()
    return s


# ---------------------------------------------------------------- what each persona may read

def granted_organizations(user: User) -> dict[str, set[int]]:
    """Permission → organisation ids, from the user's role assignments and the role table alone."""
    orgs = list(Organization.objects.values_list("pk", "path"))
    out: dict[str, set[int]] = defaultdict(set)
    for grant in RoleAssignment.objects.filter(user=user, organization__isnull=False).select_related("organization"):
        node = grant.organization
        covered = {pk for pk, path in orgs
                   if (path.startswith(node.path) if grant.include_descendants else pk == node.pk)}
        for perm in ROLE_PERMISSIONS[grant.role]:
            out[perm] |= covered
    return out


def granted_units(user: User) -> set[int]:
    units = list(Unit.objects.values_list("pk", "path"))
    out = set()
    for grant in RoleAssignment.objects.filter(user=user, unit__isnull=False).select_related("unit"):
        if Perm.VIEW_UNITS in ROLE_PERMISSIONS[grant.role]:
            out |= {pk for pk, path in units
                    if (path.startswith(grant.unit.path) if grant.include_descendants else pk == grant.unit_id)}
    return out


def _org_lookup(model: type[Model]) -> str:
    if model in (Member, Unit):
        return "organization"
    return policy.registered()[model].organization


def readable(user: User, refs: set[Ref]) -> tuple[set[Ref], set[Ref], dict[str, set[int]]]:
    """(the sentinel records the user may read directly; those and every record named by a record
    the user may read; the user's grants). Decided from the grants and the role table alone."""
    grants = granted_organizations(user)
    units = granted_units(user)

    def reads(model, org) -> bool:
        return any(org in grants[perm] for perm in READ_PERMS[model])

    direct = set()
    for ref in refs:
        org = organization_of(ref)
        if (reads(ref.model, org) or (ref.model is Member and user.member_id == ref.pk)  # one's own record
                or (ref.model is Unit and ref.pk in units)):  # a unit liaison's unit
            direct.add(ref)
    shown = set(direct)
    # Named by a readable record: every record of every kind, not only the sentinels (a meeting's
    # attendance names members of its 党小组, an organisation's committee members of its branches).
    for model, fields in NAMES.items():
        if model is Organization:
            continue
        targets = [model._meta.get_field(f).related_model for f in fields]
        for pk, org, *named in model.objects.values_list("pk", _org_lookup(model), *fields):
            if reads(model, org) or (model is Member and user.member_id == pk) or (model is Unit and pk in units):
                shown |= {Ref(t, n) for t, n in zip(targets, named, strict=True) if n is not None}
    # An organisation's heading names its ancestors (the path to it), not their records.
    paths = dict(Organization.objects.values_list("pk", "path"))
    steps = Organization.steplen
    for org in {r.pk for r in shown if r.model is Organization}:
        path = paths[org]
        shown |= {Ref(Organization, pk) for pk, p in paths.items() if path.startswith(p) and len(p) % steps == 0}
    # Recording an organisation's meetings names who is expected: the members of it and its
    # 党小组 (services.expected_attendees), though the recorder may not open their records.
    for pk, path in Member.objects.values_list("pk", "organization__path"):
        if any(path.startswith(paths[org]) for org in grants[Perm.RECORD_MEETINGS]):
            shown.add(Ref(Member, pk))
    return direct, shown, grants


# ---------------------------------------------------------------- reading an answer

def body_text(response) -> str:
    """Everything a reader gets: the body (a workbook's cells, a document's paragraphs and tables),
    the file name and a redirect's target."""
    data = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    parts = [unquote(response.get("Content-Disposition", "")), unquote(response.get("Location", ""))]
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data))
        for sheet in book.worksheets:
            parts.append(sheet.title)
            parts += [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    elif "wordprocessingml" in kind:
        from docx import Document

        document = Document(io.BytesIO(data))
        parts += [p.text for p in document.paragraphs]
        parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        for section in document.sections:
            parts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    else:
        parts.append(html.unescape(data.decode("utf-8", "replace")))
    return "\n".join(parts)


class Scan:
    """One persona's reads: every answer checked as it comes."""

    def __init__(self, persona: str, user: User, sentinels: Sentinels):
        self.persona, self.user, self.s = persona, user, sentinels
        every = sentinels.refs() | {Ref(m, o.pk) for m, objs in sentinels.records.items() for o in objs}
        self.direct, self.shown, self.grants = readable(user, every)
        roles = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
        self.audit_reader = any(Perm.VIEW_AUDIT in ROLE_PERMISSIONS[r] for r in roles)
        self.role_admin = any(Perm.MANAGE_ROLES in ROLE_PERMISSIONS[r] for r in roles)
        self.client = Client()
        self.client.force_login(user)
        self.client.raise_request_exception = False  # a 500 is a finding, not a crash of the scan
        self.requests = 0
        self.urls: dict[str, int] = {}  # URL → status
        self.seen: set[Ref] = set()
        self.leaks: list[str] = []
        self.errors: list[str] = []
        self.phases: list[str] = []
        self._lap = (time.perf_counter(), 0)

    def lap(self, phase: str) -> None:
        now, requests = time.perf_counter(), self.requests
        self.phases.append(f"{phase} {requests - self._lap[1]} in {now - self._lap[0]:.1f}s")
        self._lap = (now, requests)

    def read(self, url: str, response) -> None:
        self.requests += 1
        self.urls[url] = response.status_code
        if response.status_code >= 500:
            self.errors.append(f"{response.status_code} {url}")
            return
        if self.audit_reader and url.startswith("/audit/"):
            return
        seen = {self.s.owner[int(n)] for n in MARK.findall(body_text(response)) if int(n) in self.s.owner}
        self.seen |= seen
        outside = seen - self.shown
        if self.role_admin and url.startswith(ACCOUNT_PAGES):
            outside = {ref for ref in outside if ref.model not in (Organization, Unit, Member)}
        outside = sorted(outside, key=str)
        if outside:
            self.leaks.append(f"{self.persona} GET {url}: outside the grant: {', '.join(map(self.describe, outside))}")

    def describe(self, ref: Ref) -> str:
        obj = ref.model.objects.filter(pk=ref.pk).first()
        return f"{ref} ({obj}, of {organization_of(ref)})"

    def get(self, url: str, params: dict | None = None):
        full = f"{url}?{urlencode(params)}" if params else url
        if full in self.urls and not full.startswith("/api/"):  # read already (by the crawl)
            return SimpleNamespace(status_code=self.urls[full])
        response = self.client.get(full)
        self.read(full, response)
        return response

    def expect_404(self, url: str, ref: Ref, response) -> None:
        if ref not in self.direct and response.status_code not in (404, 405):
            self.errors.append(f"{response.status_code} {url}: {ref} is outside the grant, expected 404")


# ---------------------------------------------------------------- what is read

class Follow:
    """The crawl keeps to this year (the sentinels' year: other years show the same records), and
    follows at most two links per page and organisation filter (the matrix links a form for every
    organisation × kind × month: the records each shows are the organisation's)."""

    def __init__(self):
        self.taken: set[str] = set()
        self.per_page: dict[tuple, int] = defaultdict(int)

    def __call__(self, url: str) -> bool:
        if url in self.taken:
            return True
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        if query.get("year", str(YEAR)) != str(YEAR):
            return False
        key = (parts.path, tuple(query.get(p) for p in ORG_PARAMS))
        if self.per_page[key] >= 2:
            return False
        self.per_page[key] += 1
        self.taken.add(url)
        return True


def page_routes(patterns=None, namespace=None):
    """(name, pattern) of every page route of the URLconf (the API is read from its schema)."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if (p.namespace or namespace) != "api":
                yield from page_routes(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}:{p.name}" if namespace else p.name), p


def _route_calls(s: Sentinels, scan: "Scan"):
    """(url, the record it names) for every route × every sentinel of the kinds it takes. A persona
    without any grant on the organisation tree may read none of them: for it, one of each kind
    (and its own member record) shows the route's door."""
    if not any(scan.grants.values()):
        own = [m for m in s.records[Member] if m.pk == scan.user.member_id]
        s = SimpleNamespace(targets={model: objs[:1] + (own if model is Member else [])
                                     for model, objs in s.targets.items()})
    for name, pattern in page_routes():
        args = list(pattern.pattern.converters)
        if not args:
            continue
        kinds = ROUTE_ARGS[name]
        if kinds == {"key": "metric"}:
            continue  # the metrics are read below, with every organisation
        if set(kinds.values()) & {User, RoleAssignment}:
            continue  # accounts and grants: no organisation's records (tests/access/test_route_matrix.py)
        child = [k for k in kinds.values() if k in PARENT]
        if child:
            model = child[0]
            parent_arg, child_arg = list(kinds)
            for obj in s.targets[model]:
                parents = {getattr(obj, f"{PARENT[model]}_id")} | {p.pk for p in s.targets[kinds[parent_arg]][:1]}
                for parent in parents:  # its own parent, and another one (the pair must not matter)
                    yield reverse(name, kwargs={parent_arg: parent, child_arg: obj.pk}), Ref(model, obj.pk)
            continue
        (arg, model), = kinds.items()
        for obj in s.targets[model]:
            yield reverse(name, kwargs={arg: obj.pk}), Ref(model, obj.pk)


def _api_get_routes():
    from dangjian.api.main import api

    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        if "get" in operations:
            params = operations["get"].get("parameters", [])
            yield path, [p["name"] for p in params if p["in"] == "path"], [p["name"] for p in params if p["in"] == "query"]


def _api_list(scan: Scan, path: str, params: dict) -> None:
    """A list read to its end: by the `next` cursor, or by offset up to `count`."""
    params = {**params, "limit": 200}
    for _ in range(50):
        response = scan.get(path, params)
        if response.status_code != 200:
            return
        body = response.json()
        if body.get("next"):
            params = {**params, "after": body["next"]}
        elif "count" in body and params.get("offset", 0) + 200 < body["count"]:
            params = {**params, "offset": params.get("offset", 0) + 200}
        else:
            return


def run_scan(scan: Scan, bureau) -> None:
    s = scan.s
    org_ids = [o.pk for o in s.records[Organization]]
    metric_reader = bool(scan.grants[Perm.VIEW_METRICS])
    # 1. Every page the crawl reaches, and each organisation filter it shows set to every organisation.
    crawl(scan.client, follow=Follow(), seen=scan.read)
    scan.lap("crawl")
    filtered = {}
    for url in sorted(scan.urls):
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        for param in ORG_PARAMS:
            if param in query and not (parts.path.startswith(METRIC_PATH) and parts.path != METRIC_PATH):
                filtered.setdefault((parts.path, param), query)
    for name, extra in FRAGMENTS.items():
        filtered.setdefault((reverse(name), "organization"), extra)
    for (path, param), query in filtered.items():
        for org in org_ids:
            scan.get(path, {**query, param: org})
    scan.lap("filters")
    # 2. Every route with the id of every sentinel record of its kind.
    for url, ref in _route_calls(s, scan):
        response = scan.get(url)
        if ref is not None:
            scan.expect_404(url, ref, response)
    scan.lap("routes")
    # 3. Every metric's drill-down for the reader's whole scope; for every organisation, the
    # drill-down of one metric of each permission (the figures page, read with every organisation
    # above, shows them all).
    by_permission = {}
    for metric in metric_registry.metrics():
        by_permission.setdefault(metric.permission, metric)
    for metric in metric_registry.metrics():
        url = reverse("reports:metric_detail", args=[metric.key])
        response = scan.get(url, {"year": YEAR})
        if not metric_reader:  # no figure at all: refused before any organisation is read
            if response.status_code != 404:
                scan.errors.append(f"{response.status_code} {url}: no VIEW_METRICS, expected 404")
            continue
        for org in org_ids if by_permission[metric.permission] is metric else ():
            response = scan.get(url, {"year": YEAR, "org": org})
            scan.expect_404(f"{url}?org={org}", Ref(Organization, org), response)
    scan.lap("metrics")
    # 4. Every API GET route: lists to the end (with every organisation filter), details for every id.
    for path, path_args, query_args in _api_get_routes():
        if path.endswith("openapi.json"):
            continue
        if not path_args:
            _api_list(scan, path, {})
            if "organization" in query_args:
                for org in org_ids:
                    _api_list(scan, path, {"organization": org})
            if "parent" in query_args:
                model = Unit if path.rstrip("/").endswith("units") else Organization
                for obj in s.targets[model]:
                    _api_list(scan, path, {"parent": model.objects.get(pk=obj.pk).code})
            continue
        (arg,) = path_args
        model = API_ARGS[arg]
        for obj in s.targets[model]:
            url = path.replace(f"{{{arg}}}", str(obj.pk))
            scan.expect_404(url, Ref(model, obj.pk), scan.get(url))
    scan.lap("api")


# ---------------------------------------------------------------- the tests

@pytest.fixture
def sentinel_bureau(bureau, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    bureau.users["narrow"] = make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    bureau.users["narrow_secretary"] = make_user("zhibu_a", Role.BRANCH_SECRETARY, bureau.branch_a,
                                                 include_descendants=False)
    bureau.users["two_roles"] = make_user("xuncha_zhibu", Role.INSPECTION_OFFICE, bureau.root)
    grant_role(bureau.users["two_roles"], Role.BRANCH_SECRETARY, bureau.branch_b)
    with time_machine.travel(NOW, tick=False):
        record_the_year(bureau)
        bureau.sentinels = build_sentinels(bureau)
        yield bureau


def test_every_kind_is_sentinelled():
    """A record type the policy scopes gets sentinels and a rule for who may read it."""
    kinds = {Organization, Unit, Member} | set(policy.registered())
    assert kinds <= set(READ_PERMS) and kinds <= set(NAMES), kinds - set(READ_PERMS)


def test_every_role_has_a_persona(bureau):
    """Every role of access/roles.py is read as, on its natural node."""
    users = [bureau.users[p] for p in PERSONAS if p in bureau.users]
    roles = set(RoleAssignment.objects.filter(user__in=users).values_list("role", flat=True))
    assert roles == set(Role.values), set(Role.values) - roles


def test_every_route_argument_is_scanned():
    """A page route taking an id names the kind of record it is, so the scan substitutes them."""
    routes = {name: set(p.pattern.converters) for name, p in page_routes() if p.pattern.converters}
    assert routes == {name: set(kinds) for name, kinds in ROUTE_ARGS.items()}


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_record_outside_the_grant_is_read(sentinel_bureau, persona):
    s = sentinel_bureau.sentinels
    scan = Scan(persona, sentinel_bureau.users[persona], s)
    started = time.perf_counter()
    run_scan(scan, sentinel_bureau)
    took = time.perf_counter() - started
    outside_seen = len({leak for leak in scan.leaks})
    print(f"\n{persona}: {scan.requests} requests, {len(scan.urls)} URLs, {len(scan.seen)} of {len(s.refs())} "
          f"sentinel records seen ({len(scan.direct)} readable), {outside_seen} answers with records outside, "
          f"{took:.1f}s ({'; '.join(scan.phases)})")
    assert not scan.leaks, f"{len(scan.leaks)} answers show records outside the grant:\n" + "\n".join(scan.leaks)
    assert not scan.errors, "\n".join(scan.errors)
    unseen = (scan.direct & s.refs()) - scan.seen
    assert not unseen, f"{persona} may read these but never saw them: {sorted(map(str, unseen))}"
