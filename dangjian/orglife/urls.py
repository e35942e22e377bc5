from django.urls import path

from dangjian.orglife import views

app_name = "orglife"
urlpatterns = [
    path("", views.meeting_list, name="meetings"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/expected/", views.meeting_expected, name="meeting_expected"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/delete/", views.meeting_delete, name="meeting_delete"),
    path("meetings/<int:pk>/minutes.docx", views.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("meetings/<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment_download"),
    path("ledger/<int:org_pk>/", views.ledger, name="ledger"),
    path("matrix/", views.matrix, name="matrix"),
    path("calendar/<int:org_pk>/", views.calendar, name="calendar"),
    path("calendar/<int:org_pk>/heart-talks/new/", views.heart_talk_create, name="heart_talk_create"),
    path("decisions/", views.decisions, name="decisions"),
    path("contact-points/", views.contact_points, name="contact_points"),
]
