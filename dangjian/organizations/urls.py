from django.urls import path

from dangjian.organizations import views

app_name = "organizations"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("new/", views.create, name="create"),
    path("pick/", views.organization_pick, name="pick"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/children/", views.tree_children, name="tree_children"),
    path("<int:pk>/restructure/", views.restructure, name="restructure"),
    path("<int:pk>/renew-term/", views.renew_term, name="renew_term"),
    path("<int:pk>/extend-term/", views.extend_term, name="extend_term"),
    path("<int:pk>/appoint/", views.appoint, name="appoint"),
    path("<int:pk>/dissolve/", views.dissolve, name="dissolve"),
    path("<int:pk>/appointments/<int:appointment_pk>/end/", views.appointment_end, name="appointment_end"),
    path("units/", views.units, name="units"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("members/", views.member_list, name="members"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/export/", views.member_export, name="member_export"),
    path("members/import/", views.member_import, name="member_import"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/transfer/", views.member_transfer, name="member_transfer"),
    path("members/<int:pk>/confirm-full/", views.member_confirm_full, name="member_confirm_full"),
    path("members/<int:pk>/probation/", views.member_probation, name="member_probation"),
    path("members/<int:pk>/leave/", views.member_leave, name="member_leave"),
    path("members/<int:pk>/reveal/", views.member_reveal, name="member_reveal"),
]
