"""The audit trail in the back office: read-only, each user sees only their own sites' entries."""

from django.contrib import admin

from consent.models import AuditEntry
from consent.sites.tenancy import ReadOnlyAdminMixin, SiteScopedModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["created_at", "site", "action", "target", "actor", "actor_ip"]
    list_filter = ["action"]
    search_fields = ["target", "action", "actor__email"]
    date_hierarchy = "created_at"
    list_select_related = ["site", "actor"]
    fields = ["created_at", "site", "action", "target", "actor", "actor_ip", "data"]
    readonly_fields = fields
