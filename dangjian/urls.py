from django.urls import include, path

urlpatterns = [
    path("", include("dangjian.core.urls")),
    path("accounts/", include("dangjian.access.urls")),
    path("organizations/", include("dangjian.organizations.urls")),
    path("orglife/", include("dangjian.orglife.urls")),
    path("audit/", include("dangjian.access.audit_urls")),
    path("reports/", include("dangjian.reports.urls")),
    path("api/", include("dangjian.api.urls")),
]

# Chinese error pages with the site's navigation (JSON under /api/): dangjian/core/errors.py.
handler400 = "dangjian.core.errors.bad_request"
handler403 = "dangjian.core.errors.permission_denied"
handler404 = "dangjian.core.errors.page_not_found"
handler500 = "dangjian.core.errors.server_error"
