"""Writes for sub-processors: vendors, publishing list versions, subscribers, webhooks, objections."""

import logging
import secrets
import time
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from consent.editions import canonical_json, edition_publish, sha256_hex
from consent.models import Site
from consent.services import audit_record
from subprocessors import messages
from subprocessors.models import (
    NotificationChannel,
    NotificationLog,
    NotificationStatus,
    Objection,
    ObjectionAnswer,
    SubprocessorListVersion,
    Subscriber,
    SubscriberStatus,
    Vendor,
    WebhookEndpoint,
)
from subprocessors.selectors import (
    entries_by_key,
    subprocessor_list_diff,
    subprocessor_list_latest,
    subprocessor_version_diff,
    subprocessor_version_get,
    subscriber_list_confirmed,
    vendor_list,
    webhook_endpoint_list_active,
)
from subprocessors.tokens import (
    TokenError,
    confirm_token_make,
    confirm_token_read,
    objection_token_read,
    unsubscribe_token_read,
)
from subprocessors.webhooks import SIGNATURE_HEADER, signature_header, webhook_post, webhook_url_validate

logger = logging.getLogger(__name__)

# A second subscribe request for the same address within this time sends no second email,
# so the form cannot be used to flood someone's mailbox.
CONFIRMATION_RESEND_AFTER = timedelta(minutes=10)
WEBHOOK_BACKOFF_BASE_SECONDS = 30


class AlreadyRecorded(Exception):
    """A replayed objection link: the objection exists and is not recorded twice."""

    def __init__(self, objection: Objection) -> None:
        super().__init__("already recorded")
        self.objection = objection


# --- Vendors -----------------------------------------------------------------------------


@transaction.atomic
def vendor_create(
    *,
    site: Site,
    key: str,
    name: str,
    legal_entity: str,
    address: str,
    contact: str,
    purpose: str,
    locations: list[str],
    category: str = "other",
    data_categories: list[str] | None = None,
    transfer_mechanisms: list[str] | None = None,
    transfer_assessment_ref: str = "",
    dpf_checked_on: date | None = None,
    ru_cross_border_notified_on: date | None = None,
    website: str = "",
    privacy_policy_url: str = "",
    dpa_url: str = "",
    is_listed: bool = True,
) -> Vendor:
    """Add a vendor to the site's working list; refused without the identity fields Art. 28 needs."""
    vendor = Vendor(
        site=site,
        key=key,
        name=name,
        legal_entity=legal_entity,
        address=address,
        contact=contact,
        purpose=purpose,
        locations=list(locations),
        category=category,
        data_categories=list(data_categories or []),
        transfer_mechanisms=list(transfer_mechanisms or []),
        transfer_assessment_ref=transfer_assessment_ref,
        dpf_checked_on=dpf_checked_on,
        ru_cross_border_notified_on=ru_cross_border_notified_on,
        website=website,
        privacy_policy_url=privacy_policy_url,
        dpa_url=dpa_url,
        is_listed=is_listed,
    )
    vendor.full_clean()
    vendor.save()
    return vendor


@transaction.atomic
def vendor_update(*, vendor: Vendor, **fields: Any) -> Vendor:
    for name, value in fields.items():
        if name in ("site", "site_id", "key", "pk", "id"):
            raise ValidationError({name: "The site and key of a vendor never change."})
        setattr(vendor, name, value)
    vendor.full_clean()
    vendor.save()
    return vendor


# --- Publishing ----------------------------------------------------------------------------


def subprocessor_list_earliest_effective_at(*, site: Site, published_at: datetime) -> datetime:
    return published_at + timedelta(days=site.notice_period_days)


@transaction.atomic
def subprocessor_list_publish(
    *,
    site: Site,
    effective_at: datetime,
    change_note: str,
    by: AbstractUser | None,
    ip: str | None,
    now: datetime | None = None,
) -> SubprocessorListVersion:
    """Freeze the working list as the next version and tell every confirmed subscriber.

    Additions and replacements take effect no earlier than the site's notice period after
    publication; removals and cosmetic edits may take effect at once. The first version
    needs no notice: it records the list the site already had, and nobody was told of an
    earlier one to compare with.
    """
    published_at = (now or timezone.now()).replace(microsecond=0)
    if timezone.is_naive(effective_at):
        raise ValidationError({"effective_at": "Give the date with its time zone."})
    # Lock the site row: two DPOs publishing at once must not take the same number.
    site = Site.objects.select_for_update().get(pk=site.pk)

    errors = []
    for vendor in vendor_list(site=site).filter(is_listed=True):
        try:
            vendor.full_clean()
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            errors.append(f"{vendor.name} ({vendor.key}) is incomplete: {problems}")
    if errors:
        raise ValidationError(errors)
    entries = [vendor.as_entry() for vendor in vendor_list(site=site).filter(is_listed=True)]

    latest = subprocessor_list_latest(site=site)
    if latest is None and not entries:
        raise ValidationError("The working list is empty: add sub-processors before publishing.")
    diff = subprocessor_list_diff(old_entries=latest.entries if latest else [], new_entries=entries)
    content_sha256 = sha256_hex(canonical_json(entries))
    if latest is not None and diff.needs_notice:
        earliest = subprocessor_list_earliest_effective_at(site=site, published_at=published_at)
        if effective_at < earliest:
            raise ValidationError(
                {
                    "effective_at": (
                        f"This version {', '.join(diff.notice_reasons)}: "
                        f"with {site.notice_period_days} days' "
                        f"notice it can take effect on {earliest:%Y-%m-%d %H:%M} UTC at the earliest."
                    )
                }
            )
    version = edition_publish(
        editions=SubprocessorListVersion.objects.filter(site=site),
        content_sha256=content_sha256,
        published_at=published_at,
        effective_at=effective_at,
        published_by=by,
        change_note=change_note,
        site=site,
        entries=entries,
    )
    audit_record(
        action="subprocessor_list.publish",
        target=f"sub-processor list v{version.number}",
        site=site,
        actor=by,
        actor_ip=ip,
        data={
            "number": version.number,
            "content_sha256": content_sha256,
            "effective_at": effective_at.isoformat(),
            "summary": diff.summary(),
        },
    )
    # After commit: a worker must never pick up a version that was rolled back.
    from subprocessors.tasks import subprocessor_version_notify_task

    transaction.on_commit(lambda: subprocessor_version_notify_task.enqueue(version.pk))
    return version


def subprocessor_version_notify(*, version: SubprocessorListVersion) -> None:
    """Queue one email per confirmed subscriber and one delivery per active webhook.

    Only those that existed when the version was published: the worker may run this much
    later (or for a history recorded with past dates), and someone who subscribes after
    a publication reads it on the page rather than getting an old notice. published_at is
    truncated to the second, hence the second of slack.
    """
    from subprocessors.tasks import email_notification_send_task, webhook_delivery_task

    cutoff = version.published_at + timedelta(seconds=1)
    subscribers = subscriber_list_confirmed(site=version.site).filter(confirmed_at__lt=cutoff)
    for subscriber_id in subscribers.values_list("pk", flat=True):
        email_notification_send_task.enqueue(version.pk, subscriber_id)
    endpoints = webhook_endpoint_list_active(site=version.site).filter(created_at__lt=cutoff)
    for endpoint_id in endpoints.values_list("pk", flat=True):
        webhook_delivery_task.enqueue(version.pk, endpoint_id, 1)


def notification_email_send(*, version: SubprocessorListVersion, subscriber: Subscriber) -> NotificationLog:
    """Send the notice of `version` to one subscriber and log it (sent or failed)."""
    if NotificationLog.objects.filter(
        version=version,
        subscriber=subscriber,
        channel=NotificationChannel.EMAIL,
        status=NotificationStatus.SENT,
    ).exists():
        # A task retried by its worker must not email twice.
        return NotificationLog.objects.filter(version=version, subscriber=subscriber).latest("pk")
    diff = subprocessor_version_diff(version=version)
    subject, body, headers = messages.version_email(subscriber=subscriber, version=version, diff=diff)
    status, error = NotificationStatus.SENT, ""
    try:
        EmailMessage(subject=subject, body=body, to=[subscriber.email], headers=headers).send()
    except Exception as exc:  # noqa: BLE001  (any transport failure is logged as evidence, not raised)
        status, error = NotificationStatus.GAVE_UP, str(exc)[:500]
        logger.warning("Sub-processor notice to subscriber %s failed: %s", subscriber.pk, exc)
    return NotificationLog.objects.create(
        site_id=version.site_id,
        version=version,
        channel=NotificationChannel.EMAIL,
        recipient=subscriber.email,
        subscriber=subscriber,
        status=status,
        error=error,
        content_sha256=messages.content_hash(subject, body),
    )


def webhook_backoff(attempt: int) -> timedelta:
    """Delay before attempt `attempt + 1`: 30 s, 2 min, 8 min, 32 min, ..."""
    return timedelta(seconds=WEBHOOK_BACKOFF_BASE_SECONDS * 4 ** (attempt - 1))


def webhook_deliver(
    *, version: SubprocessorListVersion, endpoint: WebhookEndpoint, attempt: int
) -> tuple[NotificationLog, timedelta | None]:
    """POST the signed notice once; log the attempt. Returns the log row and the delay before a retry."""
    payload = messages.version_payload(version=version, diff=subprocessor_version_diff(version=version))
    body = messages.payload_bytes(payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Consentry-Webhooks/1",
        "Consentry-Event": "subprocessor_list.published",
        "Consentry-Delivery": f"{endpoint.key}-v{version.number}-{attempt}",
        SIGNATURE_HEADER: signature_header(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    result = webhook_post(url=endpoint.url, body=body, headers=headers)
    retry_in: timedelta | None = None
    if result.ok:
        status = NotificationStatus.SENT
    elif attempt < settings.WEBHOOK_MAX_ATTEMPTS:
        status = NotificationStatus.FAILED
        retry_in = webhook_backoff(attempt)
    else:
        status = NotificationStatus.GAVE_UP
    log = NotificationLog.objects.create(
        site_id=version.site_id,
        version=version,
        channel=NotificationChannel.WEBHOOK,
        recipient=endpoint.url,
        endpoint=endpoint,
        attempt=attempt,
        status=status,
        http_status=result.http_status,
        error=result.error,
        content_sha256=sha256_hex(body),
    )
    return log, retry_in


# --- Subscribers ----------------------------------------------------------------------------


def _email_normalise(email: str) -> str:
    email = (email or "").strip()
    if len(email) > 254:
        raise ValidationError({"email": "That email address is too long."})
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": "Enter a valid email address, such as name@example.com."}) from error
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


@transaction.atomic
def subscriber_subscribe(*, site: Site, email: str, now: datetime | None = None) -> Subscriber:
    """Start (or restart) a double opt-in: a confirmation email goes out unless one just did.

    The answer is the same whatever the address's state, so the form does not reveal who
    is subscribed.
    """
    now = now or timezone.now()
    email = _email_normalise(email)
    subscriber = Subscriber.objects.select_for_update().filter(site=site, email__iexact=email).first()
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(site=site, email=email)
        except IntegrityError:
            subscriber = Subscriber.objects.get(site=site, email__iexact=email)
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return subscriber
    if subscriber.confirmation_sent_at and now - subscriber.confirmation_sent_at < CONFIRMATION_RESEND_AFTER:
        return subscriber
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.PENDING
    subscriber.confirmation_sent_at = now
    subscriber.save(update_fields=["status", "confirmation_sent_at"])
    from subprocessors.tasks import confirmation_email_send_task

    subscriber_pk = subscriber.pk
    transaction.on_commit(lambda: confirmation_email_send_task.enqueue(subscriber_pk))
    return subscriber


def confirmation_email_send(*, subscriber: Subscriber) -> None:
    token = confirm_token_make(subscriber_key=subscriber.key)
    url = messages.absolute(reverse("subprocessors:confirm", args=[subscriber.site.key, token]))
    subject, body = messages.confirmation_email(subscriber=subscriber, confirm_url=url)
    EmailMessage(subject=subject, body=body, to=[subscriber.email]).send()


def _subscriber_from(site: Site, key: str, message: str) -> Subscriber:
    subscriber = Subscriber.objects.select_for_update().filter(site=site, key=key).first()
    if subscriber is None:
        raise TokenError(message)
    return subscriber


@transaction.atomic
def subscriber_confirm(*, site: Site, token: str, now: datetime | None = None) -> tuple[Subscriber, bool]:
    """Confirm a subscription. Returns (subscriber, changed); confirming twice changes nothing."""
    key = confirm_token_read(token)
    subscriber = _subscriber_from(site, key, "This confirmation link is not valid for this site.")
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return subscriber, False
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        # An old confirmation link must not undo a later unsubscribe.
        raise TokenError("You unsubscribed after this link was sent. Subscribe again to get a new link.")
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = now or timezone.now()
    subscriber.save(update_fields=["status", "confirmed_at"])
    return subscriber, True


@transaction.atomic
def subscriber_unsubscribe(*, site: Site, token: str, now: datetime | None = None) -> tuple[Subscriber, bool]:
    """One-click unsubscribe (RFC 8058). Returns (subscriber, changed); repeating it is harmless."""
    key = unsubscribe_token_read(token)
    subscriber = _subscriber_from(site, key, "This unsubscribe link is not valid for this site.")
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return subscriber, False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = now or timezone.now()
    subscriber.save(update_fields=["status", "unsubscribed_at"])
    return subscriber, True


# --- Objections ------------------------------------------------------------------------------


def objection_target(*, site: Site, token: str) -> tuple[Subscriber, SubprocessorListVersion, dict[str, Any]]:
    """Read an objection link: who objects, to which version, to which added vendor."""
    claim = objection_token_read(token)
    subscriber = Subscriber.objects.filter(site=site, key=claim.subscriber_key).first()
    version = subprocessor_version_get(site=site, number=claim.version_number)
    if subscriber is None or version is None:
        raise TokenError("This objection link is not valid for this site.")
    entry = entries_by_key(version.entries).get(claim.vendor_key)
    if entry is None:
        raise TokenError("This objection link is not valid for this site.")
    return subscriber, version, dict(entry)


@transaction.atomic
def objection_record(*, site: Site, token: str, reason: str, now: datetime | None = None) -> Objection:
    """Record an objection to an upcoming addition, before it takes effect (Art. 28(2))."""
    now = now or timezone.now()
    subscriber, version, entry = objection_target(site=site, token=token)
    existing = Objection.objects.filter(
        version=version, vendor_key=entry["key"], subscriber=subscriber
    ).first()
    if existing is not None:
        raise AlreadyRecorded(existing)
    if now >= version.effective_at:
        raise ValidationError(
            f"{entry['name']} took effect on {version.effective_at:%Y-%m-%d %H:%M} UTC; objections to this "
            f"addition closed then. Write to the site's privacy contact instead."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Tell us why you object (a sentence is enough)."})
    if len(reason) > 5000:
        raise ValidationError({"reason": "Please keep the reason under 5000 characters."})
    try:
        with transaction.atomic():
            objection = Objection.objects.create(
                site=site,
                version=version,
                vendor_key=entry["key"],
                vendor_name=entry["name"],
                subscriber=subscriber,
                email=subscriber.email,
                reason=reason,
            )
    except IntegrityError as error:
        # The same link submitted twice at once: the other request recorded it.
        raise AlreadyRecorded(
            Objection.objects.get(version=version, vendor_key=entry["key"], subscriber=subscriber)
        ) from error
    audit_record(
        action="subprocessor_objection.record",
        target=f"objection to {entry['name']} (v{version.number})",
        site=site,
        data={"version": version.number, "vendor": entry["key"]},
    )
    return objection


@transaction.atomic
def objection_answer(
    *, objection: Objection, text: str, by: AbstractUser, ip: str | None = None
) -> ObjectionAnswer:
    """Record the DPO's answer and email it to the subscriber who objected."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the answer to send."})
    answer = ObjectionAnswer.objects.create(objection=objection, text=text, answered_by=by)
    audit_record(
        action="subprocessor_objection.answer",
        target=f"objection {objection.pk} to {objection.vendor_name}",
        site=objection.site,
        actor=by,
        actor_ip=ip,
        data={"objection": objection.pk},
    )
    subject, body = messages.answer_email(
        email=objection.email, site_name=objection.site.name, vendor_name=objection.vendor_name, text=text
    )
    transaction.on_commit(lambda: EmailMessage(subject=subject, body=body, to=[objection.email]).send())
    return answer


# --- Webhooks ---------------------------------------------------------------------------------


@transaction.atomic
def webhook_endpoint_create(
    *, site: Site, url: str, description: str = "", by: AbstractUser | None = None, ip: str | None = None
) -> tuple[WebhookEndpoint, str]:
    """Register a webhook. Returns the endpoint and its signing secret, which is shown only now."""
    url = webhook_url_validate(url)
    secret = "whsec_" + secrets.token_hex(24)
    endpoint = WebhookEndpoint(site=site, url=url, description=description, secret=secret)
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        action="subprocessor_webhook.create",
        target=url,
        site=site,
        actor=by,
        actor_ip=ip,
        data={"key": endpoint.key},
    )
    return endpoint, secret
