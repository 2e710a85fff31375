"""Consent exports in the back office: a DPO or owner asks for a file, a worker writes it, progress shows."""

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from consent.exports.services import EXPORT_DIRECTORY, consent_export_request
from consent.models import ConsentExport, ExportStatus
from consent.tenancy.scoping import SiteScopedModelAdmin
from consent.tenancy.selectors import EDITOR_ROLES
from edge.client import client_ip


class ConsentExportForm(forms.ModelForm):
    class Meta:
        model = ConsentExport
        fields = ["site", "date_from", "date_to", "format"]
        widgets = {
            "date_from": forms.DateInput(attrs={"type": "date"}),
            "date_to": forms.DateInput(attrs={"type": "date"}),
        }


@admin.register(ConsentExport)
class ConsentExportAdmin(SiteScopedModelAdmin):
    """Exports for DPOs: request one, watch its progress, download the file."""

    form = ConsentExportForm
    list_display = ["created_at", "site", "date_from", "date_to", "format", "status", "progress", "download"]
    list_select_related = ["site"]
    change_form_template = "admin/consent/consentexport/change_form.html"
    delete_roles = EDITOR_ROLES

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentExport | None = None) -> list[str]:
        if obj is None:
            return []
        return [
            "site",
            "date_from",
            "date_to",
            "format",
            "status",
            "progress",
            "download",
            "requested_by",
            "error",
        ]

    def get_fields(self, request: HttpRequest, obj: ConsentExport | None = None) -> list[str]:
        if obj is None:
            return ["site", "date_from", "date_to", "format"]
        return self.get_readonly_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("Progress"))
    def progress(self, export: ConsentExport) -> str:
        return format_html(
            '<progress value="{}" max="100">{}%</progress> {} of {} rows',
            export.percent,
            export.percent,
            export.rows_done,
            export.rows_total,
        )

    @admin.display(description="File")
    def download(self, export: ConsentExport) -> str:
        if export.status != ExportStatus.DONE:
            return "—"
        url = reverse("admin:consent_consentexport_download", args=[export.pk])
        return format_html('<a href="{}">{}</a>', url, export.file_name)

    def save_model(
        self, request: HttpRequest, obj: ConsentExport, form: forms.ModelForm, change: bool
    ) -> None:
        export = consent_export_request(
            site=obj.site,
            by=request.user,
            date_from=obj.date_from,
            date_to=obj.date_to,
            fmt=obj.format,
            ip=client_ip(request),
        )
        obj.pk = export.pk
        obj.refresh_from_db()

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="consent_consentexport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        export = self.get_object(request, str(object_id))
        if export is None or export.status != ExportStatus.DONE:
            raise Http404
        if not self._allowed(request, EDITOR_ROLES, export):
            raise PermissionDenied
        path_on_disk = Path(settings.MEDIA_ROOT) / EXPORT_DIRECTORY / export.file_name
        return FileResponse(path_on_disk.open("rb"), as_attachment=True, filename=export.file_name)
