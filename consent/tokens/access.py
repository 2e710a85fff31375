"""Which site a management-API request may act on, and under which scope.

Every management view starts here. A token acts on its own site only (any other key is a 404,
whether or not that site exists) and only within its scopes (403 `scope_missing`); a logged-in
person (the admin's session) acts on the sites they hold a role on, within what the role allows.
"""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied

from consent.models import ApiToken, Site, TokenScope
from consent.tenancy.selectors import site_list_for_user, site_role_for_user
from consent.tokens.scopes import scopes_for_role


def request_token(request: Any) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def _scope_refusal(scope: str, *, token: bool) -> PermissionDenied:
    label = TokenScope(scope).label
    if token:
        message = _("This token does not have the “%(scope)s” scope (%(label)s).")
    else:
        message = _("Your role on this site does not allow this (%(label)s).")
    return PermissionDenied(detail=message % {"scope": scope, "label": label}, code="scope_missing")


def api_site(request: Any, *, site_key: str, scope: str) -> Site:
    """The site `site_key` names, if this request may act on it under `scope`."""
    token = request_token(request)
    if token is not None:
        if token.site.key != site_key:
            raise Http404
        if scope not in token.scopes:
            raise _scope_refusal(scope, token=True)
        return token.site
    site = site_list_for_user(user=request.user).filter(key=site_key).first()
    if site is None:
        raise Http404
    role = site_role_for_user(site=site, user=request.user)
    if scope not in scopes_for_role(role, is_superuser=request.user.is_superuser):
        raise _scope_refusal(scope, token=False)
    return site


def api_sites(request: Any) -> QuerySet[Site]:
    """The sites this request may read: a token's one site (with `read`), a person's sites."""
    token = request_token(request)
    if token is not None:
        return (
            Site.objects.filter(pk=token.site_id) if TokenScope.READ in token.scopes else Site.objects.none()
        )
    return site_list_for_user(user=request.user)


def api_actor(request: Any) -> tuple[AbstractUser | None, dict[str, str]]:
    """Who a service call through this request acts as, and what its audit row adds: through a
    token, the token's creator (None for a shell token) and the token's prefix."""
    token = request_token(request)
    if token is not None:
        return token.created_by, {"token": token.visible_prefix}
    return request.user, {}
