"""The consent POST in the OpenAPI contract.

`consent_create` (api.py) is a plain Django view with a hand-written validator (validation.py):
a DRF view would halve its throughput. This module describes it for drf-spectacular with a
schema-only DRF view that is never routed: `config/openapi.py` puts it in the schema under the
POST's real path. The serializers here mirror validation.py and `_receipt_body`; they are used
only for the schema, never to validate or render a request.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from consent.ledger.promise_api import PromiseOutputSerializer
from consent.ledger.validation import ACTIONS, IDEMPOTENCY_KEY, UI_LAYERS, VISITOR_ID
from edge.schema import ERROR_DESCRIPTIONS, ErrorDetailSerializer, ErrorSerializer


class ConsentInputSerializer(serializers.Serializer):
    """What the banner POSTs (consent/ledger/validation.py checks it)."""

    visitor_id = serializers.RegexField(VISITOR_ID.pattern, help_text="The visitor's random id.")
    action = serializers.ChoiceField(choices=ACTIONS)
    granted = serializers.ListField(
        child=serializers.CharField(),
        help_text="Purpose keys granted (the necessary purpose is always added). With `denied`, "
        "every purpose of the site exactly once.",
    )
    denied = serializers.ListField(child=serializers.CharField(), required=False)
    versions = serializers.DictField(
        required=False,
        help_text='The published editions shown, e.g. {"policies": {"privacy-policy": 3}, "banner": 2}.',
    )
    language = serializers.CharField(help_text="One of the site's languages.")
    ui_layer = serializers.ChoiceField(choices=UI_LAYERS)
    gpc = serializers.BooleanField(required=False)
    dnt = serializers.BooleanField(required=False)
    page_url = serializers.CharField(
        max_length=2048,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The page, on one of the site's registered origins (query and fragment dropped).",
    )
    idempotency_key = serializers.RegexField(
        IDEMPOTENCY_KEY.pattern, required=False, help_text="Or the Idempotency-Key header."
    )


class ConsentStateSerializer(serializers.Serializer):
    action = serializers.CharField()
    granted = serializers.ListField(child=serializers.CharField())
    denied = serializers.ListField(child=serializers.CharField())
    jurisdiction = serializers.CharField()
    gpc = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)


class ConsentReceiptSerializer(serializers.Serializer):
    receipt_id = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    leaf_sha256 = serializers.CharField()
    receipt_url = serializers.CharField()
    receipt_page_url = serializers.CharField()
    promise = PromiseOutputSerializer(
        help_text="The signed inclusion promise: keep `note`; it is the evidence that this record "
        "existed if it is ever removed (POST /api/public/v1/promises/check, consent_verify --promises)."
    )
    state = ConsentStateSerializer()


class DuplicateSerializer(serializers.Serializer):
    """The 409 of a replayed Idempotency-Key: the error, and the first receipt to keep."""

    error = ErrorDetailSerializer()
    receipt_id = serializers.CharField()
    promise = PromiseOutputSerializer(required=False, help_text="The first receipt's promise.")


def _error(status: int, description: str | None = None) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description or ERROR_DESCRIPTIONS[status])


RETRY_AFTER = {"Retry-After": OpenApiResponse(description="Seconds to wait before retrying.")}


class ConsentCreateSchema(APIView):
    """Schema only: the contract of `consent_create`; never routed."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="consent_create",
        tags=["consents"],
        summary="Record a visitor's decision",
        description=(
            "One decision, one append-only ledger row. Accepted only from a page on one of the "
            "site's registered origins: the browser's `Origin` header must name one (else 403); "
            "the answer carries `Access-Control-Allow-Origin` for it, and the CORS middleware answers the "
            "preflight. The body is at most `CONSENT_MAX_BODY_BYTES`. A replayed "
            "`Idempotency-Key` writes nothing and answers 409 with the first receipt. A database "
            "fault is a 503 with `Retry-After`: keep the decision and retry."
        ),
        request=ConsentInputSerializer,
        examples=[
            OpenApiExample(
                "A custom choice on the demo site",
                request_only=True,
                value={
                    "visitor_id": "v-4f3c2a1b9d8e7f60",
                    "action": "custom",
                    "granted": ["necessary", "analytics"],
                    "denied": ["marketing", "preferences"],
                    "versions": {},
                    "language": "en",
                    "ui_layer": "second_layer",
                    "gpc": False,
                    "dnt": False,
                    "page_url": "http://127.0.0.1:8000/demo/",
                },
            )
        ],
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                pattern=IDEMPOTENCY_KEY.pattern,
                description="One key per decision: a retry with the same key is recorded once.",
            ),
            OpenApiParameter(
                "Sec-GPC",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                enum=["1"],
                description="Global Privacy Control: `1` counts as the signal.",
            ),
        ],
        responses={
            201: OpenApiResponse(ConsentReceiptSerializer, description="Recorded: the receipt."),
            400: _error(400),
            403: _error(403, "No `Origin`, or not one of the site's registered origins."),
            404: _error(404, "No site with this key."),
            409: OpenApiResponse(DuplicateSerializer, description="This Idempotency-Key was already used."),
            413: _error(413),
            415: _error(415),
            429: _error(429),
            503: _error(503),
        },
    )
    def post(self, request: Request, site_key: str) -> None:
        raise NotImplementedError  # pragma: no cover - never routed


class LogCheckpointSchema(APIView):
    """Schema only: the contract of `tile_views.log_checkpoint`; never routed."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="log_checkpoint",
        tags=["ledger"],
        summary="The log's newest checkpoint (C2SP tlog-checkpoint)",
        description=(
            "A C2SP signed note, `text/plain`: origin, size, base64 root, a blank line, the log's "
            "signature line and one cosignature line per witness. Open it with the log's vkey "
            "(`vkey` of the checkpoints endpoint). Cached for seconds."
        ),
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The signed note."),
            404: _error(404, "No such site, or no C2SP checkpoint yet."),
            429: _error(429),
        },
    )
    def get(self, request: Request, site_key: str) -> None:
        raise NotImplementedError  # pragma: no cover - never routed


class LogTileSchema(APIView):
    """Schema only: the contract of `tile_views.log_tile`; never routed."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="log_tile",
        tags=["ledger"],
        summary="A tile of the log (C2SP tlog-tiles)",
        description=(
            "`level` 0..7: a hash tile, the 32-byte hashes of the Merkle level 8·level nodes "
            "256·N .. 256·N+W-1; `entries`: an entry bundle, each entry a 2-byte big-endian length "
            "and the leaf's canonical JSON (no personal data). `rest` is N in three-digit groups, "
            "all but the last prefixed with `x` (`x001/234`), then `.p/<W>` for a partial tile of "
            "width W (1..255). Full tiles never change: cached a year, immutable."
        ),
        parameters=[
            OpenApiParameter(
                "level", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["entries", *map(str, range(8))]
            ),
            # No pattern: the path holds slashes, which a path parameter's value cannot (a fuzzer
            # filters nearly every value it makes); the description states the form.
            OpenApiParameter(
                "rest", OpenApiTypes.STR, OpenApiParameter.PATH, description="N[.p/W], e.g. `x001/234.p/5`."
            ),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The tile."),
            404: _error(404, "No such site or tile (beyond the tree, or not a canonical tile path)."),
            410: _error(410, "An entry of this bundle was removed by retention."),
            429: _error(429),
        },
    )
    def get(self, request: Request, site_key: str, level: str, rest: str) -> None:
        raise NotImplementedError  # pragma: no cover - never routed
