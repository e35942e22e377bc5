from django.contrib.auth import views as auth_views
from django.urls import path

from dangjian.access import otp_views, views

app_name = "access"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/toggle/", views.user_toggle, name="user_toggle"),
    path("users/<int:pk>/password-reset/", views.user_password_reset, name="user_password_reset"),
    path("password/", views.password_change, name="password_change"),
    path("otp/", otp_views.otp_page, name="otp"),
    path("otp/verify/", otp_views.otp_verify, name="otp_verify"),
    path("otp/enrol/", otp_views.otp_enrol, name="otp_enrol"),
    path("otp/devices/", otp_views.otp_devices, name="otp_devices"),
    path("otp/devices/<int:pk>/reset/", otp_views.otp_reset, name="otp_reset"),
    path("bindings/", views.bindings, name="bindings"),
    path("bindings/<int:pk>/remove/", views.binding_remove, name="binding_remove"),
    path("roles/", views.roles, name="roles"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
]
