"""The audit trail in the back office: read-only, each user sees only their own sites' entries."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from consent.models import AuditEntry
from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin


def _shown(value: Any) -> str:
    return "—" if value in (None, "", [], {}) else str(value)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["created_at", "site", "action", "target", "actor", "actor_ip", "changes"]
    # RelatedOnlyFieldListFilter offers only sites found in this user's (scoped) entries.
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "action"]
    search_fields = ["target", "action", "actor__email"]
    date_hierarchy = "created_at"
    list_select_related = ["site", "actor"]
    fields = ["created_at", "site", "action", "target", "actor", "actor_ip", "changes", "data"]
    readonly_fields = fields

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return list(self.list_filter)

    @admin.display(description=gettext_lazy("before → after"))
    def changes(self, entry: AuditEntry) -> str:
        changes = entry.data.get("changes") if isinstance(entry.data, dict) else None
        if not isinstance(changes, dict) or not changes:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code>: {} → {}</li>",
                (
                    (name, _shown(pair[0]), _shown(pair[1]))
                    for name, pair in changes.items()
                    if isinstance(pair, list) and len(pair) == 2
                ),
            ),
        )
