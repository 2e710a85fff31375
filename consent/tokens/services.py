"""Making, revoking and using API tokens; each change writes its audit row in its transaction."""

import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.audit.services import audit_record
from consent.models import TOKEN_PREFIX, ApiToken, Site, SiteMembership, TokenScope
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from consent.tokens.scopes import scopes_for_role
from consent.tokens.selectors import token_sha256

# How often a token's "last used" time is written: a busy backend is not a write per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def _token_audit(
    token: ApiToken, action: str, by: AbstractUser | None, ip: str | None, **data: object
) -> None:
    audit_record(
        site=token.site,
        actor=by,
        actor_ip=ip,
        action=action,
        target=f"token:{token.visible_prefix}",
        data={"token": token.visible_prefix, "name": token.name, **data},
    )


@transaction.atomic
def token_create(
    *,
    site: Site,
    name: str,
    scopes: Iterable[str],
    by: AbstractUser | None,
    expires_at: datetime | None = None,
    ip: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `site`; returns it and the token itself, which is never shown again.

    `by` is the person making it (an owner or DPO of the site; None: the shell, trusted), and
    the scopes may be no wider than `by`'s role."""
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=_("Only the site's owners and DPOs can make API tokens."),
    )
    wanted = sorted(set(scopes))
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Name the token after what will use it.")]
    unknown = [scope for scope in wanted if scope not in TokenScope.values]
    if unknown:
        errors["scopes"] = [_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)}]
    elif not wanted:
        errors["scopes"] = [_("Give the token at least one scope.")]
    elif by is not None:
        role = SiteMembership.objects.filter(site=site, user=by).values_list("role", flat=True).first()
        wider = [
            scope for scope in wanted if scope not in scopes_for_role(role, is_superuser=by.is_superuser)
        ]
        if wider:
            errors["scopes"] = [
                _("Your role on this site does not allow these scopes: %(scopes)s.")
                % {"scopes": ", ".join(wider)}
            ]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if errors:
        raise ValidationError(errors)
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        site=site,
        name=name,
        prefix=prefix,
        secret_sha256=token_sha256(raw),
        scopes=wanted,
        created_by=by,
        expires_at=expires_at,
    )
    _token_audit(
        token,
        "token.created",
        by,
        ip,
        scopes=wanted,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, by: AbstractUser | None, ip: str | None = None) -> ApiToken:
    """Stop the token at once (idempotent: a revoked token stays revoked, with its first time)."""
    site_actor_require(
        site=token.site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=_("Only the site's owners and DPOs can revoke API tokens."),
    )
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = by if by is not None and by.is_authenticated else None
        locked.save(update_fields=["revoked_at", "revoked_by"])
        _token_audit(locked, "token.revoked", by, ip)
    return locked


def token_used(*, token: ApiToken) -> None:
    """Note that the token was just used, at most once per LAST_USED_RESOLUTION (no audit row:
    a read is not a change; writes through a token write their own, naming it)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
