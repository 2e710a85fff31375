"""The cookie catalogue in the back office, scoped to the user's sites."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from consent.models import Purpose
from consent.tenancy.scoping import SiteScopedAdminMixin, SiteScopedModelAdmin, form_changes, instance_adopt
from consent.tenancy.selectors import site_ids_for_user
from cookies.catalogue.services import (
    COOKIE_FIELDS,
    cookie_create,
    cookie_delete,
    cookie_translation_delete,
    cookie_translation_set,
    cookie_translation_update,
    cookie_update,
)
from cookies.models import Cookie, CookieTranslation
from subprocessors.models import Vendor


class CookieTranslationInline(SiteScopedAdminMixin, admin.StackedInline):
    """The cookie's description per language: one per language the site serves."""

    model = CookieTranslation
    site_path = "cookie__site"
    extra = 0
    min_num = 1


class CookieForm(forms.ModelForm):
    # Adding a cookie: its description in the site's default language; other languages, and changes,
    # in the per-language texts of the change form.
    description = forms.CharField(
        label=_("description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What it stores and why, in plain words (in the site's default language)."),
    )

    class Meta:
        model = Cookie
        fields = ["site", "purpose", "vendor", "name", "domain", "duration_days", "justification"]


@admin.register(Cookie)
class CookieAdmin(SiteScopedModelAdmin):
    form = CookieForm
    list_display = ["name", "site", "purpose", "vendor", "duration_days", "domain"]
    list_filter = ["purpose__key"]
    search_fields = ["name", "vendor__name", "translations__description"]
    list_select_related = ["site", "purpose", "vendor"]
    inlines = [CookieTranslationInline]

    def get_fields(self, request: HttpRequest, obj: Cookie | None = None) -> list[str]:
        fields = ["site", "purpose", "vendor", "name", "domain", "duration_days", "justification"]
        return fields + ["description"] if obj is None else fields

    def get_form(
        self, request: HttpRequest, obj: Cookie | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            form.base_fields.pop("description", None)
        return form

    def get_inlines(self, request: HttpRequest, obj: Cookie | None = None) -> list[Any]:
        return list(self.inlines) if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Purposes and vendors of other tenants are never offered (nor their names leaked).
        if db_field.related_model in (Purpose, Vendor) and not request.user.is_superuser:
            site_ids = site_ids_for_user(user=request.user, roles=self.change_roles)
            kwargs["queryset"] = db_field.related_model.objects.filter(site_id__in=site_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cookie]:
        return super().get_queryset(request).select_related("site", "purpose", "vendor")

    def get_readonly_fields(self, request: HttpRequest, obj: Cookie | None = None) -> list[str]:
        # A catalogued cookie stays with its site.
        return ["site"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Cookie, form: forms.ModelForm, change: bool) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                instance_adopt(obj, self.service_call(request, cookie_update, cookie=obj, **changes))
            return
        data = {name: form.cleaned_data[name] for name in (*COOKIE_FIELDS, "description")}
        instance_adopt(obj, self.service_call(request, cookie_create, site=form.cleaned_data["site"], **data))

    def delete_model(self, request: HttpRequest, obj: Cookie) -> None:
        self.service_call(request, cookie_delete, cookie=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        cookie = formset.instance
        self.formset_save_with(
            request,
            formset,
            create=lambda row: self.service_call(
                request,
                cookie_translation_set,
                cookie=cookie,
                language=row.cleaned_data["language"],
                description=row.cleaned_data["description"],
            ),
            update=lambda text, changes: self.service_call(
                request, cookie_translation_update, translation=text, **changes
            ),
            delete=lambda text: self.service_call(request, cookie_translation_delete, translation=text),
        )
