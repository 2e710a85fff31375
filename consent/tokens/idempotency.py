"""Kept answers of management-API POSTs sent with an Idempotency-Key (the model: ApiIdempotencyKey)."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from consent.models import ApiIdempotencyKey, Site

IDEMPOTENCY_KEY_HOURS = 24


class IdempotencyReused(Exception):
    """The key was used for another request by the same caller."""


def idempotent_response_find(
    *, site: Site, caller: str, key: str, request_sha256: str
) -> ApiIdempotencyKey | None:
    kept = (
        ApiIdempotencyKey.objects.filter(
            site=site,
            caller=caller,
            key=key,
            created_at__gte=timezone.now() - timedelta(hours=IDEMPOTENCY_KEY_HOURS),
        )
        .only("request_sha256", "status", "body", "etag")
        .first()
    )
    if kept is not None and kept.request_sha256 != request_sha256:
        raise IdempotencyReused(key)
    return kept


def idempotent_response_keep(
    *, site: Site, caller: str, key: str, request_sha256: str, status: int, body: Any, etag: str = ""
) -> None:
    """Keep a successful answer, in the transaction of the change it reports. A key older than
    IDEMPOTENCY_KEY_HOURS is replaced; two requests racing with one key: the second fails
    with IntegrityError and its transaction (its change) rolls back."""
    ApiIdempotencyKey.objects.filter(
        site=site,
        caller=caller,
        key=key,
        created_at__lt=timezone.now() - timedelta(hours=IDEMPOTENCY_KEY_HOURS),
    ).delete()
    with transaction.atomic():
        ApiIdempotencyKey.objects.create(
            site=site,
            caller=caller,
            key=key,
            request_sha256=request_sha256,
            status=status,
            body=body,
            etag=etag,
        )


def idempotency_keys_purge() -> int:
    """Forget answers older than IDEMPOTENCY_KEY_HOURS (the daily retention task)."""
    cutoff = timezone.now() - timedelta(hours=IDEMPOTENCY_KEY_HOURS)
    deleted, _ = ApiIdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
