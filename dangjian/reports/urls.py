from django.urls import path

from dangjian.reports import views

app_name = "reports"
urlpatterns = [
    path("metrics/", views.metric_list, name="metrics"),
    path("metrics/<str:key>/", views.metric_detail, name="metric_detail"),
    path("rules/", views.rule_list, name="rules"),
]
