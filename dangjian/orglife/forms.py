"""The meeting form and its row forms. What is typed is what is saved: guests' and study themes'
text is kept whole (nothing is split on spaces or reduced to a list of roles); rows carry their
record's id, so a correction updates them in place; every empty choice says 请选择…; and each row
is checked on its own (services.agenda_item_problems) so that every problem shows on the first
submit, next to its row and in the summary at the top."""

import re

from django import forms
from django.utils import timezone

from dangjian.access.roles import Perm
from dangjian.core.forms import BootstrapMixin, DateInput, HiddenVersionField, TreeNodeChoiceField
from dangjian.organizations.models import Member, Organization
from dangjian.orglife import rules as orglife_rules
from dangjian.orglife import services
from dangjian.orglife.models import AgendaItem, Guest, MeetingKind

CHOOSE = "请选择…"
NUMBER_ERRORS = {"invalid": "票数请填整数。", "min_value": "票数不能为负数。", "max_value": "票数过大。"}


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class MeetingForm(BootstrapMixin, forms.Form):
    organization = TreeNodeChoiceField(
        label="党组织", queryset=Organization.objects.none(), empty_label=CHOOSE,
        error_messages={"required": "请选择党组织。", "invalid_choice": "所选党组织不存在，或您无权记录其会议。"})
    kind = forms.ChoiceField(label="会议类型", choices=[("", CHOOSE), *MeetingKind.choices],
                             error_messages={"required": "请选择会议类型。", "invalid_choice": "请选择会议类型。"})
    starts_at = forms.DateTimeField(
        label="会议时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        error_messages={"invalid": "请填写有效的会议时间，如 2026-03-06 14:30。", "required": "请填写会议时间。"})
    place = forms.CharField(label="地点", max_length=200, required=False)
    host = MemberChoiceField(label="主持人", queryset=Member.objects.none(), required=False, empty_label=CHOOSE)
    recorder = MemberChoiceField(label="记录人", queryset=Member.objects.none(), required=False, empty_label=CHOOSE)
    lecturer = MemberChoiceField(label="授课人（党员）", queryset=Member.objects.none(), required=False,
                                 empty_label=CHOOSE)
    lecturer_name = forms.CharField(label="授课人（外请专家）", max_length=100, required=False)
    topics = forms.CharField(label="议题/主题", widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "请填写会议议题或主题。"})
    study_tags = forms.CharField(
        label="学习主题", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="每行一个，按填写的顺序保存；主题中的空格、顿号照原样保留。")
    common_tags = forms.MultipleChoiceField(label="常用学习主题（勾选即加入）", required=False,
                                            widget=forms.CheckboxSelectMultiple)
    minutes = forms.CharField(label="会议记录", widget=forms.Textarea(attrs={"rows": 5}), required=False)
    includes_appraisal = forms.BooleanField(label="本次含民主评议党员", required=False)
    also_counts = forms.MultipleChoiceField(
        label="同时计为", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(k, label) for k, label in MeetingKind.choices],
        help_text="一次活动只记录一次：如主题党日同时作为本季度的支部党员大会和党课，勾选后分别计入。")
    covers_year = forms.IntegerField(
        label="所属年度", required=False, help_text="组织生活会、民主评议、民主生活会常在次年年初召开，计入所属年度。",
        error_messages={"invalid": "所属年度请选择会议当年或上一年。"})
    contact_leaders = forms.ModelMultipleChoiceField(label="列席的联系点领导", queryset=Member.objects.none(),
                                                     required=False, widget=forms.CheckboxSelectMultiple)
    version = HiddenVersionField()  # on the edit page: the version of the record it was filled from

    def __init__(self, *args, organizations, members, leaders, common_tags=(), year=None, **kwargs):
        super().__init__(*args, **kwargs)
        year = year or timezone.localdate().year
        # Offered: the year held or the one before; anything else typed reaches the service's rule check.
        self.fields["covers_year"].widget = forms.Select(
            attrs={"class": "form-select"}, choices=[("", "会议当年（默认）"), (year, f"{year}年"), (year - 1, f"{year - 1}年")])
        self.fields["organization"].queryset = organizations
        self.fields["organization"].searchable(Perm.RECORD_MEETINGS)
        for name in ("host", "recorder", "lecturer"):
            self.fields[name].queryset = members
        self.fields["contact_leaders"].queryset = leaders
        self.fields["common_tags"].choices = [(t, t) for t in common_tags]
        for name in ("contact_leaders", "common_tags", "also_counts"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    def clean_study_tags(self):
        tags = study_tag_lines(self.cleaned_data.get("study_tags") or "")
        long = [t for t in tags if len(t) > services.TAG_MAX]
        if long:
            raise forms.ValidationError(f"每个学习主题不能超过 {services.TAG_MAX} 字（第一个过长的是“{long[0][:20]}…”）。")
        return tags

    def study_tag_list(self) -> list[str]:
        """The themes typed, in their order, then the common ones ticked that were not typed."""
        typed = self.cleaned_data.get("study_tags") or []
        return list(dict.fromkeys([*typed, *(self.cleaned_data.get("common_tags") or [])]))


def study_tag_lines(text: str) -> list[str]:
    """One theme a line, each kept whole and in order (a theme with a space in it is one theme)."""
    return list(dict.fromkeys(line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()))


class _RowForm(BootstrapMixin, forms.Form):
    """A row of a formset that stands for a child record: `id` is the record's (empty for a new
    row); a row left blank is ignored; DELETE removes the record."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def is_blank(self) -> bool:
        d = getattr(self, "cleaned_data", None) or {}
        return not d or (d.get("id") is None and not any(
            d.get(name) not in (None, "", False) for name in self.fields if name not in ("id", "DELETE")
            and name not in self.IGNORED_WHEN_BLANK))

    IGNORED_WHEN_BLANK: tuple[str, ...] = ()

    def sent(self, name: str, value):
        """`value`, or UNSET when the page did not render the field at all (the browser sends an
        empty box, but nothing for a box that is not there): a row's field not shown is kept."""
        return value if self.add_prefix(name) in self.data else services.UNSET


class AgendaItemForm(_RowForm):
    title = forms.CharField(label="议题", max_length=300, required=False)
    category = forms.ChoiceField(label="类别", choices=[("", CHOOSE), *AgendaItem.Category.choices], required=False)
    amount = forms.DecimalField(label="金额（万元）", required=False, max_digits=12, decimal_places=2,
                                error_messages={"invalid": "金额请填数字（万元）。",
                                                "max_digits": "金额超出允许的范围。",
                                                "max_decimal_places": "金额最多保留两位小数（万元）。"})
    votes_for = forms.IntegerField(label="赞成", required=False, min_value=0, max_value=2**31 - 1,
                                   error_messages=NUMBER_ERRORS)
    votes_against = forms.IntegerField(label="反对", required=False, min_value=0, max_value=2**31 - 1,
                                       error_messages=NUMBER_ERRORS)
    votes_abstain = forms.IntegerField(label="弃权", required=False, min_value=0, max_value=2**31 - 1,
                                       error_messages=NUMBER_ERRORS)
    chair_spoke_last = forms.BooleanField(label="主持人末位表态", required=False, initial=True)
    decision = forms.CharField(label="决定", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               max_length=20_000)
    IGNORED_WHEN_BLANK = ("chair_spoke_last",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Grouped by body (<optgroup>), so the secretary sees which matters each body decides.
        self.fields["category"].choices = [("", CHOOSE), *orglife_rules.category_choices(timezone.localdate())]

    def clean(self):
        d = super().clean()
        if d.get("DELETE") or self.is_blank() or any(name in self.errors for name in services.VOTE_FIELDS):
            return d
        # A field the page did not render is checked with the record's value (this row's initial).
        typed = {name: d.get(name) if self.add_prefix(name) in self.data else self.initial.get(name)
                 for name in ("amount", *services.VOTE_FIELDS)}
        row = services.AgendaInput(title=d.get("title") or "", category=d.get("category") or "", **typed)
        for field_name, message in services.agenda_item_problems(row, present=None):
            if field_name not in self.errors:
                self.add_error(field_name, message)
        return d

    def agenda_input(self) -> services.AgendaInput:
        d = self.cleaned_data
        sent = self.sent
        return services.AgendaInput(
            id=d.get("id"), title=d.get("title") or "", category=d.get("category") or "",
            amount=sent("amount", d.get("amount")), votes_for=sent("votes_for", d.get("votes_for")),
            votes_against=sent("votes_against", d.get("votes_against")),
            votes_abstain=sent("votes_abstain", d.get("votes_abstain")),
            chair_spoke_last=bool(d.get("chair_spoke_last")), decision=sent("decision", d.get("decision") or ""))


class GuestForm(_RowForm):
    name = forms.CharField(label="姓名", max_length=100, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "姓名", "aria-label": "列席人员姓名"}))
    role = forms.ChoiceField(label="身份", required=False, choices=[("", f"身份：{CHOOSE}"), *Guest.Role.choices],
                             widget=forms.Select(attrs={"aria-label": "列席人员身份（不选即为列席）"}))
    title = forms.CharField(label="职务/说明", max_length=100, required=False, widget=forms.TextInput(
        attrs={"placeholder": "职务/说明，如：市委党校教授", "aria-label": "列席人员职务/说明"}))

    def clean(self):
        d = super().clean()
        if not d.get("DELETE") and not self.is_blank() and not (d.get("name") or "").strip() and "name" not in self.errors:
            self.add_error("name", "请填写列席人员姓名（如要去掉这一行，请勾选“删除”）。")
        return d

    def guest_input(self) -> services.GuestInput:
        d = self.cleaned_data
        return services.GuestInput(id=d.get("id"), name=d.get("name") or "",
                                   role=self.sent("role", d.get("role") or Guest.Role.OTHER),
                                   title=self.sent("title", d.get("title") or ""))


AgendaFormSet = forms.formset_factory(AgendaItemForm, extra=3, max_num=30, can_delete=True, can_delete_extra=False)
GuestFormSet = forms.formset_factory(GuestForm, extra=2, max_num=200, can_delete=True, can_delete_extra=False)


class ContactPointForm(BootstrapMixin, forms.Form):
    leader = MemberChoiceField(label="领导", queryset=Member.objects.none(), empty_label=CHOOSE)
    organization = TreeNodeChoiceField(label="联系党支部", queryset=Organization.objects.none(), empty_label=CHOOSE)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)

    def __init__(self, *args, leaders, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leaders
        self.fields["organization"].queryset = branches
        self.fields["organization"].searchable(Perm.MANAGE_CONTACT_POINTS, kinds={Organization.Kind.BRANCH})


class HeartTalkForm(BootstrapMixin, forms.Form):
    held_on = forms.DateField(
        label="谈话日期", widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        error_messages={"required": "请填写谈话日期。", "invalid": "请填写有效的日期，如 2026-03-06。"})
    first = MemberChoiceField(label="谈话人", queryset=Member.objects.none(), empty_label=CHOOSE,
                              error_messages={"required": "请选择谈话人。",
                                              "invalid_choice": "所选谈话人不是本党组织的党员。"})
    second = MemberChoiceField(label="谈话对象", queryset=Member.objects.none(), empty_label=CHOOSE,
                               error_messages={"required": "请选择谈话对象。",
                                               "invalid_choice": "所选谈话对象不是本党组织的党员。"})

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first"].queryset = people
        self.fields["second"].queryset = people


class MeetingDeleteForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label="删除原因", max_length=200,
                             error_messages={"required": "请说明删除原因（如：记错了党组织、重复录入）。"},
                             help_text="如：记错了党组织、重复录入。删除会记入审计日志。")
