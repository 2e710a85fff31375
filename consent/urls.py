from django.urls import path

from consent import api, views

public_urlpatterns = [
    path("sites/<str:site_key>/consents", api.consent_create, name="consent-create"),
    path("jurisdictions", api.JurisdictionTableApi.as_view(), name="jurisdiction-table"),
    path("jurisdictions/lookup", api.JurisdictionLookupApi.as_view(), name="jurisdiction-lookup"),
    path("sites/<str:site_key>/jurisdiction", api.SiteJurisdictionApi.as_view(), name="site-jurisdiction"),
    path("sites/<str:site_key>/consents/current", api.ConsentCurrentApi.as_view(), name="consent-current"),
    path("sites/<str:site_key>/checkpoints", api.CheckpointListApi.as_view(), name="checkpoint-list"),
    path("receipts/<str:receipt_id>", api.ReceiptApi.as_view(), name="receipt"),
    path("sites/<str:site_key>/policies", api.PolicyDocumentListApi.as_view(), name="policy-list"),
    path("sites/<str:site_key>/policies/<slug:slug>", api.PolicyDocumentApi.as_view(), name="policy-detail"),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/versions/<int:number>",
        api.PolicyVersionApi.as_view(),
        name="policy-version",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/diff/<int:a>..<int:b>",
        api.PolicyDiffApi.as_view(),
        name="policy-diff",
    ),
]

management_urlpatterns = [
    path("sites", api.SiteListApi.as_view(), name="site-list"),
    path("sites/<str:site_key>", api.SiteDetailApi.as_view(), name="site-detail"),
    path("sites/<str:site_key>/consents/export", api.ConsentExportApi.as_view(), name="consent-export"),
]

page_urlpatterns = [
    path("r/", views.receipt_lookup, name="receipt-lookup"),
    path("r/<str:receipt_id>/", views.receipt_page, name="receipt-page"),
    path("s/<str:site_key>/policies/", views.policy_index, name="policy-index"),
    path("s/<str:site_key>/policies/<slug:slug>/", views.policy_page, name="policy-page"),
    path(
        "s/<str:site_key>/policies/<slug:slug>/v<int:number>/",
        views.policy_version_page,
        name="policy-version",
    ),
    path(
        "s/<str:site_key>/policies/<slug:slug>/diff/<int:a>..<int:b>/",
        views.policy_diff_page,
        name="policy-diff",
    ),
]
