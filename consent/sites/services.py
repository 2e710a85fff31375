"""Writes for sites: creating one, its origins, its members and roles, its purposes."""

from collections.abc import Iterable, Mapping

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from consent.models import (
    NECESSARY_PURPOSE_KEY,
    Purpose,
    PurposeTranslation,
    Role,
    Site,
    SiteMembership,
    SiteOrigin,
)

# Shipped wording for the one purpose every site has; site owners may edit it afterwards.
NECESSARY_TEXTS: Mapping[str, tuple[str, str]] = {
    "en": (
        "Strictly necessary",
        "Needed for the site to work and to remember your privacy choices. Always on.",
    ),
    "ru": (
        "Строго необходимые",
        "Нужны для работы сайта и чтобы запомнить ваш выбор о конфиденциальности. Всегда включены.",
    ),
}


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
) -> Site:
    """Create a site with its locked `necessary` purpose, its origins and (optionally) its owner."""
    site = Site(
        name=name,
        default_language=default_language,
        languages=list(languages),
        default_jurisdiction=default_jurisdiction,
    )
    if key is not None:
        site.key = key
    site.full_clean()
    site.save()
    necessary_purpose_ensure(site=site)
    for origin in origins:
        site_origin_add(site=site, origin=origin)
    if owner is not None:
        SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    return site


def necessary_purpose_ensure(*, site: Site) -> Purpose:
    """Give the site its `necessary` purpose (idempotent), worded in each of its languages we ship."""
    purpose, _ = Purpose.objects.get_or_create(
        site=site, key=NECESSARY_PURPOSE_KEY, defaults={"is_necessary": True, "position": 0}
    )
    for language in site.enabled_languages:
        name, description = NECESSARY_TEXTS.get(language, NECESSARY_TEXTS["en"])
        PurposeTranslation.objects.get_or_create(
            purpose=purpose, language=language, defaults={"name": name, "description": description}
        )
    return purpose


def site_origin_add(*, site: Site, origin: str) -> SiteOrigin:
    site_origin = SiteOrigin(site=site, origin=origin)
    site_origin.full_clean()
    site_origin.save()
    return site_origin


@transaction.atomic
def site_member_set(*, site: Site, email: str, role: Role | str) -> SiteMembership:
    """Give the user with this email `role` on the site, creating a staff account if none exists.

    A new account has no usable password: its owner sets one through "Forgotten your
    password?" on the admin login page, so nobody ever handles another person's password.
    """
    email = email.strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": "Enter the member's email address."})
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    if user is None:
        user = User(username=email, email=email, is_staff=True)
        user.set_unusable_password()
        user.save()
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    membership, _ = SiteMembership.objects.update_or_create(site=site, user=user, defaults={"role": role})
    return membership


@transaction.atomic
def purpose_create(
    *,
    site: Site,
    key: str,
    texts: Mapping[str, tuple[str, str]],
    is_sale_or_share: bool = False,
    position: int = 100,
) -> Purpose:
    """Create a purpose with its name and description in each given language (code -> (name, description))."""
    if key == NECESSARY_PURPOSE_KEY:
        raise ValidationError({"key": "Every site already has the necessary purpose."})
    purpose = Purpose(site=site, key=key, is_sale_or_share=is_sale_or_share, position=position)
    purpose.full_clean()
    purpose.save()
    for language, (name, description) in texts.items():
        translation = PurposeTranslation(
            purpose=purpose, language=language, name=name, description=description
        )
        translation.full_clean()
        translation.save()
    return purpose


def site_role_require(*, site: Site, user: AbstractUser, roles: Iterable[str], refusal: str) -> None:
    """Raise PermissionDenied(refusal) unless `user` is a superuser or holds one of `roles` on `site`."""
    if user.is_superuser:
        return
    if not SiteMembership.objects.filter(site=site, user=user, role__in=list(roles)).exists():
        raise PermissionDenied(refusal)
