"""Webhooks: the endpoints a site registers, the outbox of events and the log of every attempt.

One mechanism for every event of every app (consent.webhooks): an event is written once to the
outbox (`WebhookEvent`, append-only), with one `WebhookPending` row per endpoint it must reach;
each attempt to POST it is a `WebhookDelivery` (append-only); the pending row goes when the event
arrived or the endpoint gave up.
"""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.models.immutable import ImmutableModel
from consent.models.sites import Site


def endpoint_key_new() -> str:
    return secrets.token_urlsafe(16)


def event_key_new() -> str:
    return "evt_" + secrets.token_urlsafe(18)


class WebhookEventType(models.TextChoices):
    """What happened. Values are sent in every payload and stored in the outbox: API."""

    CONSENT_RECORDED = "consent.recorded", _("Consents recorded (batched)")
    CONSENT_WITHDRAWN = "consent.withdrawn", _("Consent withdrawn")
    OPTOUT_SIGNAL = "optout.signal", _("Opt-out signal (GPC, Do Not Sell or Share)")
    POLICY_PUBLISHED = "policy.published", _("Policy version published")
    POLICY_EFFECTIVE = "policy.effective", _("Policy version took effect")
    BANNER_PUBLISHED = "banner.published", _("Banner version published")
    SUBPROCESSORS_PUBLISHED = "subprocessors.published", _("Sub-processor list published")
    REQUEST_CREATED = "request.created", _("Data-subject request filed")
    REQUEST_DUE_SOON = "request.due_soon", _("Data-subject request due soon")
    REQUEST_OVERDUE = "request.overdue", _("Data-subject request overdue")
    REQUEST_CLOSED = "request.closed", _("Data-subject request closed")
    REQUEST_ERASURE_REQUESTED = "request.erasure_requested", _("Erasure asked of the site's backend")
    TEST = "test", _("Test event")


# The types read from the consent ledger by the dispatcher (consent.webhooks.dispatch).
CONSENT_EVENT_TYPES = (
    WebhookEventType.CONSENT_RECORDED,
    WebhookEventType.CONSENT_WITHDRAWN,
    WebhookEventType.OPTOUT_SIGNAL,
)


class WebhookEndpoint(models.Model):
    """A URL of the site's that receives a signed POST for each event it subscribes to."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("site"))
    key = models.CharField(
        max_length=32, unique=True, default=endpoint_key_new, editable=False, verbose_name=_("key")
    )
    url = models.URLField(max_length=500, verbose_name=_("URL"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))
    # Kept in clear: an HMAC key must be known to sign. Shown once to the owner on creation.
    secret = models.CharField(max_length=64, editable=False, verbose_name=_("secret"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    events = models.JSONField(
        default=list, help_text=_("The event types it receives."), verbose_name=_("events")
    )
    consent_actions = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Which decisions its consent.recorded events carry; none ticked: all."),
        verbose_name=_("consent actions"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["site", "url"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


class WebhookEvent(ImmutableModel):
    """One event in a site's outbox, with the payload every receiver gets. Append-only (but for
    the payload's expiry: `payload` null means "expired").

    `dedupe_key` is unique per site: a publication, a ledger record or a policy taking effect is
    announced once however often a detector looks at it.
    """

    # A test event names the one endpoint it is for; deleting that endpoint clears the link. The
    # data (visitor ids among it) is cleared once the event is settled and older than
    # WEBHOOK_EVENT_RETENTION_DAYS; the row stays, with its deliveries.
    mutable_columns = ("endpoint_id", "payload")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    key = models.CharField(
        max_length=40, unique=True, default=event_key_new, editable=False, verbose_name=_("event id")
    )
    type = models.CharField(max_length=32, choices=WebhookEventType.choices, verbose_name=_("type"))
    payload = models.JSONField(null=True, verbose_name=_("data"))
    dedupe_key = models.CharField(max_length=200, verbose_name=_("dedupe key"))
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "dedupe_key"], name="webhook_event_unique_dedupe")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.key}"


class WebhookDeliveryStatus(models.TextChoices):
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Failed, no more retries")


class WebhookDelivery(ImmutableModel):
    """One attempt to POST one event to one endpoint, with its outcome. Append-only."""

    # Deleting an endpoint keeps its log (with the URL) but drops the link.
    mutable_columns = ("endpoint_id",)

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("event")
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.SET_NULL,
        null=True,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    url = models.CharField(max_length=500, verbose_name=_("URL"))
    attempt = models.PositiveSmallIntegerField(verbose_name=_("attempt"))
    status = models.CharField(max_length=16, choices=WebhookDeliveryStatus.choices, verbose_name=_("status"))
    http_status = models.PositiveSmallIntegerField(null=True, verbose_name=_("HTTP status"))
    error = models.CharField(max_length=100, blank=True, verbose_name=_("error"))
    is_manual = models.BooleanField(default=False, verbose_name=_("redelivered by hand"))
    content_sha256 = models.CharField(max_length=64, verbose_name=_("content SHA-256"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at"], name="webhook_delivery_site_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint", "attempt"], name="webhook_delivery_unique_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.url} #{self.attempt}"


class WebhookPending(models.Model):
    """An event still to reach an endpoint: the next attempt and when it is due.

    Written with the event (same transaction), so a delivery survives a worker that is down or a
    lost queue: the dispatcher's sweep queues every due row. Gone once the event arrived or the
    endpoint gave up.
    """

    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveSmallIntegerField(default=1)
    due_at = models.DateTimeField()
    is_manual = models.BooleanField(default=False)
    # Queued (at commit or by a sweep) until then: no sweep queues it a second time before.
    queued_until = models.DateTimeField(null=True)
    # A worker is posting this attempt until then: no second worker posts it too.
    sending_until = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="webhook_pending_due")]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_pending_unique")]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} #{self.attempt}"


class WebhookCursor(models.Model):
    """How far the dispatcher has read a site's ledger for consent events: (created_at, id)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="+", primary_key=True)
    record_created_at = models.DateTimeField()
    record_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.site_id} at ({self.record_created_at.isoformat()}, {self.record_id})"
