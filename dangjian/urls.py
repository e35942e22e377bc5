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
