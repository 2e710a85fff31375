"""The consent POST, the hottest path: one decision in, one receipt out (a plain view, for speed)."""

import json
import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from consent.ledger.promise import promise_note, record_promise
from consent.ledger.selectors import (
    consent_expires_at,
    consent_record_by_receipt,
    idempotency_receipt_get,
)
from consent.ledger.services import consent_record_create
from consent.ledger.validation import ConsentInput, InputError, consent_input_parse
from consent.models import ConsentRecord, Site
from consent.rules.geo import Resolution, jurisdiction_resolve
from consent.rules.jurisdictions import RuleSet
from consent.sites.selectors import SiteSnapshot, site_snapshot
from edge.client import address_limit_key, client_ip
from edge.errors import error_payload, json_error
from edge.ratelimit import rate_limits_exceeded

logger = logging.getLogger(__name__)


def _origin_refusal(request: HttpRequest, snapshot: SiteSnapshot) -> HttpResponse | None:
    """A 403 unless the request comes from one of the site's registered origins.

    CORS headers are the middleware's (edge/cors.py); this check keeps a consent from being
    written from anywhere else, whatever a non-browser client sends.
    """
    origin = request.headers.get("Origin", "")
    if not origin:
        return json_error(
            403, "origin_required", _("Consents are accepted only from the site's own pages (no Origin).")
        )
    if origin.lower() not in snapshot.origins:
        return json_error(
            403,
            "origin_not_allowed",
            _("%(origin)s is not a registered origin of this site.") % {"origin": origin},
        )
    return None


@csrf_exempt
def consent_create(request: HttpRequest, site_key: str) -> HttpResponse:
    """POST a decision: 201 with a receipt, or a 4xx saying what was wrong; never a half-written row.

    A database fault answers 503 with Retry-After: the banner keeps the choice and retries.
    The preflight and every CORS header are django-cors-headers' (edge/cors.py).
    """
    try:
        snapshot = site_snapshot(key=site_key)
    except DatabaseError:
        logger.exception("consent write: site lookup failed")
        return _unavailable()
    if snapshot is None:
        return json_error(404, "not_found", _("No site with this key."))
    refused = _origin_refusal(request, snapshot)
    if refused is not None:
        return refused
    ip = client_ip(request)
    data = _request_refusal(request, snapshot, ip) or _consent_input(request, snapshot)
    if isinstance(data, HttpResponse):
        return data
    resolution = jurisdiction_resolve(
        request=request,
        default_code=snapshot.site.default_jurisdiction,
        overrides=snapshot.site.jurisdiction_overrides,
    )
    record = _record_write(request, snapshot, data, resolution, ip)
    if isinstance(record, HttpResponse):
        return record
    return JsonResponse(_receipt_body(record, resolution.ruleset, snapshot.site.key), status=201)


def _request_refusal(request: HttpRequest, snapshot: SiteSnapshot, ip: str) -> HttpResponse | None:
    """Refuse, before reading the body, anything but a POST of JSON within the size and rate limits."""
    if request.method != "POST":
        return json_error(405, "method_not_allowed", _("Use POST."))
    retry_after = rate_limits_exceeded(
        [
            (f"consent:ip:{address_limit_key(ip)}", settings.CONSENT_RATE_PER_IP),
            (f"consent:site:{snapshot.site.pk}", settings.CONSENT_RATE_PER_SITE),
        ]
    )
    if retry_after is not None:
        response = json_error(
            429, "throttled", _("Too many consents; try again shortly. Nothing was recorded.")
        )
        response["Retry-After"] = str(retry_after)
        return response
    if request.content_type != "application/json":
        return json_error(415, "unsupported_media_type", _("Send the consent as application/json."))
    # The declared length refuses a big body unread; a malformed one is left to the body's own.
    declared = request.headers.get("Content-Length", "")
    too_long = declared.isdigit() and int(declared) > settings.CONSENT_MAX_BODY_BYTES
    if too_long or len(request.body) > settings.CONSENT_MAX_BODY_BYTES:
        return json_error(
            413,
            "too_large",
            _("The body is larger than %(limit)s bytes.") % {"limit": settings.CONSENT_MAX_BODY_BYTES},
        )
    return None


def _consent_input(request: HttpRequest, snapshot: SiteSnapshot) -> ConsentInput | HttpResponse:
    """The body as a valid decision for this site, or the 400 naming what is wrong with it."""
    try:
        return consent_input_parse(
            json.loads(request.body),
            snapshot,
            gpc_header=request.headers.get("Sec-GPC") == "1",
            idempotency_header=request.headers.get("Idempotency-Key"),
        )
    except ValueError:
        return json_error(400, "parse_error", _("The body is not valid JSON."))
    except RecursionError:  # nested deeper than the decoder goes: never a consent
        return json_error(400, "invalid", _("The body is nested too deeply. Nothing was recorded."))
    except InputError as error:
        return json_error(error.status, error.code, error.message, error.fields)


def _record_write(
    request: HttpRequest, snapshot: SiteSnapshot, data: ConsentInput, resolution: Resolution, ip: str
) -> ConsentRecord | HttpResponse:
    """The new record; a replayed Idempotency-Key's 409 with the earlier receipt; else a 503."""
    try:
        return consent_record_create(
            snapshot=snapshot,
            data=data,
            resolution=resolution,
            ip=ip,
            user_agent=request.headers.get("User-Agent", ""),
        )
    except IntegrityError:
        # The idempotency trigger refused a replayed key (consent.ledger.idempotency): nothing written.
        try:
            earlier = idempotency_receipt_get(site=snapshot.site, key=data.idempotency_key)
        except DatabaseError:
            earlier = None
        if earlier is None:  # not a replay after all, or the lookup failed: the banner retries
            logger.exception("consent write refused by the database for site %s", snapshot.site.key)
            return _unavailable()
        return _duplicate(earlier, snapshot.site)
    except DatabaseError:
        logger.exception("consent write failed for site %s", snapshot.site.key)
        return _unavailable()


def _receipt_body(record: ConsentRecord, ruleset: RuleSet, site_key: str) -> dict[str, Any]:
    """What the banner keeps of a recorded decision: its receipt, its signed inclusion promise,
    and the state it stores until it expires."""
    expires_at = consent_expires_at(
        ruleset=ruleset, decided_at=record.created_at, purposes_granted=record.purposes_granted
    )
    return {
        "receipt_id": record.receipt_id,
        "recorded_at": record.created_at.isoformat(),
        "leaf_sha256": record.leaf_sha256,
        "receipt_url": f"/api/public/v1/receipts/{record.receipt_id}",
        "receipt_page_url": f"/r/{record.receipt_id}/",
        "promise": _promise_body(record, site_key),
        "state": {
            "action": record.action,
            "granted": record.purposes_granted,
            "denied": record.purposes_denied,
            "jurisdiction": record.jurisdiction,
            "gpc": record.gpc,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    }


def _promise_body(record: ConsentRecord, site_key: str) -> dict[str, Any]:
    """The signed inclusion promise (consent.ledger.promise): the visitor's evidence of the row."""
    promise = record_promise(record, site_key)
    return {
        "note": promise_note(promise).decode(),
        "leaf_hash": record.leaf_sha256,
        "promised_at": promise.promised_at,
        "merge_delay_seconds": promise.merge_delay_seconds,
    }


def _duplicate(receipt_id: str, site: Site) -> HttpResponse:
    """409 for a replayed choice; the earlier receipt (and its promise) lets a retrying banner keep it."""
    payload = error_payload(
        "duplicate", _("This choice was already recorded (receipt %(receipt)s).") % {"receipt": receipt_id}
    )
    payload["receipt_id"] = receipt_id
    try:
        earlier = consent_record_by_receipt(site=site, receipt_id=receipt_id)
    except DatabaseError:
        earlier = None
    if earlier is not None:
        payload["promise"] = _promise_body(earlier, site.key)
    return JsonResponse(payload, status=409)


def _unavailable() -> HttpResponse:
    response = json_error(
        503, "unavailable", _("The consent could not be stored right now; keep it and retry.")
    )
    response["Retry-After"] = "5"
    return response
