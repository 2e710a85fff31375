"""Objections to a new sub-processor (GDPR Art. 28(2)): recorded once, answered by a DPO."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from consent.audit.services import audit_record
from consent.models import Site
from subprocessors.lists.selectors import entries_by_key, subprocessor_version_get
from subprocessors.models import (
    Objection,
    ObjectionAnswer,
    SubprocessorListVersion,
    Subscriber,
)
from subprocessors.notices.messages import answer_email, subscriber_language
from subprocessors.notices.tokens import TokenError, objection_token_read


class AlreadyRecorded(Exception):
    """A replayed objection link: the objection exists and is not recorded twice."""

    def __init__(self, objection: Objection) -> None:
        super().__init__("already recorded")
        self.objection = objection


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
        raise ValidationError({"text": gettext("Write the answer to send.")})
    answer = ObjectionAnswer.objects.create(objection=objection, text=text, answered_by=by)
    audit_record(
        action="subprocessor_objection.answer",
        target=f"objection {objection.pk} to {objection.vendor_name}",
        site=objection.site,
        actor=by,
        actor_ip=ip,
        data={"objection": objection.pk},
    )
    subject, body = answer_email(
        email=objection.email,
        site_name=objection.site.name,
        vendor_name=objection.vendor_name,
        text=text,
        language=subscriber_language(objection.subscriber),
    )
    transaction.on_commit(lambda: EmailMessage(subject=subject, body=body, to=[objection.email]).send())
    return answer
