"""Subscribers, webhook endpoints and the notification log in the back office."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext

from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin, form_changes, instance_adopt
from subprocessors.lists.admin import https_url_formfield
from subprocessors.models import (
    NotificationLog,
    Subscriber,
    WebhookEndpoint,
)
from subprocessors.notices.services import (
    subscriber_delete,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
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


class WebhookEndpointForm(forms.ModelForm):
    class Meta:
        model = WebhookEndpoint
        formfield_callback = staticmethod(https_url_formfield)
        fields = ["site", "url", "description", "is_active"]

    def clean_url(self) -> str:
        from subprocessors.notices.webhooks import webhook_url_validate

        try:
            return webhook_url_validate(self.cleaned_data["url"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["url"]) from error


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SiteScopedModelAdmin):
    form = WebhookEndpointForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["url", "site", "description", "is_active", "created_at"]
    list_select_related = ["site"]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> list[str]:
        return ["site"] if obj is not None else []

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        self.service_call(request, webhook_endpoint_delete, endpoint=obj)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                instance_adopt(
                    obj, self.service_call(request, webhook_endpoint_update, endpoint=obj, **changes)
                )
            return
        endpoint, secret = self.service_call(
            request,
            webhook_endpoint_create,
            site=form.cleaned_data["site"],
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            is_active=form.cleaned_data["is_active"],
        )
        instance_adopt(obj, endpoint)
        messages.warning(
            request,
            format_html(
                gettext(
                    "Signing secret (shown only now, copy it): <code>{}</code>. Verify the "
                    "<code>Consentry-Signature</code> header with it."
                ),
                secret,
            ),
        )


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
