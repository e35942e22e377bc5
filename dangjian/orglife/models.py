"""Organisational life: meetings with their attendance and guests, agenda items with votes (三重一大),
and leaders' contact-point branches. Counts and compliance are computed from these records."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from dangjian.core.updates import VersionField


class MeetingKind(models.TextChoices):
    GENERAL_MEETING = "general_meeting", "支部党员大会"
    COMMITTEE_MEETING = "committee_meeting", "支委会（党委会）"
    CELL_MEETING = "cell_meeting", "党小组会"
    PARTY_LECTURE = "party_lecture", "党课"
    THEME_DAY = "theme_day", "主题党日"
    LEADING_GROUP_MEETING = "leading_group_meeting", "党组会"
    CENTRAL_GROUP_STUDY = "central_group_study", "理论学习中心组学习"
    SPECIAL_MEETING = "special_meeting", "专题会议"
    DEMOCRATIC_LIFE_MEETING = "democratic_life_meeting", "民主生活会"
    ORGANIZATIONAL_LIFE_MEETING = "organizational_life_meeting", "组织生活会"
    # Not a party meeting: the unit's administrative leadership deciding its “三重一大” matters. It
    # counts for no 组织生活 rule and is recorded under the 党组, whose members sit on it.
    LEADERSHIP_MEETING = "leadership_meeting", "局长办公会（行政领导班子会议）"


COMMITTEE_NAMES = {"branch": "支委会", "general_branch": "总支委员会", "organ_committee": "党委会"}

# Meetings that are not party organisational life (no 组织生活 rule counts them).
NOT_PARTY_MEETINGS = (MeetingKind.LEADERSHIP_MEETING,)

# 三会一课: the four kinds taken together.
THREE_MEETINGS_ONE_LESSON = (
    MeetingKind.GENERAL_MEETING, MeetingKind.COMMITTEE_MEETING, MeetingKind.CELL_MEETING, MeetingKind.PARTY_LECTURE,
)


# 民主评议党员 is not a kind of meeting but a form a meeting serves (it is held at the 组织生活会 or a
# 党员大会): a meeting's "also counts as" forms are meeting kinds or this one.
DEMOCRATIC_APPRAISAL = "democratic_appraisal"
FORM_LABELS = {**dict(MeetingKind.choices), DEMOCRATIC_APPRAISAL: "民主评议党员"}


class StudyTag(models.Model):
    """A study theme a meeting can carry (学习贯彻党的二十大精神, 党史学习教育…)."""

    name = models.CharField("学习主题", max_length=100, unique=True)

    class Meta:
        verbose_name = "学习主题"
        verbose_name_plural = "学习主题"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Meeting(models.Model):
    class Status(models.TextChoices):
        ON_TIME = "on_time", "按时记录"
        LATE = "late", "补录"

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="meetings", verbose_name="党组织")
    kind = models.CharField("会议类型", max_length=40, choices=MeetingKind.choices)
    starts_at = models.DateTimeField("时间")
    place = models.CharField("地点", max_length=200, blank=True)
    host = models.ForeignKey("organizations.Member", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="主持人")
    recorder = models.ForeignKey("organizations.Member", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name="记录人")
    lecturer = models.ForeignKey("organizations.Member", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="lectures_given", verbose_name="授课人（党员）")
    lecturer_name = models.CharField("授课人（外请）", max_length=100, blank=True)
    topics = models.TextField("议题/主题")
    study_tags = models.ManyToManyField(StudyTag, blank=True, related_name="meetings", verbose_name="学习主题")
    minutes = models.TextField("会议记录", blank=True)
    includes_appraisal = models.BooleanField("含民主评议党员", default=False)
    # The year a yearly meeting (组织生活会, 民主评议, 民主生活会) is for: often held in January or
    # February of the next. None for other meetings (they count by their date).
    covers_year = models.PositiveSmallIntegerField("所属年度", null=True, blank=True)
    status = models.CharField("记录状态", max_length=20, choices=Status.choices, default=Status.ON_TIME)
    version = VersionField()  # optimistic locking: one more for each edit (core.updates)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="录入人")
    # When the record was made: now, or the day a paper ledger entry was made (see meeting_record).
    recorded_at = models.DateTimeField("录入时间", default=timezone.now)

    class Meta:
        verbose_name = "会议"
        verbose_name_plural = "会议"
        indexes = [
            # Compliance counts meetings per organisation, kind and month over a window.
            models.Index(fields=["organization", "kind", "starts_at"], name="meeting_org_kind_at_idx"),
            models.Index(fields=["kind", "starts_at"], name="meeting_kind_at_idx"),
        ]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d} {self.kind_label}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("orglife:meeting_detail", args=[self.pk])

    @property
    def kind_label(self) -> str:
        """The kind as people name it at this level: a branch's committee meets as 支委会, a general
        branch's as 总支委员会, the 机关党委's as 党委会. Reads `organization` (select_related it)."""
        if self.kind == MeetingKind.COMMITTEE_MEETING:
            return COMMITTEE_NAMES.get(self.organization.kind, "支委会")
        return self.get_kind_display()

    def study_tag_names(self) -> list[str]:
        """The study themes in the order they were typed (the link rows' ids keep it). One query."""
        return list(Meeting.study_tags.through.objects.filter(meeting=self).order_by("id")
                    .values_list("studytag__name", flat=True))


class MeetingAlsoCounts(models.Model):
    """A form a meeting also served besides its own kind: a 主题党日 that was also the quarter's
    党员大会 and 党课, an 组织生活会 held as a 党员大会 with 民主评议. Recorded once, counted for each."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="also_counts")
    kind = models.CharField("同时计为", max_length=40, choices=list(FORM_LABELS.items()))

    class Meta:
        verbose_name = "同时计为"
        verbose_name_plural = "同时计为"
        constraints = [models.UniqueConstraint(fields=["meeting", "kind"], name="meeting_also_counts_once")]
        indexes = [models.Index(fields=["kind", "meeting"], name="also_counts_kind_idx")]

    def __str__(self):
        return FORM_LABELS.get(self.kind, self.kind)


class HeartTalk(models.Model):
    """谈心谈话: two people of one organisation talked on a day (支部工作条例 第十九条). Minimal: who,
    where, when; what was said is not recorded."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="heart_talks", verbose_name="党组织")
    held_on = models.DateField("日期")
    first = models.ForeignKey("organizations.Member", on_delete=models.PROTECT, related_name="+",
                              verbose_name="谈话人")
    second = models.ForeignKey("organizations.Member", on_delete=models.PROTECT, related_name="+",
                               verbose_name="谈话对象")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="录入人")
    recorded_at = models.DateTimeField("录入时间", default=timezone.now)

    class Meta:
        verbose_name = "谈心谈话"
        verbose_name_plural = "谈心谈话"
        constraints = [models.CheckConstraint(name="heart_talk_two_people", condition=~models.Q(first=models.F("second")))]
        indexes = [models.Index(fields=["organization", "held_on"], name="heart_talk_org_day_idx")]

    def __str__(self):
        return f"{self.held_on:%Y-%m-%d} {self.first}—{self.second}"


class Attendance(models.Model):
    """One expected attendee (应到) of a meeting: present, or absent with a reason."""

    class AbsenceReason(models.TextChoices):
        OFFICIAL = "official", "公差"
        SICK = "sick", "病假"
        PERSONAL = "personal", "事假"
        OTHER = "other", "其他"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey("organizations.Member", on_delete=models.PROTECT, related_name="attendances")
    present = models.BooleanField("出席", default=True)
    # 表决权 on the meeting day (预备党员 and members under 留党察看 have none), fixed when the
    # meeting is recorded or corrected: 应到/实到有表决权 count these rows.
    has_vote = models.BooleanField("有表决权", default=True)
    absence_reason = models.CharField("缺席原因", max_length=20, choices=AbsenceReason.choices, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "出席"
        verbose_name_plural = "出席"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="attendance_once_per_meeting"),
            models.CheckConstraint(name="attendance_absence_has_reason",
                                   condition=models.Q(present=True) | ~models.Q(absence_reason="")),
        ]
        indexes = [models.Index(fields=["member", "meeting"], name="attendance_member_idx")]

    def __str__(self):
        return f"{self.member} {'出席' if self.present else '缺席'}"


class Guest(models.Model):
    """Someone at the meeting who is not expected: a contact-point leader, a lecturer, a supervisor."""

    class Role(models.TextChoices):
        CONTACT_LEADER = "contact_leader", "联系点领导"
        LECTURER = "lecturer", "授课人"
        SUPERVISOR = "supervisor", "上级督导"
        OTHER = "other", "列席"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="guests")
    member = models.ForeignKey("organizations.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="guest_appearances", verbose_name="党员")
    name = models.CharField("姓名", max_length=100)
    role = models.CharField("身份", max_length=20, choices=Role.choices, default=Role.OTHER)
    # What the recorder typed beside the name (市委党校教授, 派驻纪检监察组副组长), kept as typed:
    # the role list above is for counting, this is for reading.
    title = models.CharField("职务/说明", max_length=100, blank=True)

    class Meta:
        verbose_name = "列席人员"
        verbose_name_plural = "列席人员"
        indexes = [models.Index(fields=["member", "meeting"], name="guest_member_idx")]

    def __str__(self):
        return f"{self.name}（{self.title or self.get_role_display()}）"


class MeetingAttachment(models.Model):
    """Optional evidence. Never required (减负: no mandatory photos)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("附件", upload_to="meetings/%Y/%m/")
    name = models.CharField("名称", max_length=200)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "会议附件"
        verbose_name_plural = "会议附件"

    def __str__(self):
        return self.name


class AgendaItem(models.Model):
    """An item decided at a meeting (议题), with its category, amount and per-item vote."""

    class Category(models.TextChoices):
        # 党组（党委）: the “三重一大” four, 干部任免, 处分 (which bodies decide what: rule data,
        # agenda.categories.* in core/rules).
        MAJOR_MATTER = "major_matter", "重大事项决策"
        KEY_APPOINTMENT = "key_appointment", "重要干部任免"
        MAJOR_PROJECT = "major_project", "重大项目安排"
        LARGE_FUND = "large_fund", "大额度资金使用"
        APPOINTMENT = "appointment", "干部任免"
        DISCIPLINE = "discipline", "党员处分"
        # 支部党员大会
        ADMIT_PROBATIONARY = "admit_probationary", "接收预备党员"
        CONFIRM_FULL = "confirm_full", "预备党员转正"
        ELECTION = "election", "选举"
        # 支部委员会
        MEMBER_DEVELOPMENT = "member_development", "研究党员发展"
        LIFE_ARRANGEMENT = "life_arrangement", "组织生活安排"
        ORDINARY = "ordinary", "其他事项"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveSmallIntegerField("序号")
    title = models.CharField("议题", max_length=300)
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    amount = models.DecimalField("金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    votes_for = models.PositiveIntegerField("赞成", null=True, blank=True)
    votes_against = models.PositiveIntegerField("反对", null=True, blank=True)
    votes_abstain = models.PositiveIntegerField("弃权", null=True, blank=True)
    chair_spoke_last = models.BooleanField("主持人末位表态", default=True)
    decision = models.TextField("决定", blank=True)

    class Meta:
        verbose_name = "议题"
        verbose_name_plural = "议题"
        ordering = ["meeting_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "order"], name="agenda_item_order_unique"),
            models.CheckConstraint(name="agenda_item_votes_all_or_none", condition=(
                models.Q(votes_for__isnull=True, votes_against__isnull=True, votes_abstain__isnull=True)
                | models.Q(votes_for__isnull=False, votes_against__isnull=False, votes_abstain__isnull=False))),
        ]
        indexes = [models.Index(fields=["category"], name="agenda_item_category_idx")]

    def __str__(self):
        return self.title


class ContactPoint(models.Model):
    """党建联系点: a leader linked to a branch for a year; they join its weekly study."""

    leader = models.ForeignKey("organizations.Member", on_delete=models.PROTECT, related_name="contact_points",
                               verbose_name="领导")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="contact_points", verbose_name="联系党支部")
    year = models.PositiveSmallIntegerField("年度")

    class Meta:
        verbose_name = "党建联系点"
        verbose_name_plural = "党建联系点"
        constraints = [models.UniqueConstraint(fields=["leader", "organization", "year"],
                                               name="contact_point_unique")]

    def __str__(self):
        return f"{self.year} {self.leader} → {self.organization}"
