"""Telling people about a published list: subscriptions with double opt-in and emails.

Webhooks are the consent app's (consent.webhooks): publishing emits `subprocessors.published`.
"""

import logging
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from consent.audit.services import audit_record
from consent.jobs import job_enqueue, job_enqueue_on_commit
from consent.models import Site
from consent.tenancy.selectors import OWNER_ROLES
from consent.tenancy.services import site_actor_require
from subprocessors.lists.selectors import subprocessor_version_diff
from subprocessors.models import (
    NotificationChannel,
    NotificationLog,
    NotificationStatus,
    SubprocessorListVersion,
    Subscriber,
    SubscriberStatus,
)
from subprocessors.notices.messages import (
    absolute,
    confirmation_email,
    content_hash,
    version_email,
)
from subprocessors.notices.selectors import subscriber_list_confirmed
from subprocessors.notices.tokens import (
    TokenError,
    confirm_token_make,
    confirm_token_read,
    unsubscribe_token_read,
)

logger = logging.getLogger(__name__)


# A second subscribe request for the same address within this time sends no second email,
# so the form cannot be used to flood someone's mailbox.
CONFIRMATION_RESEND_AFTER = timedelta(minutes=10)


def subprocessor_version_notify(*, version: SubprocessorListVersion) -> None:
    """Queue one email per confirmed subscriber (webhooks: the publication's
    `subprocessors.published` event, consent.webhooks).

    Only those that existed when the version was published: the worker may run this much
    later (or for a history recorded with past dates), and someone who subscribes after
    a publication reads it on the page rather than getting an old notice. published_at is
    truncated to the second, hence the second of slack.
    """
    cutoff = version.published_at + timedelta(seconds=1)
    subscribers = subscriber_list_confirmed(site=version.site).filter(confirmed_at__lt=cutoff)
    for subscriber_id in subscribers.values_list("pk", flat=True):
        job_enqueue("subprocessors.notification_email_send", version.pk, subscriber_id)


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
    subject, body, headers = version_email(subscriber=subscriber, version=version, diff=diff)
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
        content_sha256=content_hash(subject, body),
    )


def _email_normalise(email: str) -> str:
    email = (email or "").strip()
    if len(email) > 254:
        raise ValidationError({"email": gettext("That email address is too long.")})
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError(
            {"email": gettext("Enter a valid email address, such as name@example.com.")}
        ) from error
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


@transaction.atomic
def subscriber_subscribe(
    *, site: Site, email: str, language: str = "", now: datetime | None = None
) -> Subscriber:
    """Start (or restart) a double opt-in: a confirmation email goes out unless one just did.

    The answer is the same whatever the address's state, so the form does not reveal who
    is subscribed. `language` (one of the site's, else its default) is the one its emails use.
    """
    now = now or timezone.now()
    email = _email_normalise(email)
    if language not in site.enabled_languages:
        language = site.default_language
    subscriber = Subscriber.objects.select_for_update().filter(site=site, email__iexact=email).first()
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(site=site, email=email, language=language)
        except IntegrityError:
            subscriber = Subscriber.objects.get(site=site, email__iexact=email)
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return subscriber
    if subscriber.confirmation_sent_at and now - subscriber.confirmation_sent_at < CONFIRMATION_RESEND_AFTER:
        return subscriber
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.PENDING
    subscriber.confirmation_sent_at = now
    subscriber.language = language  # the latest request's page says which language they read
    subscriber.save(update_fields=["status", "confirmation_sent_at", "language"])
    job_enqueue_on_commit("subprocessors.confirmation_email_send", subscriber.pk)
    return subscriber


def confirmation_email_send(*, subscriber: Subscriber) -> None:
    token = confirm_token_make(subscriber_key=subscriber.key)
    url = absolute(reverse("subprocessors:confirm", args=[subscriber.site.key, token]))
    subject, body = confirmation_email(subscriber=subscriber, confirm_url=url)
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


@transaction.atomic
def subscriber_delete(*, subscriber: Subscriber, by: AbstractUser | None, ip: str | None = None) -> None:
    """Erase a subscriber (owners); the notification log keeps its rows without the link to them.

    A subscriber who objected stays: the objection is evidence that names them.
    """
    site_actor_require(
        site=subscriber.site,
        by=by,
        roles=OWNER_ROLES,
        refusal=gettext("Only the site's owners can delete subscribers."),
    )
    audit_record(
        action="subprocessor_subscriber.delete",
        target=subscriber.email,
        site=subscriber.site,
        actor=by,
        actor_ip=ip,
        data={"key": subscriber.key, "status": subscriber.status},
    )
    try:
        with transaction.atomic():
            subscriber.delete()
    except ProtectedError as error:
        raise ValidationError(
            gettext(
                "%(email)s objected to a sub-processor: the objection is kept as evidence, and so are they."
            )
            % {"email": subscriber.email}
        ) from error
