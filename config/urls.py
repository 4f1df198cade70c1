from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from catalog import public as catalogue_public
from config.site import site
from decisions import public as decisions_public
from reports import views as report_views

# The public's pages (no login): published catalogues and their notices, a citizen's proposal,
# published decisions, the online comment form and the larger-text switch.
public_patterns = [
    *catalogue_public.urlpatterns,
    *decisions_public.urlpatterns,
    path("catalogues/<int:pk>/notice-v<int:version>.pdf", report_views.public_notice, name="notice"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workflows:inbox", permanent=False)),
    # One sign-in page for the site and the admin, with the password policy and lockout (decisions/accounts)
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("decisions.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # the language switch (中文 / English)
    path("api/", include(("config.api", "api"))),  # the JSON API and its OpenAPI schema
    path("public/", include((public_patterns, "public"))),
    path("", site.urls),
]

handler404 = "config.api.not_found"
handler500 = "config.middleware.server_error"  # a database outage or full disk outside a view: 503/507
