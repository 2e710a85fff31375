"""Sites and their purposes in the back office: each user sees only the sites they are a member of."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES
from consent.models import Purpose, PurposeTranslation, Role, Site, SiteMembership, SiteOrigin
from consent.sites.services import (
    SITE_SETTINGS_FIELDS,
    purpose_create,
    purpose_delete,
    purpose_translation_delete,
    purpose_translation_set,
    purpose_translation_update,
    purpose_update,
    site_create,
    site_origin_add,
    site_origin_change,
    site_origin_remove,
    site_settings_update,
)
from consent.tenancy.scoping import SiteScopedAdminMixin, SiteScopedModelAdmin, form_changes, instance_adopt
from consent.tenancy.selectors import EDITOR_ROLES, site_ids_for_user, site_role_for_user
from consent.tenancy.services import site_member_set, site_membership_remove, site_membership_role_change

OWNER_ONLY = frozenset({Role.OWNER})


class SiteForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The default language is always included."),
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
            "ip_storage",
            "store_user_agent",
            "notice_period_days",
            "establishment_country",
        ]


class SiteOriginInline(SiteScopedAdminMixin, admin.TabularInline):
    model = SiteOrigin
    extra = 1
    change_roles = OWNER_ONLY
    delete_roles = OWNER_ONLY


class SiteMembershipForm(forms.ModelForm):
    """Members are named by email: an owner never browses the platform's user list."""

    email = forms.EmailField(label=_("email"))

    class Meta:
        model = SiteMembership
        fields = ["email", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["email"].initial = self.instance.user.email
            self.fields["email"].disabled = True


class SiteMembershipFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        emails = [
            form.cleaned_data["email"].lower()
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if len(emails) != len(set(emails)):
            raise ValidationError(gettext("Each person can have only one role on a site."))


class SiteMembershipInline(SiteScopedAdminMixin, admin.TabularInline):
    """Owners manage members; DPOs too, because only a DPO may grant or remove the DPO role.

    The service (`site_membership_change_check`) decides each change; the inline only
    decides who sees the form.
    """

    model = SiteMembership
    form = SiteMembershipForm
    formset = SiteMembershipFormSet
    extra = 0
    change_roles = EDITOR_ROLES
    delete_roles = EDITOR_ROLES
    verbose_name = gettext_lazy("member")
    verbose_name_plural = gettext_lazy("members")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Who else works on a site is for its owners and DPOs to know.
        return self._allowed(request, EDITOR_ROLES, obj)


@admin.register(Site)
class SiteAdmin(SiteScopedModelAdmin):
    form = SiteForm
    site_path = ""
    # DPOs post this form too (for the members inline); the settings stay read-only for them.
    change_roles = EDITOR_ROLES
    delete_roles = frozenset()  # deleting a site would erase consent proof: superusers only
    list_display = ["name", "key", "default_jurisdiction", "default_language", "data_residency"]
    search_fields = ["name", "key", "origins__origin"]
    inlines = [SiteOriginInline, SiteMembershipInline]
    fieldsets = [
        (None, {"fields": ["name", "key"]}),
        (_("Languages"), {"fields": ["default_language", "languages"]}),
        (_("Jurisdictions"), {"fields": ["default_jurisdiction", "jurisdiction_overrides"]}),
        (
            _("Data"),
            {
                "fields": [
                    "data_residency",
                    "data_residency_note",
                    "consent_retention_days",
                    "ip_storage",
                    "store_user_agent",
                    "notice_period_days",
                    "establishment_country",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Site | None = None) -> list[Any]:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets = [
                (name, {**options, "fields": [*options["fields"], "content_languages"]})
                if options["fields"] and options["fields"][0] == "default_language"
                else (name, options)
                for name, options in fieldsets
            ]
            fieldsets.append((gettext_lazy("History"), {"fields": ["audit_trail"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        if obj is None:
            return []
        # The key is printed in script tags on customer pages: changing it would break them.
        readonly = ["key", "audit_trail", "content_languages"]
        if not request.user.is_superuser and site_role_for_user(site=obj, user=request.user) != Role.OWNER:
            readonly += [name for name in SiteForm.Meta.fields if name != "key"]
        return readonly

    @admin.display(description=gettext_lazy("Site content"))
    def content_languages(self, site: Site) -> str:
        # The page is the cookies app's (it reads purposes, cookies, vendors and policies together).
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:cookies_site_languages", args=[site.pk]),
            gettext("What is missing in each language"),
        )

    @admin.display(description=gettext_lazy("Audit trail"))
    def audit_trail(self, site: Site) -> str:
        count = site.audit_entries.count()
        return format_html(
            '<a href="{}?site__id__exact={}">{}</a>',
            reverse("admin:consent_auditentry_changelist"),
            site.pk,
            ngettext("%(count)d change recorded", "%(count)d changes recorded", count) % {"count": count},
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An owner of one site may register more; everyone else asks a superuser.
        return self._allowed(request, OWNER_ONLY, None)

    def save_model(self, request: HttpRequest, obj: Site, form: forms.ModelForm, change: bool) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                instance_adopt(obj, self.service_call(request, site_settings_update, site=obj, **changes))
            return
        settings = {
            name: form.cleaned_data[name] for name in SITE_SETTINGS_FIELDS if name in form.cleaned_data
        }
        site = self.service_call(
            request,
            site_create,
            key=form.cleaned_data.get("key") or None,
            owner=None if request.user.is_superuser else request.user,
            **settings,
        )
        instance_adopt(obj, site)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        site = formset.instance
        if formset.model is SiteOrigin:
            self.formset_save_with(
                request,
                formset,
                create=lambda row: self.service_call(
                    request, site_origin_add, site=site, origin=row.cleaned_data["origin"]
                ),
                update=lambda origin, changes: self.service_call(
                    request, site_origin_change, site_origin=origin, **changes
                ),
                delete=lambda origin: self.service_call(request, site_origin_remove, site_origin=origin),
            )
        elif formset.model is SiteMembership:
            self.formset_save_with(
                request,
                formset,
                create=lambda row: self.service_call(
                    request,
                    site_member_set,
                    site=site,
                    email=row.cleaned_data["email"],
                    role=row.cleaned_data["role"],
                ),
                update=lambda membership, changes: self.service_call(
                    request, site_membership_role_change, membership=membership, **changes
                ),
                delete=lambda membership: self.service_call(
                    request, site_membership_remove, membership=membership
                ),
            )
        else:
            super().save_formset(request, form, formset, change)


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

    def save_model(self, request: HttpRequest, obj: Purpose, form: forms.ModelForm, change: bool) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                instance_adopt(obj, self.service_call(request, purpose_update, purpose=obj, **changes))
            return
        data = form.cleaned_data
        purpose = self.service_call(
            request,
            purpose_create,
            site=data["site"],
            key=data["key"],
            texts={},
            is_sale_or_share=data["is_sale_or_share"],
            position=data["position"],
        )
        instance_adopt(obj, purpose)

    def delete_model(self, request: HttpRequest, obj: Purpose) -> None:
        self.service_call(request, purpose_delete, purpose=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        purpose = formset.instance
        self.formset_save_with(
            request,
            formset,
            create=lambda row: self.service_call(
                request,
                purpose_translation_set,
                purpose=purpose,
                language=row.cleaned_data["language"],
                name=row.cleaned_data["name"],
                description=row.cleaned_data["description"],
            ),
            update=lambda text, changes: self.service_call(
                request, purpose_translation_update, translation=text, **changes
            ),
            delete=lambda text: self.service_call(request, purpose_translation_delete, translation=text),
        )

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        if request.user.is_superuser or len(site_ids_for_user(user=request.user)) > 1:
            return [("site", admin.RelatedOnlyFieldListFilter), *self.list_filter]
        return list(self.list_filter)
