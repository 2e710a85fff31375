"""Subscribers and the notification log in the back office (webhook endpoints: consent.webhooks.admin)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin
from subprocessors.models import (
    NotificationLog,
    Subscriber,
)
from subprocessors.notices.services import (
    subscriber_delete,
)


@admin.register(Subscriber)
class SubscriberAdmin(SiteScopedModelAdmin):
    list_display = ["email", "site", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_select_related = ["site"]
    readonly_fields = ["site", "email", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # people subscribe themselves (double opt-in)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Subscriber) -> None:
        self.service_call(request, subscriber_delete, subscriber=obj)


@admin.register(NotificationLog)
class NotificationLogAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    """Who was told about which version, when, how, with what result and content hash (SP-4)."""

    list_display = [
        "created_at",
        "site",
        "version_number",
        "channel",
        "recipient",
        "attempt",
        "status",
        "http_status",
    ]
    list_filter = ["channel", "status"]
    search_fields = ["recipient"]
    list_select_related = ["site", "version"]
    fields = [
        "created_at",
        "site",
        "version",
        "channel",
        "recipient",
        "attempt",
        "status",
        "http_status",
        "error",
        "content_sha256",
    ]
    readonly_fields = fields

    @admin.display(description="version")
    def version_number(self, log: NotificationLog) -> int:
        return log.version.number
