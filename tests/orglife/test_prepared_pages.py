"""The compliance matrix and the 台账 are prepared in Python once per page, not per cell: the matrix
badges built by the view (the template tag returns them), compliance counted from running monthly
totals, and the ledger's cell formats worked out once and copied. Each shortcut must give exactly
what the long way gives."""

import datetime as dt
import io
import zipfile
from unittest import mock

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl.worksheet.worksheet import Worksheet

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor
from dangjian.core.templatetags import dangjian as tags
from dangjian.organizations.models import Organization
from dangjian.orglife import selectors, views
from dangjian.orglife.models import Attendance, Guest, MeetingKind
from dangjian.orglife.paperwork import ledger as ledger_module
from dangjian.orglife.paperwork import ledger_xlsx
from dangjian.orglife.services import GuestInput, MeetingInput, meeting_record
from tests.factories import MemberFactory

BY = Actor.system("test")
NOW = dt.datetime(2026, 11, 30, 10, 0)
K = MeetingKind


def at(y, m, d, h=14, minute=0):
    return dt.datetime(y, m, d, h, minute, tzinfo=timezone.get_current_timezone())


def record(org, kind, starts_at, **extra):
    return meeting_record(by=BY, data=MeetingInput(organization=org, kind=kind, starts_at=starts_at,
                                                   topics="学习", **extra))


@pytest.fixture
def year_of_meetings(bureau):
    """Theme days at both branches in most months of 2026, a general meeting and a lecture in Q1 and
    Q3 at 第一党支部, a cell meeting, and a theme day with an absence and a guest."""
    for month in (1, 2, 3, 5, 6, 7, 9, 10):
        record(bureau.branch_a, K.THEME_DAY, at(2026, month, 8))
        record(bureau.branch_b, K.THEME_DAY, at(2026, month, 12))
    for month in (2, 8):
        record(bureau.branch_a, K.GENERAL_MEETING, at(2026, month, 20))
        record(bureau.branch_a, K.PARTY_LECTURE, at(2026, month + 1, 3))
    record(bureau.cell_a, K.CELL_MEETING, at(2026, 4, 16))
    away = MemberFactory(name="王五", organization=bureau.branch_a)
    record(bureau.branch_a, K.THEME_DAY, at(2026, 11, 6), absences={away.pk: (Attendance.AbsenceReason.SICK, "")},
           guests=[GuestInput(name="赵六", role=Guest.Role.SUPERVISOR)])


# ---------------------------------------------------------------- the matrix

@time_machine.travel(NOW, tick=False)
def test_the_matrix_badges_are_built_once_for_the_page_not_by_a_tag_reversing_urls_per_badge(
        bureau, client_for, year_of_meetings):
    with mock.patch.object(tags, "reverse", wraps=tags.reverse) as tag_reverse:
        page = client_for("party_office").get(reverse("orglife:matrix"), {"year": 2026}).content.decode()
    assert page.count('class="badge rounded-pill') > 50
    assert tag_reverse.call_count == 0


@time_machine.travel(NOW, tick=False)
def test_each_rows_month_html_is_exactly_what_the_page_shows_in_that_month(bureau, client_for, year_of_meetings):
    """row.month_html is for a template that prints a month's badges without a tag per badge: it
    must be the same markup the page shows today."""
    response = client_for("party_office").get(reverse("orglife:matrix"), {"year": 2026})
    page = response.content.decode()
    user = bureau.users["party_office"]
    rows = views._decorate(selectors.compliance(policy.organizations_under(user, Perm.VIEW_MEETINGS, bureau.root),
                                                year=2026, today=dt.date(2026, 11, 30)), year=2026, user=user).rows
    assert len(rows) >= 4
    for row in rows:
        assert [m for m, _ in row.month_html] == [str(m) for m in range(1, 13)]
        for month, badges in row.month_html:
            assert f'<td class="small" data-month="{month}">{badges}</td>' in page
    branch_a = next(r for r in rows if r.org == bureau.branch_a)
    assert 'data-state="missing" data-rule="theme_day"' in dict(branch_a.month_html)["4"]
    # The template loops over rows only: each row is printed as the view prepared it.
    for row in rows:
        assert row.html in page
        assert row.html.startswith(f'<tr data-org="{row.org.code}"><td class="text-nowrap tree-indent-{row.org.depth - 3}">'
                                   f'<a href="{reverse("orglife:calendar", args=[row.org.pk])}?year=2026">{row.org.name}</a>')
    assert f"?organization={bureau.branch_a.pk}&amp;kind=theme_day" in dict(branch_a.month_html)["4"]


@time_machine.travel(NOW, tick=False)
def test_the_calendar_still_builds_its_badges_with_the_tag(bureau, client_for, year_of_meetings):
    page = client_for("branch_secretary").get(reverse("orglife:calendar", args=[bureau.branch_a.pk]),
                                              {"year": 2026}).content.decode()
    create = reverse("orglife:meeting_create")
    assert f'href="{create}?organization={bureau.branch_a.pk}&amp;kind=theme_day">✗党日</a>' in page  # April
    assert f'href="{reverse("orglife:meetings")}?org={bureau.branch_a.pk}&amp;year=2026&amp;kind=theme_day">✓党日' in page


def _matrix_body(client, **params) -> str:
    page = client.get(reverse("orglife:matrix"), {"year": 2026, **params}).content.decode()
    return page.split('<tbody>', 1)[1].split("</tbody>", 1)[0]


@time_machine.travel(NOW, tick=False)
def test_the_matrix_page_is_kept_until_the_next_write_and_each_reader_gets_their_own(
        bureau, client_for, year_of_meetings, django_assert_max_num_queries):
    office, secretary, leader = (client_for(p) for p in ("party_office", "branch_secretary", "leader"))
    before = _matrix_body(office)
    assert 'data-state="missing" data-rule="theme_day"' in before.split(f'data-org="{bureau.branch_a.code}"')[1]
    with django_assert_max_num_queries(9):  # session, user, grants, scope, version, menus: no compliance
        assert _matrix_body(office) == before
    mine = _matrix_body(secretary)
    assert mine != before and f'data-org="{bureau.branch_b.code}"' not in mine  # not their branch's page
    create = reverse("orglife:meeting_create")
    assert create in before and create not in _matrix_body(leader)  # same scope, may not record
    for month in range(1, 11):  # branch A's theme days, January to October: nothing owed is left
        record(bureau.branch_a, K.THEME_DAY, at(2026, month, 25))
    after = _matrix_body(office)
    assert 'data-state="missing" data-rule="theme_day"' not in after.split(f'data-org="{bureau.branch_a.code}"')[1].split("</tr>")[0]


# ---------------------------------------------------------------- running totals

@time_machine.travel(dt.datetime(2027, 1, 5, 10, 0), tick=False)
def test_a_meeting_at_midnight_starting_a_quarter_counts_in_that_quarter_and_the_last_minute_of_the_year_in_it(
        bureau):
    """Periods are counted from running totals "up to the end of month m" in local time: a general
    meeting at 00:00 on 1 April is Q2's, not Q1's, one at 23:59 on 31 December is Q4's, and one at
    00:00 on 1 January of the next year is not the year's at all."""
    record(bureau.branch_a, K.GENERAL_MEETING, at(2026, 4, 1, 0))
    record(bureau.branch_a, K.GENERAL_MEETING, at(2026, 12, 31, 23, 59))
    record(bureau.branch_a, K.GENERAL_MEETING, at(2027, 1, 1, 0))
    table = selectors.compliance(Organization.objects.filter(pk=bureau.branch_a.pk), year=2026,
                                 today=dt.date(2027, 1, 5))
    held = {c.month: c.held for c in table.rows[0].cells if c.requirement.key == "general_meeting"}
    assert held == {3: 0, 6: 1, 9: 0, 12: 1}


# ---------------------------------------------------------------- the 台账

class _Forgetful(dict):
    """A cache that never keeps anything: every cell goes through openpyxl's setters and every merge
    through ws.merge_cells, as the ledger was written before it learnt formats once."""

    def __setitem__(self, key, value):
        pass


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist() if name != "docProps/core.xml"}  # its time stamps


@time_machine.travel(NOW, tick=True)
def test_the_ledger_copies_formats_and_merges_exactly_as_openpyxls_setters_and_merge_cells_give_them(
        bureau, year_of_meetings, monkeypatch):
    officer = bureau.users["party_office"]
    merges = mock.patch.object(Worksheet, "merge_cells", autospec=True, side_effect=Worksheet.merge_cells)
    with merges as merge_cells:
        quick = ledger_xlsx(user=officer, organization=bureau.root, year=2026)
    quick_merges = merge_cells.call_count

    def forgetful_init(self):
        self._formats, self._merged = _Forgetful(), _Forgetful()

    monkeypatch.setattr(ledger_module._Cells, "__init__", forgetful_init)
    with merges as merge_cells:
        slow = ledger_xlsx(user=officer, organization=bureau.root, year=2026)
    assert merge_cells.call_count > 3 * quick_merges  # the quick way copied most merges
    assert _parts(quick) == _parts(slow)


@time_machine.travel(NOW, tick=False)
def test_a_missing_badge_links_to_the_form_only_where_the_reader_may_record(bureau, client):
    """A leader who is also branch A's secretary views the whole bureau but records only for branch A:
    branch A's gaps link to the form, branch B's are plain badges."""
    from dangjian.access.roles import Role
    from tests.factories import grant

    user = bureau.users["leader"]
    grant(user, Role.BRANCH_SECRETARY, bureau.branch_a)
    client.force_login(user)
    page = client.get(reverse("orglife:matrix"), {"year": 2026}).content.decode()

    def row(code):
        start = page.index(f'data-org="{code}"')
        return page[start:page.index("</tr>", start)]

    assert 'data-state="missing"' in row("BA") and 'data-state="missing"' in row("BB")
    assert "meetings/new/?organization=" in row("BA")
    assert "meetings/new/" not in row("BB")


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("after", ["x\ny", "0001'--", "000"])
def test_a_matrix_anchor_that_is_no_tree_path_starts_at_the_first_page(bureau, client_for, year_of_meetings, after):
    client = client_for("party_office")
    first = _matrix_body(client)
    assert _matrix_body(client, after=after) == first
