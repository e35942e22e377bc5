"""Every form tells what to fix at once: each required field is marked (*), every select's empty
choice reads 请选择… (never "---------"), and an empty submission lists all its problems in one
summary at the top, each linking to its field, with nothing saved.

The forms are enumerated through the pages that show them; a form class of the app that no page
case covers fails `test_every_form_of_the_app_is_shown_by_a_page_case`."""

import datetime as dt
import html
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

import dangjian
from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import Role
from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.organizations.models import Member, Organization, Unit
from dangjian.orglife import services as life
from dangjian.orglife.models import Meeting, MeetingKind
from dangjian.orglife.services import MeetingInput


@dataclass(frozen=True)
class Page:
    persona: str
    route: str
    args: object = None  # bureau -> reverse() args
    forms: tuple[str, ...] = ()  # the form classes the page shows


def _meeting(b):
    return life.meeting_record(by=Actor.system("测试"), data=MeetingInput(
        organization=b.branch_a, kind=MeetingKind.COMMITTEE_MEETING, topics="研究",
        # Yesterday: today at 09:00 is still to come when the suite runs between midnight and 09:00.
        starts_at=dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), dt.time(9),
                                      tzinfo=timezone.get_current_timezone())))


PAGES = {
    "成立党组织": Page("party_office", "organizations:create", forms=("OrganizationCreateForm",)),
    "调整党组织": Page("party_office", "organizations:restructure", lambda b: [b.branch_b.pk], ("RestructureForm",)),
    "换届": Page("party_office", "organizations:renew_term", lambda b: [b.branch_b.pk], ("RenewTermForm",)),
    "延期换届": Page("party_office", "organizations:extend_term", lambda b: [b.branch_b.pk], ("ExtendTermForm",)),
    "撤销": Page("party_office", "organizations:dissolve", lambda b: [b.branch_b.pk], ("DissolveForm",)),
    "任职": Page("party_office", "organizations:appoint", lambda b: [b.branch_b.pk], ("AppointmentForm",)),
    "免职": Page("party_office", "organizations:appointment_end",
                 lambda b: [b.branch_b.pk, b.branch_b.appointments.get().pk], ("AppointmentEndForm",)),
    "添加单位": Page("party_office", "organizations:unit_create", forms=("UnitForm",)),
    "登记党员": Page("party_office", "organizations:member_create", forms=("MemberForm",)),
    "修改党员信息": Page("party_office", "organizations:member_edit", lambda b: [b.member_b.pk], ("MemberForm",)),
    "组织关系转接": Page("party_office", "organizations:member_transfer", lambda b: [b.member_b.pk], ("TransferForm",)),
    "预备党员转正": Page("party_office", "organizations:member_confirm_full", lambda b: [b.member_b.pk],
                         ("ConfirmFullForm",)),
    "留党察看": Page("party_office", "organizations:member_probation", lambda b: [b.member_b.pk], ("ProbationForm",)),
    "离开花名册": Page("party_office", "organizations:member_leave", lambda b: [b.member_b.pk], ("LeaveForm",)),
    "账号管理": Page("sys_admin", "access:users", forms=("UserCreateForm",)),
    "角色授权": Page("security_admin", "access:roles", forms=("RoleGrantForm",)),
    "账号对应党员": Page("security_admin", "access:bindings", forms=("MemberBindForm",)),
    "修改密码": Page("branch_secretary", "access:password_change", forms=("PasswordChangeForm",)),
    # The same code form is on the verify and enrol pages, seen before the second factor is passed.
    "双因素认证": Page("sys_admin", "access:otp", forms=("OtpTokenForm",)),
    # The meeting pages (their forms belong to orglife) include the same shared pieces.
    "记录会议": Page("party_office", "orglife:meeting_create", forms=("MeetingForm", "AgendaItemForm", "GuestForm")),
    "修改会议记录": Page("party_office", "orglife:meeting_edit", lambda b: [_meeting(b).pk]),
    "删除会议记录": Page("party_office", "orglife:meeting_delete", lambda b: [_meeting(b).pk], ("MeetingDeleteForm",)),
    "党建联系点": Page("party_office", "orglife:contact_points", forms=("ContactPointForm",)),
    "登记谈心谈话": Page("party_office", "orglife:heart_talk_create", lambda b: [b.branch_a.pk], ("HeartTalkForm",)),
}
# Forms no page of this kind shows, with the reason.
EXEMPT = {
    "LoginForm": "the log-in page, seen signed out (these cases sign in); its two fields are written by hand, both required",
    "MemberFilterForm": "the roster's filter (GET): nothing is required, its empty choices mean 全部",
    "RevealForm": "one reason field posted by htmx from the member page; it answers with its own message",
    "_RowForm": "the base of the meeting form's row forms (AgendaItemForm, GuestForm), never shown itself",
}
# The pages of the forms this area owns, whose empty submission must list every problem at once
# (the meeting form's own rules are the orglife area's: tests/orglife).
OWN = [name for name, page in PAGES.items() if not page.route.startswith("orglife:")]


def _url(bureau, page: Page) -> str:
    return reverse(page.route, args=page.args(bureau) if page.args else None)


def _post_forms(page_html: str) -> str:
    return " ".join(re.findall(r'<form method="post".*?</form>', page_html, flags=re.S))


def test_every_form_of_the_app_is_shown_by_a_page_case():
    found = set()
    for info in pkgutil.iter_modules(dangjian.__path__):
        try:
            module = importlib.import_module(f"dangjian.{info.name}.forms")
        except ModuleNotFoundError as exc:
            if exc.name != f"dangjian.{info.name}.forms":
                raise
            continue
        found |= {name for name, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__}
    covered = {name for page in PAGES.values() for name in page.forms}
    assert found - covered - set(EXEMPT) == set()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_required_field_is_marked_and_every_empty_choice_says_please_choose(bureau, client_for, name):
    page = PAGES[name]
    response = client_for(page.persona).get(_url(bureau, page))
    assert response.status_code == 200
    text = response.content.decode()
    posted = _post_forms(text)
    assert "---------" not in text
    empties = re.findall(r'<option value=""[^>]*>(.*?)</option>', posted)
    assert not [label for label in empties if re.fullmatch(r"[-–—\s]*", label)], empties
    if name in OWN:
        assert set(empties) <= {"请选择…"}, empties
    form = response.context["form"]
    required = [f for f in form.visible_fields() if f.field.required]
    assert required or name not in OWN, "a form with nothing required?"
    for field in required:
        label = re.search(rf'(?:for="{field.id_for_label}"|id="{field.auto_id}_label")[^>]*>(.*?)</(?:label|div)>',
                          posted, flags=re.S)
        assert label and 'class="text-danger"' in label.group(1) and "*" in label.group(1), field.name
    for field in form.visible_fields():
        if not field.field.required:
            label = re.search(rf'for="{field.id_for_label}"[^>]*>(.*?)</label>', posted, flags=re.S)
            assert label is None or "*" not in label.group(1), f"{field.name} is optional but marked"
    # A select of a required choice starts unchosen unless the page chose for a reason (an edit).
    if name == "登记党员":
        assert '<option value="" selected>请选择…</option>' in re.search(
            r'<select name="gender".*?</select>', posted, flags=re.S).group(0)


def _summary(text: str) -> list[str]:
    block = re.search(r'<div class="alert alert-danger"[^>]*id="form-errors".*?</ul>', text, flags=re.S)
    assert block, "no error summary at the top"
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", block.group(0), flags=re.S)]


def _counts() -> tuple:
    return (Organization.objects.count(), Unit.objects.count(), Member.objects.count(), User.objects.count(),
            RoleAssignment.objects.count(), AuditEntry.objects.exclude(action__startswith="auth.").count(),
            Meeting.objects.count())


@pytest.mark.parametrize("name", OWN)
def test_an_empty_submission_lists_every_problem_at_once_and_saves_nothing(bureau, client_for, name):
    page = PAGES[name]
    client = client_for(page.persona)
    url = _url(bureau, page)
    shown = client.get(url).context["form"]
    # What a browser sends for a form left empty: every field, blank (an unticked box is left out).
    blank = {field.html_name: "" for field in shown.visible_fields()
             if field.widget_type not in ("checkbox", "checkboxselectmultiple")}
    before = _counts()
    response = client.post(url, blank)
    assert response.status_code == 200
    assert _counts() == before
    text = response.content.decode()
    assert text.count('id="form-errors"') == 1
    items = _summary(text)
    form = response.context["form"]
    # Every required field is reported, each linking to its field, in the one summary.
    for field in form.visible_fields():
        if field.field.required:
            assert f'href="#{field.id_for_label}"' in text, field.name
    assert len(items) == sum(len(errors) for errors in form.errors.values())
    assert all(re.search(r"[\u4e00-\u9fff]", item) for item in items)


# The problems that used to surface only on a second try, now listed with the first.
def test_restructure_asks_for_the_note_with_the_date(bureau, client_for):
    items = _summary(client_for("party_office").post(
        reverse("organizations:restructure", args=[bureau.branch_b.pk]), {"on": "", "note": ""}).content.decode())
    assert any("请说明调整内容" in item for item in items) and any(item.startswith("调整日期") for item in items)


def test_dissolving_an_organisation_with_members_says_so_with_the_missing_date(bureau, client_for):
    before = _counts()
    items = _summary(client_for("party_office").post(
        reverse("organizations:dissolve", args=[bureau.branch_b.pk]), {"on": "", "note": ""}).content.decode())
    assert any(item.startswith("撤销日期") for item in items)
    assert any("名在册党员，请先办理组织关系转接" in item for item in items)
    assert _counts() == before


def test_a_role_without_its_node_and_a_weak_password_are_reported_with_the_missing_fields(bureau, client_for):
    items = _summary(client_for("security_admin").post(
        reverse("access:roles"), {"role": Role.BRANCH_SECRETARY}).content.decode())
    assert any(item.startswith("账号") for item in items)
    assert any("须授予在党组织上" in item for item in items)
    items = _summary(client_for("sys_admin").post(
        reverse("access:users"), {"username": "xitong", "password": "short"}).content.decode())
    assert any(item.startswith("姓名") for item in items)
    assert any("已存在" in item for item in items)
    assert any(item.startswith("初始密码") for item in items)


def test_a_future_date_is_reported_with_the_other_problems(bureau, client_for):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    items = _summary(client_for("party_office").post(
        reverse("organizations:create"), {"founded_on": tomorrow.isoformat(), "code": "GB1"}).content.decode())
    assert "成立日期：日期不能晚于今天。" in items
    assert "编码：编码 GB1 已被使用。" in items
    assert any(item.startswith("名称") for item in items)


def test_a_unit_needs_its_parent_unless_the_user_may_found_a_new_tree(bureau, client_for):
    from dangjian.core.forms import EMPTY_CHOICE
    from dangjian.organizations.forms import UnitForm

    whole = UnitForm(units=Unit.objects.all(), organizations=Organization.objects.all())
    branch_only = UnitForm(units=Unit.objects.all(), organizations=Organization.objects.filter(pk=bureau.branch_a.pk))
    assert not whole.fields["parent"].required and branch_only.fields["parent"].required
    assert branch_only.fields["parent"].empty_label == EMPTY_CHOICE
    bound = UnitForm({}, units=Unit.objects.all(), organizations=Organization.objects.filter(pk=bureau.branch_a.pk))
    assert bound.errors["parent"] == ["请选择上级单位。"]


def test_the_summary_is_shown_once_when_a_page_includes_it_before_the_fields(bureau, rf):
    from django.template import engines

    from dangjian.organizations.forms import TransferForm

    form = TransferForm({}, organizations=Organization.objects.all())
    template = engines["django"].from_string(
        '{% include "_form_errors.html" with form=form formset=None %}{% include "_form_fields.html" %}')
    text = template.render({"form": form})
    assert text.count('id="form-errors"') == 1


def test_the_page_moves_to_the_summary_with_a_script_the_app_serves(bureau, client_for):
    text = client_for("party_office").get(reverse("organizations:create")).content.decode()
    assert re.search(r'<script src="/static/js/form-errors\.js', text)
    from django.contrib.staticfiles import finders

    script = open(finders.find("js/form-errors.js"), encoding="utf-8").read()
    assert "[data-form-errors]" in script and ".focus(" in script


def test_required_boxes_and_box_groups_are_marked_too():
    from django.template import engines

    from dangjian.core.forms import BootstrapMixin

    class Pledge(BootstrapMixin, forms.Form):
        agree = forms.BooleanField(label="已核对")
        topics = forms.MultipleChoiceField(label="学习主题", choices=[("a", "党章"), ("b", "党史")],
                                           widget=forms.CheckboxSelectMultiple)
        extra = forms.BooleanField(label="另附材料", required=False)

    text = engines["django"].from_string('{% include "_form_fields.html" %}').render({"form": Pledge()})
    assert re.search(r'for="id_agree">已核对 <span class="text-danger"[^>]*>\*</span>', text)
    assert re.search(r'id="id_topics_label">学习主题 <span class="text-danger"[^>]*>\*</span>', text)
    assert re.search(r'for="id_extra">另附材料</label>', text)


def test_a_missing_value_is_asked_for_in_plain_words(bureau):
    from dangjian.organizations.forms import AppointmentForm

    form = AppointmentForm({"member": "", "role": "", "start": ""}, members=Member.objects.all())
    assert form.errors == {"member": ["请选择此项。"], "role": ["请选择此项。"], "start": ["请填写此项。"]}
