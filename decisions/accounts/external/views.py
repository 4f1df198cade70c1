"""The two steps of an external sign-in: off to the provider (start), and back (callback) into a juece session.

The callback signs the person in with `django.contrib.auth.login`, so the sign-in is recorded like any other
(`security:login`, with method and provider); a refusal is shown in Chinese and recorded as
`security:external_login_failed` with its reason.
"""

from django.conf import settings
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from decisions.accounts import external

NEXT_SESSION_KEY = "juece_external_next"
# The model backend finds the user again on each request (and refuses an account deactivated meanwhile).
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _provider(name):
    provider = external.provider_named(name)
    if provider is None:
        raise Http404(name)
    return provider


def _redirect_uri(provider):
    """The callback address registered at the provider: JUECE_SITE_URL, so it never depends on a request's Host."""
    return settings.JUECE_SITE_URL + reverse("external_login_callback", args=[provider.name])


def _refused(request, provider, refusal):
    external.record_refusal(provider.name, refusal, request)
    context = {"provider": provider, "message": refusal.message}
    return render(request, "registration/external_login_failed.html", context, status=refusal.status)


@never_cache
def start(request, provider):
    """去登录: remember where to return to, then send the browser to the provider's sign-in page."""
    provider = _provider(provider)
    wanted = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    try:
        url = provider.authorization_url(request, _redirect_uri(provider))
    except external.ExternalLoginRefused as refusal:
        return _refused(request, provider, refusal)
    request.session[NEXT_SESSION_KEY] = wanted if safe else ""
    return redirect(url)


@never_cache
def callback(request, provider):
    """登录回调: check the provider's answer, find the linked user, and start the session."""
    provider = _provider(provider)
    try:
        account = provider.complete(request, _redirect_uri(provider))
        user = external.user_for(provider, account, request=request)
    except external.ExternalLoginRefused as refusal:
        return _refused(request, provider, refusal)
    wanted = request.session.pop(NEXT_SESSION_KEY, "")
    request.juece_login_details = {"method": "external", "provider": provider.name}  # read by signals.login_recorded
    login(request, user, backend=BACKEND)
    external.signed_in(provider, account, request)
    return redirect(wanted or resolve_url(settings.LOGIN_REDIRECT_URL))
