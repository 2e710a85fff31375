"""Tenant scoping for the Django admin, shared by every app's admin.

A user sees a row when they hold any role on the row's site, and changes it when their role
is one of the admin's `change_roles`. Superusers see and change everything. Django's
per-model permissions are not consulted for members: the role is the permission, so a site
owner never needs a superuser to tick boxes before they can work.
"""

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

from consent.models import Role, Site
from consent.tenancy.selectors import EDITOR_ROLES, site_roles_for_user
from edge.client import client_ip


def request_site_ids(request: HttpRequest, roles: frozenset[str] | None = None) -> set[int]:
    """The sites the request's user holds one of `roles` on (any role when None). The user's
    memberships are read once per request: the admin asks this for every model of its index and
    sidebar, every row's permissions and every site drop-down."""
    roles_by_site: dict[int, str] | None = getattr(request, "_consentry_site_roles", None)
    if roles_by_site is None:
        roles_by_site = site_roles_for_user(user=request.user)
        request._consentry_site_roles = roles_by_site  # type: ignore[attr-defined]
    return {site_id for site_id, role in roles_by_site.items() if roles is None or role in roles}


class SiteScopedAdminMixin:
    """Mix into a ModelAdmin (or inline) whose rows belong to one site.

    `site_path` is the lookup from the row to its Site ("" for Site itself, "site" for a
    direct foreign key, "purpose__site" further away).
    """

    site_path: ClassVar[str] = "site"
    change_roles: ClassVar[frozenset[str]] = EDITOR_ROLES
    add_roles: ClassVar[frozenset[str] | None] = None  # None: the same as change_roles
    delete_roles: ClassVar[frozenset[str]] = frozenset({Role.OWNER})

    def _site_filter(self, site_ids: set[int]) -> dict[str, Any]:
        return {f"{self.site_path}__in" if self.site_path else "pk__in": site_ids}

    def _site_id_of(self, obj: Model) -> int | None:
        # Inlines are asked about their parent (a Site, or a row with a site), not their own rows.
        if isinstance(obj, Site):
            return obj.pk
        if hasattr(obj, "site_id"):
            return obj.site_id
        target: Any = obj
        for part in self.site_path.split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target.pk

    def _allowed(self, request: HttpRequest, roles: frozenset[str] | None, obj: Model | None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        site_ids = request_site_ids(request, roles)
        if obj is None:
            return bool(site_ids)
        return self._site_id_of(obj) in site_ids

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**self._site_filter(request_site_ids(request)))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, None, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, self.change_roles, obj)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # For inlines `obj` is the parent being edited; for a top-level admin it is None.
        roles = self.change_roles if self.add_roles is None else self.add_roles
        return self._allowed(request, roles, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, self.delete_roles, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Only offer the sites the user may edit: a member of site A must not even learn
        # the names of other sites from a drop-down.
        if db_field.related_model is Site and not request.user.is_superuser:
            kwargs["queryset"] = Site.objects.filter(pk__in=request_site_ids(request, self.change_roles))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class AdminRefusal(Exception):
    """A service refused a change made in the admin; the request's transaction is rolled back."""


def form_changes(form: forms.BaseForm, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields a person changed in a submitted form, with their cleaned values."""
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in form.cleaned_data
        and name not in ("id", "DELETE", *exclude)
        and not form.fields[name].disabled
    }


def instance_adopt(obj: Model, saved: Model) -> None:
    """Make the admin's in-memory row the one a service saved (the admin goes on using `obj`)."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


class SiteScopedModelAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """A site-scoped admin whose saves go through services.

    `service_call` passes who and from where to the service and turns its refusal
    (PermissionDenied, ValidationError) into an error message after the whole save, inlines
    included, has been rolled back, so a refused change writes nothing and is never a 500.
    """

    def service_call(self, request: HttpRequest, service: Callable[..., Any], /, **kwargs: Any) -> Any:
        try:
            return service(by=request.user, ip=client_ip(request) or None, **kwargs)
        except ValidationError as error:
            raise AdminRefusal(" ".join(error.messages)) from error
        except PermissionDenied as error:
            raise AdminRefusal(str(error) or gettext("You may not make this change.")) from error

    def formset_save_with(
        self,
        request: HttpRequest,
        formset: forms.BaseModelFormSet,
        *,
        create: Callable[[forms.ModelForm], Model],
        update: Callable[[Model, dict[str, Any]], Model],
        delete: Callable[[Model], None],
    ) -> None:
        """Save an inline formset row by row through services (what `formset.save()` would write itself)."""
        exclude = (formset.fk.name,) if hasattr(formset, "fk") else ()
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = formset.deleted_forms if formset.can_delete else []
        for form in formset.initial_forms:
            obj = form.instance
            if obj.pk is None:
                continue
            if form in deleted:
                delete(obj)
                formset.deleted_objects.append(obj)
            elif form.has_changed():
                changes = form_changes(form, exclude)
                if changes:
                    instance_adopt(obj, update(obj, changes))
                    formset.changed_objects.append((obj, list(changes)))
        for form in formset.extra_forms:
            if not form.has_changed() or form in deleted:
                continue
            formset.new_objects.append(create(form))

    def _refused(self, request: HttpRequest, refusal: AdminRefusal, to: str) -> HttpResponse:
        self.message_user(request, str(refusal), messages.ERROR)
        return HttpResponseRedirect(to)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except AdminRefusal as refusal:
            return self._refused(request, refusal, request.get_full_path())

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except AdminRefusal as refusal:
            opts = self.model._meta
            return self._refused(
                request,
                refusal,
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]),
            )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        try:
            # Actions (bulk delete) in one transaction with Django's own log of them.
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        except AdminRefusal as refusal:
            return self._refused(request, refusal, request.get_full_path())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        # One row at a time, so every deletion goes through delete_model (and its service).
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdminMixin:
    """For history (editions, audit entries, the ledger): visible to members, changed by nobody."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
