"""Who may do what on which site: the roles, and the sites a user holds a role on."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from consent.models import (
    AdminPreference,
    Role,
    Site,
    SiteMembership,
)

OWNER_ROLES: frozenset[str] = frozenset({Role.OWNER})


# Roles that may change a site's configuration (purposes, texts, origins).
EDITOR_ROLES: frozenset[str] = frozenset({Role.OWNER, Role.DPO})


def site_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Site]:
    """The sites a user may see: all for superusers, their memberships otherwise; for a request
    authenticated by an API token (consent.tokens.auth.TokenPrincipal), the token's site only."""
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    token = getattr(user, "api_token", None)
    if token is not None:
        return Site.objects.filter(pk=token.site_id)
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(memberships__user=user).distinct()


def site_ids_for_user(
    *, user: AbstractBaseUser | AnonymousUser, roles: frozenset[str] | None = None
) -> set[int]:
    """Ids of the sites on which the user holds one of `roles` (any role when None); not for superusers."""
    memberships = SiteMembership.objects.filter(user=user, user__is_active=True)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return set(memberships.values_list("site_id", flat=True))


def site_roles_for_user(*, user: AbstractBaseUser | AnonymousUser) -> dict[int, str]:
    """Every site the user holds a role on, with the role (one per site): one query, for a caller
    that asks many questions about the same user (the admin, once per request)."""
    memberships = SiteMembership.objects.filter(user=user, user__is_active=True)
    return dict(memberships.values_list("site_id", "role"))


def site_role_for_user(*, site: Site, user: AbstractBaseUser | AnonymousUser) -> str | None:
    if not user.is_authenticated or getattr(user, "api_token", None) is not None:
        return None
    return SiteMembership.objects.filter(site=site, user=user).values_list("role", flat=True).first()


def admin_language_for_user(*, user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The back-office language `user` chose (consent.tenancy.services.admin_language_set), if any."""
    if not user.is_authenticated:
        return None
    return AdminPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
