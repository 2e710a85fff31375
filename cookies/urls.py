"""The banner's URLs: the loader a site pastes, its config, and the admin's live preview; and the
management API's cookies and banner (token or session; consent.tokens)."""

from django.urls import path

from cookies.banner import api, management_api, views
from cookies.catalogue import api as catalogue_api

management_prefix = "api/v1/sites/<str:site_key>"

urlpatterns = [
    path("c/<str:site_key>.js", views.loader, name="banner-loader"),
    path("c/preview/<str:token>/", views.banner_preview_page, name="cookies_banner_preview_page"),
    path("c/preview/<str:token>/config", views.banner_preview_config, name="banner-preview-config"),
    path("api/public/v1/sites/<str:site_key>/config", api.banner_config_view, name="banner-config"),
    # The management API.
    path(f"{management_prefix}/cookies", catalogue_api.CookieListApi.as_view(), name="api-cookie-list"),
    path(
        f"{management_prefix}/cookies/<int:cookie_id>",
        catalogue_api.CookieDetailApi.as_view(),
        name="api-cookie-detail",
    ),
    path(
        f"{management_prefix}/banner/settings",
        management_api.BannerSettingsApi.as_view(),
        name="api-banner-settings",
    ),
    path(
        f"{management_prefix}/banner/texts",
        management_api.BannerTextListApi.as_view(),
        name="api-banner-text-list",
    ),
    path(
        f"{management_prefix}/banner/texts/<str:language>",
        management_api.BannerTextDetailApi.as_view(),
        name="api-banner-text-detail",
    ),
    path(
        f"{management_prefix}/banner/versions",
        management_api.BannerVersionListApi.as_view(),
        name="api-banner-version-list",
    ),
    path(
        f"{management_prefix}/banner/versions/current",
        management_api.BannerVersionCurrentApi.as_view(),
        name="api-banner-version-current",
    ),
    path(
        f"{management_prefix}/banner/versions/<int:number>",
        management_api.BannerVersionDetailApi.as_view(),
        name="api-banner-version-detail",
    ),
]
