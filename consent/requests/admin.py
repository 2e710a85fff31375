"""Data-subject requests in the back office: for now a list with status and due date, and each
request's page with its clock and history (read-only: the DPO's queue and actions come next).

Requests hold personal data (the requester's email), so only a site's owners and DPOs see them,
not its viewers; another site's people see nothing.
"""

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
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

    @admin.display(description=_("request"), ordering="public_id")
    def short_id(self, request_row: DataSubjectRequest) -> str:
        return request_row.public_id[:8]
