"""The banner's URLs: the loader a site pastes, its config, and the admin's live preview."""

from django.urls import path

from cookies.banner import api, views

urlpatterns = [
    path("c/<str:site_key>.js", views.loader, name="banner-loader"),
    path("c/preview/<str:token>/", views.banner_preview_page, name="cookies_banner_preview_page"),
    path("c/preview/<str:token>/config", views.banner_preview_config, name="banner-preview-config"),
    path("api/public/v1/sites/<str:site_key>/config", api.banner_config_view, name="banner-config"),
]
