"""The cookie catalogue in the back office, scoped to the user's sites."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from consent.models import Purpose
from consent.tenancy.scoping import SiteScopedModelAdmin, form_changes, instance_adopt
from consent.tenancy.selectors import site_ids_for_user
from cookies.catalogue.services import COOKIE_FIELDS, cookie_create, cookie_delete, cookie_update
from cookies.models import Cookie
from subprocessors.models import Vendor


@admin.register(Cookie)
class CookieAdmin(SiteScopedModelAdmin):
    list_display = ["name", "site", "purpose", "vendor", "duration_days", "domain"]
    list_filter = ["purpose__key"]
    search_fields = ["name", "vendor__name", "description"]
    list_select_related = ["site", "purpose", "vendor"]
    fields = ["site", "purpose", "vendor", "name", "domain", "duration_days", "description", "justification"]

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
        data = {name: form.cleaned_data[name] for name in COOKIE_FIELDS}
        instance_adopt(obj, self.service_call(request, cookie_create, site=form.cleaned_data["site"], **data))

    def delete_model(self, request: HttpRequest, obj: Cookie) -> None:
        self.service_call(request, cookie_delete, cookie=obj)
