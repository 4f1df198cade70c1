"""Sign-in and password change, in front of django.contrib.auth.urls (which keeps logout and the rest)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from decisions.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
