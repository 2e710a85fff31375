"""Erasure and retention: redact a visitor's personal fields (proofs stay valid), drop old records.

On PostgreSQL both run through SECURITY DEFINER functions owned by the migrations' role, the
only way the application's role can change a ledger row (consent.dbroles). Each function
checks its own arguments and writes its own audit row, so a direct call can neither reach
further nor go unrecorded:
- consentry_ledger_redact(site, visitor id | receipt ids, actor, ip, reason) sets the erasable
  columns (ConsentRecord.mutable_columns) to NULL, nothing else, in one site;
- consentry_ledger_retention(site) deletes the site's records (and their idempotency claims)
  of whole months wholly past the site's retention, by the database's clock, never shorter
  than the model's minimum (RETENTION_MIN_DAYS) whatever the site row says;
- consentry_ledger_month_drop(month) detaches and drops one monthly partition once the month
  is wholly past every site's retention.
SQLite has no functions or roles: the same rules run here in Python, inside purge_allowed().
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.models import AbstractUser
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from consent.audit.services import audit_record
from consent.editions import sha256_hex
from consent.immutability import definer_options, function_private, purge_allowed
from consent.ledger.partitions import LEDGER_TABLE, month_after, partitions_list
from consent.models import ConsentRecord, IdempotencyClaim, Site
from consent.webhooks.services import webhook_events_forget_records

# consent_retention_days' MinValueValidator (13 months): the functions hold it too, since the
# application's role may write the site row.
RETENTION_MIN_DAYS = 395

REDACT = "consentry_ledger_redact(bigint, text, text[], bigint, text, text)"
RETENTION = "consentry_ledger_retention(bigint)"
MONTH_DROP = "consentry_ledger_month_drop(date)"
FUNCTIONS = (REDACT, RETENTION, MONTH_DROP)

_CLAIMS = IdempotencyClaim._meta.db_table
_AUDIT = "consent_auditentry"
_SITES = "consent_site"
# The first day (UTC) of the month the site's retention cutoff falls in: every record before
# it is of a month wholly past retention.
_HORIZON = "date_trunc('month', now() - make_interval(days => {days}), 'UTC')"


def _functions_sql(options: str, columns: Sequence[str]) -> list[str]:
    erasable = ", ".join(f"{column} = NULL" for column in columns)
    return [
        f"""
        CREATE OR REPLACE FUNCTION consentry_ledger_redact(
            p_site_id bigint, p_visitor_id text, p_receipt_ids text[], p_actor_id bigint, p_actor_ip text,
            p_reason text
        ) RETURNS bigint LANGUAGE plpgsql {options} AS $$
        DECLARE
            records bigint;
            details jsonb;
        BEGIN
            IF (p_visitor_id IS NULL) = (p_receipt_ids IS NULL) THEN
                RAISE EXCEPTION 'redact by a visitor id or by receipt ids, one of the two'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            UPDATE {LEDGER_TABLE} SET {erasable}
             WHERE site_id = p_site_id AND personal_salt IS NOT NULL
               AND (visitor_id = p_visitor_id OR receipt_id = ANY (p_receipt_ids));
            GET DIAGNOSTICS records = ROW_COUNT;
            -- The audit log must not keep what was erased: only a hash that can confirm a request.
            details := CASE WHEN p_visitor_id IS NOT NULL
                THEN jsonb_build_object(
                    'visitor_sha256', encode(sha256(convert_to(p_visitor_id, 'UTF8')), 'hex'))
                ELSE jsonb_build_object('receipt_ids', to_jsonb(p_receipt_ids)) END;
            INSERT INTO {_AUDIT} (site_id, actor_id, actor_ip, action, target, data, created_at)
            VALUES (p_site_id, p_actor_id, p_actor_ip::inet, 'consent.redact', records || ' consent records',
                    details || jsonb_build_object('records', records, 'reason', coalesce(p_reason, '')),
                    now());
            RETURN records;
        END;
        $$
        """,  # noqa: S608 (our constants only)
        f"""
        CREATE OR REPLACE FUNCTION consentry_ledger_retention(p_site_id bigint)
        RETURNS bigint LANGUAGE plpgsql {options} AS $$
        DECLARE
            days integer;
            horizon timestamptz;
            records bigint;
        BEGIN
            SELECT greatest(consent_retention_days, {RETENTION_MIN_DAYS}) INTO days
              FROM {_SITES} WHERE id = p_site_id;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'no site %', p_site_id USING ERRCODE = 'invalid_parameter_value';
            END IF;
            horizon := {_HORIZON.format(days="days")};
            DELETE FROM {LEDGER_TABLE} WHERE site_id = p_site_id AND created_at < horizon;
            GET DIAGNOSTICS records = ROW_COUNT;
            -- Their keys go with them: a key is refused as a replay only while its record exists.
            DELETE FROM {_CLAIMS} WHERE site_id = p_site_id AND created_at < horizon;
            IF records > 0 THEN
                INSERT INTO {_AUDIT} (site_id, action, target, data, created_at)
                VALUES (p_site_id, 'consent.retention',
                        records || ' consent records before '
                            || to_char(horizon AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                        jsonb_build_object(
                            'records', records,
                            'cutoff', to_char(horizon AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
                            'retention_days', days),
                        now());
            END IF;
            RETURN records;
        END;
        $$
        """,  # noqa: S608 (our constants only)
        f"""
        CREATE OR REPLACE FUNCTION consentry_ledger_month_drop(p_month date)
        RETURNS boolean LANGUAGE plpgsql {options} AS $$
        DECLARE
            horizon timestamptz;
            low timestamptz := p_month::timestamp AT TIME ZONE 'UTC';
            high timestamptz := (p_month + interval '1 month')::timestamp AT TIME ZONE 'UTC';
            part text := '{LEDGER_TABLE}_y' || to_char(p_month, 'YYYY') || 'm' || to_char(p_month, 'MM');
        BEGIN
            SELECT {_HORIZON.format(days=f"max(greatest(consent_retention_days, {RETENTION_MIN_DAYS}))")}
              INTO horizon FROM {_SITES};
            IF p_month IS NULL OR extract(day FROM p_month) <> 1 OR horizon IS NULL OR high > horizon THEN
                RAISE EXCEPTION 'month % is not a whole month past every site''s retention', p_month
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF NOT EXISTS (
                SELECT 1 FROM pg_inherits
                 WHERE inhrelid = to_regclass(part) AND inhparent = '{LEDGER_TABLE}'::regclass
            ) THEN
                RETURN false;
            END IF;
            EXECUTE format('ALTER TABLE {LEDGER_TABLE} DETACH PARTITION %I', part);
            EXECUTE format('DROP TABLE %I', part);
            DELETE FROM {_CLAIMS} WHERE created_at >= low AND created_at < high;
            INSERT INTO {_AUDIT} (action, target, data, created_at)
            VALUES ('consent.retention.partition_drop', part,
                    jsonb_build_object('month', to_char(p_month, 'YYYY-MM-DD')), now());
            RETURN true;
        END;
        $$
        """,  # noqa: S608 (our constants only)
    ]


def retention_functions_install(cursor: object, erasable: Sequence[str] | None = None) -> None:
    """(Re)create the redaction and retention functions (PostgreSQL; run by the migrations' role).
    Redaction clears `erasable` (a migration names the columns of its time), by default the
    model's ConsentRecord.mutable_columns."""
    columns = ConsentRecord.mutable_columns if erasable is None else erasable
    for statement in _functions_sql(definer_options(cursor), columns):
        cursor.execute(statement)  # type: ignore[attr-defined]
    for signature in FUNCTIONS:
        function_private(cursor, signature)


def retention_functions_remove(cursor: object) -> None:
    for signature in FUNCTIONS:
        cursor.execute(f"DROP FUNCTION IF EXISTS {signature}")  # type: ignore[attr-defined]


def consent_visitor_redact(
    *, site: Site, visitor_id: str, by: AbstractUser | None, ip: str | None = None, reason: str = ""
) -> int:
    """Erase one visitor's personal data from the site's ledger; return how many records changed.

    The values and their salt are cleared; the salted commitment stays, so every leaf,
    checkpoint and proof still verifies. This is the only change the database allows.
    """
    return _redact(site=site, visitor_id=visitor_id, receipt_ids=None, by=by, ip=ip, reason=reason)


def consent_receipts_redact(
    *, site: Site, receipt_ids: list[str], by: AbstractUser | None, ip: str | None = None, reason: str = ""
) -> int:
    """Erase the personal data of the site's records with these receipt ids (a visitor who kept
    their receipts but whose visitor id is gone); return how many records changed."""
    return _redact(site=site, visitor_id=None, receipt_ids=list(receipt_ids), by=by, ip=ip, reason=reason)


def _redact(
    *,
    site: Site,
    visitor_id: str | None,
    receipt_ids: list[str] | None,
    by: AbstractUser | None,
    ip: str | None,
    reason: str,
) -> int:
    actor = by if by is not None and by.is_authenticated else None
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT consentry_ledger_redact(%s, %s, %s, %s, %s, %s)",
                [site.pk, visitor_id, receipt_ids, actor.pk if actor else None, ip or None, reason],
            )
            count = cursor.fetchone()[0]
            # The webhook outbox's copies of these records go in the same transaction.
            webhook_events_forget_records(site=site, visitor_id=visitor_id, receipt_ids=receipt_ids or ())
            return count
    with transaction.atomic():
        webhook_events_forget_records(site=site, visitor_id=visitor_id, receipt_ids=receipt_ids or ())
        # A plain QuerySet on purpose: ImmutableQuerySet refuses update(), and this is the one
        # update the ledger's triggers let through (clearing erasable columns to NULL).
        matching = QuerySet(ConsentRecord).filter(site=site, personal_salt__isnull=False)
        matching = (
            matching.filter(visitor_id=visitor_id)
            if visitor_id is not None
            else matching.filter(receipt_id__in=receipt_ids or [])
        )
        count = matching.update(**dict.fromkeys(ConsentRecord.mutable_columns))
        details: dict[str, object] = (
            {"visitor_sha256": sha256_hex(visitor_id.encode())}
            if visitor_id is not None
            else {"receipt_ids": receipt_ids}
        )
        audit_record(
            site=site,
            actor=actor,
            actor_ip=ip,
            action="consent.redact",
            target=f"{count} consent records",
            data={**details, "records": count, "reason": reason},
        )
    return count


def retention_horizon(*, days: int, now: datetime) -> datetime:
    """The first instant (UTC) of the month the cutoff `days` before `now` falls in: records
    before it are of whole months past retention, the only ones retention deletes."""
    cutoff = (now - timedelta(days=max(days, RETENTION_MIN_DAYS))).astimezone(UTC)
    return cutoff.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def consent_retention_apply() -> dict[str, int]:
    """Delete consent records of whole months past each site's retention; return how many per site.

    On PostgreSQL a month past every site's retention is dropped as a partition (instant, no
    row deletes), then each site's older rows go; both through the functions above, with the
    database's clock. Merkle nodes stay: they hold no personal data and keep later proofs
    verifiable. Every step leaves an audit entry.
    """
    if connection.vendor == "postgresql":
        return _retention_postgresql()
    return _retention_sqlite()


def _retention_postgresql() -> dict[str, int]:
    longest = Site.objects.aggregate(days=Max("consent_retention_days"))["days"]
    if longest is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            horizon = retention_horizon(days=longest, now=cursor.fetchone()[0]).date()
        for _, month in partitions_list():
            if month_after(month) <= horizon:
                _month_drop(month)
    deleted: dict[str, int] = {}
    for site in Site.objects.all():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT consentry_ledger_retention(%s)", [site.pk])
            deleted[site.key] = cursor.fetchone()[0]
    return deleted


def _month_drop(month: date) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT consentry_ledger_month_drop(%s)", [month])


def _retention_sqlite() -> dict[str, int]:
    now = timezone.now()
    deleted: dict[str, int] = {}
    for site in Site.objects.all():
        horizon = retention_horizon(days=site.consent_retention_days, now=now)
        days = max(site.consent_retention_days, RETENTION_MIN_DAYS)
        with (
            transaction.atomic(),
            purge_allowed(connection, ConsentRecord),
            purge_allowed(connection, IdempotencyClaim),
        ):
            count, _ = QuerySet(ConsentRecord).filter(site=site, created_at__lt=horizon).delete()
            # Their keys go with them: a key is refused as a replay only while its record exists.
            QuerySet(IdempotencyClaim).filter(site=site, created_at__lt=horizon).delete()
            if count:
                audit_record(
                    site=site,
                    action="consent.retention",
                    target=f"{count} consent records before {horizon:%Y-%m-%d}",
                    data={"records": count, "cutoff": horizon.isoformat(), "retention_days": days},
                )
        deleted[site.key] = count
    return deleted
