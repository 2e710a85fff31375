"""Background tasks of the consent app (Django Tasks API; inline in tests)."""

from django_tasks import task

from consent.models import ConsentExport, Site
from consent.services import consent_export_write, ledger_seal


@task()
def consent_export_task(export_id: int) -> None:
    export = ConsentExport.objects.select_related("site").filter(pk=export_id).first()
    if export is not None:
        consent_export_write(export=export)


@task()
def ledger_seal_task(site_id: int) -> None:
    """Seal one site's ledger now (manage.py consent_seal --every N does it for every site)."""
    site = Site.objects.filter(pk=site_id).first()
    if site is not None:
        ledger_seal(site=site)
