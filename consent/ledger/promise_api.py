"""Inclusion promises over HTTP: check a visitor's promise against the ledger, say what became of it."""

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.ledger.crypto import log_origin, log_verifiers, timestamp
from consent.ledger.promise import (
    MAX_PROMISE_BYTES,
    PromiseError,
    PromiseStatus,
    promise_check,
    promise_parse,
    promise_status,
    promise_status_message,
)
from consent.sites.selectors import site_get_by_key
from edge.api import PublicApiView
from edge.schema import ErrorSerializer

PROMISE_STATES = ["included", "pending", "overdue", "altered", "purged", "removed"]


class PromiseOutputSerializer(serializers.Serializer):
    """A signed inclusion promise as the consent POST gives it (consent.ledger.promise)."""

    note = serializers.CharField(
        help_text="The whole C2SP signed note: `consentry/promise/v1`, the log origin, the receipt id, "
        "the leaf hash (base64), the time and the maximum merge delay (seconds), one per line, "
        "signed (Ed25519) under the log origin's key name."
    )
    leaf_hash = serializers.CharField(help_text="Hex SHA-256 leaf hash (RFC 6962) the promise names.")
    promised_at = serializers.CharField(help_text="The record's time, as signed (UTC, microseconds, Z).")
    merge_delay_seconds = serializers.IntegerField(help_text="The leaf is in the log within this delay.")


class PromiseCheckpointSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class PromiseStatusSerializer(serializers.Serializer):
    """What became of a promise: the ledger's own answer (the visitor's note is the evidence)."""

    state = serializers.ChoiceField(
        choices=PROMISE_STATES,
        help_text="included: in the log with the promised leaf; pending: not yet, within the merge "
        "delay; overdue: the record exists but is not in the log after the delay; altered: the "
        "record or its leaf no longer has the promised hash; purged: deleted by the site's "
        "retention after sealing; removed: the record is gone otherwise (evidence of removal).",
    )
    kept = serializers.BooleanField(help_text="included, pending or purged.")
    evidence_of_removal = serializers.BooleanField(help_text="state is `removed`.")
    receipt_id = serializers.CharField()
    site = serializers.CharField()
    leaf_hash = serializers.CharField()
    promised_at = serializers.CharField()
    merge_delay_seconds = serializers.IntegerField()
    due_at = serializers.CharField(help_text="promised_at plus the merge delay.")
    leaf_index = serializers.IntegerField(allow_null=True, help_text="From 0.")
    checkpoint = PromiseCheckpointSerializer(
        allow_null=True, help_text="The newest checkpoint covering the leaf, when included."
    )
    message = serializers.CharField()


def promise_status_data(status: PromiseStatus) -> dict[str, Any]:
    promise = status.promise
    checkpoint = status.checkpoint
    return {
        "state": status.state,
        "kept": status.kept,
        "evidence_of_removal": status.state == "removed",
        "receipt_id": promise.receipt_id,
        "site": promise.site_key,
        "leaf_hash": promise.leaf_hash.hex(),
        "promised_at": promise.promised_at,
        "merge_delay_seconds": promise.merge_delay_seconds,
        "due_at": timestamp(promise.due_at),
        "leaf_index": status.leaf_index,
        "checkpoint": {"tree_size": checkpoint.tree_size, "created_at": checkpoint.created_at.isoformat()}
        if checkpoint
        else None,
        "message": promise_status_message(status),
    }


class PromiseCheckApi(PublicApiView):
    """Check a signed inclusion promise (as the consent POST gave it) against the ledger.

    The signature is verified under the site's log keys; then the ledger says whether the
    promised leaf is in the log. A valid promise whose record is gone is evidence of removal.
    """

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(
            max_length=MAX_PROMISE_BYTES, trim_whitespace=False, help_text="The promise's signed note."
        )

        class Meta:
            ref_name = "PromiseCheckInput"

    @extend_schema(
        operation_id="promise_check",
        tags=["ledger"],
        request=InputSerializer,
        responses={
            200: OpenApiResponse(PromiseStatusSerializer, description="A valid promise, and its fate."),
            400: OpenApiResponse(
                ErrorSerializer,
                description="Not a promise, or its signature does not verify (`fields.note`).",
            ),
            404: OpenApiResponse(
                ErrorSerializer, description="No site with the key the promise's log names."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        note = given.validated_data["note"]
        try:
            claimed = promise_parse(note)
        except PromiseError as error:
            raise serializers.ValidationError({"note": [str(error)]}) from error
        site = site_get_by_key(key=claimed.site_key)
        if site is None:
            raise Http404
        if claimed.origin != log_origin(site.key):
            raise serializers.ValidationError(
                {"note": [_("%(origin)s is not this server's log.") % {"origin": claimed.origin}]}
            )
        try:
            promise = promise_check(note, log_verifiers(site.key))
        except PromiseError as error:
            raise serializers.ValidationError({"note": [str(error)]}) from error
        response = Response(
            promise_status_data(promise_status(promise=promise, site=site, now=timezone.now()))
        )
        response["Cache-Control"] = "no-store"
        return response
