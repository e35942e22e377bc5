"""The pages a person sees when something goes wrong, in Chinese, inside the site's navigation and with a
way back: 400 (a request the site cannot read), 403 (not yours to do), 404 (no such page, or not in your
scope: the policy never tells the two apart) and 500. Under /api/ the same errors stay JSON in the
API's shape (`{"detail", "errors"}`): the API's own handlers answer inside its routes, these answer
for what reaches Django (an unknown /api/ address, an unhandled exception).

The 500 page is rendered with no request context: no context processor (none of which may then run a
query on a database that may be the very thing that failed), no user, no CSRF token. Its template is
self-contained and must stay so."""

from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

API_PREFIX = "/api/"
NOT_FOUND = "未找到该记录，或它不在您的权限范围内。"
API_MESSAGES = {
    400: "请求有误，无法处理。",
    403: "您无权进行此操作。",
    404: NOT_FOUND,
    500: "服务器内部错误，请稍后重试；如果问题持续，请联系系统管理员。",
}


def _api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(status: int, message: str = "") -> JsonResponse:
    return JsonResponse({"detail": message or API_MESSAGES[status], "errors": {}}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def _back(request) -> str:
    """The page the reader came from, if it is on this site and is not this page: the way back."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    try:
        host = request.get_host()
    except DisallowedHost:  # the 400 for a foreign Host header: no way back to offer
        return ""
    parts = urlsplit(referer)
    if parts.scheme not in ("http", "https") or parts.netloc != host:
        return ""
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return "" if not path.startswith("/") or parts.path == request.path else path


def _page(request, template: str, status: int, **context):
    return render(request, template, {"back": _back(request), "request_path": request.path, **context},
                  status=status)


def bad_request(request, exception):
    if _api(request):
        return _api_error(400)
    return _page(request, "400.html", 400)


def permission_denied(request, exception):
    # A refusal from `access.guards` carries a Chinese sentence naming what was refused; others say nothing.
    message = getattr(exception, "message", "")
    if _api(request):
        return _api_error(403, message)
    return _page(request, "403.html", 403, message=message)


def page_not_found(request, exception):
    if _api(request):
        return _api_error(404)
    return _page(request, "404.html", 404)


def server_error(request):
    if _api(request):
        return _api_error(500)
    return defaults.server_error(request)  # 500.html, rendered without a context
