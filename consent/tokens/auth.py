"""`Authorization: Bearer cst_…` on the management API (DRF authentication), limited per token.

The request's user is a TokenPrincipal, not the token's creator: a view that forgot to ask
which site the token is for finds no site of the creator's through it (consent.tokens.access
and consent.tenancy.selectors.site_list_for_user answer the token's one site).
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

from consent.models import ApiToken
from consent.tokens.selectors import token_find
from consent.tokens.services import token_used
from edge.ratelimit import rate_limits_exceeded


@dataclass(frozen=True)
class TokenPrincipal:
    """Who a token-authenticated request is: the token, acting for its creator (None: the shell)."""

    api_token: ApiToken
    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = False
    is_staff: bool = False
    is_anonymous: bool = False
    pk: None = None

    @property
    def creator(self) -> AbstractUser | None:
        return self.api_token.created_by

    def __str__(self) -> str:
        return self.api_token.visible_prefix


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[TokenPrincipal, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Send the token as “Authorization: Bearer <token>”."))
        token = token_find(raw=parts[1].decode("latin-1"))
        if token is None:
            raise AuthenticationFailed(_("The token is unknown, revoked or expired."))
        wait = rate_limits_exceeded([(f"token:{token.pk}", settings.API_TOKEN_RATE)])
        if wait is not None:
            raise Throttled(
                wait=wait,
                detail=_("Too many requests with this token; try again in %(seconds)s seconds.")
                % {"seconds": wait},
            )
        token_used(token=token)
        return TokenPrincipal(api_token=token), token

    def authenticate_header(self, request: Any) -> str:
        # A WWW-Authenticate challenge makes an anonymous call a 401 (authenticate), not a 403.
        return 'Bearer realm="consentry"'
