"""Tenant scoping for the Django admin, shared by every app's admin.

A user sees a row when they hold any role on the row's site, and changes it when their role
is one of the admin's `change_roles`. Superusers see and change everything. Django's
per-model permissions are not consulted for members: the role is the permission, so a site
owner never needs a superuser to tick boxes before they can work.
"""

from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from consent.models import Role, Site
from consent.sites.selectors import EDITOR_ROLES, site_ids_for_user


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
        site_ids = site_ids_for_user(user=user, roles=roles)
        if obj is None:
            return bool(site_ids)
        return self._site_id_of(obj) in site_ids

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**self._site_filter(site_ids_for_user(user=request.user)))

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
            kwargs["queryset"] = Site.objects.filter(
                pk__in=site_ids_for_user(user=request.user, roles=self.change_roles)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class SiteScopedModelAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyAdminMixin:
    """For history (editions, audit entries, the ledger): visible to members, changed by nobody."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
