"""The webhooks' contract: one entry per event type, with its body, in the OpenAPI schema
(SPECTACULAR_SETTINGS["WEBHOOKS"]; config.openapi puts them under `x-webhooks`, as the schema is
OpenAPI 3.0). Keep it in step with consent.webhooks.events and the apps' emitters."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from consent.models import CollectionMethod, ConsentAction, RequestStatus, RequestType, WebhookEventType
from consent.webhooks.events import EVENT_DESCRIPTIONS

DELIVERY = (
    "\n\nPOSTed as JSON with the headers `Consentry-Event-Id` (the event id: dedupe by it, an event "
    "may arrive more than once), `Consentry-Event-Type` and `Consentry-Signature: t=<unix seconds>,"
    'v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint\'s secret>`; refuse a signature '
    "that does not match or a `t` older than a few minutes. Answer any 2xx within 5 seconds; anything "
    "else is retried after 1 min, 5 min, 30 min, 2 h, 6 h and 24 h. Redirects are not followed."
)


class PurposesSerializer(serializers.Serializer):
    granted = serializers.ListField(child=serializers.CharField(), help_text="Purpose keys allowed.")
    denied = serializers.ListField(child=serializers.CharField(), help_text="Purpose keys refused.")

    class Meta:
        ref_name = "WebhookRecordPurposes"


class RecordSerializer(serializers.Serializer):
    receipt_id = serializers.CharField(help_text="The record's receipt (GET /api/public/v1/receipts/{id}).")
    recorded_at = serializers.DateTimeField()
    action = serializers.ChoiceField(choices=ConsentAction.choices)
    purposes = PurposesSerializer()
    jurisdiction = serializers.CharField(help_text="The rules applied, e.g. EU, US-CA, RU.")
    visitor_id = serializers.CharField(
        allow_null=True, help_text="The banner's random id; null once redacted."
    )
    gpc = serializers.BooleanField(help_text="The browser sent Global Privacy Control.")
    versions = serializers.DictField(help_text="The editions shown (banner, policies, sub-processor list).")
    source = serializers.ChoiceField(
        choices=["banner", "backend"],
        help_text="`backend`: recorded by the site's own systems (POST /api/v1/sites/{key}/consents).",
    )
    collection_method = serializers.ChoiceField(
        choices=CollectionMethod.choices, allow_null=True, help_text="How the site's systems collected it."
    )

    class Meta:
        ref_name = "WebhookConsentRecord"


class ConsentRecordedData(serializers.Serializer):
    records = RecordSerializer(many=True, help_text="Up to 100, oldest first.")


class ConsentWithdrawnData(serializers.Serializer):
    record = RecordSerializer()


class OptoutSignalData(serializers.Serializer):
    signal = serializers.ChoiceField(choices=["gpc", "do_not_sell"])
    record = RecordSerializer()


class PolicyVersionData(serializers.Serializer):
    document = serializers.CharField(help_text="The document's slug.")
    kind = serializers.CharField()
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField()
    is_material = serializers.BooleanField()
    change_kinds = serializers.ListField(child=serializers.CharField())
    summary = serializers.CharField(allow_blank=True)
    content_sha256 = serializers.CharField()
    url = serializers.URLField(help_text="The public page of this edition.")


class BannerPublishedData(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    change_note = serializers.CharField(allow_blank=True)


class ListVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    change_note = serializers.CharField(allow_blank=True)


class SubprocessorsPublishedData(serializers.Serializer):
    version = ListVersionSerializer()
    diff = serializers.DictField(help_text="added, removed and changed entries, and a summary.")
    url = serializers.URLField(help_text="The public list page.")


class RequestData(serializers.Serializer):
    id = serializers.CharField(help_text="The request's public id (its status page's).")
    type = serializers.ChoiceField(choices=RequestType.choices)
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    jurisdiction = serializers.CharField(help_text="The rules it was filed under, e.g. EU, US-CA, RU.")
    filed_at = serializers.DateTimeField()
    acknowledge_by = serializers.DateField(
        allow_null=True, help_text="Where the law has an acknowledgement deadline."
    )
    due_at = serializers.DateField(allow_null=True, help_text="The last day the answer is on time.")
    closed_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "WebhookDataSubjectRequest"


class ErasureRequestedData(serializers.Serializer):
    id = serializers.CharField(help_text="The request's public id: confirm with it.")
    type = serializers.ChoiceField(choices=RequestType.choices)
    jurisdiction = serializers.CharField(help_text="The rules it was filed under, e.g. EU, US-CA, RU.")
    subject_ref = serializers.CharField(
        allow_null=True,
        help_text="The account as the ledger names it: HMAC-SHA256 (hex) of the site's account id "
        "under the site's subject secret; null when the request names no account.",
    )
    visitor_ids = serializers.ListField(
        child=serializers.CharField(),
        help_text="The banner visitor ids of the request and of the account's links.",
    )
    due_at = serializers.DateField(allow_null=True, help_text="The last day the answer is on time.")


class TestData(serializers.Serializer):
    endpoint = serializers.CharField(help_text="The key of the endpoint it was sent to.")
    message = serializers.CharField()


DATA: dict[str, type[serializers.Serializer]] = {
    WebhookEventType.CONSENT_RECORDED: ConsentRecordedData,
    WebhookEventType.CONSENT_WITHDRAWN: ConsentWithdrawnData,
    WebhookEventType.OPTOUT_SIGNAL: OptoutSignalData,
    WebhookEventType.POLICY_PUBLISHED: PolicyVersionData,
    WebhookEventType.POLICY_EFFECTIVE: PolicyVersionData,
    WebhookEventType.BANNER_PUBLISHED: BannerPublishedData,
    WebhookEventType.SUBPROCESSORS_PUBLISHED: SubprocessorsPublishedData,
    WebhookEventType.REQUEST_CREATED: RequestData,
    WebhookEventType.REQUEST_DUE_SOON: RequestData,
    WebhookEventType.REQUEST_OVERDUE: RequestData,
    WebhookEventType.REQUEST_CLOSED: RequestData,
    WebhookEventType.REQUEST_ERASURE_REQUESTED: ErasureRequestedData,
    WebhookEventType.TEST: TestData,
}


def _name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace(".", "_").split("_"))


def _envelope(event_type: str) -> serializers.Serializer:
    """The body of one event type: {id, type, created_at, site, data}."""
    fields: dict[str, Any] = {
        "id": serializers.CharField(help_text="The event id, `evt_...`; the same on every retry."),
        "type": serializers.CharField(help_text=f"Always `{event_type}`."),
        "created_at": serializers.DateTimeField(),
        "site": serializers.CharField(help_text="The site's key."),
        "data": DATA[event_type](),
    }
    name = f"{_name(event_type)}Event"
    return type(name, (serializers.Serializer,), {**fields, "Meta": type("Meta", (), {"ref_name": name})})()


EVENT_WEBHOOKS = [
    OpenApiWebhook(
        name=choice.value,
        decorator=extend_schema(
            summary=str(choice.label),
            description=str(EVENT_DESCRIPTIONS[choice]) + DELIVERY,
            request=_envelope(choice.value),
            responses={200: OpenApiResponse(description="Received (any 2xx).")},
        ),
    )
    for choice in WebhookEventType
]
