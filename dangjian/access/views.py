from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dangjian.access import policy, services
from dangjian.access.forms import LoginForm, RoleGrantForm, UserCreateForm
from dangjian.access.models import RoleAssignment
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor
from dangjian.core.forms import apply_service_errors


class LoginView(auth_views.LoginView):
    template_name = "access/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        """The limits the page states, as configured."""
        return super().get_context_data(
            **kwargs, account_limit=settings.AXES_FAILURE_LIMIT, address_limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT,
            window_minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES, idle_minutes=settings.SESSION_COOKIE_AGE // 60)


@login_required
def users(request):
    policy.require_perm(request.user, Perm.MANAGE_USERS)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.user_create(by=Actor.from_request(request), username=d["username"],
                                        full_name=d["full_name"], password=d["password"], member=d["member_id_number"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已创建账号 {user.username}。角色由安全管理员授予。")
            return redirect("access:users")
    rows = policy.users_manageable(request.user).order_by("username")
    return render(request, "access/users.html", {"users": rows, "form": form})


@login_required
@require_POST
def user_toggle(request, pk):
    policy.require_perm(request.user, Perm.MANAGE_USERS)
    user = get_object_or_404(policy.users_manageable(request.user), pk=pk)
    try:
        services.user_set_active(by=Actor.from_request(request), user=user, active=not user.is_active)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"账号 {user.username} 已{'启用' if user.is_active else '停用'}。")
    return redirect("access:users")


@login_required
def roles(request):
    policy.require_perm(request.user, Perm.MANAGE_ROLES)
    form = RoleGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.role_grant(by=Actor.from_request(request), user=d["user"], role=d["role"],
                                organization=d["organization"], unit=d["unit"],
                                include_descendants=d["include_descendants"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "已授予角色。")
            return redirect("access:roles")
    rows = RoleAssignment.objects.select_related("user", "organization", "unit").order_by("user__username", "role")
    return render(request, "access/roles.html", {"assignments": rows, "form": form})


@login_required
@require_POST
def role_revoke(request, pk):
    policy.require_perm(request.user, Perm.MANAGE_ROLES)
    assignment = get_object_or_404(RoleAssignment.objects.select_related("user", "organization", "unit"), pk=pk)
    services.role_revoke(by=Actor.from_request(request), assignment=assignment)
    messages.success(request, "已收回角色。")
    return redirect("access:roles")


