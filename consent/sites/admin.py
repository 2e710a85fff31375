"""Sites and their purposes in the back office: each user sees only the sites they are a member of."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from consent.languages import LANGUAGE_CHOICES
from consent.models import Purpose, PurposeTranslation, Role, Site, SiteMembership, SiteOrigin
from consent.sites.selectors import site_ids_for_user
from consent.sites.services import necessary_purpose_ensure, site_member_set
from consent.sites.tenancy import SiteScopedAdminMixin, SiteScopedModelAdmin

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
