"""The management API's webhooks: a site's endpoints (the secret shown once, in the 201), a test
event, the delivery log and redelivery. Scope `read` to list, `write` to change; every change goes
through consent.webhooks.services (owners and DPOs, one audit row each), as in the admin. See
consent/tokens/management.py for ETag/If-Match, Idempotency-Key and cursor pages.
"""

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import (
    ConsentAction,
    Site,
    TokenScope,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookPending,
)
from consent.tokens.management import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    PAGE_PARAMETERS,
    ManagementApiView,
    fields_refusal,
    page_serializer,
)
from consent.webhooks.events import SUBSCRIBABLE_TYPES
from consent.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
    webhook_test_send,
)

EVENT_CHOICES = [choice.value for choice in SUBSCRIBABLE_TYPES]


class WebhookOutputSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The endpoint's public id.")
    url = serializers.URLField()
    description = serializers.CharField(allow_blank=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))
    consent_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=ConsentAction.choices),
        help_text="The decisions its consent.recorded events carry; empty: all.",
    )
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "WebhookEndpoint"


class WebhookCreatedSerializer(WebhookOutputSerializer):
    secret = serializers.CharField(
        help_text="The signing secret of the Consentry-Signature header: in this answer only, keep it."
    )

    class Meta:
        ref_name = "WebhookEndpointCreated"


class WebhookFieldsInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="https, on a public address.")
    description = serializers.CharField(max_length=200, allow_blank=True, default="")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1)
    consent_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=ConsentAction.choices), default=list
    )
    is_active = serializers.BooleanField(default=True)


class DeliveryOutputSerializer(serializers.Serializer):
    event = serializers.CharField(source="event.key", help_text="The event id (Consentry-Event-Id).")
    type = serializers.CharField(source="event.type")
    url = serializers.CharField()
    attempt = serializers.IntegerField()
    status = serializers.ChoiceField(choices=WebhookDeliveryStatus.choices)
    http_status = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True, help_text="A category, e.g. timeout or HTTP 500.")
    is_manual = serializers.BooleanField(help_text="Redelivered by hand.")
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "WebhookDelivery"


class EventAcceptedSerializer(serializers.Serializer):
    event = serializers.CharField(help_text="The event id; its delivery appears in the log.")


def _endpoints(site: Site) -> Any:
    return WebhookEndpoint.objects.filter(site=site).select_related("site")


def _data(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return dict(WebhookOutputSerializer(endpoint).data)


class WebhookListApi(ManagementApiView):
    """The site's webhook endpoints (oldest first); POST registers one (owners and DPOs)."""

    class InputSerializer(WebhookFieldsInputSerializer):
        class Meta:
            ref_name = "WebhookEndpointCreate"

    @extend_schema(
        operation_id="webhook_list",
        tags=["management"],
        parameters=PAGE_PARAMETERS,
        responses=page_serializer("WebhookEndpointPage", WebhookOutputSerializer()),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)

        def serialize(rows: Sequence[Any]) -> Any:
            return WebhookOutputSerializer(rows, many=True).data

        return self.cursor_page(request, _endpoints(site), serialize)

    @extend_schema(
        operation_id="webhook_create",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: WebhookCreatedSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)

        def create() -> Response:
            endpoint, secret = webhook_endpoint_create(
                site=site, **given.validated_data, **self.service_kwargs(request)
            )
            response = self.with_etag(_data(endpoint), status.HTTP_201_CREATED)
            response.data = {**response.data, "secret": secret}  # not part of the ETag: never shown again
            response["Cache-Control"] = "no-store"
            return response

        return self.idempotent(request, site, create)


class WebhookDetailApi(ManagementApiView):
    """One endpoint: GET (ETag); PATCH its URL, events, actions or state with If-Match; DELETE."""

    class InputSerializer(WebhookFieldsInputSerializer):
        class Meta:
            ref_name = "WebhookEndpointUpdate"

    def _endpoint(self, request: Request, site_key: str, endpoint_key: str, scope: str) -> WebhookEndpoint:
        site = self.site_for(request, site_key, scope)
        return get_object_or_404(_endpoints(site), key=endpoint_key)

    @extend_schema(operation_id="webhook", tags=["management"], responses=WebhookOutputSerializer)
    def get(self, request: Request, site_key: str, endpoint_key: str) -> Response:
        return self.with_etag(_data(self._endpoint(request, site_key, endpoint_key, TokenScope.READ)))

    @extend_schema(
        operation_id="webhook_update",
        tags=["management"],
        parameters=[IF_MATCH],
        request=InputSerializer,
        responses=WebhookOutputSerializer,
    )
    def patch(self, request: Request, site_key: str, endpoint_key: str) -> Response:
        endpoint = self._endpoint(request, site_key, endpoint_key, TokenScope.WRITE)
        self.precondition_check(request, _data(endpoint))
        fields_refusal(request.data, set(self.InputSerializer().fields))
        given = self.InputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        if given.validated_data:
            with transaction.atomic():
                endpoint = webhook_endpoint_update(
                    endpoint=endpoint, **given.validated_data, **self.service_kwargs(request)
                )
        return self.with_etag(_data(endpoint))

    @extend_schema(
        operation_id="webhook_delete", tags=["management"], parameters=[IF_MATCH], responses={204: None}
    )
    def delete(self, request: Request, site_key: str, endpoint_key: str) -> Response:
        endpoint = self._endpoint(request, site_key, endpoint_key, TokenScope.WRITE)
        self.precondition_check(request, _data(endpoint))
        webhook_endpoint_delete(endpoint=endpoint, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookTestApi(ManagementApiView):
    """Send a signed `test` event to the endpoint now (owners and DPOs)."""

    @extend_schema(
        operation_id="webhook_test",
        tags=["management"],
        request=None,
        responses={202: EventAcceptedSerializer},
    )
    def post(self, request: Request, site_key: str, endpoint_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        endpoint = get_object_or_404(_endpoints(site), key=endpoint_key)
        event = webhook_test_send(endpoint=endpoint, **self.service_kwargs(request))
        return Response({"event": event.key}, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListApi(ManagementApiView):
    """The endpoint's delivery log, one row per attempt (oldest first)."""

    @extend_schema(
        operation_id="webhook_delivery_list",
        tags=["management"],
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter(
                "status", str, enum=WebhookDeliveryStatus.values, description="Only this outcome."
            ),
            OpenApiParameter("type", str, enum=WebhookEventType.values, description="Only this event type."),
            OpenApiParameter("event", str, description="Only this event id."),
        ],
        responses=page_serializer("WebhookDeliveryPage", DeliveryOutputSerializer()),
    )
    def get(self, request: Request, site_key: str, endpoint_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        endpoint = get_object_or_404(_endpoints(site), key=endpoint_key)
        deliveries = WebhookDelivery.objects.filter(site=site, endpoint=endpoint).select_related("event")
        filters = {"status": "status", "type": "event__type", "event": "event__key"}
        for name, lookup in filters.items():
            if request.query_params.get(name):
                deliveries = deliveries.filter(**{lookup: request.query_params[name]})

        def serialize(rows: Sequence[Any]) -> Any:
            return DeliveryOutputSerializer(rows, many=True).data

        return self.cursor_page(request, deliveries, serialize)


class WebhookRedeliverApi(ManagementApiView):
    """Send one of the endpoint's events again, now (owners and DPOs): logged as by hand, retried
    as usual if it fails."""

    class InputSerializer(serializers.Serializer):
        event = serializers.CharField(max_length=40, help_text="The event id (Consentry-Event-Id).")

        class Meta:
            ref_name = "WebhookRedeliver"

    @extend_schema(
        operation_id="webhook_redeliver",
        tags=["management"],
        request=InputSerializer,
        responses={202: EventAcceptedSerializer},
    )
    def post(self, request: Request, site_key: str, endpoint_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        endpoint = get_object_or_404(_endpoints(site), key=endpoint_key)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        # Only an event this endpoint was sent: another endpoint's test event is not its business.
        sent_to_it = Exists(WebhookDelivery.objects.filter(event=OuterRef("pk"), endpoint=endpoint)) | Exists(
            WebhookPending.objects.filter(event=OuterRef("pk"), endpoint=endpoint)
        )
        event = get_object_or_404(
            WebhookEvent.objects.filter(sent_to_it, site=site), key=given.validated_data["event"]
        )
        webhook_redeliver(event=event, endpoint=endpoint, **self.service_kwargs(request))
        return Response({"event": event.key}, status=status.HTTP_202_ACCEPTED)
