"""The organisation, unit and member forms. The services stay the truth (they check everything
again); a form checks here what it can so that one submission lists every problem at once, in the
services' words, instead of revealing them one submission at a time."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.access.roles import Perm
from dangjian.core.dates import Precision, show_date
from dangjian.core.forms import DATE_ERRORS, BootstrapMixin, DateInput, HiddenVersionField, TreeNodeChoiceField
from dangjian.organizations.models import Appointment, Member, Organization, Unit
from dangjian.organizations.services import (
    ALLOWED_PARENTS,
    MEMBER_HOLDING_KINDS,
    MEMBER_PARTIAL_DATES,
    ROLES_BY_KIND,
    member_clean,
    probation_clean,
)


def _not_future(day):
    if day > timezone.localdate():
        raise ValidationError("日期不能晚于今天。")


def _date(label, required=True, past=False, **kw):
    """A date field; `past`: a day something happened, which cannot be after today."""
    return forms.DateField(label=label, required=required, widget=DateInput(), error_messages=DATE_ERRORS,
                           validators=[_not_future] if past else [], **kw)


class MemberForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(label="性别", choices=Member.Gender.choices)
    ethnicity = forms.CharField(label="民族", max_length=20, initial="汉族")
    id_number = forms.CharField(label="身份证号", max_length=18, help_text="18位，末位可为X；出生日期须与之一致。")
    birth_date = _date("出生日期")
    joined_on = _date("入党日期")
    full_on = _date("转正日期", required=False, help_text="预备党员不填。")
    category = forms.ChoiceField(label="党员类别", choices=Member.Category.choices)
    education = forms.ChoiceField(label="学历", choices=[("", "—")] + Member.Education.choices, required=False)
    post = forms.CharField(label="职务", max_length=100, required=False)
    unit = forms.ModelChoiceField(label="工作单位", queryset=Unit.objects.none(), required=False)
    organization = TreeNodeChoiceField(label="所在党组织", queryset=Organization.objects.none())
    phone = forms.CharField(label="联系电话", max_length=20, required=False)

    def __init__(self, *args, organizations, units, instance: Member | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["organization"].queryset = organizations
        self.fields["organization"].searchable(Perm.MANAGE_MEMBERS, kinds=MEMBER_HOLDING_KINDS)
        self.fields["unit"].queryset = units
        if instance is not None:
            # Moving a member is a dated transfer, not an edit.
            del self.fields["organization"]
            # An imported 1984年11月 shows here as its earliest day (the form takes full dates only).
            for name, precision in MEMBER_PARTIAL_DATES.items():
                if getattr(instance, precision) != Precision.DAY:
                    typed = show_date(getattr(instance, name), getattr(instance, precision))
                    self.fields[name].help_text = (f"原记录为“{typed}”，此处显示为可能的最早一天：不改则仍按“{typed}”保存，"
                                                   "改为具体日期则按具体日期保存。")
            self.fields["version"] = HiddenVersionField()

    def clean(self):
        """Run the service's checks too, so that one submission lists every problem at once (a
        field Django already refused keeps Django's message)."""
        data = super().clean()
        if self.instance is not None:
            data = dict(data, organization=self.instance.organization)
        try:
            member_clean(data, instance=self.instance)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, messages[0])
        return self.cleaned_data


class TransferForm(BootstrapMixin, forms.Form):
    to = TreeNodeChoiceField(label="转入党组织", queryset=Organization.objects.none())
    on = _date("转接日期", past=True)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = organizations
        self.fields["to"].searchable(kinds=MEMBER_HOLDING_KINDS)


class RevealForm(forms.Form):
    reason = forms.CharField(label="查看事由", max_length=200)


class OrganizationCreateForm(BootstrapMixin, forms.Form):
    parent = TreeNodeChoiceField(label="上级党组织", queryset=Organization.objects.none())
    kind = forms.ChoiceField(label="类型", choices=Organization.Kind.choices)
    code = forms.CharField(label="编码", max_length=32)
    name = forms.CharField(label="名称", max_length=100)
    founded_on = _date("成立日期", past=True)
    document_number = forms.CharField(label="批复文号", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = organizations
        self.fields["parent"].searchable(Perm.MANAGE_ORGANIZATIONS)

    def clean(self):
        data = super().clean()
        code, kind, parent = (data.get("code") or "").strip(), data.get("kind"), data.get("parent")
        if code and Organization.objects.filter(code=code).exists():
            self.add_error("code", f"编码 {code} 已被使用。")
        if kind in ALLOWED_PARENTS and parent is not None and parent.kind not in ALLOWED_PARENTS[kind]:
            self.add_error("parent", f"{Organization.Kind(kind).label}不能设在{parent.get_kind_display()}之下。")
        return data


class RestructureForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="新名称（不改名则留空）", max_length=100, required=False)
    version = HiddenVersionField()
    parent = TreeNodeChoiceField(label="调整到（不移动则留空）", queryset=Organization.objects.none(), required=False)
    on = _date("调整日期", past=True)
    document_number = forms.CharField(label="批复文号", max_length=100, required=False)
    note = forms.CharField(label="调整说明", max_length=300,
                           error_messages={"required": "请说明调整内容（如：因机构改革更名）。"})

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = organizations
        self.fields["parent"].searchable(Perm.MANAGE_ORGANIZATIONS)


class RenewTermForm(BootstrapMixin, forms.Form):
    on = _date("换届日期", past=True)
    voters_expected = forms.IntegerField(label="应到会有选举权的党员（人）", min_value=1, required=False,
                                         help_text="正式党员中有选举权的人数；预备党员、留党察看期间的党员不计。",
                                         error_messages={"min_value": "人数至少为 1。", "invalid": "请填写整数。"})
    voters_present = forms.IntegerField(label="实到会有选举权的党员（人）", min_value=0, required=False,
                                        error_messages={"min_value": "人数不能为负。", "invalid": "请填写整数。"})
    results = forms.CharField(
        label="当选人及赞成票", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="每行一人：姓名 赞成票数，如“张伟 18”。不录入选举情况可留空。")
    approved_by = forms.CharField(label="批准提前换届的上级党组织", max_length=100, required=False,
                                  help_text="任期届满前超过1年换届（提前换届）须经上级党的委员会批准；按期换届不填。")
    document_number = forms.CharField(label="提前换届批复文号", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=300, required=False)
    version = HiddenVersionField()

    def clean_results(self):
        """Lines of "姓名 票数" into [(name, votes)]; a line that does not read so is named."""
        pairs = []
        for n, line in enumerate((self.cleaned_data.get("results") or "").splitlines(), start=1):
            line = line.replace("\u3000", " ").strip()
            if not line:
                continue
            name, _, votes = line.rpartition(" ")
            if not name.strip() or not votes.isascii() or not votes.isdigit():
                raise ValidationError(f"第 {n} 行应为“姓名 赞成票数”，如“张伟 18”。")
            pairs.append((name.strip(), int(votes)))
        return pairs


class ExtendTermForm(BootstrapMixin, forms.Form):
    extended_to = _date("批准延期至", help_text="延期换届一般不超过1年，自本届任期届满之日起算。")
    approved_by = forms.CharField(label="批准机关（上级党组织）", max_length=100,
                                  error_messages={"required": "请填写批准延期的上级党组织。"})
    document_number = forms.CharField(label="批复文号", max_length=100, error_messages={"required": "请填写批复文号。"})
    approved_on = _date("批准日期", past=True)
    note = forms.CharField(label="延期原因", max_length=300, required=False)
    version = HiddenVersionField()


class AppointmentForm(BootstrapMixin, forms.Form):
    member = forms.ModelChoiceField(label="党员", queryset=Member.objects.none())
    role = forms.ChoiceField(label="职务", choices=Appointment.Role.choices)
    start = _date("任职日期", past=True)

    def __init__(self, *args, members, organization: Organization | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        if organization is not None:  # only the posts this kind of organisation has, named at its level
            self.fields["role"].choices = [
                (value, Appointment(organization=organization, role=value).title)
                for value, _ in Appointment.Role.choices if value in ROLES_BY_KIND[organization.kind]]


class MemberFilterForm(forms.Form):
    q = forms.CharField(required=False)
    organization = forms.IntegerField(required=False)
    category = forms.ChoiceField(choices=[("", "全部")] + Member.Category.choices, required=False)
    status = forms.ChoiceField(choices=[("active", "在册"), ("", "全部")] + Member.Status.choices[1:], required=False)
    after = forms.CharField(required=False)


class UnitForm(BootstrapMixin, forms.Form):
    parent = forms.ModelChoiceField(label="上级单位", queryset=Unit.objects.none(), required=False)
    kind = forms.ChoiceField(label="类型", choices=Unit.Kind.choices)
    code = forms.CharField(label="编码", max_length=32)
    name = forms.CharField(label="名称", max_length=100)
    organization = TreeNodeChoiceField(label="服务党组织", queryset=Organization.objects.none(), required=False)

    def __init__(self, *args, units, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = units
        self.fields["organization"].queryset = organizations
        self.fields["organization"].searchable(Perm.MANAGE_UNITS)
        # A new top-level unit (another bureau's tree) only for those granted a top-level
        # organisation (the page checks it again); for everyone else the parent is required.
        if not organizations.filter(depth=1).exists():
            self.fields["parent"].required = True
            self.fields["parent"].error_messages["required"] = "请选择上级单位。"

    def clean(self):
        data = super().clean()
        code = (data.get("code") or "").strip()
        if code and Unit.objects.filter(code=code).exists():
            self.add_error("code", f"编码 {code} 已被使用。")
        return data


class AppointmentEndForm(BootstrapMixin, forms.Form):
    end = _date("免职日期", past=True)


class DissolveForm(BootstrapMixin, forms.Form):
    on = _date("撤销日期", past=True)
    note = forms.CharField(label="说明（如批复文号、撤销原因）", max_length=300, required=False)

    def __init__(self, *args, organization: Organization | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean(self):
        """What stands in the way whatever the date (members still on the roll, live
        sub-organisations) is reported with the date's own problems."""
        data = super().clean()
        org = self.organization
        if org is not None:
            active = Member.objects.filter(organization__path__startswith=org.path, status=Member.Status.ACTIVE)
            count = active.count()
            if count:
                self.add_error(None, f"“{org.name}”还有 {count} 名在册党员，请先办理组织关系转接。")
            if Organization.objects.get_descendants(org).filter(dissolved_on__isnull=True).exists():
                self.add_error(None, f"“{org.name}”还有未撤销的下级党组织，请先撤销或调整它们。")
        return data


class ConfirmFullForm(BootstrapMixin, forms.Form):
    on = _date("转正日期", past=True)


class ProbationForm(BootstrapMixin, forms.Form):
    """留党察看: the dates are checked by the service's rule (discipline.probation_max_years) here
    too, so that one submission lists every problem at once."""

    start = _date("留党察看开始日期", past=True)
    end = _date("留党察看期满日期", help_text="恢复党员权利之日。留党察看期限最长不超过二年（《中国共产党纪律处分条例》）。")
    document_number = forms.CharField(label="处分决定文号", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=300, required=False)

    def clean(self):
        data = super().clean()
        for field, message in probation_clean(start=data.get("start"), end=data.get("end")).items():
            if field not in self.errors:
                self.add_error(field, message)
        return data


class LeaveForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label="原因", choices=Member.Status.choices[1:])
    on = _date("日期", past=True)
    note = forms.CharField(label="说明", max_length=300, required=False)
