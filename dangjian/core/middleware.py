from django.conf import settings
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Pages carry personal data: browsers and proxies must not keep copies (ASVS 14.3.2)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            add_never_cache_headers(response)
            response["Cache-Control"] += ", no-store"
        return response


class PermissionsPolicyMiddleware:
    """Refuse the browser features no page uses (camera, microphone, geolocation, payment, USB …) to
    every page and anything it might embed: settings.PERMISSIONS_POLICY, feature -> allowed origins
    ("self" or an origin; an empty list allows none)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy_header(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """{"camera": [], "fullscreen": ["self"]} -> 'camera=(), fullscreen=(self)'."""
    def origin(value: str) -> str:
        return value if value in ("self", "*") else f'"{value}"'

    return ", ".join(f"{feature}=({' '.join(origin(v) for v in allowed)})" for feature, allowed in policy.items())
