"""Background tasks of the consent app (Django Tasks API; inline in tests)."""

from django_tasks import task

from consent.exports.services import consent_export_write
from consent.jobs import job_register
from consent.ledger.retention import consent_retention_apply
from consent.models import ConsentExport, DataSubjectRequest
from consent.requests.retention import requests_retention_apply
from consent.requests.services import request_email_send, request_reminder_send
from consent.tokens.idempotency import idempotency_keys_purge
from consent.webhooks.services import webhook_delivery_attempt, webhook_events_expire


@job_register("consent.export_write")
@task()
def consent_export_task(export_id: int) -> None:
    export = ConsentExport.objects.select_related("site").filter(pk=export_id).first()
    if export is not None:
        consent_export_write(export=export)


@job_register("consent.request_email_send")
@task()
def request_email_send_task(request_id: int, kind: str) -> None:
    request = DataSubjectRequest.objects.select_related("site").filter(pk=request_id).first()
    if request is not None:  # purged in between: nobody to write to
        request_email_send(request=request, kind=kind)


@task()
def consent_retention_task() -> dict[str, int]:
    """Apply every site's retention (queued daily by the periodic `consent_seal --every`), forget
    the management API's kept Idempotency-Key answers past their day, clear the data of webhook
    events past WEBHOOK_EVENT_RETENTION_DAYS, and purge the data-subject requests closed more
    than 24 months ago."""
    idempotency_keys_purge()
    webhook_events_expire()
    requests_retention_apply()
    return consent_retention_apply()


@job_register("consent.webhook_deliver")
@task()
def webhook_deliver_task(pending_id: int, attempt: int) -> None:
    """One attempt of one event to one endpoint; the retry is the dispatcher's sweep (a row, not
    a queued task, says what is still to be sent)."""
    webhook_delivery_attempt(pending_id=pending_id, attempt=attempt)


@job_register("consent.request_reminder_send")
@task()
def request_reminder_send_task(request_id: int, days: int) -> None:
    request = DataSubjectRequest.objects.select_related("site").filter(pk=request_id).first()
    if request is not None and request.is_open:
        request_reminder_send(request=request, days=days)
