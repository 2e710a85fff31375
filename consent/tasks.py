"""Background tasks of the consent app (Django Tasks API; inline in tests)."""

from django_tasks import task

from consent.exports.services import consent_export_write
from consent.jobs import job_register
from consent.ledger.retention import consent_retention_apply
from consent.models import ConsentExport
from consent.tokens.idempotency import idempotency_keys_purge
from consent.webhooks.services import webhook_delivery_attempt, webhook_events_expire


@job_register("consent.export_write")
@task()
def consent_export_task(export_id: int) -> None:
    export = ConsentExport.objects.select_related("site").filter(pk=export_id).first()
    if export is not None:
        consent_export_write(export=export)


@task()
def consent_retention_task() -> dict[str, int]:
    """Apply every site's retention (queued daily by the periodic `consent_seal --every`), forget
    the management API's kept Idempotency-Key answers past their day, and clear the data of
    webhook events past WEBHOOK_EVENT_RETENTION_DAYS."""
    idempotency_keys_purge()
    webhook_events_expire()
    return consent_retention_apply()


@job_register("consent.webhook_deliver")
@task()
def webhook_deliver_task(pending_id: int, attempt: int) -> None:
    """One attempt of one event to one endpoint; the retry is the dispatcher's sweep (a row, not
    a queued task, says what is still to be sent)."""
    webhook_delivery_attempt(pending_id=pending_id, attempt=attempt)
