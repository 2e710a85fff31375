"""The ledger's public reads: a receipt with its proof, signed checkpoints, a visitor's current consent."""

import base64
from collections.abc import Sequence
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.ledger.crypto import (
    checkpoint_note_legacy,
    leaf_data,
    log_origin,
    log_vkey,
    signing_key,
    verifying_keys,
)
from consent.ledger.note import NoteVerifier
from consent.ledger.promise import promise_sign, receipt_promise_status
from consent.ledger.promise_api import PromiseOutputSerializer, PromiseStatusSerializer, promise_status_data
from consent.ledger.selectors import (
    Receipt,
    checkpoint_consistency_proofs,
    checkpoint_cosignatures,
    checkpoint_list,
    consent_current,
    consent_freshness,
    receipt_get,
)
from consent.ledger.validation import VISITOR_ID
from consent.ledger.witnesses import checkpoint_note_cosigned
from consent.models import Checkpoint, CollectionMethod, Cosignature, Site
from consent.rules.geo import jurisdiction_resolve
from consent.rules.jurisdictions import RULESETS, RuleSet
from consent.rules.overrides import ruleset_with_overrides
from consent.sites.selectors import site_get_by_key, site_snapshot
from edge.api import PublicApiView


def _ruleset_for(code: str, site: Site) -> RuleSet:
    """The rules a record was made under, with the site's current overrides (if still valid)."""
    base = RULESETS.get(code, RULESETS["DEFAULT"])
    try:
        return ruleset_with_overrides(base, site.jurisdiction_overrides.get(code, {}))
    except ValueError:
        return base


class CosignatureOutputSerializer(serializers.Serializer):
    witness = serializers.CharField(help_text="The witness's key name.")
    witnessed_at = serializers.DateTimeField(help_text="The time in its cosignature.")


class CheckpointOutputSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="Hex SHA-256 Merkle root (RFC 9162).")
    created_at = serializers.DateTimeField()
    key_id = serializers.CharField(help_text="First 8 bytes (hex) of SHA-256 of the signing public key.")
    signature = serializers.CharField(
        help_text="Base64 Ed25519 signature by the log (alone, without key hash)."
    )
    format = serializers.ChoiceField(
        choices=["c2sp", "legacy"],
        help_text="c2sp: `note` is a C2SP tlog-checkpoint signed note; legacy (checkpoints made "
        "before it): `note` is the text `signature` signs.",
    )
    note = serializers.CharField(
        help_text="The whole C2SP signed note: origin, size, base64 root, a blank line, the log's "
        "signature line and one cosignature line per witness. Open it with the log's `vkey`."
    )
    cosignatures = CosignatureOutputSerializer(many=True, help_text="The witnesses that cosigned it.")


class LeafOutputSerializer(serializers.Serializer):
    """A record's canonical content (consent.ledger.crypto.leaf_data): personal data only as a commitment."""

    v = serializers.IntegerField()
    site = serializers.CharField()
    receipt = serializers.CharField()
    at = serializers.CharField()
    action = serializers.CharField()
    layer = serializers.CharField()
    granted = serializers.ListField(child=serializers.CharField())
    denied = serializers.ListField(child=serializers.CharField())
    jurisdiction = serializers.CharField()
    rules_version = serializers.CharField()
    rules_sha256 = serializers.CharField()
    resolved_by = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField()
    language = serializers.CharField()
    versions = serializers.DictField()
    gpc = serializers.BooleanField()
    dnt = serializers.BooleanField()
    page = serializers.CharField()
    personal = serializers.CharField()
    collection = serializers.ChoiceField(
        choices=CollectionMethod.choices,
        required=False,
        help_text="Only on a decision the site's own systems recorded (layer `backend`): how they got it.",
    )


class ReceiptApi(PublicApiView):
    """A record as proof: its canonical content (no personal data), its leaf hash, and once
    sealed, its inclusion proof against the newest signed checkpoint."""

    class OutputSerializer(serializers.Serializer):
        receipt_id = serializers.CharField()
        record = LeafOutputSerializer()
        leaf_sha256 = serializers.CharField()
        redacted = serializers.BooleanField()
        status = serializers.ChoiceField(choices=["sealed", "pending"])
        leaf_index = serializers.IntegerField(allow_null=True)
        inclusion_proof = serializers.ListField(child=serializers.CharField())
        checkpoint = CheckpointOutputSerializer(allow_null=True)
        public_key = serializers.CharField(allow_null=True)
        vkey = serializers.CharField(
            allow_null=True, help_text="The log's C2SP verifier key that opens `checkpoint.note`."
        )
        promise = PromiseOutputSerializer(
            help_text="The record's signed inclusion promise, recomputed from the row (Ed25519 is "
            "deterministic): the note the consent POST gave, unless the key or merge delay changed since."
        )
        inclusion = PromiseStatusSerializer(help_text="Whether the promise was kept.")
        how_to_verify = serializers.CharField()

        class Meta:
            ref_name = "Receipt"

    @extend_schema(operation_id="receipt", tags=["ledger"], responses=OutputSerializer)
    def get(self, request: Request, receipt_id: str) -> Response:
        receipt = receipt_get(receipt_id=receipt_id)
        if receipt is None:
            raise Http404
        record = receipt.record
        checkpoint = receipt.checkpoint
        key = signing_key()
        # The key that signed this checkpoint: the current one, or a retired one after a rotation.
        public_raw = verifying_keys().get(checkpoint.key_id) if checkpoint else key.public_raw
        data = {
            "receipt_id": record.receipt_id,
            "record": leaf_data(record, receipt.site_key),
            "leaf_sha256": record.leaf_sha256,
            "redacted": record.is_redacted,
            "status": "sealed" if checkpoint else "pending",
            "leaf_index": receipt.leaf_index,
            "inclusion_proof": list(receipt.inclusion_proof),
            "checkpoint": (
                _checkpoint_data(checkpoint, receipt.site_key, receipt.cosignatures) if checkpoint else None
            ),
            "public_key": base64.b64encode(public_raw).decode() if public_raw else None,
            "vkey": _vkey(receipt.site_key, public_raw) if public_raw else None,
            **_promise_data(receipt),
            "how_to_verify": (
                "leaf = SHA-256(0x00 || canonical JSON (RFC 8785) of `record`); check "
                "`inclusion_proof` for `leaf_index` (from 0) against checkpoint.root_hash (RFC 9162 "
                "2.1.3.2); open checkpoint.note, a C2SP signed note, with `vkey` and check that it "
                "states tree_size and the root (base64). `promise` is a C2SP signed note by the "
                "same key (see the README's 'verify it yourself')."
            ),
        }
        response = Response(data)
        response["Cache-Control"] = "no-store"
        return response


def _promise_data(receipt: Receipt) -> dict[str, Any]:
    """The record's promise as the consent POST gave it, and what became of it."""
    status = receipt_promise_status(receipt=receipt, now=timezone.now())
    return {
        "promise": {
            "note": promise_sign(receipt.record, receipt.site_key).decode(),
            "leaf_hash": receipt.record.leaf_sha256,
            "promised_at": status.promise.promised_at,
            "merge_delay_seconds": status.promise.merge_delay_seconds,
        },
        "inclusion": promise_status_data(status),
    }


def _checkpoint_data(
    checkpoint: Checkpoint, site_key: str, cosignatures: Sequence[Cosignature]
) -> dict[str, Any]:
    if checkpoint.note:
        note = checkpoint_note_cosigned(checkpoint, cosignatures)
    else:
        note = checkpoint_note_legacy(
            site_key=site_key,
            tree_size=checkpoint.tree_size,
            root_hex=checkpoint.root_hash,
            created_at=checkpoint.created_at,
        ).decode()
    return {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "created_at": checkpoint.created_at.isoformat(),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "format": "c2sp" if checkpoint.note else "legacy",
        "note": note,
        "cosignatures": [
            {"witness": cosignature.witness_name, "witnessed_at": cosignature.witnessed_at.isoformat()}
            for cosignature in cosignatures
        ],
    }


def _vkey(site_key: str, public_raw: bytes) -> str:
    """The C2SP verifier key of one of the log's keys (current or retired) under the log's name."""
    return NoteVerifier(name=log_origin(site_key), public_raw=public_raw).vkey


class CheckpointItemOutputSerializer(CheckpointOutputSerializer):
    consistency_from = serializers.IntegerField(required=False, help_text="The tree size proved from.")
    consistency_proof = serializers.ListField(child=serializers.CharField(), required=False)


class SigningKeyOutputSerializer(serializers.Serializer):
    key_id = serializers.CharField()
    public_key = serializers.CharField()
    vkey = serializers.CharField()
    current = serializers.BooleanField()


class CheckpointListApi(PublicApiView):
    """A site's signed checkpoints, newest first, each with a consistency proof from the one before."""

    class InputSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
        before = serializers.IntegerField(min_value=1, required=False)

    class OutputSerializer(serializers.Serializer):
        site = serializers.CharField()
        origin = serializers.CharField(help_text="The log's name: its checkpoints' origin line.")
        public_key = serializers.CharField()
        key_id = serializers.CharField()
        vkey = serializers.CharField(help_text="The C2SP verifier key of the current signing key.")
        keys = SigningKeyOutputSerializer(many=True, help_text="Every key a checkpoint here may name.")
        checkpoints = CheckpointItemOutputSerializer(many=True, help_text="Newest first.")

        class Meta:
            ref_name = "CheckpointList"

    @extend_schema(
        operation_id="checkpoint_list",
        tags=["ledger"],
        parameters=[InputSerializer],
        responses=OutputSerializer,
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        checkpoints = checkpoint_list(
            site=site, limit=query.validated_data["limit"] + 1, before_size=query.validated_data.get("before")
        )
        items = []
        # Each checkpoint with the one before it (None for the oldest); an empty page is an empty list.
        pairs = list(zip(checkpoints, checkpoints[1:], strict=False))[: query.validated_data["limit"]]
        proofs = checkpoint_consistency_proofs(site=site, pairs=[(older, newer) for newer, older in pairs])
        cosignatures = checkpoint_cosignatures(checkpoints=checkpoints[: query.validated_data["limit"]])
        for position, newer in enumerate(checkpoints[: query.validated_data["limit"]]):
            item = _checkpoint_data(newer, site.key, cosignatures[newer.pk])
            if position < len(pairs):
                item["consistency_from"] = pairs[position][1].tree_size
                item["consistency_proof"] = proofs[position]
            items.append(item)
        key = signing_key()
        response = Response(
            {
                "site": site.key,
                "origin": log_origin(site.key),
                "public_key": key.public_base64,
                "key_id": key.key_id,
                "vkey": log_vkey(site.key),
                # Every key a checkpoint here may name (key_id): after a rotation, old checkpoints
                # keep the signature of the key that made them.
                "keys": [
                    {
                        "key_id": key_id,
                        "public_key": base64.b64encode(public_raw).decode(),
                        "vkey": _vkey(site.key, public_raw),
                        "current": key_id == key.key_id,
                    }
                    for key_id, public_raw in verifying_keys().items()
                ],
                "checkpoints": items,
            }
        )
        response["Cache-Control"] = "public, max-age=60"
        return response


class ConsentCurrentApi(PublicApiView):
    """A visitor's newest decision and whether it still holds (the visitor id is the secret)."""

    class InputSerializer(serializers.Serializer):
        visitor_id = serializers.RegexField(VISITOR_ID.pattern, help_text="The visitor's random id.")

    class OutputSerializer(serializers.Serializer):
        receipt_id = serializers.CharField()
        decided_at = serializers.DateTimeField()
        action = serializers.CharField()
        granted = serializers.ListField(child=serializers.CharField())
        denied = serializers.ListField(child=serializers.CharField())
        jurisdiction = serializers.CharField()
        holds = serializers.BooleanField(help_text="False: ask the visitor again (see reasons).")
        reasons = serializers.ListField(child=serializers.CharField())
        expires_at = serializers.DateTimeField(allow_null=True)

        class Meta:
            ref_name = "ConsentCurrent"

    @extend_schema(
        operation_id="consent_current",
        tags=["consents"],
        parameters=[InputSerializer],
        responses=OutputSerializer,
    )
    def get(self, request: Request, site_key: str) -> Response:
        # The write path's per-process snapshot: the site's rules overrides a few seconds
        # stale at most, as the write path sees them, and no query.
        snapshot = site_snapshot(key=site_key)
        visitor_id = request.query_params.get("visitor_id", "")
        if snapshot is None:
            raise Http404
        site = snapshot.site
        if not VISITOR_ID.match(visitor_id):
            raise serializers.ValidationError(
                {"visitor_id": [_("Give the visitor id: 16 to 64 letters, digits, '-' or '_'.")]}
            )
        record = consent_current(site=site, visitor_id=visitor_id)
        if record is None:
            raise Http404
        resolution = jurisdiction_resolve(
            request=request, default_code=site.default_jurisdiction, overrides=site.jurisdiction_overrides
        )
        ruleset = _ruleset_for(record.jurisdiction, site)
        freshness = consent_freshness(
            site=site,
            ruleset=ruleset,
            decided_at=record.created_at,
            purposes_granted=record.purposes_granted,
            at=timezone.now(),
        )
        response = Response(
            {
                "receipt_id": record.receipt_id,
                "decided_at": record.created_at.isoformat(),
                "action": record.action,
                "granted": record.purposes_granted,
                "denied": record.purposes_denied,
                "jurisdiction": record.jurisdiction,
                "holds": freshness.holds and record.jurisdiction == resolution.ruleset.code,
                "reasons": list(freshness.reasons)
                + ([] if record.jurisdiction == resolution.ruleset.code else ["jurisdiction_changed"]),
                "expires_at": freshness.expires_at.isoformat() if freshness.expires_at else None,
            }
        )
        response["Cache-Control"] = "private, no-store"
        return response
