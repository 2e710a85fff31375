"""Sub-processor lists in the back office: DPOs edit the working list, preview the diff, publish."""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.models import Site
from consent.tenancy.scoping import (
    ReadOnlyAdminMixin,
    SiteScopedAdminMixin,
    SiteScopedModelAdmin,
    form_changes,
    instance_adopt,
)
from consent.tenancy.selectors import EDITOR_ROLES, site_ids_for_user
from edge.client import client_ip
from subprocessors.lists.selectors import (
    subprocessor_list_diff,
    subprocessor_list_in_force,
    subprocessor_list_latest,
    subprocessor_list_working_entries,
)
from subprocessors.lists.services import (
    VENDOR_FIELDS,
    subprocessor_list_earliest_effective_at,
    subprocessor_list_publish,
    vendor_create,
    vendor_delete,
    vendor_translation_delete,
    vendor_translation_set,
    vendor_translation_update,
    vendor_update,
)
from subprocessors.models import (
    SubprocessorListVersion,
    TransferMechanism,
    Vendor,
    VendorTranslation,
)


def https_url_formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
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
    # Adding a vendor: its purpose in the site's default language; other languages, and changes, in
    # the per-language texts of the change form.
    purpose = forms.CharField(
        label=_("purpose"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The service it provides and why personal data is shared (in the site's default language)."
        ),
    )
    locations = CommaListField(upper=True, help_text="ISO country codes, comma separated, e.g. IE, US.")
    data_categories = CommaListField(
        required=False, help_text=_("Comma separated, e.g. online identifiers, usage data.")
    )
    transfer_mechanisms = forms.MultipleChoiceField(
        choices=TransferMechanism.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Needed when any processing country is outside the EEA."),
    )

    class Meta:
        model = Vendor
        formfield_callback = staticmethod(https_url_formfield)
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
            "data_categories",
            "locations",
            "transfer_mechanisms",
            "transfer_assessment_ref",
            "dpf_checked_on",
            "ru_cross_border_notified_on",
        ]


class VendorTranslationInline(SiteScopedAdminMixin, admin.StackedInline):
    """The vendor's purpose per language: one per language the site serves."""

    model = VendorTranslation
    site_path = "vendor__site"
    extra = 0
    min_num = 1


@admin.register(Vendor)
class VendorAdmin(SiteScopedModelAdmin):
    """The working list: edits here are published only with the next list version."""

    form = VendorForm
    inlines = [VendorTranslationInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "key", "site", "category", "legal_entity", "locations_display", "is_listed"]
    list_filter = ["category", "is_listed"]
    search_fields = ["name", "key", "legal_entity"]
    list_select_related = ["site"]

    def get_form(
        self, request: HttpRequest, obj: Vendor | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            form.base_fields.pop("purpose", None)
        return form

    def get_fields(self, request: HttpRequest, obj: Vendor | None = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        return [field for field in fields if field != "purpose"] if obj is not None else fields

    def get_inlines(self, request: HttpRequest, obj: Vendor | None = None) -> list[Any]:
        return list(self.inlines) if obj is not None else []

    @admin.display(description="locations")
    def locations_display(self, vendor: Vendor) -> str:
        return ", ".join(vendor.locations)

    def get_readonly_fields(self, request: HttpRequest, obj: Vendor | None = None) -> list[str]:
        # Published lists and cookies name a vendor by site and key.
        return ["site", "key"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Vendor, form: forms.ModelForm, change: bool) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                instance_adopt(obj, self.service_call(request, vendor_update, vendor=obj, **changes))
            return
        data = {
            name: form.cleaned_data[name] for name in (*VENDOR_FIELDS, "purpose") if name in form.cleaned_data
        }
        vendor = self.service_call(
            request, vendor_create, site=form.cleaned_data["site"], key=form.cleaned_data["key"], **data
        )
        instance_adopt(obj, vendor)

    def delete_model(self, request: HttpRequest, obj: Vendor) -> None:
        self.service_call(request, vendor_delete, vendor=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        vendor = formset.instance
        self.formset_save_with(
            request,
            formset,
            create=lambda row: self.service_call(
                request,
                vendor_translation_set,
                vendor=vendor,
                language=row.cleaned_data["language"],
                purpose=row.cleaned_data["purpose"],
            ),
            update=lambda text, changes: self.service_call(
                request, vendor_translation_update, translation=text, **changes
            ),
            delete=lambda text: self.service_call(request, vendor_translation_delete, translation=text),
        )

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
                version = subprocessor_list_publish(
                    site=form.cleaned_data["site"],
                    effective_at=effective_at,
                    change_note=form.cleaned_data["change_note"],
                    by=request.user,
                    ip=client_ip(request) or None,
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
                    gettext(
                        "Published version %(number)s, effective %(when)s UTC. "
                        "Subscribers are being notified."
                    )
                    % {"number": version.number, "when": f"{version.effective_at:%Y-%m-%d %H:%M}"},
                )
                return HttpResponseRedirect(
                    reverse("admin:subprocessors_subprocessorlistversion_change", args=[version.pk])
                )
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": gettext("Publish the sub-processor list"),
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
                earliest=subprocessor_list_earliest_effective_at(site=site, published_at=now)
                if latest and diff.needs_notice
                else now,
            )
        return TemplateResponse(request, "admin/subprocessors/publish.html", context)
