"""Webhooks in the back office: endpoints (events ticked, secret shown once, a test event), the
outbox of events and the delivery log (filter by status and type; redeliver by hand)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentAction, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookEventType
from consent.tenancy.scoping import (
    AdminRefusal,
    ReadOnlyAdminMixin,
    SiteScopedModelAdmin,
    form_changes,
    instance_adopt,
)
from consent.tenancy.selectors import EDITOR_ROLES
from consent.webhooks.delivery import webhook_url_validate
from consent.webhooks.events import EVENT_DESCRIPTIONS, SUBSCRIBABLE_TYPES
from consent.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
    webhook_test_send,
)


def _https_formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    # URLs typed without a scheme are https (Django 6's default, chosen now).
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[
            # Lazy: the description is translated into the reader's language at rendering.
            (choice.value, format_lazy("{}: {}", choice.value, EVENT_DESCRIPTIONS[choice]))
            for choice in SUBSCRIBABLE_TYPES
        ],
        widget=forms.CheckboxSelectMultiple,
        label=_("events"),
    )
    consent_actions = forms.MultipleChoiceField(
        choices=ConsentAction.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("consent actions"),
        help_text=_("Which decisions its consent.recorded events carry; none ticked: all."),
    )

    class Meta:
        model = WebhookEndpoint
        formfield_callback = staticmethod(_https_formfield)
        fields = ["site", "url", "description", "events", "consent_actions", "is_active"]

    def clean_url(self) -> str:
        try:
            return webhook_url_validate(self.cleaned_data["url"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["url"]) from error


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SiteScopedModelAdmin):
    form = WebhookEndpointForm
    change_roles = EDITOR_ROLES
    delete_roles = EDITOR_ROLES
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["url", "site", "event_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["site"]
    search_fields = ["url", "description"]
    change_form_template = "admin/consent/webhookendpoint/change_form.html"

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> list[str]:
        return ["site", "key", "created_at"] if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> list[str]:
        fields = ["site", "url", "description", "events", "consent_actions", "is_active"]
        return fields + ["key", "created_at"] if obj is not None else fields

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        self.service_call(request, webhook_endpoint_delete, endpoint=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset.select_related("site"):
            self.service_call(request, webhook_endpoint_delete, endpoint=endpoint)

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
            events=form.cleaned_data["events"],
            consent_actions=form.cleaned_data["consent_actions"],
            is_active=form.cleaned_data["is_active"],
        )
        instance_adopt(obj, endpoint)
        request._webhook_secret = secret  # type: ignore[attr-defined]  # for response_add only

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The secret goes into this one page, never into a message (messages may be kept in a cookie).
        response = TemplateResponse(
            request,
            "admin/consent/webhookendpoint/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "endpoint": obj,
                "secret": request._webhook_secret,  # type: ignore[attr-defined]
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def get_urls(self) -> list[URLPattern]:
        test = path(
            "<int:pk>/test/",
            self.admin_site.admin_view(self.test_view),
            name="consent_webhookendpoint_test",
        )
        return [test, *super().get_urls()]

    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET: what it will do; POST: send a test event (owners and DPOs)."""
        endpoint = get_object_or_404(self.get_queryset(request).select_related("site"), pk=pk)
        if request.method == "POST":
            try:
                event = self.service_call(request, webhook_test_send, endpoint=endpoint)
            except AdminRefusal as refusal:
                messages.error(request, str(refusal))
                return HttpResponseRedirect(reverse("admin:consent_webhookendpoint_change", args=[pk]))
            messages.success(
                request,
                gettext("Test event %(event)s sent to %(url)s; its delivery is below.")
                % {"event": event.key, "url": endpoint.url},
            )
            return HttpResponseRedirect(
                reverse("admin:consent_webhookdelivery_changelist") + f"?event__key={event.key}"
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Send a test event to %(url)s") % {"url": endpoint.url},
            "opts": self.model._meta,
            "endpoint": endpoint,
        }
        return TemplateResponse(request, "admin/consent/webhookendpoint/test.html", context)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    """The outbox: every event written, with the data its receivers get."""

    list_display = ["created_at", "key", "type", "site"]
    list_filter = ["type"]
    search_fields = ["key"]
    list_select_related = ["site"]
    fields = ["created_at", "key", "type", "site", "payload", "delivery_log"]
    readonly_fields = fields

    @admin.display(description=_("deliveries"))
    def delivery_log(self, event: WebhookEvent) -> str:
        url = reverse("admin:consent_webhookdelivery_changelist") + f"?event__key={event.key}"
        return format_html('<a href="{}">{}</a>', url, gettext("Its delivery log"))


class EventTypeFilter(admin.SimpleListFilter):
    title = _("event type")
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(choice.value, choice.value) for choice in WebhookEventType]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]
    ) -> QuerySet[WebhookDelivery]:
        return queryset.filter(event__type=self.value()) if self.value() else queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    """Every attempt to deliver an event: when, where, the outcome (errors as categories only)."""

    list_display = [
        "created_at",
        "site",
        "event_type",
        "event_key",
        "url",
        "attempt",
        "status",
        "http_status",
        "error",
        "is_manual",
    ]
    list_filter = ["status", EventTypeFilter, "is_manual"]
    search_fields = ["url", "event__key"]
    list_select_related = ["site", "event"]
    fields = [
        "created_at",
        "site",
        "event",
        "endpoint",
        "url",
        "attempt",
        "status",
        "http_status",
        "error",
        "is_manual",
        "content_sha256",
    ]
    readonly_fields = fields
    actions = ["redeliver_selected"]

    @admin.display(description=_("event type"))
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description=_("event id"))
    def event_key(self, delivery: WebhookDelivery) -> str:
        return delivery.event.key

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The links from an endpoint's page and from "Send test event".
        return lookup in ("event__key", "endpoint__id__exact") or super().lookup_allowed(
            lookup, value, request
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Actions are hidden by ReadOnlyAdminMixin's change permission; redelivering is an editor's.
        actions = super().get_actions(request)
        if not self._allowed(request, EDITOR_ROLES, None):
            actions.pop("redeliver_selected", None)
        return actions

    @admin.action(description=_("Redeliver the selected events now"))
    def redeliver_selected(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        pairs = {
            (delivery.event, delivery.endpoint): None
            for delivery in queryset.select_related("event", "endpoint__site")
            if delivery.endpoint is not None
        }
        for event, endpoint in pairs:
            self.service_call(request, webhook_redeliver, event=event, endpoint=endpoint)
        self.message_user(
            request,
            ngettext("%(count)d event queued again.", "%(count)d events queued again.", len(pairs))
            % {"count": len(pairs)},
            messages.SUCCESS,
        )
