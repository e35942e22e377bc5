"""等保 8.1.4.1: an account whose password someone else set (a new account, a reset) or whose
password is older than PASSWORD_MAX_AGE_DAYS reaches nothing but the password change page and
log-out until the password is changed."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from dangjian.access.passwords import must_change_password


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and must_change_password(user):
            allowed = {reverse("access:password_change"), reverse("access:logout")}
            if request.path not in allowed and not request.path.startswith("/static/"):
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": "请先修改密码。"}, status=403)
                if getattr(request, "htmx", False):  # a fragment request: the browser goes to the page
                    return HttpResponseClientRedirect(reverse("access:password_change"))
                return redirect("access:password_change")
        return self.get_response(request)
