"""Writes for sites: creating one, its settings, its origins, and its purposes with their texts."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import translation
from django.utils.translation import gettext, pgettext

from consent.audit.services import (
    audit_record,
    audit_snapshot,
    audited_change,
    audited_create,
    audited_delete,
    fields_assign,
)
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    Purpose,
    PurposeTranslation,
    Role,
    Site,
    SiteMembership,
    SiteOrigin,
)
from consent.tenancy.selectors import EDITOR_ROLES, OWNER_ROLES
from consent.tenancy.services import site_actor_require, site_first_owner_add


def necessary_texts(language: str) -> tuple[str, str]:
    """The shipped name and description of the one purpose every site has, in `language` (the
    catalogues'; English where a language has none yet). Site owners may edit them afterwards."""
    with translation.override(language):
        return (
            pgettext("purpose", "Strictly necessary"),
            gettext("Needed for the site to work and to remember your privacy choices. Always on."),
        )


# What a site's settings form may change; the key is printed in customers' script tags and never changes.
SITE_SETTINGS_FIELDS: tuple[str, ...] = (
    "name",
    "default_language",
    "languages",
    "default_jurisdiction",
    "jurisdiction_overrides",
    "data_residency",
    "data_residency_note",
    "consent_retention_days",
    "ip_storage",
    "store_user_agent",
    "notice_period_days",
    "establishment_country",
)


# A purpose's key is copied into consent records by value, so only these change.
PURPOSE_FIELDS: tuple[str, ...] = ("is_sale_or_share", "position")


PURPOSE_TRANSLATION_FIELDS: tuple[str, ...] = ("language", "name", "description")


def _owner_require(site: Site, by: AbstractUser | None) -> None:
    site_actor_require(
        site=site, by=by, roles=OWNER_ROLES, refusal=gettext("Only the site's owners can change this.")
    )


def _editor_require(site: Site, by: AbstractUser | None) -> None:
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only the site's owners and DPOs can change this."),
    )


@transaction.atomic
def site_create(
    *,
    name: str,
    default_language: str = "en",
    languages: Iterable[str] = (),
    default_jurisdiction: str = "EU",
    origins: Iterable[str] = (),
    owner: AbstractUser | None = None,
    key: str | None = None,
    by: AbstractUser | None,
    ip: str | None = None,
    **settings: Any,
) -> Site:
    """Create a site with its locked `necessary` purpose, its origins and (optionally) its owner.

    `settings` are further fields of SITE_SETTINGS_FIELDS (retention, IP storage, ...). A person
    may register a site when they own one already (or are a superuser); the owner given
    becomes its first member, the one role grant that needs no other member's approval.
    """
    if (
        by is not None
        and not by.is_superuser
        and not SiteMembership.objects.filter(user=by, role=Role.OWNER).exists()
    ):
        raise PermissionDenied(gettext("Only owners of a site (or superusers) can register new sites."))
    site = Site(
        name=name,
        default_language=default_language,
        languages=list(languages),
        default_jurisdiction=default_jurisdiction,
    )
    fields_assign(obj=site, fields=settings, allowed=SITE_SETTINGS_FIELDS)
    if key is not None:
        site.key = key
    site.full_clean()
    site.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="site.create",
        target=str(site),
        data={"key": site.key, **audit_snapshot(obj=site, fields=SITE_SETTINGS_FIELDS)},
    )
    necessary_purpose_ensure(site=site)
    if owner is not None:
        site_first_owner_add(site=site, owner=owner, by=by, ip=ip)
    for origin in origins:
        _site_origin_add(site, origin, by, ip)
    return site


@transaction.atomic
def site_settings_update(
    *, site: Site, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> Site:
    """Change a site's settings (owners); the audit row holds each changed field before and after."""
    _owner_require(site, by)
    # Locked so two owners saving at once each see, and record, the other's change as "before".
    site = Site.objects.select_for_update().get(pk=site.pk)
    changes = audited_change(
        obj=site,
        fields=fields,
        allowed=SITE_SETTINGS_FIELDS,
        site=site,
        by=by,
        ip=ip,
        action="site.settings_change",
        target=str,
    )
    if {"languages", "default_language"} & set(changes):
        necessary_purpose_ensure(site=site)
    return site


def necessary_purpose_ensure(*, site: Site) -> Purpose:
    """Give the site its `necessary` purpose (idempotent), worded in each of its languages we ship."""
    purpose, _ = Purpose.objects.get_or_create(
        site=site, key=NECESSARY_PURPOSE_KEY, defaults={"is_necessary": True, "position": 0}
    )
    for language in site.enabled_languages:
        name, description = necessary_texts(language)
        PurposeTranslation.objects.get_or_create(
            purpose=purpose, language=language, defaults={"name": name, "description": description}
        )
    return purpose


@transaction.atomic
def site_origin_add(*, site: Site, origin: str, by: AbstractUser | None, ip: str | None = None) -> SiteOrigin:
    """Let the banner run on one more origin (owners)."""
    _owner_require(site, by)
    return _site_origin_add(site, origin, by, ip)


def _site_origin_add(site: Site, origin: str, by: AbstractUser | None, ip: str | None) -> SiteOrigin:
    site_origin = SiteOrigin(site=site, origin=origin)
    site_origin.full_clean()
    site_origin.save()
    audit_record(
        site=site, actor=by, actor_ip=ip, action="site_origin.add", target=site_origin.origin, data={}
    )
    return site_origin


@transaction.atomic
def site_origin_change(
    *, site_origin: SiteOrigin, origin: str, by: AbstractUser | None, ip: str | None = None
) -> SiteOrigin:
    """Correct an origin (owners)."""
    _owner_require(site_origin.site, by)
    site_origin = SiteOrigin.objects.select_for_update().get(pk=site_origin.pk)
    before = site_origin.origin
    site_origin.origin = origin
    site_origin.full_clean()
    if site_origin.origin == before:
        return site_origin
    site_origin.save()
    audit_record(
        site=site_origin.site,
        actor=by,
        actor_ip=ip,
        action="site_origin.change",
        target=site_origin.origin,
        data={"changes": {"origin": [before, site_origin.origin]}},
    )
    return site_origin


@transaction.atomic
def site_origin_remove(*, site_origin: SiteOrigin, by: AbstractUser | None, ip: str | None = None) -> None:
    """Stop answering CORS for an origin (owners)."""
    site_origin = SiteOrigin.objects.select_related("site").get(pk=site_origin.pk)
    _owner_require(site_origin.site, by)
    audit_record(
        site=site_origin.site, actor=by, actor_ip=ip, action="site_origin.remove", target=site_origin.origin
    )
    site_origin.delete()


def _purpose_target(purpose: Purpose) -> str:
    return f"purpose {purpose.key}"


@transaction.atomic
def purpose_create(
    *,
    site: Site,
    key: str,
    texts: Mapping[str, tuple[str, str]],
    is_sale_or_share: bool = False,
    position: int = 100,
    by: AbstractUser | None,
    ip: str | None = None,
) -> Purpose:
    """Create a purpose with its name and description in each given language (code -> (name, description))."""
    _editor_require(site, by)
    if key == NECESSARY_PURPOSE_KEY:
        raise ValidationError({"key": gettext("Every site already has the necessary purpose.")})
    purpose = Purpose(site=site, key=key, is_sale_or_share=is_sale_or_share, position=position)
    purpose.full_clean()
    purpose.save()
    for language, (name, description) in texts.items():
        translation = PurposeTranslation(
            purpose=purpose, language=language, name=name, description=description
        )
        translation.full_clean()
        translation.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="purpose.create",
        target=_purpose_target(purpose),
        data={
            "key": purpose.key,
            "is_sale_or_share": purpose.is_sale_or_share,
            "position": purpose.position,
            "languages": sorted(texts),
        },
    )
    return purpose


@transaction.atomic
def purpose_update(
    *, purpose: Purpose, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> Purpose:
    """Change whether a purpose is sold or shared, or its place in the banner (owners and DPOs)."""
    _editor_require(purpose.site, by)
    purpose = Purpose.objects.select_for_update().select_related("site").get(pk=purpose.pk)
    audited_change(
        obj=purpose,
        fields=fields,
        allowed=PURPOSE_FIELDS,
        site=purpose.site,
        by=by,
        ip=ip,
        action="purpose.change",
        target=_purpose_target,
    )
    return purpose


@transaction.atomic
def purpose_delete(*, purpose: Purpose, by: AbstractUser | None, ip: str | None = None) -> None:
    """Delete a purpose no cookie uses; `necessary` stays on every site."""
    _editor_require(purpose.site, by)
    if purpose.is_necessary:
        raise ValidationError(gettext("The necessary purpose exists on every site and cannot be deleted."))
    audit_record(
        site=purpose.site,
        actor=by,
        actor_ip=ip,
        action="purpose.delete",
        target=_purpose_target(purpose),
        data={"key": purpose.key},
    )
    try:
        with transaction.atomic():
            purpose.delete()
    except ProtectedError as error:
        raise ValidationError(
            gettext("Cookies of the catalogue use the purpose %(key)s: move or delete them first.")
            % {"key": purpose.key}
        ) from error


def _translation_target(translation: PurposeTranslation) -> str:
    return f"{_purpose_target(translation.purpose)} [{translation.language}]"


@transaction.atomic
def purpose_translation_set(
    *,
    purpose: Purpose,
    language: str,
    name: str,
    description: str,
    by: AbstractUser | None,
    ip: str | None = None,
) -> PurposeTranslation:
    """Write a purpose's name and description in one language (owners and DPOs)."""
    existing = PurposeTranslation.objects.filter(purpose=purpose, language=language).first()
    if existing is not None:
        return purpose_translation_update(
            translation=existing, name=name, description=description, by=by, ip=ip
        )
    _editor_require(purpose.site, by)
    return audited_create(
        obj=PurposeTranslation(purpose=purpose, language=language, name=name, description=description),
        fields=PURPOSE_TRANSLATION_FIELDS,
        site=purpose.site,
        by=by,
        ip=ip,
        action="purpose_translation.add",
        target=_translation_target,
    )


@transaction.atomic
def purpose_translation_update(
    *, translation: PurposeTranslation, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> PurposeTranslation:
    """Change a purpose's wording in one language (owners and DPOs)."""
    translation = (
        PurposeTranslation.objects.select_for_update().select_related("purpose__site").get(pk=translation.pk)
    )
    _editor_require(translation.purpose.site, by)
    audited_change(
        obj=translation,
        fields=fields,
        allowed=PURPOSE_TRANSLATION_FIELDS,
        site=translation.purpose.site,
        by=by,
        ip=ip,
        action="purpose_translation.change",
        target=_translation_target,
    )
    return translation


@transaction.atomic
def purpose_translation_delete(
    *, translation: PurposeTranslation, by: AbstractUser | None, ip: str | None = None
) -> None:
    """Delete a purpose's wording in one language (owners and DPOs)."""
    site = translation.purpose.site
    _editor_require(site, by)
    audited_delete(
        obj=translation,
        fields=PURPOSE_TRANSLATION_FIELDS,
        site=site,
        by=by,
        ip=ip,
        action="purpose_translation.delete",
        target=_translation_target,
    )
