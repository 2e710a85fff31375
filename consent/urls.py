from django.urls import path

from consent import api

public_urlpatterns = [
    path("jurisdictions", api.JurisdictionTableApi.as_view(), name="jurisdiction-table"),
    path("jurisdictions/lookup", api.JurisdictionLookupApi.as_view(), name="jurisdiction-lookup"),
    path("sites/<str:site_key>/jurisdiction", api.SiteJurisdictionApi.as_view(), name="site-jurisdiction"),
]

management_urlpatterns = [
    path("sites", api.SiteListApi.as_view(), name="site-list"),
    path("sites/<str:site_key>", api.SiteDetailApi.as_view(), name="site-detail"),
]
