from django import forms

from dangjian.access.models import User
from dangjian.access.roles import Role
from dangjian.core.forms import BootstrapMixin, TreeNodeChoiceField
from dangjian.organizations.models import Member, Organization, Unit


class UserCreateForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, help_text="至少8位，含大写、小写、数字、符号中的3类。")
    member_id_number = forms.CharField(label="对应党员身份证号（可选）", max_length=18, required=False)

    def clean_member_id_number(self):
        number = self.cleaned_data["member_id_number"].strip().upper()
        if not number:
            return None
        member = Member.objects.filter(id_number=number).first()
        if member is None:
            raise forms.ValidationError("没有找到该身份证号的党员。")
        return member


class RoleGrantForm(BootstrapMixin, forms.Form):
    user = forms.ModelChoiceField(label="账号", queryset=User.objects.filter(is_active=True).order_by("username"))
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    organization = TreeNodeChoiceField(label="党组织", queryset=Organization.objects.order_by("path"), required=False)
    unit = forms.ModelChoiceField(label="单位（仅被巡察单位联络人）", queryset=Unit.objects.order_by("path"), required=False)
    include_descendants = forms.BooleanField(label="含下级", required=False, initial=True)
