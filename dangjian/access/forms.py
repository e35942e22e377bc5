from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password

from dangjian.access import policy
from dangjian.access.lockout import address_allowed_for_admin
from dangjian.access.models import User
from dangjian.access.roles import THREE_ADMINS, UNIT_ROLES, Role
from dangjian.audit.services import Actor, audit_record
from dangjian.core.client_ip import client_ip
from dangjian.core.forms import BootstrapMixin, TreeNodeChoiceField
from dangjian.organizations.models import Member, Organization, Unit


class UserCreateForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, help_text="至少8位，含大写、小写、数字、符号中的3类。本人首次登录时须改为自己的密码。")

    def clean(self):
        """The service's checks of name and password, here too, so that one submission lists every
        problem (the service checks again)."""
        data = super().clean()
        username = (data.get("username") or "").strip()
        if username and User.objects.filter(username__iexact=username).exists():
            self.add_error("username", f"用户名 {username} 已存在（不区分大小写）。")
        if data.get("password"):
            try:
                validate_password(data["password"], User(username=username, full_name=data.get("full_name") or ""))
            except forms.ValidationError as exc:
                for message in exc.messages:
                    self.add_error("password", message)
        return data


class RoleGrantForm(BootstrapMixin, forms.Form):
    user = forms.ModelChoiceField(label="账号", queryset=User.objects.filter(is_active=True).order_by("username"))
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    organization = TreeNodeChoiceField(label="党组织", queryset=Organization.objects.order_by("path"), required=False)
    unit = forms.ModelChoiceField(label="单位（仅被巡察单位联络人）", queryset=Unit.objects.order_by("path"), required=False)
    include_descendants = forms.BooleanField(label="含下级", required=False, initial=True)

    def clean(self):
        """Where the chosen role must be granted (the service checks again), reported with the
        form's other problems."""
        data = super().clean()
        role, organization, unit = data.get("role"), data.get("organization"), data.get("unit")
        if role in THREE_ADMINS:
            if organization or unit:
                self.add_error("role", "系统、安全、审计管理员为全局角色，不需要选择党组织或单位。")
        elif role in UNIT_ROLES:
            if unit is None or organization is not None:
                self.add_error("unit", f"{Role(role).label}须授予在单位上。")
        elif role and (organization is None or unit is not None):
            self.add_error("organization", f"{Role(role).label}须授予在党组织上。")
        return data


class LoginForm(AuthenticationForm):
    """Django's log-in form, plus: the three admins only from ADMIN_LOGIN_NETWORKS (refused and
    audited elsewhere). Checked after the password, like a disabled account, so the refusal tells
    nothing to someone who does not know the password."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        address = client_ip(self.request)
        if not address_allowed_for_admin(address) and user.role_assignments.filter(role__in=THREE_ADMINS).exists():
            audit_record(by=Actor(user=None, name=user.get_username(), ip=address or None),
                         action="auth.login_refused", obj=user, note=f"管理员账号不允许从地址 {address or '未知'} 登录")
            raise forms.ValidationError("管理员账号只能从指定的管理网络登录，本次登录已拒绝并记录。", code="admin_address")


class MemberBindForm(BootstrapMixin, forms.Form):
    """The security admin picks an account and the member of the same person, by name and
    organisation: no ID number is typed, so the form answers nothing about who is on the roll."""

    user = forms.ModelChoiceField(label="账号", queryset=User.objects.none())
    member = forms.ModelChoiceField(label="党员（姓名 · 所在党组织）", queryset=Member.objects.none())

    def __init__(self, *args, by, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = policy.accounts_bindable(by)
        self.fields["member"].queryset = policy.members_bindable(by)
        self.fields["member"].label_from_instance = lambda m: f"{m.name} · {m.organization.name}"


class PasswordChangeForm(BootstrapMixin, forms.Form):
    old_password = forms.CharField(label="原密码", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(label="新密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                    help_text="至少8位，含大写、小写、数字、符号中的3类；不能与最近使用过的密码相同。")
    new_password2 = forms.CharField(label="再次输入新密码",
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        return data


class OtpTokenForm(BootstrapMixin, forms.Form):
    """The 6-digit code of the authenticator app (verify, enrol and removal pages)."""

    token = forms.CharField(
        label="验证码", max_length=8, help_text="验证器应用上当前显示的6位数字，每30秒更换一次。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}))

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError("请输入6位数字验证码。")
        return token
