"""Consent exports asked for in the back office: format, range, progress and the file written."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.models.sites import Site


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    JSONL = "jsonl", _("JSON Lines")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ConsentExport(models.Model):
    """A DPO's export of a site's consent records, written to a file by a background task."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="consent_exports", verbose_name=_("site")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    date_from = models.DateField(verbose_name=_("date from"))
    date_to = models.DateField(verbose_name=_("date to"))
    format = models.CharField(
        max_length=8, choices=ExportFormat.choices, default=ExportFormat.CSV, verbose_name=_("format")
    )
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING, verbose_name=_("status")
    )
    rows_total = models.PositiveBigIntegerField(default=0, verbose_name=_("rows total"))
    rows_done = models.PositiveBigIntegerField(default=0, verbose_name=_("rows done"))
    file_name = models.CharField(max_length=255, blank=True, verbose_name=_("file name"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("consent export")
        verbose_name_plural = _("consent exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.site.key} {self.date_from}..{self.date_to} ({self.format})"

    @property
    def percent(self) -> int:
        return (
            100 if self.status == ExportStatus.DONE else int(100 * self.rows_done / max(self.rows_total, 1))
        )
