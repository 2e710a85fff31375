"""Writes for the cookie catalogue: each change checks the person's role and writes its audit row."""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils.translation import gettext

from consent.audit.services import audit_record, audit_snapshot, audited_change
from consent.models import Purpose, Site
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from cookies.models import Cookie
from subprocessors.models import Vendor

# Site is fixed once catalogued: a cookie never moves to another tenant.
COOKIE_FIELDS: tuple[str, ...] = (
    "purpose",
    "vendor",
    "name",
    "domain",
    "duration_days",
    "description",
    "justification",
)


def _editor_require(site: Site, by: AbstractUser | None) -> None:
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only the site's owners and DPOs can change its cookies."),
    )


def _target(cookie: Cookie) -> str:
    return f"cookie {cookie.name}" + (f" ({cookie.domain})" if cookie.domain else "")


@transaction.atomic
def cookie_create(
    *,
    site: Site,
    purpose: Purpose,
    name: str,
    description: str,
    vendor: Vendor | None = None,
    domain: str = "",
    duration_days: int | None = None,
    justification: str = "",
    by: AbstractUser | None,
    ip: str | None = None,
) -> Cookie:
    """Catalogue a cookie; purpose and vendor must belong to the same site."""
    _editor_require(site, by)
    cookie = Cookie(
        site=site,
        purpose=purpose,
        vendor=vendor,
        name=name,
        domain=domain,
        duration_days=duration_days,
        description=description,
        justification=justification,
    )
    cookie.full_clean()
    cookie.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="cookie.create",
        target=_target(cookie),
        data=audit_snapshot(obj=cookie, fields=COOKIE_FIELDS),
    )
    return cookie


@transaction.atomic
def cookie_update(*, cookie: Cookie, by: AbstractUser | None, ip: str | None = None, **fields: Any) -> Cookie:
    """Change a catalogued cookie (owners and DPOs); the audit row has each change before and after."""
    cookie = Cookie.objects.select_for_update().select_related("site").get(pk=cookie.pk)
    _editor_require(cookie.site, by)
    audited_change(
        obj=cookie,
        fields=fields,
        allowed=COOKIE_FIELDS,
        site=cookie.site,
        by=by,
        ip=ip,
        action="cookie.change",
        target=_target,
    )
    return cookie


@transaction.atomic
def cookie_delete(*, cookie: Cookie, by: AbstractUser | None, ip: str | None = None) -> None:
    """Take a cookie out of the catalogue (owners and DPOs)."""
    _editor_require(cookie.site, by)
    audit_record(
        site=cookie.site,
        actor=by,
        actor_ip=ip,
        action="cookie.delete",
        target=_target(cookie),
        data=audit_snapshot(obj=cookie, fields=COOKIE_FIELDS),
    )
    cookie.delete()
