from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy
from drf_spectacular.views import SpectacularSwaggerSplitView

from config import views
from config.openapi import SchemaView
from consent.tenancy.auth import ThrottledAdminAuthenticationForm, admin_login
from consent.tenancy.language import language_set
from consent.urls import log_urlpatterns, management_urlpatterns, page_urlpatterns, public_urlpatterns
from edge.errors import api_not_found

admin.site.site_header = "Consentry"
admin.site.site_title = "Consentry"
admin.site.index_title = gettext_lazy("Consent management")
# Failed logins are limited (consent/tenancy/auth.py): the form says so, the page is a 429.
admin.site.login_form = ThrottledAdminAuthenticationForm

# Swagger UI adds one <style> element of its own at run time: allowed by its hash (the sidecar's
# pinned build), so the docs page keeps the strict policy of every other page (edge/csp.py).
SWAGGER_UI_STYLE_SHA256 = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
api_docs = csp_update({"style-src": [SWAGGER_UI_STYLE_SHA256]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    # First: the public API holds the hottest path (the consent POST); patterns do not overlap.
    path("api/public/v1/", include((public_urlpatterns, "consent"), namespace="public-v1")),
    path("log/", include(log_urlpatterns)),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # New members get an account without a password and set one here ("Forgotten your password?").
    path("admin/password_reset/", auth_views.PasswordResetView.as_view(), name="admin_password_reset"),
    path(
        "admin/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("admin/login/", admin_login),  # before the admin's own URLs: the same path, limited
    path("admin/", admin.site.urls),
    # Django's set_language (POST, CSRF), the choice also kept on the user: the admin's language
    # switcher (templates/admin/base_site.html).
    path("i18n/setlang/", language_set, name="set_language"),
    path("api/v1/", include((management_urlpatterns, "consent"), namespace="v1")),
    # The OpenAPI contract (docs/openapi.yaml) and its documentation page (assets served locally).
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("", include(page_urlpatterns)),
    path("", views.home, name="home"),
    path("", include("cookies.urls")),
    path("", include("subprocessors.urls")),
    *([path("", include("demo.urls"))] if settings.DEMO else []),
    # Anything under /api/ or /log/ that no app answered is a JSON 404, never an HTML page.
    re_path(r"^(api|log)/", api_not_found),
]

handler404 = "edge.errors.handler404"
handler500 = "edge.errors.handler500"
