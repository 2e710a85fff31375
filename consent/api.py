"""JSON endpoints: jurisdictions, policies, the consent ledger, and the management API for sites."""

import base64
import json
import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from config.exceptions import error_payload, json_error
from consent.geo import client_ip, jurisdiction_resolve
from consent.http import cache_public, cors_allow_site_origin, etag_for, not_modified_or_none
from consent.jurisdictions import (
    RULES_VERSION,
    RULESETS,
    RuleSet,
    rules_table_as_dict,
    ruleset_as_dict,
    ruleset_for_location,
    ruleset_with_overrides,
)
from consent.ledger import checkpoint_note, leaf_data, signing_key, verifying_keys
from consent.models import Checkpoint, ExportFormat, PolicyDocument, PolicyVersion, Site
from consent.ratelimit import rate_limits_exceeded
from consent.selectors import (
    EDITOR_ROLES,
    SiteSnapshot,
    checkpoint_consistency_proof,
    checkpoint_list,
    consent_current,
    consent_expires_at,
    consent_export_lines,
    consent_export_queryset,
    consent_freshness,
    idempotency_receipt_get,
    policy_document_get,
    policy_document_list,
    policy_timeline,
    policy_version_diff,
    policy_version_get,
    purpose_list,
    receipt_get,
    site_get_by_key,
    site_list_for_user,
    site_role_for_user,
    site_snapshot,
)
from consent.services import audit_record, consent_record_create
from consent.validation import VISITOR_ID, InputError, consent_input_parse

logger = logging.getLogger(__name__)


class PublicRateThrottle(SimpleRateThrottle):
    """Per client address, at settings.PUBLIC_API_RATE (read per request, so it can change live)."""

    scope = "public"

    def get_rate(self) -> str:
        return settings.PUBLIC_API_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicApiView(APIView):
    """No session, no CSRF, no authentication: anyone may call, within a per-IP rate limit."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]


class JurisdictionTableApi(PublicApiView):
    """The whole rules table, so anyone can see which rules a banner applies and why."""

    def get(self, request: Request) -> Response:
        response = Response(rules_table_as_dict())
        response["Cache-Control"] = "public, max-age=3600"
        response["Access-Control-Allow-Origin"] = "*"
        return response


class JurisdictionLookupApi(PublicApiView):
    """Which rule set applies to a place on a date (e.g. ?country=US&region=CO&on=2024-06-30)."""

    class InputSerializer(serializers.Serializer):
        country = serializers.RegexField(
            r"^[A-Za-z]{2}$", error_messages={"invalid": "Give an ISO 3166-1 alpha-2 code."}
        )
        region = serializers.RegexField(
            r"^([A-Za-z]{2}-)?[A-Za-z0-9]{1,3}$",
            required=False,
            allow_blank=True,
            default="",
            error_messages={"invalid": "Give an ISO 3166-2 subdivision code such as CA or US-CA."},
        )
        on = serializers.DateField(required=False, allow_null=True, default=None)

    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ruleset = ruleset_for_location(
            country=data["country"], region=data["region"], on=data["on"] or date.today()
        )
        response = Response(
            {
                "country": data["country"].upper(),
                "region": data["region"].upper().split("-")[-1],
                "jurisdiction": ruleset.code,
                "rules": ruleset_as_dict(ruleset),
            }
        )
        response["Access-Control-Allow-Origin"] = "*"
        return response


class SiteJurisdictionApi(PublicApiView):
    """The rules that apply to this visitor on this site, and how they were found."""

    def get(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        resolution = jurisdiction_resolve(
            request=request,
            default_code=site.default_jurisdiction,
            overrides=site.jurisdiction_overrides,
        )
        response = Response(
            {
                "site": site.key,
                "jurisdiction": resolution.ruleset.code,
                "rules_version": RULES_VERSION,
                "country": resolution.country,
                "region": resolution.region,
                "resolved_by": resolution.method,
                "rules": ruleset_as_dict(resolution.ruleset),
            }
        )
        response["Cache-Control"] = "private, no-store"
        return cors_allow_site_origin(request=request, response=response, site=site)


class SiteOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    default_language = serializers.CharField()
    languages = serializers.ListField(source="enabled_languages", child=serializers.CharField())
    default_jurisdiction = serializers.CharField()
    jurisdiction_overrides = serializers.DictField()
    data_residency = serializers.CharField()
    origins = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_origins(self, site: Site) -> list[str]:
        return [origin.origin for origin in site.origins.all()]


class SiteListApi(APIView):
    """The sites the authenticated user is a member of."""

    def get(self, request: Request) -> Response:
        sites = site_list_for_user(user=request.user).prefetch_related("origins")
        return Response({"sites": SiteOutputSerializer(sites, many=True).data})


class SiteDetailApi(APIView):
    """One site with the caller's role and its purposes; 404 for sites the caller is not a member of."""

    class PurposeOutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        is_necessary = serializers.BooleanField()
        is_sale_or_share = serializers.BooleanField()
        position = serializers.IntegerField()
        texts = serializers.SerializerMethodField()

        def get_texts(self, purpose: Any) -> dict[str, dict[str, str]]:
            return {
                text.language: {"name": text.name, "description": text.description}
                for text in purpose.translations.all()
            }

    def get(self, request: Request, site_key: str) -> Response:
        # Looked up among the caller's sites only: another tenant's site is "not found",
        # not "forbidden", so its existence does not leak either.
        site = site_list_for_user(user=request.user).prefetch_related("origins").filter(key=site_key).first()
        if site is None:
            raise Http404
        data = dict(SiteOutputSerializer(site).data)
        data["role"] = (
            "superuser" if request.user.is_superuser else site_role_for_user(site=site, user=request.user)
        )
        data["purposes"] = self.PurposeOutputSerializer(purpose_list(site=site), many=True).data
        return Response(data)


# --- Policy documents (public JSON twins of the policy pages) -----------------------------


def _version_summary(version: PolicyVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "published_at": version.published_at,
        "effective_at": version.effective_at,
        "content_sha256": version.content_sha256,
        "is_material": version.is_material,
        "change_kinds": version.change_kinds,
        "affected_purposes": version.affected_purposes,
        "summary": version.change_note,
        "languages": version.languages,
    }


def _version_full(version: PolicyVersion) -> dict[str, Any]:
    return {
        **_version_summary(version),
        "prevailing_language": version.prevailing_language,
        "texts": version.texts,
    }


def _document_summary(document: PolicyDocument) -> dict[str, Any]:
    return {
        "slug": document.slug,
        "kind": document.kind,
        "jurisdictions": document.jurisdictions,
        "prevailing_language": document.prevailing_language,
    }


def _public_document(site_key: str, slug: str) -> PolicyDocument:
    site = site_get_by_key(key=site_key)
    document = policy_document_get(site=site, slug=slug) if site else None
    if document is None:
        raise Http404
    return document


def _cached_json(request: Request, data: Any, etag: str, max_age: int = 300) -> Response:
    if cached := not_modified_or_none(request._request, etag):
        return cached  # type: ignore[return-value]
    response = Response(data)
    response["Access-Control-Allow-Origin"] = "*"
    return cache_public(response, etag=etag, max_age=max_age)  # type: ignore[return-value]


class PolicyDocumentListApi(PublicApiView):
    """A site's documents with the version in force and any upcoming one."""

    def get(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        now = timezone.now()
        timelines = [
            policy_timeline(document=document, at=now) for document in policy_document_list(site=site)
        ]
        data = {
            "site": site.key,
            "documents": [
                {
                    **_document_summary(timeline.document),
                    "in_force": _version_summary(timeline.in_force) if timeline.in_force else None,
                    "upcoming": [_version_summary(version) for version in timeline.upcoming],
                }
                for timeline in timelines
            ],
        }
        etag = etag_for(
            "api-docs",
            site.key,
            *[(t.document.slug, [v.number for v in t.history]) for t in timelines],
            *[t.in_force and t.in_force.number for t in timelines],
        )
        return _cached_json(request, data, etag)


class PolicyDocumentApi(PublicApiView):
    """One document: the version in force in full, upcoming versions and the history."""

    def get(self, request: Request, site_key: str, slug: str) -> Response:
        document = _public_document(site_key, slug)
        timeline = policy_timeline(document=document, at=timezone.now())
        data = {
            **_document_summary(document),
            "in_force": _version_full(timeline.in_force) if timeline.in_force else None,
            "upcoming": [_version_summary(version) for version in timeline.upcoming],
            "history": [_version_summary(version) for version in timeline.history],
        }
        etag = etag_for(
            "api-doc",
            document.pk,
            timeline.in_force and timeline.in_force.number,
            *[v.number for v in timeline.history],
        )
        return _cached_json(request, data, etag)


class PolicyVersionApi(PublicApiView):
    """One edition in full: every language, Markdown source and rendered HTML."""

    def get(self, request: Request, site_key: str, slug: str, number: int) -> Response:
        document = _public_document(site_key, slug)
        version = policy_version_get(document=document, number=number)
        if version is None:
            raise Http404
        return _cached_json(
            request,
            {**_document_summary(document), **_version_full(version)},
            etag_for("api-version", version.content_sha256),
            max_age=86400,
        )


class PolicyDiffApi(PublicApiView):
    """The changes from edition a to edition b, per language, as line blocks with word changes."""

    def get(self, request: Request, site_key: str, slug: str, a: int, b: int) -> Response:
        document = _public_document(site_key, slug)
        old, new = (
            policy_version_get(document=document, number=a),
            policy_version_get(document=document, number=b),
        )
        if old is None or new is None:
            raise Http404
        data = {
            **_document_summary(document),
            "from": _version_summary(old),
            "to": _version_summary(new),
            "languages": [
                {
                    "language": diff.language,
                    "old_title": diff.old_title,
                    "new_title": diff.new_title,
                    "blocks": [
                        {
                            "op": block.op,
                            "old": block.old,
                            "new": block.new,
                            "words": [{"op": word.op, "text": word.text} for word in block.words],
                        }
                        for block in diff.blocks
                    ],
                }
                for diff in policy_version_diff(old=old, new=new)
            ],
        }
        return _cached_json(
            request, data, etag_for("api-diff", old.content_sha256, new.content_sha256), max_age=86400
        )


# --- The consent ledger: the write path (a plain view: it is the hottest path we have) --------


def _preflight_or_origin_error(request: HttpRequest, snapshot: SiteSnapshot) -> HttpResponse | None:
    origin = request.headers.get("Origin", "")
    if not origin:
        return json_error(
            403, "origin_required", "Consents are accepted only from the site's own pages (no Origin)."
        )
    if origin.lower() not in snapshot.origins:
        return json_error(403, "origin_not_allowed", f"{origin} is not a registered origin of this site.")
    return None


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


@csrf_exempt
def consent_create(request: HttpRequest, site_key: str) -> HttpResponse:
    """POST a decision: 201 with a receipt, or a 4xx saying what was wrong; never a half-written row.

    A database fault answers 503 with Retry-After: the banner keeps the choice and retries.
    """
    try:
        snapshot = site_snapshot(key=site_key)
    except DatabaseError:
        logger.exception("consent write: site lookup failed")
        return _unavailable()
    if snapshot is None:
        return json_error(404, "not_found", "No site with this key.")
    refused = _preflight_or_origin_error(request, snapshot)
    if refused is not None:
        return refused
    origin = request.headers["Origin"]
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
        response["Access-Control-Max-Age"] = "600"
        return _cors(response, origin)
    if request.method != "POST":
        return _cors(json_error(405, "method_not_allowed", "Use POST."), origin)

    ip = client_ip(request)
    retry_after = rate_limits_exceeded(
        [
            (f"consent:ip:{ip}", settings.CONSENT_RATE_PER_IP),
            (f"consent:site:{snapshot.site.pk}", settings.CONSENT_RATE_PER_SITE),
        ]
    )
    if retry_after is not None:
        response = json_error(429, "throttled", "Too many consents; try again shortly. Nothing was recorded.")
        response["Retry-After"] = str(retry_after)
        return _cors(response, origin)
    if request.content_type != "application/json":
        return _cors(
            json_error(415, "unsupported_media_type", "Send the consent as application/json."), origin
        )
    length = int(request.headers.get("Content-Length") or 0)
    if length > settings.CONSENT_MAX_BODY_BYTES or len(request.body) > settings.CONSENT_MAX_BODY_BYTES:
        return _cors(
            json_error(413, "too_large", f"The body is larger than {settings.CONSENT_MAX_BODY_BYTES} bytes."),
            origin,
        )
    try:
        payload = json.loads(request.body)
        data = consent_input_parse(
            payload,
            snapshot,
            gpc_header=request.headers.get("Sec-GPC") == "1",
            idempotency_header=request.headers.get("Idempotency-Key"),
        )
    except ValueError:
        return _cors(json_error(400, "parse_error", "The body is not valid JSON."), origin)
    except InputError as error:
        return _cors(json_error(error.status, error.code, error.message, error.fields), origin)

    resolution = jurisdiction_resolve(
        request=request,
        default_code=snapshot.site.default_jurisdiction,
        overrides=snapshot.site.jurisdiction_overrides,
    )
    try:
        record = consent_record_create(
            snapshot=snapshot,
            data=data,
            resolution=resolution,
            ip=ip,
            user_agent=request.headers.get("User-Agent", ""),
        )
    except IntegrityError:
        # The idempotency trigger refused a replayed key (consent.idempotency): nothing written.
        try:
            earlier = idempotency_receipt_get(site=snapshot.site, key=data.idempotency_key)
        except DatabaseError:
            earlier = None
        if earlier is None:  # not a replay after all, or the lookup failed: the banner retries
            logger.exception("consent write refused by the database for site %s", snapshot.site.key)
            return _cors(_unavailable(), origin)
        return _cors(_duplicate(earlier), origin)
    except DatabaseError:
        logger.exception("consent write failed for site %s", snapshot.site.key)
        return _cors(_unavailable(), origin)

    expires_at = consent_expires_at(
        ruleset=resolution.ruleset, decided_at=record.created_at, purposes_granted=record.purposes_granted
    )
    body = {
        "receipt_id": record.receipt_id,
        "recorded_at": record.created_at.isoformat(),
        "leaf_sha256": record.leaf_sha256,
        "receipt_url": f"/api/public/v1/receipts/{record.receipt_id}",
        "receipt_page_url": f"/r/{record.receipt_id}/",
        "state": {
            "action": record.action,
            "granted": record.purposes_granted,
            "denied": record.purposes_denied,
            "jurisdiction": record.jurisdiction,
            "gpc": record.gpc,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    }
    return _cors(JsonResponse(body, status=201), origin)


def _duplicate(receipt_id: str) -> HttpResponse:
    """409 for a replayed choice; the earlier receipt lets a retrying banner keep it."""
    payload = error_payload("duplicate", f"This choice was already recorded (receipt {receipt_id}).")
    payload["receipt_id"] = receipt_id
    return JsonResponse(payload, status=409)


def _unavailable() -> HttpResponse:
    response = json_error(503, "unavailable", "The consent could not be stored right now; keep it and retry.")
    response["Retry-After"] = "5"
    return response


def _ruleset_for(code: str, site: Site) -> RuleSet:
    """The rules a record was made under, with the site's current overrides (if still valid)."""
    base = RULESETS.get(code, RULESETS["DEFAULT"])
    try:
        return ruleset_with_overrides(base, site.jurisdiction_overrides.get(code, {}))
    except ValueError:
        return base


class ReceiptApi(PublicApiView):
    """A record as proof: its canonical content (no personal data), its leaf hash, and once
    sealed, its inclusion proof against the newest signed checkpoint."""

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
            "checkpoint": _checkpoint_data(checkpoint, receipt.site_key) if checkpoint else None,
            "public_key": base64.b64encode(public_raw).decode() if public_raw else None,
            "how_to_verify": (
                "leaf = SHA-256(0x00 || canonical JSON of `record`); check `inclusion_proof` for "
                "`leaf_index` against checkpoint.root_hash (RFC 9162 2.1.3.2); check "
                "checkpoint.signature (Ed25519) over checkpoint.note with public_key."
            ),
        }
        response = Response(data)
        response["Cache-Control"] = "no-store"
        response["Access-Control-Allow-Origin"] = "*"
        return response


def _checkpoint_data(checkpoint: Checkpoint, site_key: str) -> dict[str, Any]:
    return {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "created_at": checkpoint.created_at.isoformat(),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "note": checkpoint_note(
            site_key=site_key,
            tree_size=checkpoint.tree_size,
            root_hex=checkpoint.root_hash,
            created_at=checkpoint.created_at,
        ).decode(),
    }


class CheckpointListApi(PublicApiView):
    """A site's signed checkpoints, newest first, each with a consistency proof from the one before."""

    class InputSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
        before = serializers.IntegerField(min_value=1, required=False)

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
        for newer, older in zip(checkpoints, [*checkpoints[1:], None], strict=True):
            if len(items) == query.validated_data["limit"]:
                break
            item = _checkpoint_data(newer, site.key)
            if older is not None:
                item["consistency_from"] = older.tree_size
                item["consistency_proof"] = checkpoint_consistency_proof(
                    site=site, old_size=older.tree_size, new_size=newer.tree_size
                )
            items.append(item)
        key = signing_key()
        response = Response(
            {
                "site": site.key,
                "public_key": key.public_base64,
                "key_id": key.key_id,
                # Every key a checkpoint here may name (key_id): after a rotation, old checkpoints
                # keep the signature of the key that made them.
                "keys": [
                    {
                        "key_id": key_id,
                        "public_key": base64.b64encode(public_raw).decode(),
                        "current": key_id == key.key_id,
                    }
                    for key_id, public_raw in verifying_keys().items()
                ],
                "checkpoints": items,
            }
        )
        response["Access-Control-Allow-Origin"] = "*"
        response["Cache-Control"] = "public, max-age=60"
        return response


class ConsentCurrentApi(PublicApiView):
    """A visitor's newest decision and whether it still holds (the visitor id is the secret)."""

    def get(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        visitor_id = request.query_params.get("visitor_id", "")
        if site is None:
            raise Http404
        if not VISITOR_ID.match(visitor_id):
            raise serializers.ValidationError(
                {"visitor_id": ["Give the visitor id: 16 to 64 letters, digits, '-' or '_'."]}
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
        return cors_allow_site_origin(request=request, response=response, site=site)  # type: ignore[return-value]


class ConsentExportApi(APIView):
    """`GET /api/v1/sites/<site_key>/consents/export?from=&to=&format=csv|jsonl`: every record of
    the period, streamed in constant memory; owners and DPOs of the site only."""

    class InputSerializer(serializers.Serializer):
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["date_to"] < attrs["date_from"]:
                raise serializers.ValidationError({"to": ["The end date is before the start date."]})
            return attrs

    def get(self, request: Request, site_key: str) -> StreamingHttpResponse:
        site = site_list_for_user(user=request.user).filter(key=site_key).first()
        if site is None:
            raise Http404
        if (
            not request.user.is_superuser
            and site_role_for_user(site=site, user=request.user) not in EDITOR_ROLES
        ):
            raise PermissionDenied("Only the site's owners and DPOs can export its consent records.")
        query = self.InputSerializer(
            data={
                "date_from": request.query_params.get("from"),
                "date_to": request.query_params.get("to"),
                "format": request.query_params.get("format", ExportFormat.CSV),
            }
        )
        if not query.is_valid():
            errors = {
                {"date_from": "from", "date_to": "to"}.get(key, key): value
                for key, value in query.errors.items()
            }
            raise serializers.ValidationError(errors)
        data = query.validated_data
        audit_record(
            site=site,
            actor=request.user,
            actor_ip=client_ip(request),
            action="consent.export",
            target=f"consent records {data['date_from']}..{data['date_to']}",
            data={"format": data["format"], "via": "api"},
        )
        records = consent_export_queryset(site=site, date_from=data["date_from"], date_to=data["date_to"])
        response = StreamingHttpResponse(
            consent_export_lines(records=records, fmt=data["format"]),
            content_type="text/csv; charset=utf-8"
            if data["format"] == ExportFormat.CSV
            else "application/jsonl",
        )
        name = f"{site.key}-consents-{data['date_from']}-{data['date_to']}.{data['format']}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
