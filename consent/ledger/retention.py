"""Erasure and retention: redact a visitor's personal fields (proofs stay valid), drop old records."""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractUser
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from consent.audit.services import audit_record
from consent.editions import sha256_hex
from consent.immutability import purge_allowed
from consent.ledger.partitions import month_after, partition_drop, partitions_list
from consent.models import ConsentRecord, IdempotencyClaim, Site


def consent_visitor_redact(
    *, site: Site, visitor_id: str, by: AbstractUser | None, ip: str | None = None, reason: str = ""
) -> int:
    """Erase one visitor's personal data from the site's ledger; return how many records changed.

    The values and their salt are cleared; the salted commitment stays, so every leaf,
    checkpoint and proof still verifies. This is the only change the database allows.
    """
    with transaction.atomic():
        # A plain QuerySet on purpose: ImmutableQuerySet refuses update(), and this is the one
        # update the ledger's triggers let through (clearing erasable columns to NULL).
        count = (
            QuerySet(ConsentRecord)
            .filter(site=site, visitor_id=visitor_id)
            .update(visitor_id=None, ip_address=None, user_agent=None, personal_salt=None)
        )
        audit_record(
            site=site,
            actor=by,
            actor_ip=ip,
            action="consent.redact",
            target=f"{count} consent records",
            # The audit log must not keep what was erased: only a hash that can confirm a request.
            data={"visitor_sha256": sha256_hex(visitor_id.encode()), "records": count, "reason": reason},
        )
    return count


def consent_retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Delete consent records past each site's retention, and drop whole months on PostgreSQL.

    A month older than every site's retention is dropped as a partition (instant, no
    row deletes); rows of sites with a shorter retention are deleted inside purge_allowed().
    Merkle nodes stay: they hold no personal data and keep later proofs verifiable.
    Every step leaves an audit entry. Returns records deleted per site key.
    """
    now = now or timezone.now()
    deleted: dict[str, int] = {}
    longest = Site.objects.aggregate(days=Max("consent_retention_days"))["days"]
    if longest is not None and connection.vendor == "postgresql":
        horizon = (now - timedelta(days=longest)).date()
        for name, month in partitions_list():
            if month_after(month) <= horizon:
                with transaction.atomic():
                    partition_drop(name)
                    audit_record(
                        action="consent.retention.partition_drop", target=name, data={"month": str(month)}
                    )
    for site in Site.objects.all():
        cutoff = now - timedelta(days=site.consent_retention_days)
        with transaction.atomic(), purge_allowed(connection, ConsentRecord):
            count, _ = QuerySet(ConsentRecord).filter(site=site, created_at__lt=cutoff).delete()
            # Their keys go with them: a key is refused as a replay only while its record exists.
            IdempotencyClaim.objects.filter(site=site, created_at__lt=cutoff).delete()
            if count:
                audit_record(
                    site=site,
                    action="consent.retention",
                    target=f"{count} consent records before {cutoff:%Y-%m-%d}",
                    data={
                        "records": count,
                        "cutoff": cutoff.isoformat(),
                        "retention_days": site.consent_retention_days,
                    },
                )
        deleted[site.key] = count
    return deleted
