"""Exports as files: asked for (with its audit row), then written by the worker with progress."""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from consent.audit.services import audit_record
from consent.exports.selectors import consent_export_lines, consent_export_queryset
from consent.jobs import job_enqueue_on_commit
from consent.models import ConsentExport, ExportFormat, ExportStatus, Site

EXPORT_DIRECTORY = "consent-exports"


def consent_export_request(
    *, site: Site, by: AbstractUser, date_from: date, date_to: date, fmt: str, ip: str | None = None
) -> ConsentExport:
    """Queue an export of the site's records; the task writes the file and counts its progress."""
    if date_to < date_from:
        raise ValidationError({"date_to": "The end date is before the start date."})
    if fmt not in ExportFormat.values:
        raise ValidationError({"format": f"Choose one of: {', '.join(ExportFormat.values)}."})
    with transaction.atomic():
        export = ConsentExport.objects.create(
            site=site, requested_by=by, date_from=date_from, date_to=date_to, format=fmt
        )
        audit_record(
            site=site,
            actor=by,
            actor_ip=ip,
            action="consent.export",
            target=f"consent records {date_from}..{date_to}",
            data={"export": export.pk, "format": fmt},
        )
        job_enqueue_on_commit("consent.export_write", export.pk)
    return export


def consent_export_write(*, export: ConsentExport) -> ConsentExport:
    """Write the export file, updating the progress every few thousand rows (read by the admin)."""
    records = consent_export_queryset(site=export.site, date_from=export.date_from, date_to=export.date_to)
    ConsentExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, rows_total=records.count())
    directory = Path(settings.MEDIA_ROOT) / EXPORT_DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{export.site.key}-{export.date_from}-{export.date_to}-{export.pk}.{export.format}"
    done = 0
    try:
        with (directory / name).open("w", encoding="utf-8", newline="") as handle:
            for number, line in enumerate(consent_export_lines(records=records, fmt=export.format)):
                handle.write(line)
                done = number + (0 if export.format == ExportFormat.CSV else 1)
                if done % 2000 == 0:
                    ConsentExport.objects.filter(pk=export.pk).update(rows_done=done)
    except OSError as error:
        ConsentExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=str(error))
    else:
        ConsentExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE, rows_done=done, file_name=name, finished_at=timezone.now()
        )
    export.refresh_from_db()
    return export
