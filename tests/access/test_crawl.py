"""No dead ends: every persona starts at the home page and follows every same-site link it is shown
(GET only), and no link answers 403, 404 or 500. A link is shown only where the reader may follow it
(`{% can %}`, decided by the access policy); a name the reader may not open is plain text.

The bureau of tests/conftest.py, with a year of organisational life recorded in it (meetings of
every level, agenda items with decisions, an attachment, a contact point) so the orglife pages have
links to follow, at a fixed moment so the crawl is the same on every run. Two more personas hold a
grant without descendants (the party office on 第一党总支 alone; a secretary on 第一党支部 but not
its 党小组): the names and organisations below them are outside their scope and must not be links.

Logging out, static files and fragments are not followed; each persona stops after PAGE_CAP pages."""

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from dangjian.access.roles import Role
from dangjian.audit.services import Actor
from dangjian.orglife import services as orglife
from dangjian.orglife.models import AgendaItem, MeetingKind
from dangjian.orglife.services import AgendaInput, MeetingInput
from tests.factories import make_user

PAGE_CAP = 400
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SKIP = ("/static/", "/media/", "/accounts/logout/", "/api/")
DEAD = {403, 404, 500}
# Pages each persona must reach at least (the crawl really walks the site, not just the home page).
# A persona with no business permission sees the home page only.
MIN_PAGES = {"party_office": 60, "branch_secretary": 25, "sibling_secretary": 20, "leader": 40,
             "inspection_office": 30, "unit_liaison": 2, "discipline": 30, "member": 2, "sys_admin": 2,
             "security_admin": 2, "audit_admin": 2, "no_role": 1, "narrow": 15, "narrow_secretary": 15}
PERSONAS = list(MIN_PAGES)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _same_site(base: str, href: str) -> str | None:
    if href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    url, _ = urldefrag(urljoin(f"http://testserver{base}", href))
    parts = urlsplit(url)
    if parts.netloc != "testserver":
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if path.startswith(SKIP) else path


@dataclass
class Crawl:
    pages: int = 0
    dead: list[str] = field(default_factory=list)  # "404 /url (linked from /page, …)", one per URL
    dead_links: int = 0  # links to those URLs, counted on every page that shows one
    linked_from: dict[str, list[str]] = field(default_factory=dict)


def crawl(client: Client, start: str = "/", cap: int = PAGE_CAP) -> Crawl:
    """Breadth first from `start`; a redirect is followed as a link of the page that gave it."""
    result = Crawl()
    queue = deque([start])
    result.linked_from[start] = []
    dead = {}
    while queue and result.pages < cap:
        url = queue.popleft()
        response = client.get(url)
        result.pages += 1
        if response.status_code in DEAD:
            dead[url] = response.status_code
            continue
        if response.status_code in (301, 302):
            targets = [response["Location"]]
        elif response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            parser = _Links()
            parser.feed(response.content.decode())
            targets = parser.hrefs
        else:
            targets = []
        for href in targets:
            target = _same_site(url, href)
            if target is None:
                continue
            if target not in result.linked_from:
                result.linked_from[target] = []
                queue.append(target)
            result.linked_from[target].append(url)
    for url, status in dead.items():
        referrers = list(dict.fromkeys(result.linked_from[url])) or ["start"]
        result.dead.append(f"{status} {url} (linked from {', '.join(referrers)})")
        result.dead_links += max(len(result.linked_from[url]), 1)
    return result


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NOW.tzinfo)


def record_the_year(bureau) -> None:
    """Meetings at every level between January and June, decisions with votes, an attachment and a
    contact point: what a branch and the party office record in half a year."""
    by = Actor.system("test")
    b = bureau

    def meeting(org, kind, day, topics, agenda=(), **extra):
        return orglife.meeting_record(by=by, data=MeetingInput(
            organization=org, kind=kind, starts_at=_at(day), topics=topics, agenda=list(agenda), **extra))

    C = AgendaItem.Category
    first = meeting(b.branch_a, MeetingKind.GENERAL_MEETING, dt.date(2026, 1, 12), "年度工作计划", agenda=[
        AgendaInput(title="选举支部组织委员", category=C.ELECTION, votes_for=4, votes_against=0,
                    votes_abstain=0, decision="通过，印发执行"),
        AgendaInput(title="慰问困难党员经费", category=C.ORDINARY, amount=Decimal("12.5"), votes_for=3,
                    votes_against=1, votes_abstain=0, decision="同意列支")])
    first.attachments.create(name="签到表.pdf", file=ContentFile(b"%PDF-1.4", name="sign.pdf"))
    meeting(b.branch_a, MeetingKind.COMMITTEE_MEETING, dt.date(2026, 2, 3), "发展党员研究", agenda=[
        AgendaInput(title="确定入党积极分子", category=C.ORDINARY, votes_for=1, votes_against=0, votes_abstain=0,
                    decision="同意")])
    meeting(b.branch_a, MeetingKind.PARTY_LECTURE, dt.date(2026, 3, 20), "学习贯彻全会精神",
            lecturer=b.member_a, study_tags=["学习贯彻党的二十大精神"])
    meeting(b.cell_a, MeetingKind.CELL_MEETING, dt.date(2026, 4, 8), "学习党章")
    meeting(b.branch_b, MeetingKind.THEME_DAY, dt.date(2026, 4, 28), "志愿服务")
    meeting(b.branch_b, MeetingKind.GENERAL_MEETING, dt.date(2026, 5, 11), "党费收缴情况", agenda=[
        AgendaInput(title="党费使用计划", category=C.ORDINARY, amount=Decimal("3"), votes_for=4, votes_against=0,
                    votes_abstain=0, decision="通过")])
    meeting(b.root, MeetingKind.LEADING_GROUP_MEETING, dt.date(2026, 5, 20), "党组会", agenda=[
        AgendaInput(title="科级干部任免", category=C.KEY_APPOINTMENT, votes_for=1, votes_against=0,
                    votes_abstain=0, decision="同意任免")])
    orglife.contact_point_set(by=by, leader=bureau.member_b, organization=b.branch_a, year=2026)


@pytest.fixture
def recorded_bureau(bureau, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    bureau.users["narrow"] = make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    bureau.users["narrow_secretary"] = make_user("zhibu_a", Role.BRANCH_SECRETARY, bureau.branch_a,
                                                 include_descendants=False)
    with time_machine.travel(NOW, tick=False):
        record_the_year(bureau)
        yield bureau


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_link_leads_to_a_dead_end(recorded_bureau, persona):
    client = Client()
    client.force_login(recorded_bureau.users[persona])
    client.raise_request_exception = False  # a 500 is a dead end to report, not a crash of the crawl
    result = crawl(client)
    print(f"\n{persona}: {result.pages} pages, {len(result.dead)} dead URLs, {result.dead_links} dead links")
    assert result.dead == [], f"{persona}: {len(result.dead)} dead links:\n" + "\n".join(result.dead)
    assert result.pages >= MIN_PAGES[persona]


def test_the_crawler_reports_a_dead_link(recorded_bureau, client_for):
    """The crawler itself: a link to a page the reader may not open is reported with its referrer."""
    client = client_for("inspection_office")
    result = crawl(client, start=reverse("organizations:members"), cap=5)
    assert result.dead == [f"404 {reverse('organizations:members')} (linked from start)"]
    assert result.dead_links == 1


# ---------------------------------------------------------------- the links themselves

def test_inspection_office_sees_no_roster_button_and_committee_names_as_plain_text(bureau, client_for):
    page = client_for("inspection_office").get(reverse("organizations:detail", args=[bureau.branch_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("organizations:members") not in html
    assert reverse("organizations:member_detail", args=[bureau.member_a.pk]) not in html
    assert "张三" in html  # the secretary's name is still shown, as text


def test_a_grant_without_descendants_shows_names_below_it_as_plain_text(bureau):
    narrow = make_user("zongzhi", Role.PARTY_OFFICE, bureau.general_branch, include_descendants=False)
    client = Client()
    client.force_login(narrow)
    html = client.get(reverse("organizations:detail", args=[bureau.general_branch.pk])).content.decode()
    assert "李四" in html  # 第一党总支's secretary belongs to 第二党支部, outside this grant
    assert reverse("organizations:member_detail", args=[bureau.member_b.pk]) not in html
    assert f"{reverse('organizations:members')}?organization={bureau.general_branch.pk}" in html


def test_branch_page_links_its_calendar_ledger_and_meetings(recorded_bureau):
    client = Client()
    client.force_login(recorded_bureau.users["branch_secretary"])
    org = recorded_bureau.branch_a
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("organizations:detail", args=[org.pk])).content.decode()
        links = {
            "组织生活日历": f"{reverse('orglife:calendar', args=[org.pk])}?year=2026",
            "会议记录": f"{reverse('orglife:meetings')}?org={org.pk}&amp;year=2026",
            "台账": f"{reverse('orglife:ledger', args=[org.pk])}?year=2026",
        }
        for words, href in links.items():
            assert f'href="{href}"' in html, words
            response = client.get(href.replace("&amp;", "&"))
            assert response.status_code == 200, words
        meetings = client.get(links["会议记录"].replace("&amp;", "&")).content.decode()
    assert "年度工作计划" in meetings and "志愿服务" not in meetings  # branch A's meetings, not branch B's


@pytest.mark.parametrize(("persona", "whose", "expected"), [
    ("member", "member_a", "True"),  # a member's own record
    ("member", "member_b", "False"),
    ("party_office", "member_b", "True"),
    ("inspection_office", "member_a", "False"),
    ("unit_liaison", "member_b", "False"),
])
def test_can_tag_asks_the_policy_about_a_member(bureau, rf, persona, whose, expected):
    from django.template import Context, Template

    request = rf.get("/")
    request.user = bureau.users[persona]
    template = Template('{% load access %}{% can "view_members" m as may %}{{ may }}')
    assert template.render(Context({"request": request, "m": getattr(bureau, whose)})) == expected


def test_can_tag_refuses_a_misspelt_permission(bureau, rf):
    from django.template import Context, Template

    request = rf.get("/")
    request.user = bureau.users["party_office"]
    with pytest.raises(ValueError):
        Template('{% load access %}{% can "view_member" %}').render(Context({"request": request}))


def test_a_reader_who_may_not_record_sees_missing_periods_as_marks_not_links(recorded_bureau):
    """The compliance matrix marks a missing meeting with a link to record it; for the inspection
    office, who may not record, the mark stays and the link (once to "#") goes."""
    pages = {}
    for persona in ("inspection_office", "party_office"):
        client = Client()
        client.force_login(recorded_bureau.users[persona])
        with time_machine.travel(NOW, tick=False):
            pages[persona] = client.get(reverse("orglife:matrix"), {"year": 2026}).content.decode()
    missing = 'data-state="missing"'
    assert pages["inspection_office"].count(missing) == pages["party_office"].count(missing) > 0
    assert 'href="#"' not in pages["inspection_office"].replace('href="#" role="button"', "")  # the menu toggle
    assert f'<span class="badge rounded-pill text-bg-danger text-decoration-none" {missing}' in pages["inspection_office"]
    assert f'<a class="badge rounded-pill text-bg-danger text-decoration-none" {missing}' in pages["party_office"]
