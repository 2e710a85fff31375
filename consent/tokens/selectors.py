"""Reading tokens: a site's list, and the token a request presents."""

import hashlib
import hmac
import re

from django.db.models import QuerySet
from django.utils import timezone

from consent.models import TOKEN_PREFIX, ApiToken, Site, SiteMembership
from consent.tokens.scopes import scopes_for_role

# cst_<8 lowercase letters or digits>_<43 characters of URL-safe base64> (32 random bytes).
TOKEN_PATTERN = re.compile(rf"^{TOKEN_PREFIX}(?P<prefix>[a-z0-9]{{8}})_(?P<secret>[A-Za-z0-9_-]{{43}})$")


def token_sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_list(*, site: Site) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(site=site).select_related("created_by", "revoked_by")


def token_find(*, raw: str) -> ApiToken | None:
    """The live token `raw` is, or None: unknown, malformed, revoked, expired, or its creator no
    longer holds a role on the site that allows its scopes (a token dies with its maker's role)."""
    match = TOKEN_PATTERN.match(raw)
    if match is None:
        return None
    token = (
        ApiToken.objects.select_related("site", "created_by")
        .filter(prefix=match["prefix"], revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_sha256, token_sha256(raw)):
        return None
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return None
    creator = token.created_by
    if creator is not None:
        if not creator.is_active:
            return None
        role = (
            SiteMembership.objects.filter(site=token.site, user=creator)
            .values_list("role", flat=True)
            .first()
        )
        if not set(token.scopes) <= scopes_for_role(role, is_superuser=creator.is_superuser):
            return None
    return token
