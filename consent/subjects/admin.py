"""Links between accounts and banner visitors in the back office: read-only (the management API
makes and removes them, with audit rows), scoped to the user's sites."""

from django.contrib import admin

from consent.models import SubjectLink
from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin


@admin.register(SubjectLink)
class SubjectLinkAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["created_at", "site", "subject_hmac", "visitor_id", "token_prefix"]
    list_select_related = ["site"]
    search_fields = ["visitor_id"]
    readonly_fields = ["site", "subject_hmac", "visitor_id", "created_at", "created_by", "token_prefix"]
    fields = readonly_fields
