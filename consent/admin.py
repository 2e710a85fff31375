"""Back office for sites, their members and purposes: each user sees only their own sites."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from consent.geo import client_ip
from consent.languages import LANGUAGE_CHOICES
from consent.models import (
    AuditEntry,
    ChangeKind,
    Checkpoint,
    ConsentExport,
    ConsentRecord,
    ExportStatus,
    PolicyDocument,
    PolicyText,
    PolicyVersion,
    Purpose,
    PurposeTranslation,
    Role,
    Site,
    SiteMembership,
    SiteOrigin,
    jurisdiction_choices,
)
from consent.policy_text import markdown_render
from consent.selectors import (
    EDITOR_ROLES,
    policy_version_diff,
    policy_version_in_force,
    policy_versions_upcoming,
    site_ids_for_user,
)
from consent.services import (
    EXPORT_DIRECTORY,
    PUBLISHER_ROLES,
    consent_export_request,
    necessary_purpose_ensure,
    policy_reconsent_kinds,
    policy_required_languages,
    policy_version_publish,
    site_member_set,
)
from consent.tenancy import ReadOnlyAdminMixin, SiteScopedAdminMixin, SiteScopedModelAdmin

OWNER_ONLY = frozenset({Role.OWNER})


class SiteForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The default language is always included.",
    )

    class Meta:
        model = Site
        fields = [
            "name",
            "key",
            "default_language",
            "languages",
            "default_jurisdiction",
            "jurisdiction_overrides",
            "data_residency",
            "data_residency_note",
            "consent_retention_days",
            "notice_period_days",
        ]


class SiteOriginInline(SiteScopedAdminMixin, admin.TabularInline):
    model = SiteOrigin
    extra = 1
    change_roles = OWNER_ONLY
    delete_roles = OWNER_ONLY


class SiteMembershipForm(forms.ModelForm):
    """Members are named by email: an owner never browses the platform's user list."""

    email = forms.EmailField()

    class Meta:
        model = SiteMembership
        fields = ["email", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["email"].initial = self.instance.user.email
            self.fields["email"].disabled = True


class SiteMembershipFormSet(forms.BaseInlineFormSet):
    def save_new(self, form: forms.ModelForm, commit: bool = True) -> SiteMembership:
        return site_member_set(
            site=self.instance, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
        )

    def clean(self) -> None:
        super().clean()
        emails = [
            form.cleaned_data["email"].lower()
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if len(emails) != len(set(emails)):
            raise ValidationError("Each person can have only one role on a site.")


class SiteMembershipInline(SiteScopedAdminMixin, admin.TabularInline):
    model = SiteMembership
    form = SiteMembershipForm
    formset = SiteMembershipFormSet
    extra = 0
    change_roles = OWNER_ONLY
    delete_roles = OWNER_ONLY
    verbose_name = "member"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Who else works on a site is for its owners to know.
        return self._allowed(request, OWNER_ONLY, obj)


@admin.register(Site)
class SiteAdmin(SiteScopedModelAdmin):
    form = SiteForm
    site_path = ""
    change_roles = OWNER_ONLY
    delete_roles = frozenset()  # deleting a site would erase consent proof: superusers only
    list_display = ["name", "key", "default_jurisdiction", "default_language", "data_residency"]
    search_fields = ["name", "key", "origins__origin"]
    inlines = [SiteOriginInline, SiteMembershipInline]
    fieldsets = [
        (None, {"fields": ["name", "key"]}),
        ("Languages", {"fields": ["default_language", "languages"]}),
        ("Jurisdictions", {"fields": ["default_jurisdiction", "jurisdiction_overrides"]}),
        (
            "Data",
            {
                "fields": [
                    "data_residency",
                    "data_residency_note",
                    "consent_retention_days",
                    "notice_period_days",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        # The key is printed in script tags on customer pages: changing it would break them.
        return ["key"] if obj is not None else []

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An owner of one site may register more; everyone else asks a superuser.
        return self._allowed(request, OWNER_ONLY, None)

    def save_model(self, request: HttpRequest, obj: Site, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            SiteMembership.objects.get_or_create(site=obj, user=request.user, defaults={"role": Role.OWNER})
        necessary_purpose_ensure(site=obj)


class PurposeTranslationInline(SiteScopedAdminMixin, admin.StackedInline):
    model = PurposeTranslation
    site_path = "purpose__site"
    extra = 0
    min_num = 1


class PurposeForm(forms.ModelForm):
    class Meta:
        model = Purpose
        fields = ["site", "key", "is_sale_or_share", "position"]


@admin.register(Purpose)
class PurposeAdmin(SiteScopedModelAdmin):
    form = PurposeForm
    list_display = ["key", "site", "is_necessary", "is_sale_or_share", "position"]
    list_filter = ["is_sale_or_share"]
    search_fields = ["key", "translations__name"]
    inlines = [PurposeTranslationInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Purpose | None = None) -> list[str]:
        # Keys are copied into consent records by value; renaming one would orphan its history.
        return ["site", "key"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Purpose | None = None) -> bool:
        if obj is not None and obj.is_necessary:
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Purpose]:
        return super().get_queryset(request).select_related("site")

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        if request.user.is_superuser or len(site_ids_for_user(user=request.user)) > 1:
            return [("site", admin.RelatedOnlyFieldListFilter), *self.list_filter]
        return list(self.list_filter)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["created_at", "site", "action", "target", "actor", "actor_ip"]
    list_filter = ["action"]
    search_fields = ["target", "action", "actor__email"]
    date_hierarchy = "created_at"
    list_select_related = ["site", "actor"]
    fields = ["created_at", "site", "action", "target", "actor", "actor_ip", "data"]
    readonly_fields = fields


# --- Policy documents ------------------------------------------------------------------------


class PolicyDocumentForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every published version must have these (plus the prevailing language and what the "
        "jurisdictions require, e.g. Russian for RU).",
    )
    jurisdictions = forms.MultipleChoiceField(
        choices=jurisdiction_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty for a document that serves every jurisdiction.",
    )

    class Meta:
        model = PolicyDocument
        fields = ["site", "kind", "slug", "jurisdictions", "prevailing_language", "languages"]


class PolicyTextInline(SiteScopedAdminMixin, admin.StackedInline):
    model = PolicyText
    site_path = "document__site"
    extra = 0
    fields = ["language", "title", "body"]
    delete_roles = EDITOR_ROLES


class PublishForm(forms.Form):
    effective_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text="UTC. A material change needs the site's notice period.",
    )
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown in the public history."
    )
    is_material = forms.BooleanField(
        required=False, help_text="Visitors are asked again once it takes effect (for the affected purposes)."
    )
    change_kinds = forms.MultipleChoiceField(
        choices=ChangeKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    affected_purposes = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple, help_text="Empty: every purpose."
    )

    def __init__(self, *args: Any, purposes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["affected_purposes"].choices = [(key, key) for key in purposes]


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(SiteScopedModelAdmin):
    form = PolicyDocumentForm
    inlines = [PolicyTextInline]
    list_display = ["__str__", "site", "kind", "version_in_force", "version_upcoming"]
    list_filter = ["kind"]
    search_fields = ["slug", "texts__title"]
    list_select_related = ["site"]
    delete_roles = frozenset()  # published editions hang off it; documents are never deleted
    change_form_template = "admin/consent/policydocument/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: PolicyDocument | None = None) -> list[str]:
        return ["site", "kind", "slug"] if obj is not None else []

    @admin.display(description="In force")
    def version_in_force(self, document: PolicyDocument) -> str:
        version = policy_version_in_force(document=document, at=timezone.now())
        return f"v{version.number} since {version.effective_at:%Y-%m-%d}" if version else "—"

    @admin.display(description="Upcoming")
    def version_upcoming(self, document: PolicyDocument) -> str:
        upcoming = policy_versions_upcoming(document=document, at=timezone.now())
        return (
            ", ".join(f"v{version.number} on {version.effective_at:%Y-%m-%d}" for version in upcoming) or "—"
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="consent_policydocument_publish",
            ),
            *super().get_urls(),
        ]

    def has_publish_permission(self, request: HttpRequest, document: PolicyDocument) -> bool:
        return self._allowed(request, PUBLISHER_ROLES, document)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        document = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_publish": document is not None and self.has_publish_permission(request, document),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def publish_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Preview the working copy, diff it against the version in force, and publish it."""
        document = self.get_object(request, str(object_id))
        if document is None:
            raise Http404
        if not self.has_publish_permission(request, document):
            raise PermissionDenied
        now = timezone.now()
        in_force = policy_version_in_force(document=document, at=now)
        upcoming = policy_versions_upcoming(document=document, at=now)
        latest = upcoming[-1] if upcoming else in_force
        purposes = list(
            Purpose.objects.filter(site=document.site, is_necessary=False).values_list("key", flat=True)
        )
        if request.method == "POST":
            form = PublishForm(request.POST, purposes=purposes)
            if form.is_valid():
                try:
                    version = policy_version_publish(
                        document=document,
                        effective_at=form.cleaned_data["effective_at"],
                        by=request.user,
                        summary=form.cleaned_data["summary"],
                        is_material=form.cleaned_data["is_material"],
                        change_kinds=form.cleaned_data["change_kinds"],
                        affected_purposes=form.cleaned_data["affected_purposes"],
                        ip=client_ip(request),
                    )
                except ValidationError as error:
                    for field, field_errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, field_errors)
                else:
                    self.message_user(
                        request,
                        f"Published {document} v{version.number}, "
                        f"in force from {version.effective_at:%Y-%m-%d %H:%M} UTC.",
                        messages.SUCCESS,
                    )
                    return redirect("admin:consent_policydocument_change", document.pk)
        else:
            default_effective = now + timedelta(days=document.site.notice_period_days)
            form = PublishForm(
                initial={"effective_at": default_effective.replace(second=0, microsecond=0)},
                purposes=purposes,
            )
        texts = list(document.texts.all())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Preview and publish: {document}",
            "document": document,
            "form": form,
            "in_force": in_force,
            "latest": latest,
            "previews": [(text, markdown_render(text.body)) for text in texts],
            "diffs": policy_version_diff(old=latest, new=document, context=3),
            "required_languages": policy_required_languages(document=document),
            "notice_period_days": document.site.notice_period_days,
            "reconsent_kinds": sorted(policy_reconsent_kinds(document=document)),
        }
        return TemplateResponse(request, "admin/consent/policydocument/publish.html", context)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    site_path = "document__site"
    list_display = ["document", "number", "effective_at", "published_at", "is_material", "published_by"]
    list_filter = ["is_material"]
    list_select_related = ["document", "document__site", "published_by"]
    date_hierarchy = "published_at"
    fields = [
        "document",
        "number",
        "published_at",
        "effective_at",
        "published_by",
        "published_from_ip",
        "change_note",
        "is_material",
        "change_kinds",
        "affected_purposes",
        "content_sha256",
        "rendered",
    ]
    readonly_fields = fields

    @admin.display(description="Text")
    def rendered(self, version: PolicyVersion) -> str:
        # The stored HTML was sanitised when the version was published.
        return format_html_join(
            "",
            '<section lang="{}"><h3>{} [{}]</h3>{}</section>',
            (
                (code, version.texts[code]["title"], code, mark_safe(version.texts[code]["html"]))  # noqa: S308
                for code in version.languages
            ),
        )


# --- The consent ledger --------------------------------------------------------------------------


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    """The ledger, read-only for everyone: it is evidence."""

    list_display = [
        "created_at",
        "site",
        "action",
        "jurisdiction",
        "language",
        "receipt_id",
        "is_redacted_display",
    ]
    list_filter = ["action", "jurisdiction", "ui_layer", "gpc"]
    search_fields = ["receipt_id", "visitor_id"]
    date_hierarchy = "created_at"
    list_select_related = ["site"]
    show_full_result_count = False  # counting a big ledger on every page load is wasted work
    readonly_fields = [field.name for field in ConsentRecord._meta.fields]

    @admin.display(description="Redacted", boolean=True)
    def is_redacted_display(self, record: ConsentRecord) -> bool:
        return record.is_redacted


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["created_at", "site", "tree_size", "root_hash", "key_id"]
    list_select_related = ["site"]
    readonly_fields = ["site", "tree_size", "root_hash", "created_at", "key_id", "signature"]


class ConsentExportForm(forms.ModelForm):
    class Meta:
        model = ConsentExport
        fields = ["site", "date_from", "date_to", "format"]
        widgets = {
            "date_from": forms.DateInput(attrs={"type": "date"}),
            "date_to": forms.DateInput(attrs={"type": "date"}),
        }


@admin.register(ConsentExport)
class ConsentExportAdmin(SiteScopedModelAdmin):
    """Exports for DPOs: request one, watch its progress, download the file."""

    form = ConsentExportForm
    list_display = ["created_at", "site", "date_from", "date_to", "format", "status", "progress", "download"]
    list_select_related = ["site"]
    change_form_template = "admin/consent/consentexport/change_form.html"
    delete_roles = EDITOR_ROLES

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentExport | None = None) -> list[str]:
        if obj is None:
            return []
        return [
            "site",
            "date_from",
            "date_to",
            "format",
            "status",
            "progress",
            "download",
            "requested_by",
            "error",
        ]

    def get_fields(self, request: HttpRequest, obj: ConsentExport | None = None) -> list[str]:
        if obj is None:
            return ["site", "date_from", "date_to", "format"]
        return self.get_readonly_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description="Progress")
    def progress(self, export: ConsentExport) -> str:
        return format_html(
            '<progress value="{}" max="100">{}%</progress> {} of {} rows',
            export.percent,
            export.percent,
            export.rows_done,
            export.rows_total,
        )

    @admin.display(description="File")
    def download(self, export: ConsentExport) -> str:
        if export.status != ExportStatus.DONE:
            return "—"
        url = reverse("admin:consent_consentexport_download", args=[export.pk])
        return format_html('<a href="{}">{}</a>', url, export.file_name)

    def save_model(
        self, request: HttpRequest, obj: ConsentExport, form: forms.ModelForm, change: bool
    ) -> None:
        export = consent_export_request(
            site=obj.site,
            by=request.user,
            date_from=obj.date_from,
            date_to=obj.date_to,
            fmt=obj.format,
            ip=client_ip(request),
        )
        obj.pk = export.pk
        obj.refresh_from_db()

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="consent_consentexport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        export = self.get_object(request, str(object_id))
        if export is None or export.status != ExportStatus.DONE:
            raise Http404
        if not self._allowed(request, EDITOR_ROLES, export):
            raise PermissionDenied
        path_on_disk = Path(settings.MEDIA_ROOT) / EXPORT_DIRECTORY / export.file_name
        return FileResponse(path_on_disk.open("rb"), as_attachment=True, filename=export.file_name)
