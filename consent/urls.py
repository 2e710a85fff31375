"""Every URL the consent app answers, pointing into the sub-package that handles it."""

from django.urls import path, re_path

from consent.exports import api as exports_api
from consent.ledger import api as ledger_api
from consent.ledger import promise_api, read_api, tile_views, witness_api
from consent.ledger import views as ledger_views
from consent.policies import api as policies_api
from consent.policies import views as policies_views
from consent.requests import api as requests_api
from consent.requests import automation_api as requests_automation_api
from consent.requests import management as requests_management
from consent.requests import views as requests_views
from consent.rules import api as rules_api
from consent.sites import api as sites_api
from consent.subjects import api as subjects_api
from consent.webhooks import api as webhooks_api

public_urlpatterns = [
    path("sites/<str:site_key>/consents", ledger_api.consent_create, name="consent-create"),
    path("jurisdictions", rules_api.JurisdictionTableApi.as_view(), name="jurisdiction-table"),
    path("jurisdictions/lookup", rules_api.JurisdictionLookupApi.as_view(), name="jurisdiction-lookup"),
    path(
        "sites/<str:site_key>/jurisdiction", sites_api.SiteJurisdictionApi.as_view(), name="site-jurisdiction"
    ),
    path(
        "sites/<str:site_key>/consents/current",
        read_api.ConsentCurrentApi.as_view(),
        name="consent-current",
    ),
    path("sites/<str:site_key>/checkpoints", read_api.CheckpointListApi.as_view(), name="checkpoint-list"),
    path("receipts/<str:receipt_id>", read_api.ReceiptApi.as_view(), name="receipt"),
    path(
        "sites/<str:site_key>/checkpoints/<int:tree_size>/cosignatures",
        witness_api.CosignatureCreateApi.as_view(),
        name="cosignature-create",
    ),
    path("promises/check", promise_api.PromiseCheckApi.as_view(), name="promise-check"),
    path("sites/<str:site_key>/requests", requests_api.RequestCreateApi.as_view(), name="request-create"),
    path("sites/<str:site_key>/policies", policies_api.PolicyDocumentListApi.as_view(), name="policy-list"),
    path(
        "sites/<str:site_key>/policies/<slug:slug>",
        policies_api.PolicyDocumentApi.as_view(),
        name="policy-detail",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/versions/<int:number>",
        policies_api.PolicyVersionApi.as_view(),
        name="policy-version",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/diff/<int:a>..<int:b>",
        policies_api.PolicyDiffApi.as_view(),
        name="policy-diff",
    ),
]

management_urlpatterns = [
    path("sites", sites_api.SiteListApi.as_view(), name="site-list"),
    path("sites/<str:site_key>", sites_api.SiteDetailApi.as_view(), name="site-detail"),
    path("sites/<str:site_key>/settings", sites_api.SiteSettingsApi.as_view(), name="site-settings"),
    path("sites/<str:site_key>/origins", sites_api.SiteOriginListApi.as_view(), name="site-origin-list"),
    path(
        "sites/<str:site_key>/origins/<int:origin_id>",
        sites_api.SiteOriginDetailApi.as_view(),
        name="site-origin-detail",
    ),
    path("sites/<str:site_key>/purposes", sites_api.PurposeListApi.as_view(), name="purpose-list"),
    path(
        "sites/<str:site_key>/purposes/<str:purpose_key>",
        sites_api.PurposeDetailApi.as_view(),
        name="purpose-detail",
    ),
    path(
        "sites/<str:site_key>/consents/export", exports_api.ConsentExportApi.as_view(), name="consent-export"
    ),
    # Consents from the site's own systems, its accounts (subjects; any printable id, '/' too)
    # and their links to banner visitors.
    path(
        "sites/<str:site_key>/consents",
        subjects_api.SubjectConsentCreateApi.as_view(),
        name="subject-consent-create",
    ),
    path(
        "sites/<str:site_key>/subjects/<path:subject>/link",
        subjects_api.SubjectLinkCreateApi.as_view(),
        name="subject-link-create",
    ),
    path(
        "sites/<str:site_key>/subjects/<path:subject>/links/<str:visitor_id>",
        subjects_api.SubjectLinkDetailApi.as_view(),
        name="subject-link-detail",
    ),
    path(
        "sites/<str:site_key>/subjects/<path:subject>/consents",
        subjects_api.SubjectConsentsApi.as_view(),
        name="subject-consents",
    ),
    path(
        "sites/<str:site_key>/visitors/<str:visitor_id>/consents",
        subjects_api.VisitorConsentsApi.as_view(),
        name="visitor-consents",
    ),
    # A data-subject request's erasure, confirmed by the site's backend (consent/requests/automation.py).
    path(
        "sites/<str:site_key>/requests/<str:public_id>/erasure-confirmation",
        requests_automation_api.RequestErasureConfirmationApi.as_view(),
        name="request-erasure-confirmation",
    ),
    # Data-subject requests filed and followed by the site's own systems.
    path(
        "sites/<str:site_key>/requests",
        requests_management.RequestListApi.as_view(),
        name="management-request-list",
    ),
    path(
        "sites/<str:site_key>/requests/<str:public_id>",
        requests_management.RequestDetailApi.as_view(),
        name="management-request-detail",
    ),
    # Policies: documents, their working copies per language, publishing and the versions.
    path(
        "sites/<str:site_key>/policies",
        policies_api.ManagementPolicyDocumentListApi.as_view(),
        name="management-policy-list",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>",
        policies_api.ManagementPolicyDocumentDetailApi.as_view(),
        name="management-policy-detail",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/texts",
        policies_api.ManagementPolicyTextListApi.as_view(),
        name="management-policy-text-list",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/texts/<str:language>",
        policies_api.ManagementPolicyTextDetailApi.as_view(),
        name="management-policy-text-detail",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/versions",
        policies_api.ManagementPolicyVersionListApi.as_view(),
        name="management-policy-version-list",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/versions/in-force",
        policies_api.ManagementPolicyVersionInForceApi.as_view(),
        name="management-policy-version-in-force",
    ),
    path(
        "sites/<str:site_key>/policies/<slug:slug>/versions/<int:number>",
        policies_api.ManagementPolicyVersionDetailApi.as_view(),
        name="management-policy-version-detail",
    ),
    # Webhooks: endpoints, a test event, the delivery log and redelivery.
    path("sites/<str:site_key>/webhooks", webhooks_api.WebhookListApi.as_view(), name="webhook-list"),
    path(
        "sites/<str:site_key>/webhooks/<str:endpoint_key>",
        webhooks_api.WebhookDetailApi.as_view(),
        name="webhook-detail",
    ),
    path(
        "sites/<str:site_key>/webhooks/<str:endpoint_key>/test",
        webhooks_api.WebhookTestApi.as_view(),
        name="webhook-test",
    ),
    path(
        "sites/<str:site_key>/webhooks/<str:endpoint_key>/deliveries",
        webhooks_api.WebhookDeliveryListApi.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "sites/<str:site_key>/webhooks/<str:endpoint_key>/redeliveries",
        webhooks_api.WebhookRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
]

# The log as C2SP tlog-tiles, under /log/<site_key>/ (consent/ledger/tile_views.py).
log_urlpatterns = [
    path("<str:site_key>/checkpoint", tile_views.log_checkpoint, name="log-checkpoint"),
    re_path(
        r"^(?P<site_key>[^/]+)/tile/(?P<level>entries|\d+)/(?P<rest>(?:x\d{3}/)*\d{3}(?:\.p/\d+)?)$",
        tile_views.log_tile,
        name="log-tile",
    ),
]

page_urlpatterns = [
    path("r/", ledger_views.receipt_lookup, name="receipt-lookup"),
    path("r/<str:receipt_id>/", ledger_views.receipt_page, name="receipt-page"),
    path("s/<str:site_key>/policies/", policies_views.policy_index, name="policy-index"),
    # Data-subject requests: the form, the emailed verification link, the status page by link.
    path("s/<str:site_key>/requests/", requests_views.request_form, name="request-form"),
    path(
        "s/<str:site_key>/requests/verify/<str:token>/",
        requests_views.request_verify_link,
        name="request-verify",
    ),
    path("s/<str:site_key>/requests/<str:public_id>/", requests_views.request_status, name="request-status"),
    path(
        "s/<str:site_key>/requests/<str:public_id>/package.<str:format>",
        requests_views.request_package_download,
        name="request-package",
    ),
    path(
        "s/<str:site_key>/requests/<str:public_id>/reply/",
        requests_views.request_reply_post,
        name="request-reply",
    ),
    path("s/<str:site_key>/policies/<slug:slug>/", policies_views.policy_page, name="policy-page"),
    path(
        "s/<str:site_key>/policies/<slug:slug>/v<int:number>/",
        policies_views.policy_version_page,
        name="policy-version",
    ),
    path(
        "s/<str:site_key>/policies/<slug:slug>/diff/<int:a>..<int:b>/",
        policies_views.policy_diff_page,
        name="policy-diff",
    ),
]
