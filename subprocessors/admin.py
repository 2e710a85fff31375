"""Back office for sub-processors: DPOs edit the working list, preview the diff, publish, and
answer objections. Published versions, notification logs and objections are read-only."""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from consent.models import Site
from consent.selectors import EDITOR_ROLES, site_ids_for_user
from consent.tenancy import ReadOnlyAdminMixin, SiteScopedModelAdmin
from subprocessors import services
from subprocessors.models import (
    NotificationLog,
    Objection,
    SubprocessorListVersion,
    Subscriber,
    TransferMechanism,
    Vendor,
    WebhookEndpoint,
)
from subprocessors.selectors import (
    subprocessor_list_diff,
    subprocessor_list_in_force,
    subprocessor_list_latest,
    subprocessor_list_working_entries,
)


def _https_urls(field: models.Field, **kwargs: Any) -> forms.Field | None:
    # URLs typed without a scheme are https (Django 6's default, chosen now).
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class CommaListField(forms.CharField):
    """A JSON list of strings edited as comma-separated text."""

    def __init__(self, *, upper: bool = False, **kwargs: Any) -> None:
        self.upper = upper
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(value)
        return value or ""

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        items = [item.strip() for item in text.split(",") if item.strip()]
        return [item.upper() for item in items] if self.upper else items


class VendorForm(forms.ModelForm):
    locations = CommaListField(upper=True, help_text="ISO country codes, comma separated, e.g. IE, US.")
    data_categories = CommaListField(
        required=False, help_text="Comma separated, e.g. online identifiers, usage data."
    )
    transfer_mechanisms = forms.MultipleChoiceField(
        choices=TransferMechanism.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Needed when any processing country is outside the EEA.",
    )

    class Meta:
        model = Vendor
        formfield_callback = staticmethod(_https_urls)
        fields = [
            "site",
            "key",
            "name",
            "category",
            "is_listed",
            "legal_entity",
            "address",
            "contact",
            "website",
            "privacy_policy_url",
            "dpa_url",
            "purpose",
            "data_categories",
            "locations",
            "transfer_mechanisms",
            "transfer_assessment_ref",
            "dpf_checked_on",
            "ru_cross_border_notified_on",
        ]


@admin.register(Vendor)
class VendorAdmin(SiteScopedModelAdmin):
    """The working list: edits here are published only with the next list version."""

    form = VendorForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "key", "site", "category", "legal_entity", "locations_display", "is_listed"]
    list_filter = ["category", "is_listed"]
    search_fields = ["name", "key", "legal_entity"]
    list_select_related = ["site"]

    @admin.display(description="locations")
    def locations_display(self, vendor: Vendor) -> str:
        return ", ".join(vendor.locations)

    def get_readonly_fields(self, request: HttpRequest, obj: Vendor | None = None) -> list[str]:
        # Published lists and cookies name a vendor by site and key.
        return ["site", "key"] if obj is not None else []

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "publish_url": reverse("admin:subprocessors_publish")}
        return super().changelist_view(request, extra_context)


class PublishForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    effective_at = forms.DateTimeField(
        help_text="UTC, e.g. 2026-12-31 00:00. Additions need the site's notice period; removals may be now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
    )
    change_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


@admin.register(SubprocessorListVersion)
class SubprocessorListVersionAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["number", "site", "published_at", "effective_at", "published_by", "short_sha256"]
    list_select_related = ["site", "published_by"]
    fields = [
        "site",
        "number",
        "published_at",
        "effective_at",
        "published_by",
        "change_note",
        "content_sha256",
        "entries",
    ]
    readonly_fields = fields

    @admin.display(description="SHA-256")
    def short_sha256(self, version: SubprocessorListVersion) -> str:
        return version.content_sha256[:12]

    def get_urls(self) -> list[URLPattern]:
        publish = path(
            "publish/", self.admin_site.admin_view(self.publish_view), name="subprocessors_publish"
        )
        return [publish, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "publish_url": reverse("admin:subprocessors_publish")}
        return super().changelist_view(request, extra_context)

    def _publishable_sites(self, request: HttpRequest) -> QuerySet[Site]:
        if request.user.is_superuser:
            return Site.objects.all()
        return Site.objects.filter(pk__in=site_ids_for_user(user=request.user, roles=EDITOR_ROLES))

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        """Preview the working list against the latest version, then publish it (owners and DPOs)."""
        sites = self._publishable_sites(request)
        if not sites.exists():
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        form = PublishForm(data, initial={"site": request.GET.get("site")})
        form.fields["site"].queryset = sites
        site = None
        raw_site = (
            request.POST.get("site")
            or request.GET.get("site")
            or (sites.first().pk if sites.count() == 1 else None)
        )
        if raw_site:
            site = sites.filter(pk=raw_site).first() if str(raw_site).isdigit() else None
            if site is None:
                raise PermissionDenied
            form.initial["site"] = site.pk
        if request.method == "POST" and form.is_valid():
            effective_at: datetime = form.cleaned_data["effective_at"]
            try:
                version = services.subprocessor_list_publish(
                    site=form.cleaned_data["site"],
                    effective_at=effective_at,
                    change_note=form.cleaned_data["change_note"],
                    by=request.user,
                    ip=request.META.get("REMOTE_ADDR"),
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error.messages)
            else:
                messages.success(
                    request,
                    f"Published version {version.number}, "
                    f"effective {version.effective_at:%Y-%m-%d %H:%M} UTC. "
                    "Subscribers are being notified.",
                )
                return HttpResponseRedirect(
                    reverse("admin:subprocessors_subprocessorlistversion_change", args=[version.pk])
                )
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Publish the sub-processor list",
            "opts": self.model._meta,
            "form": form,
            "site": site,
        }
        if site is not None:
            latest = subprocessor_list_latest(site=site)
            working = subprocessor_list_working_entries(site=site)
            diff = subprocessor_list_diff(old_entries=latest.entries if latest else [], new_entries=working)
            now = timezone.now()
            context.update(
                latest=latest,
                in_force=subprocessor_list_in_force(site=site, at=now),
                diff=diff,
                earliest=services.subprocessor_list_earliest_effective_at(site=site, published_at=now)
                if latest and diff.needs_notice
                else now,
            )
        return TemplateResponse(request, "admin/subprocessors/publish.html", context)


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


class WebhookEndpointForm(forms.ModelForm):
    class Meta:
        model = WebhookEndpoint
        formfield_callback = staticmethod(_https_urls)
        fields = ["site", "url", "description", "is_active"]

    def clean_url(self) -> str:
        from subprocessors.webhooks import webhook_url_validate

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

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        endpoint, secret = services.webhook_endpoint_create(
            site=form.cleaned_data["site"],
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            by=request.user,
            ip=request.META.get("REMOTE_ADDR"),
        )
        obj.pk = endpoint.pk
        obj.key, obj.secret, obj._state.adding = endpoint.key, endpoint.secret, False
        messages.warning(
            request,
            format_html(
                "Signing secret (shown only now, copy it): <code>{}</code>. Verify the "
                "<code>Consentry-Signature</code> header with it.",
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


class ObjectionAnswerForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), label="Answer (emailed to the subscriber)"
    )


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["created_at", "site", "vendor_name", "version_number", "email", "is_answered"]
    list_select_related = ["site", "version"]
    search_fields = ["email", "vendor_name"]
    fields = [
        "created_at",
        "site",
        "version",
        "vendor_key",
        "vendor_name",
        "email",
        "reason",
        "answers_display",
    ]
    readonly_fields = fields

    @admin.display(description="version")
    def version_number(self, objection: Objection) -> int:
        return objection.version.number

    @admin.display(boolean=True, description="answered")
    def is_answered(self, objection: Objection) -> bool:
        return objection.answers.exists()

    @admin.display(description="answers")
    def answers_display(self, objection: Objection) -> str:
        answers = list(objection.answers.select_related("answered_by"))
        link = format_html(
            '<a class="button" href="{}">Answer</a>',
            reverse("admin:subprocessors_objection_answer", args=[objection.pk]),
        )
        if not answers:
            return format_html("Not answered yet. {}", link)
        rows = format_html(
            "".join(["<p><strong>{}</strong> by {}:<br>{}</p>"] * len(answers)),
            *[value for a in answers for value in (f"{a.created_at:%Y-%m-%d %H:%M}", a.answered_by, a.text)],
        )
        return format_html("{}{}", rows, link)

    def get_urls(self) -> list[URLPattern]:
        answer = path(
            "<int:pk>/answer/",
            self.admin_site.admin_view(self.answer_view),
            name="subprocessors_objection_answer",
        )
        return [answer, *super().get_urls()]

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        objection = get_object_or_404(self.get_queryset(request), pk=pk)
        if not (
            request.user.is_superuser
            or objection.site_id in site_ids_for_user(user=request.user, roles=EDITOR_ROLES)
        ):
            raise PermissionDenied
        form = ObjectionAnswerForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            services.objection_answer(
                objection=objection,
                text=form.cleaned_data["text"],
                by=request.user,
                ip=request.META.get("REMOTE_ADDR"),
            )
            messages.success(request, f"Answer recorded and emailed to {objection.email}.")
            return HttpResponseRedirect(reverse("admin:subprocessors_objection_change", args=[objection.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Answer the objection to {objection.vendor_name}",
            "opts": self.model._meta,
            "objection": objection,
            "form": form,
        }
        return TemplateResponse(request, "admin/subprocessors/objection_answer.html", context)
