"""Background tasks of the consent app (Django Tasks API; inline in tests)."""

from django_tasks import task

from consent.exports.services import consent_export_write
from consent.jobs import job_register
from consent.ledger.retention import consent_retention_apply
from consent.models import ConsentExport, DataSubjectRequest
from consent.requests.retention import requests_retention_apply
from consent.requests.services import request_email_send
from consent.tokens.idempotency import idempotency_keys_purge


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
    """Apply every site's retention (queued daily by the periodic `consent_seal --every`), and
    forget the management API's kept Idempotency-Key answers past their day, and purge the
    data-subject requests closed more than 24 months ago."""
    idempotency_keys_purge()
    requests_retention_apply()
    return consent_retention_apply()
