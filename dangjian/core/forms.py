from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html

from dangjian.core.updates import Conflict


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


EMPTY_CHOICE = "请选择…"


class BootstrapMixin:
    """Give every widget Bootstrap's classes, word every select's empty choice 请选择… (never
    Django's "---------"), and mark invalid fields once the form is cleaned."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            if isinstance(field.widget, forms.CheckboxInput):
                css = "form-check-input"
            field.widget.attrs.setdefault("class", css)
            word_empty_choice(field, has_initial=self.initial.get(name, field.initial) not in (None, ""))
            if field.error_messages.get("required") == forms.Field.default_error_messages["required"]:
                # Django's "这个字段是必填项。" reads as machine talk: say what to do.
                choice = isinstance(field, (forms.ChoiceField, forms.ModelChoiceField))
                field.error_messages["required"] = "请选择此项。" if choice else "请填写此项。"


def word_empty_choice(field: forms.Field, *, has_initial: bool) -> None:
    """The empty choice of a single-choice select reads 请选择…. A required choice with no empty
    choice and no initial value gets one, so nothing is chosen for the user by the list's order
    (性别, 离开原因): left unchosen, it is reported with the form's other problems."""
    if not isinstance(field.widget, forms.Select) or isinstance(field.widget, forms.SelectMultiple):
        return
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label is not None:
            field.empty_label = EMPTY_CHOICE
        return
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.MultipleChoiceField):
        choices = list(field.choices)
        if any(value == "" for value, _label in choices):
            field.choices = [(value, EMPTY_CHOICE if value == "" else label) for value, label in choices]
        elif field.required and not has_initial:
            field.choices = [("", EMPTY_CHOICE), *choices]

    def full_clean(self):
        super().full_clean()
        mark_invalid(self)


def mark_invalid(form: forms.Form) -> None:
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            if "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = attrs.get("class", "") + " is-invalid"


VERSION_MESSAGE = "页面数据不完整（记录版本无效），请刷新页面后重新填写。"


class HiddenVersionField(forms.IntegerField):
    """The version of the record the edit form was filled from (optimistic locking,
    `core.updates`), sent back hidden: the service refuses the save if anyone saved the record
    since. Absent (a client that posts only some fields), nothing is compared."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "记录版本")
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**31 - 1)
        kwargs.setdefault("error_messages", {"invalid": VERSION_MESSAGE, "min_value": VERSION_MESSAGE,
                                             "max_value": VERSION_MESSAGE})
        super().__init__(**kwargs)


def keep_current_version(form: forms.Form, exc: ValidationError) -> None:
    """After a Conflict, the form keeps what the person typed but now carries the version saved
    meanwhile: having checked the message, they can submit again (and overwrite knowingly)."""
    if isinstance(exc, Conflict) and exc.current is not None and "version" in form.fields and form.is_bound:
        data = form.data.copy()
        data[form.add_prefix("version")] = str(exc.current)
        form.data = data


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that field."""
    keep_current_version(form, exc)
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
    mark_invalid(form)


DATE_ERRORS = {"invalid": "请输入有效日期，如 2022-03-01。", "required": "请填写此项。"}


def form_page(request, form, action, *, title: str, back: str, success, done=None, submit: str | None = None):
    """The create/edit page every area uses. On a valid POST, `action(cleaned_data)` makes the one
    service call; a ValidationError it raises is shown on the form (nothing is saved); success
    redirects to `done`, or to the object the action returned. `success` is the message, or a
    function of that object giving it. `submit` words the button (default the form's
    `submit_label`, else 保存: a delete page says 删除)."""
    if request.method == "POST" and form.is_valid():
        try:
            result = action(form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return redirect(done or result)
    return render(request, "form.html", {"form": form, "title": title, "back": back,
                                         "submit": submit or getattr(form, "submit_label", "保存")})


MAX_ID = 2**63 - 1


def parse_id(raw) -> int | None:
    """An id from a query string or form key, or None: ASCII digits only ("²".isdigit() is True but
    int() refuses it) and within the database's integer range."""
    text = str(raw or "")
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


# A picker offers every choice while there are at most PICKER_FULL of them (a bureau); beyond that
# (a city's 3,000 organisations) only the chosen one, and a search box fetches matches (htmx).
PICKER_FULL = 50
PICKER_URL = "organizations:pick"  # by name: core imports no area (organizations.views.organization_pick)


class TreePicker(forms.Select):
    """A <select> of tree nodes that stays small: the whole list when short, otherwise the chosen
    value only (so the form still works without JavaScript) and a search box before it whose
    matches (at most 20, read through the access policy with `search`'s permission) replace the
    options. The form validates the value against its own queryset either way. One query for the
    choices (at most PICKER_FULL + 1 rows), one more for the chosen value when the list is long and
    its first rows do not hold it."""

    search: dict | None = None  # {"perm": …, "kinds": "branch,cell", "live": "1"}: set by TreeNodeChoiceField.searchable

    def optgroups(self, name, value, attrs=None):
        iterator = self.choices
        queryset = getattr(iterator, "queryset", None)
        if queryset is None or self.search is None:
            return super().optgroups(name, value, attrs)
        head = list(queryset[: PICKER_FULL + 1])
        chosen_ids = [pk for pk in (parse_id(v) for v in value) if pk is not None]
        self.long = len(head) > PICKER_FULL
        if self.long:  # the chosen values only, read again unless the first rows hold them (a scope's top)
            shown = [obj for obj in head if obj.pk in chosen_ids]
            head = shown if len(shown) == len(set(chosen_ids)) else list(queryset.filter(pk__in=chosen_ids))
        blank = [("", iterator.field.empty_label)] if iterator.field.empty_label is not None else []
        original, self.choices = self.choices, blank + [iterator.choice(obj) for obj in head]
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = original

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        if not getattr(self, "long", False):
            return html
        query = {**self.search, "blank": "" if self.is_required else "1"}
        url = f"{reverse(PICKER_URL)}?{urlencode({k: v for k, v in query.items() if v})}"
        search = format_html(
            '<input type="search" class="form-control form-control-sm mb-1 org-picker-search" name="q" '
            'form="org-picker-none" placeholder="输入名称查找" aria-label="查找党组织" autocomplete="off" maxlength="50" '
            'hx-get="{}" hx-trigger="input changed delay:300ms, search" hx-target="next select" hx-swap="innerHTML">',
            url)
        return format_html('<div class="org-picker">{}{}</div>', search, html)


class TreeNodeChoiceField(forms.ModelChoiceField):
    """A choice of a node of a materialised-path tree, indented by depth (organisations, units)."""

    widget = TreePicker

    def label_from_instance(self, obj):
        return "　" * (obj.depth - 1) + obj.name

    def searchable(self, perm: str = "", *, kinds=(), live: bool = True) -> None:
        """Offer a search (TreePicker) once the choices are many: matches among the organisations on
        which the reader holds `perm` (the default organisations' permission when empty), of
        `kinds`, not dissolved when `live`. Say what the form's queryset holds: a match outside it is
        refused by the form."""
        self.widget.search = {"perm": str(perm), "kinds": ",".join(sorted(kinds)), "live": "1" if live else ""}


def org_picker_html(name: str, organizations, chosen, *, perm: str = "", label: str = "党组织",
                    empty: str | None = None) -> str:
    """An organisation <select> for a filter form (GET), bounded as a form's TreePicker is: the
    whole list while short, else the chosen organisation and a search box (matches among those on
    which the reader holds `perm`). `empty`: the label of a "no choice" option, if any."""
    field = TreeNodeChoiceField(queryset=organizations, required=empty is None, empty_label=empty)
    field.searchable(perm)
    return field.widget.render(name, getattr(chosen, "pk", None), attrs={"class": "form-select", "aria-label": label})
