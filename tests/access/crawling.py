"""The crawler shared by the access tests: a persona starts at a page and follows every same-site
link it is shown (GET only), breadth first. `tests/access/test_crawl.py` checks that no link is a
dead end; `tests/access/test_scan_ids.py` reads every page reached for records outside the grant.

Also here: the half year of organisational life both record in the bureau of tests/conftest.py."""

import datetime as dt
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.test import Client

from dangjian.audit.services import Actor
from dangjian.orglife import services as orglife
from dangjian.orglife.models import AgendaItem, MeetingKind
from dangjian.orglife.services import AgendaInput, MeetingInput

PAGE_CAP = 400
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SKIP = ("/static/", "/media/", "/accounts/logout/", "/api/")
DEAD = {403, 404, 500}


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


def crawl(client: Client, start: str = "/", cap: int = PAGE_CAP, *, follow: Callable[[str], bool] | None = None,
          seen: Callable[[str, object], None] | None = None) -> Crawl:
    """Breadth first from `start`; a redirect is followed as a link of the page that gave it.
    `follow(url)` may refuse a link (it is then neither visited nor counted); `seen(url, response)`
    is called with every response."""
    result = Crawl()
    queue = deque([start])
    result.linked_from[start] = []
    dead = {}
    while queue and result.pages < cap:
        url = queue.popleft()
        response = client.get(url)
        result.pages += 1
        if seen is not None:
            seen(url, response)
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
            if target is None or (follow is not None and not follow(target)):
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


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NOW.tzinfo)


def record_the_year(bureau) -> None:
    """Meetings at every level between January and June, decisions with votes, an attachment and a
    contact point: what a branch and the party office record in half a year."""
    by = Actor.system("test")
    b = bureau

    def meeting(org, kind, day, topics, agenda=(), **extra):
        return orglife.meeting_record(by=by, data=MeetingInput(
            organization=org, kind=kind, starts_at=at(day), topics=topics, agenda=list(agenda), **extra))

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
