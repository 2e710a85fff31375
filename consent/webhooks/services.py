"""Webhooks: endpoints (owners and DPOs), events into the outbox, and each attempt to deliver one.

How an event travels:
1. `webhook_event_emit` writes the event and one `WebhookPending` row per endpoint that wants it,
   in the caller's transaction (a publication's, the dispatcher's), and queues one delivery task
   per pending row once that transaction commits.
2. `webhook_delivery_attempt` (the task) claims the row, POSTs the signed body once, writes a
   `WebhookDelivery` row, and either drops the pending row (delivered, or no more retries) or
   moves it to its next attempt after the backoff (1 min, 5 min, 30 min, 2 h, 6 h, 24 h).
3. `webhook_deliveries_sweep` (every round of `manage.py webhooks_dispatch`) queues every pending
   row that is due: the retries, and deliveries whose task was lost (a worker down, a queue
   emptied). The queue is never the only copy of what is still to be sent.

Delivery is at least once: a worker that dies after the receiver answered and before the row is
written sends that attempt again later. Receivers dedupe by the event id (`Consentry-Event-Id`).
"""

import json
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from consent.audit.services import audit_record, audited_change
from consent.editions import sha256_hex
from consent.jobs import job_enqueue, job_enqueue_on_commit
from consent.models import (
    ConsentAction,
    Site,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookPending,
)
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from consent.webhooks.delivery import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature_header,
    webhook_post,
    webhook_url_validate,
)
from consent.webhooks.events import SUBSCRIBABLE_TYPES, records_for_endpoint

# The wait after each failed attempt (attempt 1 failed: 1 minute, ...); the last repeats.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=24),
)
# A pending row queued by the sweep (or at commit) is not queued again for this long: the task
# is in the queue. Longer than a worker takes to reach it; a lost task is re-queued after it.
QUEUE_LEASE = timedelta(minutes=5)
# A worker posting an attempt holds the row this long (longer than webhook_post can take).
SEND_LEASE = timedelta(minutes=2)

WEBHOOK_FIELDS: tuple[str, ...] = ("url", "description", "is_active", "events", "consent_actions")


def webhook_backoff(attempt: int) -> timedelta:
    """Delay before attempt `attempt + 1`."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]


def _editor_require(site: Site, by: AbstractUser | None) -> None:
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only the site's owners and DPOs can change its webhooks."),
    )


def _events_clean(events: Iterable[str]) -> list[str]:
    events = list(dict.fromkeys(events))
    unknown = [name for name in events if name not in SUBSCRIBABLE_TYPES]
    if unknown:
        raise ValidationError({"events": gettext("Unknown event types: %s.") % ", ".join(unknown)})
    if not events:
        raise ValidationError({"events": gettext("Choose at least one event.")})
    return sorted(events)


def _actions_clean(actions: Iterable[str]) -> list[str]:
    actions = list(dict.fromkeys(actions))
    unknown = [name for name in actions if name not in ConsentAction.values]
    if unknown:
        raise ValidationError({"consent_actions": gettext("Unknown decisions: %s.") % ", ".join(unknown)})
    return sorted(actions)


@transaction.atomic
def webhook_endpoint_create(
    *,
    site: Site,
    url: str,
    events: Iterable[str],
    consent_actions: Iterable[str] = (),
    description: str = "",
    is_active: bool = True,
    by: AbstractUser | None,
    ip: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register a webhook (owners and DPOs). Returns the endpoint and its signing secret, which is
    shown only now."""
    _editor_require(site, by)
    url = webhook_url_validate(url)
    secret = "whsec_" + secrets.token_hex(24)
    endpoint = WebhookEndpoint(
        site=site,
        url=url,
        description=description,
        secret=secret,
        is_active=is_active,
        events=_events_clean(events),
        consent_actions=_actions_clean(consent_actions),
    )
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        action="webhook.create",
        target=url,
        site=site,
        actor=by,
        actor_ip=ip,
        data={
            "key": endpoint.key,
            "description": description,
            "is_active": is_active,
            "events": endpoint.events,
            "consent_actions": endpoint.consent_actions,
        },
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> WebhookEndpoint:
    """Change a webhook's URL, description, events, consent actions or whether it is active."""
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("site").get(pk=endpoint.pk)
    _editor_require(endpoint.site, by)
    if "url" in fields:
        fields["url"] = webhook_url_validate(str(fields["url"]))
    if "events" in fields:
        fields["events"] = _events_clean(fields["events"])
    if "consent_actions" in fields:
        fields["consent_actions"] = _actions_clean(fields["consent_actions"])
    audited_change(
        obj=endpoint,
        fields=fields,
        allowed=WEBHOOK_FIELDS,
        site=endpoint.site,
        by=by,
        ip=ip,
        action="webhook.change",
        target=lambda row: row.url,
        data={"key": endpoint.key},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(
    *, endpoint: WebhookEndpoint, by: AbstractUser | None, ip: str | None = None
) -> None:
    """Stop sending to a webhook; its delivery log stays, with the URL (owners and DPOs)."""
    _editor_require(endpoint.site, by)
    audit_record(
        action="webhook.delete",
        target=endpoint.url,
        site=endpoint.site,
        actor=by,
        actor_ip=ip,
        data={"key": endpoint.key},
    )
    endpoint.delete()


# --- events --------------------------------------------------------------------------------


def event_data_for(event: WebhookEvent, endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The `data` an endpoint receives for `event` (consent.recorded: only the actions it wants)."""
    if event.type == WebhookEventType.CONSENT_RECORDED:
        return records_for_endpoint(event.payload, endpoint.consent_actions)
    return event.payload


def event_targets(event: WebhookEvent, endpoints: Iterable[WebhookEndpoint]) -> list[WebhookEndpoint]:
    """The endpoints `event` goes to: active, subscribed to its type, and with something to get."""
    if event.type == WebhookEventType.TEST:
        return [endpoint for endpoint in endpoints if endpoint.pk == event.endpoint_id]
    targets = []
    for endpoint in endpoints:
        if not (endpoint.is_active and endpoint.wants(event.type)):
            continue
        if event.type == WebhookEventType.CONSENT_RECORDED and not event_data_for(event, endpoint)["records"]:
            continue
        targets.append(endpoint)
    return targets


def webhook_event_emit(
    *,
    site: Site,
    type: str,
    data: dict[str, Any],
    dedupe_key: str,
    endpoints: Iterable[WebhookEndpoint] | None = None,
    only_for: WebhookEndpoint | None = None,
) -> WebhookEvent | None:
    """Put an event into the site's outbox for every endpoint that wants it; its deliveries are
    queued when the caller's transaction commits.

    Nothing is written when no endpoint wants it, or when an event with this `dedupe_key` was
    emitted before (a publication or a record is announced once). `endpoints`: the site's
    endpoints if the caller already read them (the dispatcher); default: read them here.
    """
    if endpoints is None:
        endpoints = list(WebhookEndpoint.objects.filter(site=site, is_active=True))
    event = WebhookEvent(site=site, type=type, payload=data, dedupe_key=dedupe_key, endpoint=only_for)
    targets = event_targets(event, endpoints)
    if not targets:
        return None
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        return None  # announced already
    now = timezone.now()
    pending = WebhookPending.objects.bulk_create(
        [
            WebhookPending(event=event, endpoint=endpoint, due_at=now, queued_until=now + QUEUE_LEASE)
            for endpoint in targets
        ]
    )
    for row in pending:
        job_enqueue_on_commit("consent.webhook_deliver", row.pk, 1)
    return event


@transaction.atomic
def webhook_test_send(
    *, endpoint: WebhookEndpoint, by: AbstractUser | None, ip: str | None = None
) -> WebhookEvent:
    """Send a `test` event to one endpoint now (owners and DPOs); it is logged like any other."""
    _editor_require(endpoint.site, by)
    if not endpoint.is_active:
        raise ValidationError(gettext("This endpoint is paused: activate it first."))
    event = webhook_event_emit(
        site=endpoint.site,
        type=WebhookEventType.TEST,
        data={"endpoint": endpoint.key, "message": "This is a test event from Consentry."},
        dedupe_key=f"test:{secrets.token_urlsafe(12)}",
        endpoints=[endpoint],
        only_for=endpoint,
    )
    assert event is not None  # noqa: S101  (a test event always has its endpoint as its target)
    audit_record(
        action="webhook.test",
        target=endpoint.url,
        site=endpoint.site,
        actor=by,
        actor_ip=ip,
        data={"key": endpoint.key, "event": event.key},
    )
    return event


@transaction.atomic
def webhook_redeliver(
    *, event: WebhookEvent, endpoint: WebhookEndpoint, by: AbstractUser | None, ip: str | None = None
) -> WebhookPending:
    """Send `event` to `endpoint` once more, now, whatever happened before (owners and DPOs): an
    attempt logged as made by hand, retried as usual if it fails (up to WEBHOOK_MAX_ATTEMPTS)."""
    _editor_require(endpoint.site, by)
    if event.site_id != endpoint.site_id:
        raise ValidationError(gettext("This event belongs to another site."))
    if not endpoint.is_active:
        raise ValidationError(gettext("This endpoint is paused: activate it first."))
    if event.payload is None:
        raise ValidationError(gettext("This event is too old: its data is no longer kept."))
    # The endpoint locked first: two redeliveries at once (a double click, a retried API call)
    # take turns, so the second finds the first's pending row instead of creating a second one.
    WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    last = WebhookDelivery.objects.filter(event=event, endpoint=endpoint).order_by("-attempt").first()
    now = timezone.now()
    pending = WebhookPending.objects.select_for_update().filter(event=event, endpoint=endpoint).first()
    if pending is not None and pending.sending_until is not None and pending.sending_until > now:
        # A worker is posting this attempt right now; its answer decides what happens next.
        raise ValidationError(
            gettext("This event is being sent to this endpoint right now; look at the log in a moment.")
        )
    if pending is None:
        pending = WebhookPending.objects.create(
            event=event,
            endpoint=endpoint,
            attempt=(last.attempt if last else 0) + 1,
            due_at=now,
            is_manual=True,
            queued_until=now + QUEUE_LEASE,
        )
    else:
        pending.due_at, pending.is_manual, pending.queued_until = now, True, now + QUEUE_LEASE
        pending.save(update_fields=["due_at", "is_manual", "queued_until"])
    audit_record(
        action="webhook.redeliver",
        target=endpoint.url,
        site=endpoint.site,
        actor=by,
        actor_ip=ip,
        data={"key": endpoint.key, "event": event.key, "attempt": pending.attempt},
    )
    job_enqueue_on_commit("consent.webhook_deliver", pending.pk, pending.attempt)
    return pending


# --- delivery ------------------------------------------------------------------------------


def event_body(event: WebhookEvent, endpoint: WebhookEndpoint) -> bytes:
    """The exact bytes POSTed (and signed): the same for every attempt of one event to one endpoint."""
    body = {
        "id": event.key,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "site": event.site.key,
        "data": event_data_for(event, endpoint),
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _claim(pending_id: int, attempt: int, now: datetime) -> bool:
    """Take the row for this attempt, unless it moved on or another worker is posting it."""
    # One conditional UPDATE: of two workers given the same task, one wins it.
    claimed = (
        WebhookPending.objects.filter(pk=pending_id, attempt=attempt)
        .filter(Q(sending_until__isnull=True) | Q(sending_until__lte=now))
        .update(sending_until=now + SEND_LEASE)
    )
    return bool(claimed)


def webhook_delivery_attempt(*, pending_id: int, attempt: int) -> WebhookDelivery | None:
    """POST one attempt of a pending delivery and log it; None if there was nothing to do (the
    event arrived already, the attempt was made by another worker, the endpoint is paused)."""
    now = timezone.now()
    pending = WebhookPending.objects.select_related("event__site", "endpoint").filter(pk=pending_id).first()
    if pending is None or pending.attempt != attempt or not pending.endpoint.is_active:
        return None
    if not _claim(pending_id, attempt, now):
        return None
    event, endpoint = pending.event, pending.endpoint
    body = event_body(event, endpoint)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Consentry-Webhooks/2",
        EVENT_ID_HEADER: event.key,
        EVENT_TYPE_HEADER: event.type,
        SIGNATURE_HEADER: signature_header(secret=endpoint.secret, timestamp=int(time.time()), body=body),
    }
    result = webhook_post(url=endpoint.url, body=body, headers=headers)
    # A redelivery by hand that fails is retried like any attempt, up to the same last one.
    last_try = attempt >= settings.WEBHOOK_MAX_ATTEMPTS
    if result.ok:
        status = WebhookDeliveryStatus.SENT
    else:
        status = WebhookDeliveryStatus.GAVE_UP if last_try else WebhookDeliveryStatus.FAILED
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    site_id=event.site_id,
                    event=event,
                    endpoint=endpoint,
                    url=endpoint.url,
                    attempt=attempt,
                    status=status,
                    http_status=result.http_status,
                    error=result.error[:100],
                    is_manual=pending.is_manual,
                    content_sha256=sha256_hex(body),
                )
        except IntegrityError:
            return None  # this attempt was logged by a worker that raced us (both posted: at least once)
        if status == WebhookDeliveryStatus.FAILED:
            WebhookPending.objects.filter(pk=pending_id, attempt=attempt).update(
                attempt=attempt + 1,
                due_at=delivery.created_at + webhook_backoff(attempt),
                is_manual=False,
                queued_until=None,
                sending_until=None,
            )
        else:
            WebhookPending.objects.filter(pk=pending_id, attempt=attempt).delete()
    return delivery


def webhook_deliveries_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue every pending delivery that is due and neither queued nor being sent (the retries, and
    any task the queue lost). Returns how many were queued."""
    now = now or timezone.now()
    free = (Q(queued_until__isnull=True) | Q(queued_until__lte=now)) & (
        Q(sending_until__isnull=True) | Q(sending_until__lte=now)
    )
    due = list(
        WebhookPending.objects.filter(free, due_at__lte=now, endpoint__is_active=True)
        .order_by("due_at")
        .values_list("pk", "attempt")[:limit]
    )
    queued = 0
    for pending_id, attempt in due:
        # Marked queued first, conditionally: a second dispatcher does not queue it too.
        if WebhookPending.objects.filter(free, pk=pending_id, attempt=attempt).update(
            queued_until=now + QUEUE_LEASE
        ):
            job_enqueue("consent.webhook_deliver", pending_id, attempt)
            queued += 1
    return queued


def webhook_events_expire(*, now: datetime | None = None) -> int:
    """Clear the data of events older than WEBHOOK_EVENT_RETENTION_DAYS (they copy ledger records,
    visitor ids included); the rows and their delivery log stay. A delivery still pending then (a
    paused endpoint, one that kept failing) ends with a "gave up" row: the data is gone. Returns
    how many events were cleared."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS)
    expired = WebhookEvent._base_manager.filter(created_at__lt=cutoff, payload__isnull=False)
    return _events_forget(list(expired.values_list("pk", flat=True)), reason="data expired")


# The event types whose data copies ledger records (and so visitor ids).
_RECORD_EVENT_TYPES = (
    WebhookEventType.CONSENT_RECORDED,
    WebhookEventType.CONSENT_WITHDRAWN,
    WebhookEventType.OPTOUT_SIGNAL,
)


def webhook_events_forget_records(
    *, site: Site, visitor_id: str | None = None, receipt_ids: Sequence[str] = ()
) -> int:
    """Clear the data of the site's events that copy a redacted record (by its visitor id or its
    receipt), in the redaction's transaction: an erased visitor id must not wait in the outbox
    for WEBHOOK_EVENT_RETENTION_DAYS, nor be sent again by a redelivery. Returns how many."""
    wanted = set(receipt_ids)
    matching = []
    events = WebhookEvent._base_manager.filter(
        site=site, type__in=_RECORD_EVENT_TYPES, payload__isnull=False
    ).values_list("pk", "payload")
    for pk, payload in events.iterator():
        data = payload if isinstance(payload, dict) else {}
        records = data.get("records") or ([data["record"]] if isinstance(data.get("record"), dict) else [])
        if any(
            (visitor_id is not None and record.get("visitor_id") == visitor_id)
            or record.get("receipt_id") in wanted
            for record in records
            if isinstance(record, dict)
        ):
            matching.append(pk)
    return _events_forget(matching, reason="data erased")


def _events_forget(event_ids: list[int], *, reason: str) -> int:
    if not event_ids:
        return 0
    with transaction.atomic():
        for pending in (
            WebhookPending.objects.select_for_update()
            .filter(event_id__in=event_ids)
            .select_related("event", "endpoint")
        ):
            WebhookDelivery.objects.create(
                site_id=pending.event.site_id,
                event_id=pending.event_id,
                endpoint=pending.endpoint,
                url=pending.endpoint.url,
                attempt=pending.attempt,
                status=WebhookDeliveryStatus.GAVE_UP,
                error=reason,
                is_manual=False,
                content_sha256="",
            )
            pending.delete()
        # The one UPDATE the table's triggers allow besides unlinking an endpoint: payload to NULL.
        return WebhookEvent._base_manager.filter(pk__in=event_ids).update(payload=None)
