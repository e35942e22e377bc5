"""The audit administrator's page for reading the trail (三员分立: reading the audit trail is a
role of its own). It lives in access, above the trail it reads, because it asks the policy."""

import ipaddress

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from dangjian.access import policy
from dangjian.access.roles import Perm, Role
from dangjian.audit.actions import labels as action_labels
from dangjian.audit.display import describe_entries
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor, audit_record
from dangjian.core.dates import parse_date
from dangjian.core.forms import parse_id

PAGE_SIZE = 100


@login_required
def search(request):
    """The audit admin's search. Keyset-paged by seq (newest first); the search itself is audited.
    Entries are shown in words (roles, choices, the names of the rows they refer to), the names
    read for the whole page in one query."""
    policy.require_perm(request.user, Perm.VIEW_AUDIT)
    entries = AuditEntry.objects.all()
    q = {k: request.GET.get(k, "").strip() for k in ("actor", "action", "object", "ip", "start", "end")}
    if q["actor"]:
        entries = entries.filter(actor_name__icontains=q["actor"])
    if q["action"]:
        entries = entries.filter(action__startswith=q["action"])
    if q["object"]:
        entries = entries.filter(object_repr__icontains=q["object"])
    if q["ip"]:
        entries = entries.filter(source_ip=q["ip"]) if _is_ip(q["ip"]) else entries.none()
    for key, lookup in (("start", "at__date__gte"), ("end", "at__date__lte")):
        if q[key]:
            try:
                entries = entries.filter(**{lookup: parse_date(q[key])})
            except ValueError:
                entries = entries.none()
    before = parse_id(request.GET.get("before"))
    if before is not None:
        entries = entries.filter(seq__lt=before)
    rows = list(entries.order_by("-seq")[: PAGE_SIZE + 1])
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    describe_entries(rows, role_labels=dict(Role.choices))
    if any(q.values()):
        audit_record(by=Actor.from_request(request), action="audit.search",
                     note="；".join(f"{k}={v}" for k, v in q.items() if v)[:300])
    query = request.GET.copy()
    query.pop("before", None)
    return render(request, "audit/search.html", {
        "entries": rows, "q": q,
        "actions": sorted(action_labels().items()),
        "next_url": f"?{query.urlencode()}&before={rows[-1].seq}" if has_more else "",
    })


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
