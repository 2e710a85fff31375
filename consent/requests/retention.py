"""Retention of data-subject requests: kept 24 months after closing (11 CCR §7101(a)), then purged.

Request events are append-only (their triggers refuse DELETE); retention deletes them with their
requests (and their access packages), on PostgreSQL only from inside a SECURITY DEFINER function
(a trigger recognises it on the call stack, consent/immutability.py PURGE_FUNCTIONS), on SQLite
inside purge_allowed(). A request is purged 24 months after it was closed, or after it was filed if it
was never verified.
"""

from calendar import monthrange
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from consent.audit.services import audit_record
from consent.immutability import definer_options, function_private, purge_allowed
from consent.models import (
    DataSubjectRequest,
    RequestEvent,
    RequestPackage,
    RequestReminder,
    RequestStatus,
    Site,
)

# "At least 24 months" (CCPA regulations, 11 CCR §7101(a)).
RETENTION_MONTHS = 24

RETENTION_FUNCTION = "consentry_requests_retention(bigint)"
FUNCTIONS = (RETENTION_FUNCTION,)

_REQUESTS = DataSubjectRequest._meta.db_table
_EVENTS = RequestEvent._meta.db_table
_PACKAGES = RequestPackage._meta.db_table
_REMINDERS = RequestReminder._meta.db_table


def retention_functions_install(cursor: object) -> None:
    """PostgreSQL: (re)create the requests' retention function (migrations 0018, 0022, 0026)."""
    expired = (
        "site_id = p_site_id AND (closed_at < cutoff"
        f" OR (status = '{RequestStatus.AWAITING_VERIFICATION}' AND filed_at < cutoff))"
    )
    cursor.execute(  # type: ignore[attr-defined]
        f"""
        CREATE OR REPLACE FUNCTION consentry_requests_retention(p_site_id bigint)
        RETURNS bigint LANGUAGE plpgsql {definer_options(cursor)} AS $$
        DECLARE
            purged bigint;
            cutoff timestamptz := now() - interval '{RETENTION_MONTHS} months';
        BEGIN
            DELETE FROM {_EVENTS} WHERE request_id IN (SELECT id FROM {_REQUESTS} WHERE {expired});
            DELETE FROM {_PACKAGES} WHERE request_id IN (SELECT id FROM {_REQUESTS} WHERE {expired});
            -- The ORM's cascade is not the database's: the reminders go by hand, as the events do.
            DELETE FROM {_REMINDERS} WHERE request_id IN (SELECT id FROM {_REQUESTS} WHERE {expired});
            DELETE FROM {_REQUESTS} WHERE {expired};
            GET DIAGNOSTICS purged = ROW_COUNT;
            IF purged > 0 THEN
                INSERT INTO consent_auditentry (site_id, actor_id, actor_ip, action, target, data, created_at)
                VALUES (p_site_id, NULL, NULL, 'data_subject_request.retention',
                        purged || ' data-subject requests',
                        jsonb_build_object('requests', purged, 'cutoff', cutoff,
                                           'retention_months', {RETENTION_MONTHS}),
                        now());
            END IF;
            RETURN purged;
        END;
        $$
        """  # noqa: S608 (our constants only)
    )
    function_private(cursor, RETENTION_FUNCTION)


def retention_functions_remove(cursor: object) -> None:
    cursor.execute(f"DROP FUNCTION IF EXISTS {RETENTION_FUNCTION}")  # type: ignore[attr-defined]


def _months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 - months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def _expired(site: Site, cutoff: datetime) -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(site=site).filter(
        Q(closed_at__lt=cutoff) | Q(status=RequestStatus.AWAITING_VERIFICATION, filed_at__lt=cutoff)
    )


def _documents_delete(names: list[str]) -> None:
    """Delete the agents' documents and the requesters' reply attachments of purged requests
    (after the rows are gone: a failed purge keeps its files)."""
    for name in names:
        if (
            not DataSubjectRequest.objects.filter(agent_document=name).exists()
            and not RequestEvent.objects.filter(attachment=name).exists()
        ):
            default_storage.delete(name)


def _attachments(requests: QuerySet[DataSubjectRequest]) -> list[str]:
    return list(
        RequestEvent.objects.filter(request__in=requests)
        .exclude(attachment="")
        .values_list("attachment", flat=True)
    )


def requests_retention_apply() -> dict[str, int]:
    """Delete every site's requests closed (or left unverified) more than 24 months ago, with
    their events and agents' documents; one audit row per site that lost any. Returns how many
    per site key."""
    purged: dict[str, int] = {}
    for site in Site.objects.all():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT now()")
                database_now = cursor.fetchone()[0]
            # A moment earlier than the function's cutoff: every file it may purge, and a few more
            # that _documents_delete keeps because their rows stay.
            candidates = _expired(site, _months_before(database_now, RETENTION_MONTHS) + timedelta(minutes=5))
            names = [
                name
                for name in candidates.exclude(agent_document="").values_list("agent_document", flat=True)
            ] + _attachments(candidates)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT {RETENTION_FUNCTION.split('(')[0]}(%s)", [site.pk])
                purged[site.key] = cursor.fetchone()[0]
            _documents_delete(names)
            continue
        cutoff = _months_before(timezone.now(), RETENTION_MONTHS)
        expired = _expired(site, cutoff)
        names = list(expired.exclude(agent_document="").values_list("agent_document", flat=True))
        names += _attachments(expired)
        with (
            transaction.atomic(),
            purge_allowed(connection, RequestEvent),
            purge_allowed(connection, RequestPackage),
        ):
            QuerySet(RequestEvent).filter(request__in=expired).delete()
            QuerySet(RequestPackage).filter(request__in=expired).delete()
            _, per_model = expired.delete()
            count = per_model.get(DataSubjectRequest._meta.label, 0)
            if count:
                audit_record(
                    site=site,
                    action="data_subject_request.retention",
                    target=f"{count} data-subject requests",
                    data={
                        "requests": count,
                        "cutoff": cutoff.isoformat(),
                        "retention_months": RETENTION_MONTHS,
                    },
                )
        purged[site.key] = count
        _documents_delete(names)
    return purged
