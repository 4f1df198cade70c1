"""Sign-in and password change, in front of django.contrib.auth.urls (which keeps logout and the rest)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from decisions.accounts import mfa_views, views
from decisions.accounts.external import views as external_views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # 双因素认证 (decisions/accounts/mfa.py): verify, enrol, the user's devices, the WebAuthn ceremonies
    path("mfa/verify/", mfa_views.verify, name="mfa_verify"),
    path("mfa/enrol/", mfa_views.enrol, name="mfa_enrol"),
    path("mfa/devices/", mfa_views.devices, name="mfa_devices"),
    path("mfa/devices/remove/", mfa_views.remove, name="mfa_remove"),
    path("mfa/webauthn/", include((mfa_views.webauthn_urlpatterns, "otp_webauthn"))),
    # 外部登录 (decisions/accounts/external): OpenID Connect and 浙政钉, each configured by settings
    path("external/<slug:provider>/start/", external_views.start, name="external_login_start"),
    path("external/<slug:provider>/callback/", external_views.callback, name="external_login_callback"),
]
