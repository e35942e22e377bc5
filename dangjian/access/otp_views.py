"""The second factor's pages (access/otp.py): verify at log-in, enrol the first time, the user's own
page (remove the app with its code), and the security admin's list with a reset per account."""

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dangjian.access import otp, policy, services
from dangjian.access.forms import OtpTokenForm
from dangjian.access.roles import Perm
from dangjian.audit.services import Actor
from dangjian.core.forms import apply_service_errors


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return "/"


def _required_or_404(request) -> None:
    if not otp.second_factor_required(request.user):
        raise Http404


@login_required
def otp_verify(request):
    """The log-in's second step: the app's current code."""
    _required_or_404(request)
    if request.user.is_verified():
        return redirect(_next(request))
    device = otp.confirmed_device(request.user)
    if device is None:
        return redirect("access:otp_enrol")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.otp_verify(by=Actor.from_request(request), user=request.user, token=form.cleaned_data["token"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            django_otp.login(request, otp.confirmed_device(request.user))
            return redirect(_next(request))
    return render(request, "access/otp_verify.html", {"form": form, "next": _next(request)})


@login_required
def otp_enrol(request):
    """First time: a new secret (kept in the session until confirmed), shown once as a QR code and
    as text; the app's code confirms it. A reload shows a new secret."""
    _required_or_404(request)
    if otp.confirmed_device(request.user) is not None:
        return redirect("access:otp")
    key = request.session.get(otp.PENDING_SECRET)
    if request.method != "POST" or not key:
        key = request.session[otp.PENDING_SECRET] = otp.new_secret()
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.otp_device_enrol(by=Actor.from_request(request), user=request.user, key=key,
                                      token=form.cleaned_data["token"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            del request.session[otp.PENDING_SECRET]
            django_otp.login(request, otp.confirmed_device(request.user))
            messages.success(request, "验证器已绑定。以后每次登录都须输入验证器上的验证码。")
            return redirect(_next(request))
    url = otp.config_url(request.user, key)
    return render(request, "access/otp_enrol.html", {
        "form": form, "next": _next(request), "qr": otp.qr_svg(url), "secret": otp.base32(key)})


@login_required
def otp_page(request):
    """The user's own second factor: which app is bound, and removing it with its code."""
    _required_or_404(request)
    device = otp.confirmed_device(request.user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            services.otp_device_remove(by=Actor.from_request(request), user=request.user,
                                       token=form.cleaned_data["token"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "已解除验证器，请绑定新的验证器。")
            return redirect("access:otp_enrol")
    return render(request, "access/otp.html", {"form": form, "device": device})


@login_required
def otp_devices(request):
    """The security admin's list: every account that must pass the second factor, and whether it
    has enrolled an app."""
    policy.require_perm(request.user, Perm.RESET_SECOND_FACTOR)
    return render(request, "access/otp_devices.html", {"accounts": policy.second_factor_accounts(request.user)})


@login_required
@require_POST
def otp_reset(request, pk):
    policy.require_perm(request.user, Perm.RESET_SECOND_FACTOR)
    user = get_object_or_404(policy.second_factor_accounts(request.user), pk=pk)
    try:
        services.otp_device_reset(by=Actor.from_request(request), user=user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已重置账号 {user.username} 的验证器并结束其全部登录；该账号下次登录时重新绑定。")
    return redirect("access:otp_devices")
