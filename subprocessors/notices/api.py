"""The management API's read of a site's sub-processor list subscribers (scope `read`)."""

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import TokenScope
from consent.tokens.management import PAGE_PARAMETERS, ManagementApiView, page_serializer
from subprocessors.models import Subscriber, SubscriberStatus


class SubscriberOutputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    language = serializers.CharField(help_text="The language of every email to them.")
    status = serializers.ChoiceField(choices=SubscriberStatus.choices)
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    unsubscribed_at = serializers.DateTimeField(allow_null=True)


class SubscriberListApi(ManagementApiView):
    """Who subscribed to the site's sub-processor list, oldest first, a page at a time."""

    @extend_schema(
        operation_id="subscriber_list",
        tags=["management"],
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("status", str, enum=SubscriberStatus.values, description="Only this status."),
        ],
        responses=page_serializer("SubscriberPage", SubscriberOutputSerializer()),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        subscribers = Subscriber.objects.filter(site=site)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in SubscriberStatus.values:
                raise serializers.ValidationError(
                    {"status": [_("One of: %(choices)s.") % {"choices": ", ".join(SubscriberStatus.values)}]}
                )
            subscribers = subscribers.filter(status=wanted)

        def serialize(rows: Sequence[Any]) -> Any:
            return SubscriberOutputSerializer(rows, many=True).data

        return self.cursor_page(request, subscribers, serialize)
