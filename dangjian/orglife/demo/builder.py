"""Plans and records two years of meetings for the demo bureau (see the package docstring)."""

import datetime as dt
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Q
from django.utils import timezone

from dangjian.organizations.models import Appointment, Member, Membership, Organization, Unit
from dangjian.organizations.selectors import appointments_on
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import selectors, services
from dangjian.orglife.models import Guest
from dangjian.orglife.services import AgendaInput, GuestInput, MeetingInput

if TYPE_CHECKING:
    from dangjian.core.demo_context import DemoContext

from dangjian.orglife.demo.data import (
    ABSENCE_NOTES,
    CAMPAIGN,
    CAMPAIGN_TOPICS,
    CELL_TOPICS,
    CENTRAL_GROUP_TOPICS,
    COMMITTEE_TOPICS,
    GAP_BRANCH,
    GENERAL_TOPICS,
    GENERIC_CAMPAIGN_TOPICS,
    HELD,
    HOLIDAYS,
    KEY_APPOINTMENTS,
    LARGE_FUNDS,
    LEADERS_BRANCH,
    LECTURE_TOPICS,
    MAJOR_MATTERS,
    MAJOR_PROJECTS,
    MK,
    ORDINARY_ITEMS,
    ORGAN_COMMITTEE_CODE,
    PLENUMS,
    QUARTERS,
    ROOT_CODE,
    THEME_BODIES,
    THEME_DAYS,
    UNIT_KIND_THEMES,
    UNIT_THEMES,
    YEARLY_ITEMS,
    Cat,
    K,
    Reason,
    spring_festival,
)


def committee_gap(committee_months: list[int]) -> list[int]:
    """The two months in which GAP_BRANCH held no 支委会, chosen among its finished committee months
    of the gap year: near a third and two thirds of the way through them."""
    if len(committee_months) < 2:
        return []
    first = committee_months[len(committee_months) // 3]
    second = committee_months[(2 * len(committee_months)) // 3]
    if second == first:
        second = committee_months[-1]
    return [first, second]


def gap_year(today: dt.date) -> int:
    """The current year, unless fewer than three of its months are finished (then last year)."""
    return today.year if today.month > 3 else today.year - 1


# ---------------------------------------------------------------- counts


@dataclass
class _Item:
    title: str
    category: str
    voted: bool = True
    amount: Decimal | None = None
    chair_spoke_last: bool = True
    decision: str = ""


@dataclass
class _Plan:
    org: Organization
    kind: str
    day: dt.date
    time: dt.time
    topics: str
    place: str
    host: Member | None = None
    recorder: Member | None = None
    lecturer: Member | None = None
    lecturer_name: str = ""
    tags: tuple[str, ...] = ()
    body: str = ""
    appraisal: bool = False
    guests: list[GuestInput] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    accept: list[Member] = field(default_factory=list)  # new members accepted (党员大会)
    absent_count: int | None = None  # exactly this many absent (the quorum gap)
    late: bool = False
    covers_year: int | None = None  # 所属年度 of a yearly meeting held early the next year
    also_counts: tuple[str, ...] = ()  # other forms the session served

    @property
    def starts_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.day, self.time))


def _fmt(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


@cache
def _spring_festival(year: int) -> tuple[dt.date, dt.date]:
    return spring_festival(year)


def _workday(day: dt.date) -> bool:
    first, last = _spring_festival(day.year)
    return day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS and not first <= day <= last


def studied_on(day: dt.date, rng) -> tuple[str, tuple[str, ...]] | None:
    """(topic, tags) for a session studying what was being studied on `day`: the study campaign in
    effect (rule data), else the latest plenum's spirit within a year of it; None when neither."""
    campaigns = orglife_rules.campaigns_on(day)
    if campaigns:
        tag = campaigns[-1].tag
    else:
        closed = [d for d in PLENUMS if d < day <= d + dt.timedelta(days=365)]
        if not closed:
            return None
        tag = PLENUMS[max(closed)]
    return rng.choice(CAMPAIGN_TOPICS.get(tag, GENERIC_CAMPAIGN_TOPICS)).format(c=tag), (tag,)


def _month_days(year: int, month: int) -> list[dt.date]:
    return [dt.date(year, month, d) for d in range(1, selectors.month_end(year, month).day + 1)]


def _weekdays(year: int, month: int, weekday: int) -> list[dt.date]:
    return [d for d in _month_days(year, month) if d.weekday() == weekday and _workday(d)]


def _workday_from(day: dt.date, weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)) -> dt.date | None:
    """The first working day on or after `day`, in the same month, on one of `weekdays`."""
    while True:
        if _workday(day) and day.weekday() in weekdays:
            return day
        day += dt.timedelta(days=1)
        if day.day == 1:
            return None


class _Builder:
    def __init__(self, ctx: "DemoContext"):
        self.today = ctx.today
        self.by = ctx.by
        self.rng = ctx.rng
        self.start = dt.date(self.today.year - 1, 1, 1)
        self.plans: list[_Plan] = []
        self.draws: dict[tuple[int, int], list] = {}
        # Answers of the selectors, kept while they cannot change (see `changes`).
        self.posts: dict[tuple, list[Appointment]] = {}
        self.attendees: dict[tuple, list[Member]] = {}
        self.emptied: dict[int, dt.date | None] = {}

    # ---- loading

    def build(self) -> None:
        self.load()
        for index, branch in enumerate(self.branches):
            self.plan_branch(index, branch)
        for cell in self.cells:
            self.plan_cell(cell)
        self.plan_leading_group()
        self.set_contact_points()
        self.plan_late()
        self.record()

    def load(self) -> None:
        self.root = Organization.objects.get(code=ROOT_CODE)
        orgs = list(Organization.objects.filter(path__startswith=self.root.path).order_by("path"))
        self.orgs = {o.code: o for o in orgs}
        self.by_path = {o.path: o for o in orgs}
        self.branches = [o for o in orgs if o.kind == K.BRANCH]
        self.cells = [o for o in orgs if o.kind == K.CELL]
        # Members in full: the expected attendees come back with their names only.
        self.members = {m.pk: m for m in Member.objects.all()}
        self.workplace = self.workplaces()
        # Who belonged to an organisation, or held a post in it, changes only on the day a stay or
        # post starts or ends. Asked about a day, the selectors' answer is kept until the next such
        # day: ~400 queries instead of ~5,000 (each costs a few milliseconds of ORM work).
        posts = list(Appointment.objects.filter(organization__in=orgs).values_list("organization_id", "start", "end"))
        stays = list(Membership.objects.filter(organization__path__startswith=self.root.path)
                     .values_list("organization__path", "start", "end"))
        self.post_days = {o.pk: sorted({d for pk, *days in posts if pk == o.pk for d in days if d}) for o in orgs}
        self.stay_days = {o.pk: sorted({d for path, *days in stays if path.startswith(o.path) for d in days if d})
                          for o in orgs}
        self.secretary = self.posts_on(self.root, self.today)[0].member
        self.office_head = self.first_member(LEADERS_BRANCH)  # 办公室主任: records the 党组's meetings

    def workplaces(self) -> dict[int, Unit]:
        """Per branch, the unit most of the people who ever belonged to it work in (two queries)."""
        units = {u.pk: u for u in Unit.objects.all()}
        tally: dict[int, Counter] = {b.pk: Counter() for b in self.branches}
        stays = Membership.objects.filter(organization__path__startswith=self.root.path)
        for path, unit_id in stays.values_list("organization__path", "member__unit_id"):
            branch = next((b for b in self.branches if path.startswith(b.path)), None)
            if branch is not None and unit_id is not None:
                tally[branch.pk][unit_id] += 1
        return {pk: units[counter.most_common(1)[0][0]] for pk, counter in tally.items() if counter}

    def first_member(self, code: str) -> Member | None:
        org = self.orgs[code]
        stay = (Membership.objects.filter(organization__path__startswith=org.path)
                .exclude(member__in=Appointment.objects.filter(organization=self.root).values("member_id"))
                .select_related("member").order_by("member_id").first())
        return stay.member if stay else None

    # ---- helpers

    def posts_on(self, org: Organization, day: dt.date) -> list[Appointment]:
        """Posts held on `day`, secretary first, then deputies, then committee members."""
        key = (org.pk, bisect_right(self.post_days[org.pk], day))
        if key not in self.posts:
            self.posts[key] = list(appointments_on(org, day))
        return self.posts[key]

    def parent(self, org: Organization) -> Organization | None:
        return self.by_path.get(org.path[:-Organization.steplen])

    def expected(self, org: Organization, kind: str, day: dt.date) -> list[Member]:
        """应到, from the service that records the meeting (which asks again and refuses an absence
        it does not expect), with the members in full."""
        key = (org.pk, kind, bisect_right(self.post_days[org.pk], day), bisect_right(self.stay_days[org.pk], day))
        if key not in self.attendees:
            self.attendees[key] = [self.members[m.pk] for m in services.expected_attendees(org, kind, day)]
        return self.attendees[key]

    def emptied_on(self, org: Organization) -> dt.date | None:
        """The day the last member left `org` (about to be dissolved), or None while it has members."""
        if org.pk not in self.emptied:
            stays = Membership.objects.filter(organization__path__startswith=org.path).aggregate(
                n=Count("id"), open=Count("id", filter=Q(end__isnull=True)), last=Max("end"))
            self.emptied[org.pk] = stays["last"] if stays["n"] and not stays["open"] else None
        return self.emptied[org.pk]

    def before_leaving(self, org: Organization, day: dt.date, days: list[dt.date]) -> dt.date:
        """`day`, or, if the members have all left by then, the first of `days` before they left
        (a branch that is being wound up holds its last meetings early)."""
        emptied = self.emptied_on(org)
        if emptied is None or day < emptied:
            return day
        return next((d for d in days if org.founded_on <= d < emptied), day)

    def live(self, org: Organization, day: dt.date) -> bool:
        return (org.founded_on <= day < self.today
                and (org.dissolved_on is None or day < org.dissolved_on))

    def months(self):
        year, month = self.start.year, 1
        while dt.date(year, month, 1) < self.today:
            yield year, month
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)

    def places(self, org: Organization) -> list[str]:
        """The rooms of the unit the branch's people work in (the bureau's own for its departments)."""
        unit = self.workplace.get(org.pk)
        if unit is None or unit.kind == Unit.Kind.DEPARTMENT:
            return ["局机关三楼会议室", "局机关五楼党员活动室", "局机关二楼小会议室"]
        if unit.kind == Unit.Kind.BUREAU:  # retired cadres
            return ["局老干部活动中心"]
        if unit.kind == Unit.Kind.BRANCH_OFFICE or unit.code == "JTJ-ZFZD":
            return [f"{unit.name}党员活动室", f"{unit.name}三楼会议室"]
        return [f"{unit.name}会议室", f"{unit.name}党员活动室"]

    def retired(self, branch: Organization) -> bool:
        """The retired cadres' branch: its people belong to the bureau itself, not a department."""
        unit = self.workplace.get(branch.pk)
        return unit is not None and unit.kind == Unit.Kind.BUREAU

    def themes(self, org: Organization) -> list[str]:
        unit = self.workplace.get(org.pk)
        if unit is None:
            return []
        return UNIT_THEMES.get(unit.code) or UNIT_KIND_THEMES.get(unit.kind, [])

    def place(self, org: Organization) -> str:
        return self.rng.choice(self.places(org))

    def leader_of(self, org: Organization, day: dt.date) -> tuple[Member | None, Member | None]:
        """(host, recorder) on `day`: the secretary (or deputy, or a committee member) and the next post."""
        posts = self.posts_on(org, day)
        host = posts[0].member if posts else None
        recorder = posts[1].member if len(posts) > 1 else None
        if host is None:  # no post yet: the member who will be secretary, if already in the branch
            later = (Appointment.objects.filter(organization=org, start__gt=day, role=Appointment.Role.SECRETARY)
                     .select_related("member").order_by("start", "pk").first())
            host = later.member if later else None
        return host, recorder

    def add(self, plan: _Plan) -> _Plan | None:
        if not self.live(plan.org, plan.day):
            return None
        self.plans.append(plan)
        return plan

    # ---- branches

    def plan_branch(self, index: int, branch: Organization) -> None:
        rng = self.rng
        week = index % 4  # each branch keeps "its" Friday of the month (每月相对固定1天)
        # The 党组成员 spend Friday afternoons at their contact branches (每周五下午参加定点联系党支部的
        # 学习活动), so their own branch studies on Wednesdays.
        study_day = 2 if branch.code == LEADERS_BRANCH else 4
        themes = self.themes(branch)
        gap_months = self.committee_gap_months(branch)
        accepted_quarters = self.plan_acceptances(branch)
        lecture_topics = LECTURE_TOPICS[index % len(LECTURE_TOPICS):] + LECTURE_TOPICS[:index % len(LECTURE_TOPICS)]
        for year, month in self.months():
            study_days = _weekdays(year, month, study_day)
            # 主题党日: the branch's Friday afternoon; a new branch holds its first one soon after founding.
            day = study_days[min(week, len(study_days) - 1)]
            if day < branch.founded_on:
                day = next((f for f in study_days if f >= branch.founded_on), day)
            day = self.before_leaving(branch, day, study_days)
            topic, outing, tags = rng.choice(THEME_DAYS[month])
            if tags == CAMPAIGN:  # what was being studied that day, if anything; else the month's first theme
                studied = studied_on(day, rng)
                topic, outing, tags = (studied[0], "", studied[1]) if studied else next(
                    entry for entry in THEME_DAYS[month] if entry[2] != CAMPAIGN)
            if rng.random() < 0.3 and themes:
                topic, outing, tags = rng.choice(themes), "", ()
            host, recorder = self.leader_of(branch, day)
            self.add(_Plan(branch, MK.THEME_DAY, day, dt.time(14, 30), topic, outing or self.place(branch),
                           host=host, recorder=recorder, tags=tags, body=rng.choice(THEME_BODIES)))
            # 支委会: early in the month, where the branch has a committee (3 or more posts).
            day = _workday_from(dt.date(year, month, 2 + rng.randrange(6)), (1, 2, 3))
            end = selectors.month_end(year, month)
            if len(self.posts_on(branch, day)) < selectors.COMMITTEE_MINIMUM <= len(self.posts_on(branch, end)):
                # The committee was elected during the month: its first meeting follows the election.
                elected = max(a.start for a in self.posts_on(branch, end))
                day = _workday_from(elected) or elected
            if len(self.posts_on(branch, day)) >= selectors.COMMITTEE_MINIMUM and (year, month) not in gap_months:
                host, recorder = self.leader_of(branch, day)
                self.add(_Plan(branch, MK.COMMITTEE_MEETING, day, dt.time(rng.choice((9, 15)), 0),
                               rng.choice(COMMITTEE_TOPICS), self.place(branch), host=host, recorder=recorder,
                               body="会议通报了上月工作完成情况，研究了本月有关事项，明确了责任分工。"))
            quarter = (month - 1) // 3
            # 党课: once a quarter, on another Friday of one of the quarter's first two months.
            if month % 3 == 1 + (index + year) % 2:
                day = study_days[(week + 2) % len(study_days)]
                title, tags = lecture_topics[(4 * (year - self.start.year) + quarter) % len(lecture_topics)]
                if tags == CAMPAIGN:
                    title, tags = studied_on(day, rng) or ("新时代交通人的初心使命", ())
                host, recorder = self.leader_of(branch, day)
                self.add(_Plan(branch, MK.PARTY_LECTURE, day, dt.time(15, 0), f"党课：{title}", self.place(branch),
                               host=host, recorder=recorder, lecturer=host, tags=tags))
            # 组织生活会 with 民主评议党员: in December, held as the quarter's 党员大会 by every other branch
            # (recorded once, counted for both); a third of the branches hold it in January for the
            # year before (所属年度).
            in_january = index % 3 == 0
            as_general_meeting = index % 2 == 1
            # 党员大会: once a quarter in its last month, unless one was held to accept a new member
            # or the December 组织生活会 was held as one.
            if month % 3 == 0 and (year, quarter) not in accepted_quarters and not (
                    month == 12 and as_general_meeting and not in_january):
                day = _workday_from(dt.date(year, month, 10 + rng.randrange(12)), (2, 3))
                if day is not None:
                    day = self.before_leaving(branch, day, [d for d in _month_days(year, month) if _workday(d)])
                    host, recorder = self.leader_of(branch, day)
                    self.add(_Plan(branch, MK.GENERAL_MEETING, day, dt.time(15, 0), rng.choice(GENERAL_TOPICS),
                                   self.place(branch), host=host, recorder=recorder,
                                   body="会议通报了支部工作情况，部署了下阶段重点任务。"))
            if (month == 12 and not in_january) or (month == 1 and in_january):
                covers = year if month == 12 else year - 1
                first_day = dt.date(year, 12, 8 + rng.randrange(14)) if month == 12 else dt.date(year, 1, 6 + rng.randrange(10))
                day = _workday_from(first_day, (1, 2, 3, 4))
                if day is not None and (month == 12 or branch.founded_on <= dt.date(covers, 7, 1)):
                    host, recorder = self.leader_of(branch, day)
                    combined = as_general_meeting and month == 12
                    self.add(_Plan(
                        branch, MK.ORGANIZATIONAL_LIFE_MEETING, day, dt.time(14, 30),
                        f"{covers}年度组织生活会暨民主评议党员" + ("（以支部党员大会形式召开）" if combined else ""),
                        self.place(branch), host=host, recorder=recorder, covers_year=covers,
                        also_counts=(MK.GENERAL_MEETING,) if combined else (),
                        appraisal=True, guests=self.supervisors(branch, day),
                        body="会前广泛征求意见、开展谈心谈话；会上支部书记代表支委会作对照检查，党员逐一开展批评和自我批评，"
                             "并开展民主评议党员。"))

    def committee_gap_months(self, branch: Organization) -> set[tuple[int, int]]:
        # Deliberate gap: GAP_BRANCH held no 支委会 in two finished months of the gap year.
        if branch.code != GAP_BRANCH:
            return set()
        year = gap_year(self.today)
        finished = [m for m in range(1, 13) if selectors.month_end(year, m) < self.today
                    and dt.date(year, m, 1) >= branch.founded_on
                    and len(self.posts_on(branch, selectors.month_end(year, m))) >= selectors.COMMITTEE_MINIMUM]
        return {(year, m) for m in committee_gap(finished)}

    def plan_acceptances(self, branch: Organization) -> set[tuple[int, int]]:
        """A 党员大会 on the day each new member was accepted (their joining day, if a working day)."""
        quarters = set()
        stays = (Membership.objects.filter(organization__path__startswith=branch.path,
                                           member__category=Member.Category.PROBATIONARY,
                                           member__joined_on__gte=self.start, member__joined_on__lt=self.today)
                 .select_related("member").order_by("member__joined_on", "member_id"))
        for stay in stays:
            member = stay.member
            if stay.start != member.joined_on or not _workday(member.joined_on):
                continue  # joined elsewhere, or on a weekend
            day = member.joined_on
            host, recorder = self.leader_of(branch, day)
            plan = self.add(_Plan(
                branch, MK.GENERAL_MEETING, day, dt.time(15, 0), f"讨论接收{member.name}同志为中共预备党员",
                self.place(branch), host=host, recorder=recorder, accept=[member],
                body=f"会议听取了{member.name}同志的入党志愿、入党介绍人和支部委员会的审查意见，经无记名投票表决，"
                     "同意接收其为中共预备党员，报上级党组织审批。"))
            if plan is not None:
                quarters.add((day.year, (day.month - 1) // 3))
        return quarters

    def supervisors(self, branch: Organization, day: dt.date) -> list[GuestInput]:
        """上级党组织派员指导: the secretary of the branch's parent (总支 or 机关党委) that day."""
        parent = self.parent(branch)
        posts = self.posts_on(parent, day) if parent else []
        if not posts:
            return []
        return [GuestInput(name=posts[0].member.name, role=Guest.Role.SUPERVISOR, member=posts[0].member)]

    # ---- cells

    def plan_cell(self, cell: Organization) -> None:
        branch = self.parent(cell)
        for year, month in self.months():
            day = _workday_from(dt.date(year, month, 10 + self.rng.randrange(10)), (0, 1, 2, 3))
            if day is None or not self.live(branch, day):
                continue
            self.add(_Plan(cell, MK.CELL_MEETING, day, dt.time(16, 0), self.rng.choice(CELL_TOPICS),
                           self.place(branch),
                           body="组员逐一交流学习体会，组长对本组党员学习和志愿服务情况作了小结。"))

    # ---- the 党组

    def plan_leading_group(self) -> None:
        rng, root = self.rng, self.root
        room = "局机关六楼党组会议室"
        deputy = self.posts_on(self.orgs[ORGAN_COMMITTEE_CODE], self.today - dt.timedelta(days=1))
        guests_always = [GuestInput(name=self.office_head.name, member=self.office_head)] if self.office_head else []
        personnel = self.first_member("JTJ-01-01-02")  # 人事处长: sits in on appointments
        finance = self.first_member("JTJ-01-01-03")  # 财务处长: sits in on spending
        for year, month in self.months():
            # 党组会: about twice a month, on a Tuesday or Thursday morning.
            starts = [8, 22] if rng.random() > 0.15 else [15]
            for first in starts:
                is_first = first == starts[0]
                day = _workday_from(dt.date(year, month, first + rng.randrange(4)), (1, 3))
                if day is None:
                    continue
                items = self.agenda(year, month, 1 + rng.randrange(4), first_in_month=is_first)
                guests = list(guests_always)
                if personnel and any(i.category == Cat.KEY_APPOINTMENT for i in items):
                    guests.append(GuestInput(name=personnel.name, member=personnel))
                if finance and any(i.category == Cat.LARGE_FUND for i in items):
                    guests.append(GuestInput(name=finance.name, member=finance))
                topics = "第一议题：传达学习习近平总书记重要讲话精神和上级有关会议精神；" + "；".join(i.title for i in items)
                self.add(_Plan(root, MK.LEADING_GROUP_MEETING, day, dt.time(9, 0), topics, room,
                               host=self.secretary, recorder=self.office_head, guests=guests, items=items,
                               body="会议首先传达学习有关精神（第一议题），随后逐项研究议题，与会党组成员充分发表意见后逐项表决。"))
            # 理论学习中心组学习: monthly, third Thursday; now and then an invited lecturer.
            day = _workday_from(dt.date(year, month, 15), (3,)) or _workday_from(dt.date(year, month, 1), (3,))
            lecturer = "市委党校教授 林海燕" if rng.random() < 0.15 else ""
            topic, tags = rng.choice(CENTRAL_GROUP_TOPICS), ()
            studied = studied_on(day, rng) if day is not None else None
            if studied is not None and rng.random() < 0.6:  # most sessions of a campaign study it
                topic, tags = studied
            self.add(_Plan(root, MK.CENTRAL_GROUP_STUDY, day, dt.time(14, 30), topic, "局机关六楼会议室",
                           host=self.secretary, recorder=self.office_head, lecturer_name=lecturer,
                           tags=tags, guests=list(guests_always),
                           body=(f"邀请{lecturer}作专题辅导，" if lecturer else "")
                           + "中心组成员围绕专题集中学习、交流研讨，党组书记作总结讲话。"))
        self.plan_campaign_launches(room, deputy)
        for year in (self.start.year - 1, self.start.year, self.today.year):
            # 民主生活会 for the year, held in January of the next (所属年度), before Spring Festival.
            day = _workday_from(dt.date(year + 1, 1, 8 + rng.randrange(6)), (1, 2, 3))
            if day is not None:
                self.add(_Plan(
                    root, MK.DEMOCRATIC_LIFE_MEETING, day, dt.time(9, 0), f"{year}年度党组领导班子民主生活会", room,
                    host=self.secretary, recorder=self.office_head, covers_year=year,
                    guests=[GuestInput(name="市委第三督导组组长 周建华", role=Guest.Role.SUPERVISOR),
                            GuestInput(name="派驻纪检监察组副组长 孟凡青", role=Guest.Role.SUPERVISOR)],
                    body="会前广泛征求意见、深入谈心谈话；会上党组书记代表班子作对照检查，党组成员逐一作个人对照检查发言，"
                         "开展批评和自我批评。督导组对会议作了点评。"))
        for year in (self.start.year, self.today.year):
            # The 党组 secretary's 党课 for all the bureau's members, before 七一.
            day = _workday_from(dt.date(year, 6, 24), (4,)) or dt.date(year, 6, 26)
            studied = studied_on(day, rng)
            title, tags = (f"“七一”专题党课：{studied[0]}", studied[1]) if studied else (
                "“七一”专题党课：赓续红色血脉，奋力建设人民满意交通", ())
            self.add(_Plan(
                self.orgs[ORGAN_COMMITTEE_CODE], MK.PARTY_LECTURE, day, dt.time(14, 30), title, "局机关四楼大会议室",
                host=deputy[0].member if deputy else None, lecturer=self.secretary, tags=tags,
                body=f"党组书记{self.secretary.name}同志讲授专题党课，全局党员干部参加。"))
            # The 机关党委 secretary's own 党课 for the year (a national rule), in November.
            day = _workday_from(dt.date(year, 11, 12), (2, 3))
            posts = self.posts_on(self.orgs[ORGAN_COMMITTEE_CODE], day) if day else []
            if posts:
                self.add(_Plan(
                    self.orgs[ORGAN_COMMITTEE_CODE], MK.PARTY_LECTURE, day, dt.time(14, 30),
                    "机关党委书记讲党课：抓好机关党建，推动党建和业务深度融合", "局机关四楼大会议室",
                    host=posts[0].member, lecturer=posts[0].member,
                    body=f"机关党委书记{posts[0].member.name}同志讲授党课，机关各党支部党员参加。"))
        self.plan_decision_gaps()

    def plan_campaign_launches(self, room: str, deputy: list[Appointment]) -> None:
        """Each study campaign (rule data) or plenum that began in the demo's window is relayed at a
        党组会 (第一议题) a few days after it began, and deployed at a 专题会议 the day after, each
        tagged with what it studies; nothing is relayed that was not happening."""
        starts = [(c.start, c.tag, f"传达学习中央关于开展{c.tag}的部署要求", f"研究本局{c.tag}实施方案")
                  for c in orglife_rules.campaigns()]
        starts += [(d, tag, f"传达学习{tag.removeprefix('学习贯彻')}", f"研究全系统{tag}工作方案")
                   for d, tag in PLENUMS.items()]
        for began, tag, relay, plan_title in sorted(starts):
            day = _workday_from(began + dt.timedelta(days=3)) or _workday_from(began + dt.timedelta(days=10))
            if day is None or not self.start <= day < self.today - dt.timedelta(days=2):
                continue
            item = _Item(plan_title, Cat.MAJOR_MATTER)
            self.add(_Plan(self.root, MK.LEADING_GROUP_MEETING, day, dt.time(9, 0),
                           f"第一议题：{relay}；" + item.title, room, host=self.secretary,
                           recorder=self.office_head, tags=(tag,), items=[item],
                           body=f"会议第一时间{relay}，研究本局贯彻落实工作方案。"))
            guests = [GuestInput(name=a.member.name, member=a.member) for a in deputy[:3]]
            for code in ("JTJ-01-01", "JTJ-01-02", "JTJ-01-03", "JTJ-01-04"):
                posts = self.posts_on(self.orgs[code], day)
                if posts:
                    guests.append(GuestInput(name=posts[0].member.name, member=posts[0].member))
            after = _workday_from(day + dt.timedelta(days=1)) or day
            self.add(_Plan(self.root, MK.SPECIAL_MEETING, after, dt.time(15, 0),
                           f"{tag}动员部署会", "局机关四楼大会议室", host=self.secretary,
                           recorder=self.office_head, tags=(tag,), guests=guests,
                           body=f"会议{relay}，对全系统{tag}作出部署。机关党委、各党总支负责同志列席会议。"))

    def agenda(self, year: int, month: int, n: int, *, first_in_month: bool) -> list[_Item]:
        """1–4 items: the month's yearly round at its first meeting, then draws without repeats."""
        rng, items = self.rng, []
        ended = QUARTERS[(month - 2) // 3] if month > 1 else "上年第四季度"
        if first_in_month:
            for title, category, voted in YEARLY_ITEMS.get(month, []):
                items.append(self.item(title.format(y=year, q=f"{year}年{ended}"), category, voted))
        categories = rng.choices([Cat.ORDINARY, Cat.MAJOR_MATTER, Cat.LARGE_FUND, Cat.MAJOR_PROJECT,
                                  Cat.KEY_APPOINTMENT], [30, 22, 18, 14, 16], k=max(0, n - len(items)))
        for category in categories:
            if category == Cat.LARGE_FUND:
                purpose, amounts = self.draw(year, LARGE_FUNDS)
                amount = rng.choice(amounts)
                items.append(_Item(f"研究{purpose}{amount}万元使用事项", category, amount=Decimal(amount),
                                   decision=f"同意{purpose}{amount}万元，按规定程序拨付并接受审计监督。"))
            elif category == Cat.ORDINARY:
                title, voted = self.draw(year, ORDINARY_ITEMS)
                items.append(self.item(title, category, voted))
            else:
                pool = {Cat.MAJOR_MATTER: MAJOR_MATTERS, Cat.MAJOR_PROJECT: MAJOR_PROJECTS,
                        Cat.KEY_APPOINTMENT: KEY_APPOINTMENTS}[category]
                items.append(self.item(self.draw(year, pool), category, True))
        return items

    def draw(self, year: int, pool: list):
        """The next of `pool` in this year's shuffled order (no repeats until the pool is used up)."""
        key = (year, id(pool))
        if not self.draws.get(key):
            self.draws[key] = self.rng.sample(pool, len(pool))
        return self.draws[key].pop()

    @staticmethod
    def item(title: str, category: str, voted: bool) -> _Item:
        decision = (f"会议同意{title.removeprefix('研究')}，由分管领导牵头组织实施。" if voted
                    else "会议听取汇报，对下一步工作提出要求。")
        return _Item(title, category, voted=voted, decision=decision)

    def plan_decision_gaps(self) -> None:
        """Deliberate gaps at 党组会: one item decided with four of seven members away (no quorum),
        and one 三重一大 item at which the chair did not speak last."""
        # Second meetings of the month, so that no item of the yearly round is displaced.
        meetings = [p for p in self.plans if p.kind == MK.LEADING_GROUP_MEETING and not p.tags and p.day.day >= 15]
        this_year = [p for p in meetings if p.day.year == self.today.year]
        pool = this_year if len(this_year) >= 4 else meetings
        quorum = pool[int(len(pool) * 0.4)]
        quorum.items = [_Item("研究汛期前道路运输安全隐患排查整治方案" if quorum.day.month < 7
                              else "研究冬季道路保通保畅工作方案", Cat.MAJOR_MATTER,
                              decision="会议同意该方案。")]
        quorum.topics = "第一议题：传达学习习近平总书记重要讲话精神和上级有关会议精神；" + quorum.items[0].title
        quorum.absent_count = 4
        quorum.guests = quorum.guests[:1]
        quorum.body = "因多名党组成员外出参加省、市有关会议和带队检查，本次会议到会3人。会议研究了有关方案并表决。"
        chair = pool[int(len(pool) * 0.7)]
        if not any(i.category in selectors.SANZHONGYIDA for i in chair.items):
            chair.items.append(self.item(self.draw(chair.day.year, MAJOR_PROJECTS), Cat.MAJOR_PROJECT, True))
        next(i for i in chair.items if i.category in selectors.SANZHONGYIDA).chair_spoke_last = False

    # ---- contact points (党建联系点)

    def set_contact_points(self) -> None:
        """Each 党组成员 links to one branch a year and joins its 主题党日 and 党课 (Friday afternoons)
        most of the time; now and then they give the 党课 themselves."""
        rng = self.rng
        previous: dict[int, Organization] = {}
        # Days the 党组成员 are expected elsewhere: the 党组's meetings, and those of 机关第一党支部 (their
        # branch), its 党小组 and the bodies above it.
        cell_path = self.orgs[f"{LEADERS_BRANCH}-1"].path
        busy = {p.day for p in self.plans if p.org == self.root or (
            cell_path.startswith(p.org.path) and p.kind not in services.BODY_KINDS)}
        for year in (self.start.year, self.today.year):
            first = dt.date(year, 1, 1)
            candidates = [b for b in self.branches if b.code != LEADERS_BRANCH and not self.retired(b)
                          and b.founded_on <= first and b.dissolved_on is None]
            leaders = [a.member for a in self.posts_on(self.root, max(first, self.start))]
            taken: set[int] = set()
            for leader in leaders:
                keep = previous.get(leader.pk)
                if keep is None or keep.pk in taken or rng.random() < 0.4:
                    keep = rng.choice([b for b in candidates if b.pk not in taken])
                taken.add(keep.pk)
                previous[leader.pk] = keep
                services.contact_point_set(by=self.by, leader=leader, organization=keep, year=year)
                share = rng.uniform(0.6, 0.9)
                studies = [p for p in self.plans if p.org.pk == keep.pk and p.day.year == year
                           and p.kind in (MK.THEME_DAY, MK.PARTY_LECTURE) and p.day not in busy]
                # The 党组 secretary gives one of his contact branch's 党课 each year; the others sometimes do.
                lectures = [p for p in studies if p.kind == MK.PARTY_LECTURE]
                lecture = lectures[0] if lectures and (leader == self.secretary or rng.random() < 0.5) else None
                if lecture is not None:
                    lecture.lecturer = leader
                    lecture.topics = f"{lecture.topics}（联系点领导{leader.post}{leader.name}讲授）"
                    lecture.guests.append(GuestInput(name=leader.name, role=Guest.Role.LECTURER, member=leader))
                joined = lecture is not None
                for plan in studies:
                    if plan is not lecture and (rng.random() < share or plan is studies[-1] and not joined):
                        plan.guests.append(GuestInput(name=leader.name, role=Guest.Role.CONTACT_LEADER, member=leader))
                        joined = True

    # ---- late entries

    def plan_late(self) -> None:
        """Deliberate gap: a few branch meetings entered 15–45 days after they were held (补录)."""
        cutoff = self.today - dt.timedelta(days=60)
        pool = [p for p in self.plans if p.day < cutoff and p.org.kind in (K.BRANCH, K.CELL)
                and p.kind in (MK.THEME_DAY, MK.CELL_MEETING, MK.COMMITTEE_MEETING)]
        for plan in self.rng.sample(pool, min(8, len(pool))):
            plan.late = True

    # ---- recording

    def record(self) -> None:
        rng = self.rng
        # Recorded by yesterday evening at the latest (not "now": the build stays deterministic).
        cap = timezone.make_aware(dt.datetime.combine(self.today - dt.timedelta(days=1), dt.time(21, 0)))
        self.plans.sort(key=lambda p: (p.starts_at, p.org.path, p.kind))
        for plan in self.plans:
            expected = self.expected(plan.org, plan.kind, plan.day)
            if not expected:
                continue  # a branch whose members have all moved out before it is dissolved
            ids = {m.pk for m in expected}
            host = plan.host if plan.host is not None and plan.host.pk in ids else None
            if plan.kind == MK.CELL_MEETING:  # the 党小组长: the longest-standing full member
                full = [m for m in expected if m.full_on and m.full_on <= plan.day]
                host = min(full or expected, key=lambda m: m.pk)
            keep = {m.pk for m in (host, plan.lecturer, *plan.accept) if m is not None}
            # 85–100% present: a third of meetings complete, the others up to 15% away.
            if plan.absent_count is not None:
                count = plan.absent_count
            else:
                count = 0 if rng.random() < 0.35 else int(len(expected) * rng.uniform(0.03, 0.16))
                count = min(count, int(len(expected) * 0.15))
            absences: dict[int, tuple[str, str]] = {}
            free = [m for m in expected if m.pk not in keep]
            for member in rng.sample(free, min(count, len(free))):
                reason = rng.choices([Reason.OFFICIAL, Reason.SICK, Reason.PERSONAL], [5, 2, 3])[0]
                absences[member.pk] = (reason, rng.choice(ABSENCE_NOTES[reason]))
            present = [m for m in expected if m.pk not in absences]
            agenda = [self.agenda_input(item, present, plan) for item in plan.items]
            for member in plan.accept:
                voters = sum(1 for m in present if m.full_on and m.full_on <= plan.day)
                agenda.append(AgendaInput(title=f"讨论接收{member.name}同志为中共预备党员", category=Cat.ADMIT_PROBATIONARY,
                                          votes_for=voters, votes_against=0, votes_abstain=0,
                                          decision=f"同意接收{member.name}同志为中共预备党员。"))
            guests = [g for g in plan.guests if getattr(g.member, "pk", None) not in ids]  # not 应到 twice
            if plan.late:
                entered_at = timezone.make_aware(dt.datetime.combine(
                    plan.day + dt.timedelta(days=15 + rng.randrange(31)), dt.time(9 + rng.randrange(8), rng.randrange(60))))
            else:  # the same evening or within three working days, in office hours
                days = rng.choice((0, 0, 1, 1, 2, 3))
                if days == 0 and plan.time.hour < 16:
                    entered_at = plan.starts_at + dt.timedelta(minutes=120 + rng.randrange(90))
                else:
                    day = plan.day + dt.timedelta(days=max(days, 1))
                    while not _workday(day) and (day - plan.day).days < 4:  # the next working day, if soon
                        day += dt.timedelta(days=1)
                    entered_at = timezone.make_aware(dt.datetime.combine(
                        day, dt.time(9 + rng.randrange(8), rng.randrange(60))))
            # The service judges lateness from when the entry was made, as for a paper ledger.
            services.meeting_record(by=self.by, entered_at=max(min(entered_at, cap), plan.starts_at), data=MeetingInput(
                organization=plan.org, kind=plan.kind, starts_at=plan.starts_at, topics=plan.topics,
                place=plan.place, host=host, recorder=plan.recorder if plan.recorder is not host else None,
                lecturer=plan.lecturer, lecturer_name=plan.lecturer_name,
                minutes=self.minutes(plan, host, expected, absences), study_tags=list(plan.tags),
                includes_appraisal=plan.appraisal, absences=absences, guests=guests, agenda=agenda,
                covers_year=plan.covers_year, also_counts=list(plan.also_counts)))

    def agenda_input(self, item: _Item, present: list[Member], plan: _Plan) -> AgendaInput:
        if not item.voted:
            return AgendaInput(title=item.title, category=item.category, amount=item.amount,
                               chair_spoke_last=item.chair_spoke_last, decision=item.decision)
        abstain = 1 if len(present) > 4 and item.category in (Cat.MAJOR_PROJECT, Cat.LARGE_FUND) \
            and self.rng.random() < 0.08 else 0
        return AgendaInput(title=item.title, category=item.category, amount=item.amount,
                           votes_for=len(present) - abstain, votes_against=0, votes_abstain=abstain,
                           chair_spoke_last=item.chair_spoke_last, decision=item.decision)

    def minutes(self, plan: _Plan, host: Member | None, expected: list[Member], absences: dict) -> str:
        half = "上午" if plan.time.hour < 12 else "下午"
        lines = [f"{_fmt(plan.day)}{half}，在{plan.place}{HELD[plan.kind]}"
                 + (f"，{host.name}同志主持" if host else "") + "。"]
        head = f"应到{len(expected)}人，实到{len(expected) - len(absences)}人"
        if absences:
            reasons = Counter(reason for reason, _note in absences.values())
            head += "，" + "、".join(f"{Reason(r).label}{n}人" for r, n in reasons.items())
        lines.append(head + "。")
        if plan.kind == MK.THEME_DAY:
            lines.append(f"活动主题：{plan.topics}。")
        if plan.kind == MK.PARTY_LECTURE and plan.lecturer:
            lines.append(f"{plan.lecturer.name}同志讲授党课，结合交通运输工作实际讲历史、讲案例、讲要求。")
        if plan.body:
            lines.append(plan.body)
        visitors = [g.name for g in plan.guests if g.role == Guest.Role.CONTACT_LEADER]
        if visitors:
            lines.append(f"联系点领导{'、'.join(visitors)}同志参加并讲话。")
        return "".join(lines)
