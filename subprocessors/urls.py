"""The public sub-processor pages and JSON: the list, its feed, subscriptions and objections."""

from django.urls import path

from subprocessors import views
from subprocessors.lists import api
from subprocessors.lists import management_api as lists_management
from subprocessors.notices import api as notices_api
from subprocessors.notices import views as notice_views
from subprocessors.objections import management_api as objections_management
from subprocessors.objections import views as objection_views

app_name = "subprocessors"

api_prefix = "api/public/v1/sites/<str:site_key>/subprocessors"
management_prefix = "api/v1/sites/<str:site_key>"
page_prefix = "s/<str:site_key>/subprocessors/"

urlpatterns = [
    path(api_prefix, api.SubprocessorListApi.as_view(), name="api-list"),
    path(f"{api_prefix}/versions", api.SubprocessorVersionListApi.as_view(), name="api-versions"),
    path(
        f"{api_prefix}/versions/<int:number>", api.SubprocessorVersionDetailApi.as_view(), name="api-version"
    ),
    # The management API (token or session; consent.tokens).
    path(
        f"{management_prefix}/subscribers",
        notices_api.SubscriberListApi.as_view(),
        name="api-subscribers",
    ),
    path(f"{management_prefix}/vendors", lists_management.VendorListApi.as_view(), name="api-vendors"),
    path(
        f"{management_prefix}/vendors/<str:vendor_key>",
        lists_management.VendorDetailApi.as_view(),
        name="api-vendor",
    ),
    path(
        f"{management_prefix}/subprocessors/in-force",
        lists_management.SubprocessorListInForceApi.as_view(),
        name="api-list-in-force",
    ),
    path(
        f"{management_prefix}/subprocessors/versions",
        lists_management.SubprocessorVersionsApi.as_view(),
        name="api-list-versions",
    ),
    path(
        f"{management_prefix}/subprocessors/versions/<int:number>",
        lists_management.SubprocessorVersionDetailApi.as_view(),
        name="api-list-version",
    ),
    path(
        f"{management_prefix}/objections",
        objections_management.ObjectionListApi.as_view(),
        name="api-objections",
    ),
    path(
        f"{management_prefix}/objections/<int:objection_id>",
        objections_management.ObjectionDetailApi.as_view(),
        name="api-objection",
    ),
    path(
        f"{management_prefix}/objections/<int:objection_id>/answers",
        objections_management.ObjectionAnswerApi.as_view(),
        name="api-objection-answer",
    ),
    path(page_prefix, views.subprocessor_page, name="page"),
    path(f"{page_prefix}feed.atom", views.feed, name="feed"),
    path(f"{page_prefix}confirm/<str:token>/", notice_views.subscribe_confirm, name="confirm"),
    path(f"{page_prefix}unsubscribe/<str:token>/", notice_views.unsubscribe, name="unsubscribe"),
    path(f"{page_prefix}object/<str:token>/", objection_views.objection, name="object"),
]
