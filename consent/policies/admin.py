"""Policy documents in the back office: DPOs draft, preview the diff and publish; versions are read-only."""

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES
from consent.models import (
    ChangeKind,
    PolicyDocument,
    PolicyText,
    PolicyVersion,
    Purpose,
    jurisdiction_choices,
)
from consent.policies.selectors import policy_version_diff, policy_version_in_force, policy_versions_upcoming
from consent.policies.services import (
    POLICY_DOCUMENT_FIELDS,
    PUBLISHER_ROLES,
    policy_document_create,
    policy_document_update,
    policy_reconsent_kinds,
    policy_required_languages,
    policy_text_delete,
    policy_text_set,
    policy_text_update,
    policy_version_publish,
)
from consent.policies.text import markdown_render
from consent.tenancy.scoping import (
    ReadOnlyAdminMixin,
    SiteScopedAdminMixin,
    SiteScopedModelAdmin,
    form_changes,
    instance_adopt,
)
from consent.tenancy.selectors import EDITOR_ROLES
from edge.client import client_ip


class PolicyDocumentForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Every published version must have these (plus the prevailing language and what the "
            "jurisdictions require, e.g. Russian for RU)."
        ),
    )
    jurisdictions = forms.MultipleChoiceField(
        choices=jurisdiction_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty for a document that serves every jurisdiction."),
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
        label=_("Effective at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=_("UTC. A material change needs the site's notice period."),
    )
    summary = forms.CharField(
        label=_("Summary"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown in the public history."),
    )
    is_material = forms.BooleanField(
        label=_("Material change"),
        required=False,
        help_text=_("Visitors are asked again once it takes effect (for the affected purposes)."),
    )
    change_kinds = forms.MultipleChoiceField(
        label=_("Change kinds"),
        choices=ChangeKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    affected_purposes = forms.MultipleChoiceField(
        label=_("Affected purposes"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Empty: every purpose."),
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

    def save_model(
        self, request: HttpRequest, obj: PolicyDocument, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                instance_adopt(
                    obj, self.service_call(request, policy_document_update, document=obj, **changes)
                )
            return
        data = form.cleaned_data
        document = self.service_call(
            request,
            policy_document_create,
            site=data["site"],
            kind=data["kind"],
            slug=data["slug"],
            **{name: data[name] for name in POLICY_DOCUMENT_FIELDS},
        )
        instance_adopt(obj, document)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        document = formset.instance
        self.formset_save_with(
            request,
            formset,
            create=lambda row: self.service_call(
                request,
                policy_text_set,
                document=document,
                language=row.cleaned_data["language"],
                title=row.cleaned_data["title"],
                body=row.cleaned_data["body"],
            ),
            update=lambda text, changes: self.service_call(request, policy_text_update, text=text, **changes),
            delete=lambda text: self.service_call(request, policy_text_delete, text=text),
        )

    @admin.display(description=_("In force"))
    def version_in_force(self, document: PolicyDocument) -> str:
        version = policy_version_in_force(document=document, at=timezone.now())
        if version is None:
            return "—"
        return gettext("v%(number)s since %(date)s") % {
            "number": version.number,
            "date": f"{version.effective_at:%Y-%m-%d}",
        }

    @admin.display(description=_("Upcoming"))
    def version_upcoming(self, document: PolicyDocument) -> str:
        upcoming = policy_versions_upcoming(document=document, at=timezone.now())
        return (
            ", ".join(
                gettext("v%(number)s on %(date)s")
                % {"number": version.number, "date": f"{version.effective_at:%Y-%m-%d}"}
                for version in upcoming
            )
            or "—"
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
                        gettext("Published %(document)s v%(number)s, in force from %(when)s UTC.")
                        % {
                            "document": document,
                            "number": version.number,
                            "when": f"{version.effective_at:%Y-%m-%d %H:%M}",
                        },
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
            "title": gettext("Preview and publish: %(document)s") % {"document": document},
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
