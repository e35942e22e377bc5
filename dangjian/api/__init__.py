"""The JSON API under /api/ (django-ninja). The NinjaAPI object lives in `dangjian.api.main`;
its module docstring states the access rules every route follows."""
