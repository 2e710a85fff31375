"""The project's URLs plus the baseline views, under the public prefix so the same middleware skips apply."""

from django.urls import path

from bench import views
from config import urls as project_urls

# First: the project's catch-all `^api/` would otherwise answer these paths with a 404.
urlpatterns = [
    path("api/public/bench/sites/<str:site_key>/raw-consents", views.raw_consent_create, name="bench-raw"),
    path("api/public/bench/bare", views.bare_json, name="bench-bare"),
    *project_urls.urlpatterns,
]

handler404 = project_urls.handler404
handler500 = project_urls.handler500
