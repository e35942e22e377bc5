from django.conf import settings
from django.db import models
from django.utils import timezone
from treebeard.mp_tree import MP_Node

from dangjian.core.crypto import search_hash
from dangjian.core.dates import PartialDate, Precision, precision_field, show_date, whole_years
from dangjian.core.fields import EncryptedTextField, SearchHashField
from dangjian.core.updates import VersionField


class Organization(MP_Node):
    """A party organisation. A materialised-path tree: a role granted on a node flows down by path."""

    class Kind(models.TextChoices):
        LEADING_GROUP = "leading_group", "党组"
        ORGAN_COMMITTEE = "organ_committee", "机关党委"
        GENERAL_BRANCH = "general_branch", "党总支"
        BRANCH = "branch", "党支部"
        CELL = "cell", "党小组"
        # A city's 市直机关工委: the root above the bureaus' 党组 (or 机关党委) roots when one instance
        # serves the city's organs, so a grant on it reaches every bureau (issue 11). Last: the
        # choices' first is the forms' default.
        WORKING_COMMITTEE = "working_committee", "市直机关工委"

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    founded_on = models.DateField("成立日期")
    dissolved_on = models.DateField("撤销日期", null=True, blank=True)
    term_start = models.DateField("本届任期开始", null=True, blank=True)
    term_end = models.DateField("本届任期届满", null=True, blank=True)
    # An approved 延期换届: the term may run until this day (the approval is an OrganizationEvent).
    term_extended_to = models.DateField("批准延期至", null=True, blank=True)
    version = VersionField()  # optimistic locking: one more for each edit (core.updates)

    node_order_by = ["code"]

    class Meta:
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
        constraints = [
            models.CheckConstraint(
                name="organization_term_end_after_start",
                condition=models.Q(term_end__isnull=True) | models.Q(term_end__gt=models.F("term_start")),
            ),
            models.CheckConstraint(
                name="organization_dissolved_after_founded",
                condition=models.Q(dissolved_on__isnull=True) | models.Q(dissolved_on__gte=models.F("founded_on")),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("organizations:detail", args=[self.pk])


class Unit(MP_Node):
    """An administrative unit (处室, 分局, 局属单位), served by one party organisation."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", "局机关"
        DEPARTMENT = "department", "处室"
        BRANCH_OFFICE = "branch_office", "分局"
        AFFILIATED_UNIT = "affiliated_unit", "局属单位"

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="units",
        verbose_name="服务党组织",
    )
    version = VersionField()  # optimistic locking: one more for each edit (core.updates)

    node_order_by = ["code"]

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"

    def __str__(self):
        return self.name


class MemberQuerySet(models.QuerySet):
    def with_id_numbers(self, *numbers: str) -> "MemberQuerySet":
        """The members with these ID numbers (any spelling: x or X, spaces), found by search hash."""
        return self.filter(id_number_hash__in=[search_hash(number, kind="id_number") for number in numbers])


class Member(models.Model):
    """A party member: the fields of a 党员花名册.

    `organization` is the member's current organisation (a branch, or a cell inside one); the
    history of where they belonged lives in `Membership`, kept in step by the transfer service.
    """

    class Gender(models.TextChoices):
        MALE = "male", "男"
        FEMALE = "female", "女"

    class Category(models.TextChoices):
        FULL = "full", "正式党员"
        PROBATIONARY = "probationary", "预备党员"

    class Status(models.TextChoices):
        ACTIVE = "active", "在册"
        TRANSFERRED_OUT = "transferred_out", "已转出"
        DECEASED = "deceased", "已去世"
        LEFT = "left", "已出党"

    class Education(models.TextChoices):
        POSTGRADUATE = "postgraduate", "研究生"
        BACHELOR = "bachelor", "大学本科"
        JUNIOR_COLLEGE = "junior_college", "大学专科"
        SECONDARY = "secondary", "中专/高中"
        BELOW = "below", "初中及以下"

    name = models.CharField("姓名", max_length=50)
    # The name's pinyin sort key (organizations.collation.name_key), set by the services whenever
    # the name is: the roster lists by it, so 安 < 白 < 张 < 赵 whatever their code points.
    name_key = models.CharField("姓名排序键", max_length=100, blank=True, editable=False)
    gender = models.CharField("性别", max_length=10, choices=Gender.choices)
    ethnicity = models.CharField("民族", max_length=20, default="汉族")
    birth_date = models.DateField("出生日期")
    # Personal data at rest (core/crypto.py): the ID number and the phone are SM4-encrypted tokens in
    # the database (plaintext in Python); the ID number's search hash, unique, is what uniqueness and
    # every lookup use (the tokens cannot be compared). Format checks are in `services.member_clean`.
    id_number = EncryptedTextField("身份证号")
    id_number_hash = SearchHashField("身份证号检索散列", source="id_number", kind="id_number", unique=True)
    # Old members' dates may be known only to the month or year, or not at all (core/dates.py): the
    # date holds the earliest possible day, its precision how much is known. An unknown 入党日期
    # holds the earliest day the party's rules allow (the 18th birthday, or the 转正日期 if earlier).
    joined_on = models.DateField("入党日期")
    joined_on_precision = precision_field("入党日期精度")
    full_on = models.DateField("转正日期", null=True, blank=True)
    full_on_precision = precision_field("转正日期精度")
    category = models.CharField("党员类别", max_length=20, choices=Category.choices)
    education = models.CharField("学历", max_length=20, choices=Education.choices, blank=True)
    post = models.CharField("职务", max_length=100, blank=True)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name="工作单位"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="members", verbose_name="所在党组织"
    )
    phone = EncryptedTextField("联系电话", blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = VersionField()  # optimistic locking: one more for each edit (core.updates)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "党员"
        verbose_name_plural = "党员"
        constraints = [
            models.CheckConstraint(
                name="member_full_on_after_joined",
                condition=models.Q(full_on__isnull=True) | models.Q(full_on__gte=models.F("joined_on")),
            ),
            models.CheckConstraint(
                name="member_probationary_has_no_full_date",
                condition=~models.Q(category="probationary", full_on__isnull=False),
            ),
            models.CheckConstraint(
                name="member_date_precisions_valid",
                condition=models.Q(joined_on_precision__in=Precision.values, full_on_precision__in=Precision.values),
            ),
        ]
        indexes = [
            # The member list filters by organisation and status and pages by (name_key, id), in
            # pinyin order: keyset pagination reads the page straight off this index.
            models.Index(fields=["organization", "status", "name_key", "id"], name="member_org_list_idx"),
            # A scope of many organisations walks this one in order and stops after a page.
            models.Index(fields=["name_key", "id"], name="member_name_key_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("organizations:member_detail", args=[self.pk])

    @property
    def joined(self) -> PartialDate:
        return PartialDate(None if self.joined_on_precision == Precision.UNKNOWN else self.joined_on,
                           self.joined_on_precision)

    @property
    def joined_display(self) -> str:
        """入党日期 as typed: 2010-07-01, 1984年11月, 1984年, 不详."""
        return show_date(self.joined_on, self.joined_on_precision)

    @property
    def full_display(self) -> str:
        return show_date(self.full_on, self.full_on_precision)

    def party_age(self, on=None) -> int | None:
        """党龄 in whole years on `on` (default today), counted from the earliest possible joining
        day (1984年11月 counts from 1 November 1984); None when the 入党日期 is 不详."""
        return whole_years(self.joined, on or timezone.localdate())


class Membership(models.Model):
    """A dated stay of a member in an organisation. Transfers close one stay and open the next,
    so "who belonged to X on day D" is `start <= D and (end is null or end > D)`."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    start = models.DateField("转入日期")
    end = models.DateField("转出日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "组织关系"
        verbose_name_plural = "组织关系"
        constraints = [
            models.CheckConstraint(
                name="membership_end_after_start",
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
            ),
            # A member has at most one open stay.
            models.UniqueConstraint(fields=["member"], condition=models.Q(end__isnull=True),
                                    name="membership_one_open_per_member"),
        ]
        indexes = [models.Index(fields=["organization", "start", "end"], name="membership_on_date_idx")]
        ordering = ["start", "id"]

    def __str__(self):
        return f"{self.member} @ {self.organization} {self.start}–{self.end or ''}"


class Appointment(models.Model):
    """A dated post in an organisation: its committee (书记, 副书记, 委员 with their 分工), a 党组's
    members, a 党小组's 组长, a 机关党委's 纪委书记."""

    class Role(models.TextChoices):
        SECRETARY = "secretary", "书记"
        DEPUTY_SECRETARY = "deputy_secretary", "副书记"
        COMMITTEE_MEMBER = "committee_member", "委员"
        ORGANIZATION_MEMBER = "organization_member", "组织委员"
        PROPAGANDA_MEMBER = "propaganda_member", "宣传委员"
        DISCIPLINE_MEMBER = "discipline_member", "纪检委员"
        DISCIPLINE_SECRETARY = "discipline_secretary", "机关纪委书记"
        LEADING_GROUP_MEMBER = "leading_group_member", "党组成员"
        CELL_LEADER = "cell_leader", "党小组组长"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="appointments")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="appointments")
    role = models.CharField("职务", max_length=20, choices=Role.choices)
    start = models.DateField("任职日期")
    end = models.DateField("免职日期", null=True, blank=True)
    version = VersionField()  # optimistic locking: core.updates

    class Meta:
        verbose_name = "党组织任职"
        verbose_name_plural = "党组织任职"
        constraints = [
            models.CheckConstraint(
                name="appointment_end_after_start",
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
            ),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(role="secretary", end__isnull=True),
                name="appointment_one_current_secretary",
            ),
        ]
        indexes = [models.Index(fields=["organization", "role", "end"], name="appointment_current_idx")]

    def __str__(self):
        return f"{self.organization} {self.title} {self.member}"

    @property
    def title(self) -> str:
        """The post as named at this level: a 党组's secretary is 党组书记 (reads `organization`)."""
        if self.organization.kind == Organization.Kind.LEADING_GROUP and self.role in LEADING_GROUP_TITLES:
            return LEADING_GROUP_TITLES[self.role]
        return self.get_role_display()


LEADING_GROUP_TITLES = {"secretary": "党组书记", "deputy_secretary": "党组副书记"}


class ProbationPeriod(models.Model):
    """留党察看: a dated period in which the member keeps membership but has no 表决权, 选举权 or
    被选举权 (《中国共产党纪律处分条例》). `end` is the day rights come back (exclusive)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="probation_periods",
                               verbose_name="党员")
    start = models.DateField("留党察看开始日期")
    end = models.DateField("留党察看期满日期")
    document_number = models.CharField("处分决定文号", max_length=100, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "留党察看"
        verbose_name_plural = "留党察看"
        constraints = [models.CheckConstraint(name="probation_end_after_start",
                                              condition=models.Q(end__gt=models.F("start")))]
        indexes = [models.Index(fields=["member", "start", "end"], name="probation_member_idx")]
        ordering = ["start", "id"]

    def __str__(self):
        return f"{self.member} 留党察看 {self.start}–{self.end}"


class OrganizationEvent(models.Model):
    """成立 / 调整 / 撤销 / 换届: the dated history that 调整组建党组织N个 counts."""

    class Kind(models.TextChoices):
        FOUNDED = "founded", "成立"
        RESTRUCTURED = "restructured", "调整"
        DISSOLVED = "dissolved", "撤销"
        TERM_RENEWED = "term_renewed", "换届"
        TERM_EXTENDED = "term_extended", "延期换届"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事项", max_length=20, choices=Kind.choices)
    on = models.DateField("日期")
    note = models.CharField("说明", max_length=300, blank=True)
    document_number = models.CharField("批复文号", max_length=100, blank=True)
    # 延期换届: who approved it and until when.
    approved_by = models.CharField("批准机关", max_length=100, blank=True)
    extended_to = models.DateField("延期至", null=True, blank=True)
    # 换届选举: 应到会 and 实到会 members with 选举权, and each elected person's 赞成票
    # ([{"name": ..., "votes": n}]).
    voters_expected = models.PositiveIntegerField("应到会有选举权党员", null=True, blank=True)
    voters_present = models.PositiveIntegerField("实到会有选举权党员", null=True, blank=True)
    election_results = models.JSONField("当选人得票", default=list, blank=True)

    class Meta:
        verbose_name = "党组织沿革"
        verbose_name_plural = "党组织沿革"
        indexes = [models.Index(fields=["kind", "on"], name="org_event_kind_on_idx")]
        ordering = ["on", "id"]

    def __str__(self):
        return f"{self.on} {self.get_kind_display()} {self.organization}"


class PendingImport(models.Model):
    """A workbook checked and previewed, waiting for its uploader to confirm it. Kept in the
    database (not on one app server's disk) so the confirmation may reach any server; deleted on
    confirmation or cancellation, and ignored (then purged) after PENDING_IMPORT_MINUTES."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField("文件名", max_length=200)
    # The uploaded file, encrypted like the roster's numbers (it holds them in full): a token of
    # core.crypto's provider, read with decrypt_bytes.
    sealed_content = models.TextField()
    roster_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "待确认的导入"
        verbose_name_plural = "待确认的导入"

    def __str__(self):
        return self.file_name
