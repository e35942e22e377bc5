"""What a logged-in session may reach, in the order settings.MIDDLEWARE runs them:

1. SessionLimitMiddleware: a session ends SESSION_ABSOLUTE_HOURS after its log-in, however active.
   The idle limit is SESSION_COOKIE_AGE from the session's last save; activity saves it again at
   most once every SESSION_TOUCH_SECONDS (60), not on every request: a page view is then a read,
   not a write of the session row (on SQLite, a write takes the database's one write lock). So an
   idle session ends between SESSION_COOKIE_AGE − SESSION_TOUCH_SECONDS and SESSION_COOKIE_AGE.
2. SecondFactorRequiredMiddleware: an account of OTP_REQUIRED_ROLES that has not passed its second
   factor in this session reaches only the enrol/verify pages and log-out (access/otp.py).
3. PasswordChangeRequiredMiddleware (等保 8.1.4.1): an account whose password someone else set (a new
   account, a reset) or whose password is older than PASSWORD_MAX_AGE_DAYS reaches nothing but the
   password change page and log-out until the password is changed.

Each answers an API call with JSON, an htmx request with HX-Redirect, and a page with a redirect."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from dangjian.access import otp
from dangjian.access.passwords import must_change_password

# The session key holding the log-in's time (Unix seconds), set on log-in (access/signals.py).
LOGIN_AT = "login_at"
# The session key holding when activity last saved the session (Unix seconds).
TOUCHED_AT = "touched_at"


def _send_to(request, url: str, api_message: str, api_status: int = 403):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": api_message}, status=api_status)
    if getattr(request, "htmx", False):  # a fragment request: the browser goes to the page
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _is_static(request) -> bool:
    return request.path.startswith(settings.STATIC_URL)


def session_expired(session) -> bool:
    """Past SESSION_ABSOLUTE_HOURS since the log-in (a session without a log-in time counts as past)."""
    started = session.get(LOGIN_AT)
    return started is None or time.time() - started > settings.SESSION_ABSOLUTE_HOURS * 3600


class SessionLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and session_expired(request.session):
            logout(request)
            url = reverse("access:login") + "?" + urlencode({"ended": "absolute"})
            return _send_to(request, url, f"登录已满{settings.SESSION_ABSOLUTE_HOURS}小时，请重新登录。", 401)
        response = self.get_response(request)
        if user is not None and user.is_authenticated and not _is_static(request):
            touch(request.session)
        return response


def touch(session) -> None:
    """Slide the idle expiry: mark the session for saving if activity last saved it at least
    SESSION_TOUCH_SECONDS ago (a session changed by the request is saved anyway)."""
    if session.modified or not session.session_key:
        return
    now = int(time.time())
    if now - session.get(TOUCHED_AT, 0) >= settings.SESSION_TOUCH_SECONDS:
        session[TOUCHED_AT] = now


def _verified(user) -> bool:
    """django-otp's OTPMiddleware: this session passed the second factor with a device of the user."""
    return bool(getattr(user, "is_verified", lambda: False)())


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not _verified(user)
                and otp.second_factor_required(user)
                and request.path not in otp.exempt_paths() and not _is_static(request)):
            page = "access:otp_verify" if otp.confirmed_device(user) else "access:otp_enrol"
            url = reverse(page)
            if request.method == "GET" and not request.path.startswith("/api/"):
                url += "?" + urlencode({"next": request.get_full_path()})
            return _send_to(request, url, "请先在页面上完成双因素验证（验证器验证码）。")
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and must_change_password(user):
            # The second factor comes first: its pages stay reachable.
            allowed = {reverse("access:password_change"), reverse("access:logout"), *otp.exempt_paths()}
            if request.path not in allowed and not _is_static(request):
                return _send_to(request, reverse("access:password_change"), "请先修改密码。")
        return self.get_response(request)
