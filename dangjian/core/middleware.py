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
