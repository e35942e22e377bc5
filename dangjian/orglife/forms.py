import re

from django import forms
from django.utils import timezone

from dangjian.core.forms import BootstrapMixin, TreeNodeChoiceField
from dangjian.organizations.models import Member, Organization
from dangjian.orglife.models import AgendaItem, Guest, MeetingKind


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class MeetingForm(BootstrapMixin, forms.Form):
    organization = TreeNodeChoiceField(label="党组织", queryset=Organization.objects.none())
    kind = forms.ChoiceField(label="会议类型", choices=MeetingKind.choices)
    starts_at = forms.DateTimeField(
        label="会议时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        error_messages={"invalid": "请填写有效的会议时间，如 2026-03-06 14:30。", "required": "请填写会议时间。"})
    place = forms.CharField(label="地点", max_length=200, required=False)
    host = MemberChoiceField(label="主持人", queryset=Member.objects.none(), required=False)
    recorder = MemberChoiceField(label="记录人", queryset=Member.objects.none(), required=False)
    lecturer = MemberChoiceField(label="授课人（党员）", queryset=Member.objects.none(), required=False)
    lecturer_name = forms.CharField(label="授课人（外请专家）", max_length=100, required=False)
    topics = forms.CharField(label="议题/主题", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    study_tags = forms.CharField(label="学习主题（多个用顿号分隔）", max_length=300, required=False,
                                 help_text="如：学习贯彻党的二十大精神")
    minutes = forms.CharField(label="会议记录", widget=forms.Textarea(attrs={"rows": 5}), required=False)
    includes_appraisal = forms.BooleanField(label="本次含民主评议党员", required=False)
    contact_leaders = forms.ModelMultipleChoiceField(label="列席的联系点领导", queryset=Member.objects.none(),
                                                     required=False, widget=forms.CheckboxSelectMultiple)
    other_guests = forms.CharField(label="其他列席人员（每行一人：姓名 身份）", required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}), help_text="如：张教授 授课人")

    def __init__(self, *args, organizations, members, leaders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        for name in ("host", "recorder", "lecturer"):
            self.fields[name].queryset = members
        self.fields["contact_leaders"].queryset = leaders
        self.fields["contact_leaders"].widget.attrs["class"] = "form-check-input"

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    def study_tag_list(self) -> list[str]:
        return [t for t in re.split(r"[、,，;；\s]+", self.cleaned_data.get("study_tags") or "") if t]

    def other_guest_list(self) -> list[tuple[str, str]]:
        roles = {label: value for value, label in Guest.Role.choices}
        rows = []
        for line in (self.cleaned_data.get("other_guests") or "").splitlines():
            parts = line.split()
            if parts:
                rows.append((parts[0], roles.get(parts[1], Guest.Role.OTHER) if len(parts) > 1 else Guest.Role.OTHER))
        return rows


class AgendaItemForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label="议题", max_length=300, required=False)
    category = forms.ChoiceField(label="类别", choices=[("", "—")] + AgendaItem.Category.choices, required=False)
    amount = forms.DecimalField(label="金额（万元）", required=False, max_digits=12, decimal_places=2,
                                error_messages={"invalid": "金额请填数字（万元）。"})
    votes_for = forms.IntegerField(label="赞成", required=False, min_value=0,
                                   error_messages={"invalid": "票数请填整数。", "min_value": "票数不能为负数。"})
    votes_against = forms.IntegerField(label="反对", required=False, min_value=0,
                                       error_messages={"invalid": "票数请填整数。", "min_value": "票数不能为负数。"})
    votes_abstain = forms.IntegerField(label="弃权", required=False, min_value=0,
                                       error_messages={"invalid": "票数请填整数。", "min_value": "票数不能为负数。"})
    chair_spoke_last = forms.BooleanField(label="主持人末位表态", required=False, initial=True)
    decision = forms.CharField(label="决定", max_length=2000, required=False)


AgendaFormSet = forms.formset_factory(AgendaItemForm, extra=3, max_num=30)


class ContactPointForm(BootstrapMixin, forms.Form):
    leader = MemberChoiceField(label="领导", queryset=Member.objects.none())
    organization = TreeNodeChoiceField(label="联系党支部", queryset=Organization.objects.none())
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)

    def __init__(self, *args, leaders, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leaders
        self.fields["organization"].queryset = branches


class MeetingDeleteForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label="删除原因", max_length=200, required=False,
                             help_text="如：记错了党组织、重复录入。删除会记入审计日志。")
