from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dangjian.access import otp, policy, services
from dangjian.access.forms import LoginForm, MemberBindForm, PasswordChangeForm, RoleGrantForm, UserCreateForm
from dangjian.access.models import RoleAssignment
from dangjian.access.passwords import must_change_password
from dangjian.access.roles import THREE_ADMINS, Perm
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
            window_minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES, idle_minutes=settings.SESSION_COOKIE_AGE // 60,
            absolute_hours=settings.SESSION_ABSOLUTE_HOURS, ended=self.request.GET.get("ended") == "absolute")


@login_required
def users(request):
    policy.require_perm(request.user, Perm.MANAGE_USERS)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.user_create(by=Actor.from_request(request), username=d["username"],
                                        full_name=d["full_name"], password=d["password"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已创建账号 {user.username}，首次登录须修改初始密码。角色和对应党员由安全管理员设置。")
            return redirect("access:users")
    admin_grant = RoleAssignment.objects.filter(user=OuterRef("pk"), role__in=THREE_ADMINS)
    rows = policy.users_manageable(request.user).annotate(is_admin=Exists(admin_grant)).order_by("username")
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




@login_required
@require_POST
def user_password_reset(request, pk):
    """A one-time password, shown once on this answer (never stored in a message or a log)."""
    policy.require_perm(request.user, Perm.MANAGE_USERS)
    user = get_object_or_404(policy.users_manageable(request.user), pk=pk)
    try:
        user, temporary = services.password_reset(by=Actor.from_request(request), user=user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("access:users")
    return render(request, "access/password_reset_done.html", {"account": user, "temporary": temporary})


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.password_change(by=Actor.from_request(request), user=request.user,
                                     old_password=d["old_password"], new_password=d["new_password1"],
                                     keep_session=request.session.session_key)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改，您在其他设备上的登录已退出。")
            return redirect("home")
    return render(request, "access/password_change.html",
                  {"form": form, "forced": must_change_password(request.user),
                   "second_factor": otp.second_factor_required(request.user)})


@login_required
def bindings(request):
    policy.require_perm(request.user, Perm.MANAGE_ROLES)
    form = MemberBindForm(request.POST or None, by=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.user_bind_member(by=Actor.from_request(request), user=d["user"], member=d["member"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"账号 {d['user'].username} 已对应党员 {d['member'].name}。")
            return redirect("access:bindings")
    return render(request, "access/bindings.html", {"form": form, "bound": policy.bound_accounts(request.user)})


@login_required
@require_POST
def binding_remove(request, pk):
    policy.require_perm(request.user, Perm.MANAGE_ROLES)
    user = get_object_or_404(policy.bound_accounts(request.user), pk=pk)
    services.user_unbind_member(by=Actor.from_request(request), user=user)
    messages.success(request, f"已解除账号 {user.username} 与党员的对应。")
    return redirect("access:bindings")
