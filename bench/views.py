"""Baselines the benchmarks compare against: a raw one-row insert and a bare JSON view."""

import json
import secrets
from functools import cache

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bench.models import RawConsentRow
from consent.models import Site
from edge.client import client_ip

ZERO_SHA256 = "0" * 64

_site_ids: dict[str, int] = {}


def _site_id(site_key: str) -> int:
    if site_key not in _site_ids:
        _site_ids[site_key] = Site.objects.values_list("pk", flat=True).get(key=site_key)
    return _site_ids[site_key]


@csrf_exempt
def raw_consent_create(request: HttpRequest, site_key: str) -> HttpResponse:
    """The consent body parsed and stored as one row: no validation, no hashing, no idempotency check."""
    payload = json.loads(request.body)
    row = RawConsentRow.objects.create(
        site_id=_site_id(site_key),
        receipt_id=secrets.token_urlsafe(16),
        created_at=timezone.now(),
        action=payload["action"],
        ui_layer=payload["ui_layer"],
        purposes_granted=payload["granted"],
        purposes_denied=payload["denied"],
        jurisdiction="EU",
        rules_version="2025.1",
        rules_sha256=ZERO_SHA256,
        resolved_by="header",
        country=request.headers.get("CF-IPCountry", ""),
        region="",
        language=payload["language"],
        versions=payload["versions"],
        gpc=payload["gpc"],
        dnt=payload["dnt"],
        page_url=payload["page_url"],
        idempotency_key=request.headers.get("Idempotency-Key"),
        visitor_id=payload["visitor_id"],
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent"),
        personal_salt=ZERO_SHA256[:32],
        personal_sha256=ZERO_SHA256,
        leaf_sha256=ZERO_SHA256,
    )
    return JsonResponse({"receipt_id": row.receipt_id}, status=201)


@cache
def _bare_payload(size: int) -> dict[str, str]:
    """A dict whose JSON is about `size` bytes: ten keys with equal-length string values."""
    value_length = max(1, (size - 10 * 12) // 10)
    return {f"key_{index:02d}": "x" * value_length for index in range(10)}


def bare_json(request: HttpRequest) -> HttpResponse:
    """The ceiling for public GETs: a JSON dict of `?bytes=N` bytes and nothing else."""
    size = min(int(request.GET.get("bytes") or 200), 65536)
    return JsonResponse(_bare_payload(size))
