"""Every list page, dashboard and report page answers in a pinned number of queries, the same with
a small bureau and after adding 30 branches, 300 members and 40 meetings: a constant extra query
fails here as surely as an N+1.

Every page's count starts with the same 3 (session, user, the reader's role assignments); the
sliding session is saved at most once a minute (SESSION_TOUCH_SECONDS), not by these requests. The
three admins' pages add one: the authenticator that passed the session's second factor (django-otp)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.services import Actor
from dangjian.organizations.models import Organization
from dangjian.orglife import services as orglife_services
from dangjian.orglife.models import MeetingKind
from dangjian.orglife.services import MeetingInput
from tests.factories import MemberFactory, bulk_members, make_org

YEAR = timezone.localdate().year

# route -> (persona, query parameters)
PAGES = {
    "organizations:tree": ("party_office", {}),
    "organizations:units": ("party_office", {}),
    "organizations:members": ("party_office", {}),
    "orglife:meetings": ("party_office", {"year": YEAR}),
    "orglife:matrix": ("party_office", {"year": YEAR}),
    "orglife:decisions": ("party_office", {"year": YEAR}),
    "orglife:contact_points": ("party_office", {"year": YEAR}),
    "reports:metrics": ("party_office", {"year": YEAR}),
    "home": ("party_office", {}),
    "todos": ("party_office", {"page": 2}),
    "access:users": ("sys_admin", {}),
    "access:roles": ("security_admin", {}),
    "audit:search": ("audit_admin", {}),
}
PINNED = {
    "organizations:tree": 5,         # + the count of organisations at each depth, the first levels with their counts and secretaries
    "organizations:units": 4,        # + the units with their organisations
    "organizations:members": 8,     # + the data version (core.datacache), one page of members, the total, the cells' branches, the filter's organisations
    "orglife:meetings": 6,           # + scope, one page with 应到/实到, the scope selector
    "orglife:matrix": 13,            # + scope, the page's paths, selectors.compliance (6 with a 党组: "also counts as", 民主生活会 attendance), the selector
    "orglife:decisions": 6,          # + scope, the items with 应到/实到, the scope selector
    "orglife:contact_points": 8,    # + scope, one page of points with their counts, the scope selector, the form's leaders and branches
    "reports:metrics": 36,           # + scope, the selector, the data version (core.datacache), then each registered figure (one or two each; + 局长办公会, 民主评议)
    "home": 13,                      # + the data version for the summary and for the reminders (core.datacache), each area's to-dos (the tree rows; compliance's 6; the lapsed members 1)
    "todos": 12,                     # the same reminders as home's, paged in Python
    "access:users": 5,               # + the authenticator, the accounts with their roles
    "access:roles": 8,              # + the authenticator, the grants, and the form's accounts, organisations and units
    "audit:search": 6,               # + the authenticator, one page of entries, the names they refer to (one query; no filter, no search entry)
}


def _count(client, url, params):
    cache.clear()  # the computed page, not one kept since the last write (core.datacache)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _grow(bureau):
    by = Actor.system("test")
    # One more member of the cell, named to sort first in pinyin (安): the roster's first page shows a
    # cell member before and after growing, so both counts include the cells' branches.
    MemberFactory(name="安家", organization=bureau.cell_a)
    day = min(timezone.localdate(), dt.date(YEAR, 1, 25))
    for i in range(30):
        branch = make_org(bureau.general_branch, Organization.Kind.BRANCH, f"扩展支部{i}", code=f"QX{i:03d}")
        bulk_members(branch, 10, start=60_000 + i * 10)
        if i < 20:
            for kind in (MeetingKind.THEME_DAY, MeetingKind.GENERAL_MEETING):
                orglife_services.meeting_record(by=by, data=MeetingInput(
                    organization=branch, kind=kind, starts_at=dt.datetime.combine(
                        day, dt.time(9), tzinfo=timezone.get_current_timezone()), topics="学习"))


@pytest.mark.parametrize("route", list(PAGES))
def test_page_query_count_is_pinned_and_does_not_grow(bureau, client_for, route):
    persona, params = PAGES[route]
    client = client_for(persona)
    url = reverse(route)
    small = _count(client, url, params)
    _grow(bureau)
    large = _count(client, url, params)
    assert (small, large) == (PINNED[route], PINNED[route])
