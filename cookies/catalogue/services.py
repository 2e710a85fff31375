"""Writes for the cookie catalogue: each change checks the person's role and writes its audit row."""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from consent.audit.services import (
    audit_record,
    audit_snapshot,
    audited_change,
    audited_create,
    audited_delete,
)
from consent.models import Purpose, Site
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from cookies.models import Cookie, CookieTranslation
from subprocessors.models import Vendor

# Site is fixed once catalogued: a cookie never moves to another tenant.
COOKIE_FIELDS: tuple[str, ...] = (
    "purpose",
    "vendor",
    "name",
    "domain",
    "duration_days",
    "justification",
)
COOKIE_TRANSLATION_FIELDS: tuple[str, ...] = ("language", "description")


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
    """Catalogue a cookie; purpose and vendor must belong to the same site.

    `description` is in the site's default language (other languages: cookie_translation_set).
    """
    _editor_require(site, by)
    cookie = Cookie(
        site=site,
        purpose=purpose,
        vendor=vendor,
        name=name,
        domain=domain,
        duration_days=duration_days,
        justification=justification,
    )
    errors: dict[str, list[str]] = {}
    try:
        cookie.full_clean()
    except ValidationError as error:
        errors = error.message_dict
    if not description.strip():
        errors.setdefault("description", []).append(gettext("Say what it stores and why."))
    if errors:
        raise ValidationError(errors)
    cookie.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="cookie.create",
        target=_target(cookie),
        data=audit_snapshot(obj=cookie, fields=COOKIE_FIELDS),
    )
    cookie_translation_set(
        cookie=cookie, language=site.default_language, description=description, by=by, ip=ip
    )
    return cookie


@transaction.atomic
def cookie_update(*, cookie: Cookie, by: AbstractUser | None, ip: str | None = None, **fields: Any) -> Cookie:
    """Change a catalogued cookie (owners and DPOs); the audit row has each change before and after.

    `description` changes its description in the site's default language.
    """
    cookie = Cookie.objects.select_for_update().select_related("site").get(pk=cookie.pk)
    _editor_require(cookie.site, by)
    if "description" in fields:
        description = fields.pop("description")
        cookie_translation_set(
            cookie=cookie, language=cookie.site.default_language, description=description, by=by, ip=ip
        )
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


def _translation_target(translation: CookieTranslation) -> str:
    return f"{_target(translation.cookie)} [{translation.language}]"


@transaction.atomic
def cookie_translation_set(
    *, cookie: Cookie, language: str, description: str, by: AbstractUser | None, ip: str | None = None
) -> CookieTranslation:
    """Write a cookie's description in one language (owners and DPOs)."""
    existing = CookieTranslation.objects.filter(cookie=cookie, language=language).first()
    if existing is not None:
        return cookie_translation_update(translation=existing, description=description, by=by, ip=ip)
    _editor_require(cookie.site, by)
    return audited_create(
        obj=CookieTranslation(cookie=cookie, language=language, description=description.strip()),
        fields=COOKIE_TRANSLATION_FIELDS,
        site=cookie.site,
        by=by,
        ip=ip,
        action="cookie_translation.add",
        target=_translation_target,
    )


@transaction.atomic
def cookie_translation_update(
    *, translation: CookieTranslation, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> CookieTranslation:
    """Change a cookie's description in one language (owners and DPOs)."""
    translation = (
        CookieTranslation.objects.select_for_update().select_related("cookie__site").get(pk=translation.pk)
    )
    _editor_require(translation.cookie.site, by)
    fields = {name: value.strip() if name == "description" else value for name, value in fields.items()}
    audited_change(
        obj=translation,
        fields=fields,
        allowed=COOKIE_TRANSLATION_FIELDS,
        site=translation.cookie.site,
        by=by,
        ip=ip,
        action="cookie_translation.change",
        target=_translation_target,
    )
    return translation


@transaction.atomic
def cookie_translation_delete(
    *, translation: CookieTranslation, by: AbstractUser | None, ip: str | None = None
) -> None:
    """Delete a cookie's description in one language: visitors in it see another language's, named."""
    site = translation.cookie.site
    _editor_require(site, by)
    audited_delete(
        obj=translation,
        fields=COOKIE_TRANSLATION_FIELDS,
        site=site,
        by=by,
        ip=ip,
        action="cookie_translation.delete",
        target=_translation_target,
    )
