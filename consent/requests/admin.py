"""Data-subject requests in the back office: for now a list with status and due date, and each
request's page with its clock and history (read-only: the DPO's queue and actions come next).

Requests hold personal data (the requester's email), so only a site's owners and DPOs see them,
not its viewers; another site's people see nothing.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from consent.models import DataSubjectRequest, RequestEvent
from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin
from consent.tenancy.selectors import EDITOR_ROLES, site_ids_for_user


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # The parent's admin already decided who sees the request.
        return True


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = [
        "short_id",
        "site",
        "type",
        "status",
        "jurisdiction",
        "filed_at",
        "acknowledge_by",
        "due_at",
    ]
    list_filter = ["status", "type", "jurisdiction"]
    list_select_related = ["site"]
    search_fields = ["public_id", "email"]
    ordering = ["due_at", "filed_at"]
    inlines = [RequestEventInline]
    readonly_fields = [
        "site",
        "public_id",
        "type",
        "status",
        "email",
        "language",
        "residence_country",
        "residence_region",
        "visitor_ids",
        "agent_name",
        "agent_email",
        "agent_document_link",
        "agent_document_sha256",
        "jurisdiction",
        "rules_version",
        "rules_sha256",
        "resolved_by",
        "establishment_country",
        "filed_at",
        "verified_at",
        "acknowledge_by",
        "acknowledge_explanation",
        "due_at",
        "due_explanation",
        "is_due_provisional",
        "closed_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(site__in=site_ids_for_user(user=request.user, roles=EDITOR_ROLES))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, EDITOR_ROLES, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, EDITOR_ROLES, obj)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/agent-document/",
                self.admin_site.admin_view(self.agent_document_view),
                name="consent_datasubjectrequest_agent_document",
            ),
            *super().get_urls(),
        ]

    def agent_document_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        """The agent's permission document, as a download (never rendered inline)."""
        request_row = self.get_object(request, str(object_id))
        if (
            request_row is None
            or not request_row.agent_document
            or not self.has_view_permission(request, request_row)
        ):
            raise Http404
        response = FileResponse(request_row.agent_document.open("rb"), as_attachment=True)
        response["Content-Type"] = "application/octet-stream"
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description=_("agent's permission document"))
    def agent_document_link(self, request_row: DataSubjectRequest) -> str:
        if not request_row.agent_document:
            return "—"
        url = reverse("admin:consent_datasubjectrequest_agent_document", args=[request_row.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    @admin.display(description=_("request"), ordering="public_id")
    def short_id(self, request_row: DataSubjectRequest) -> str:
        return request_row.public_id[:8]
