"""Writes for sites: creating one, its settings, origins, members and roles, and its purposes.

Every function that changes state writes its audit row in its own transaction. `by` is the
person acting; None means trusted code (demo and management commands, tasks) and skips the
role rules, never the data rules.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext

from consent.audit.services import audit_changes, audit_record, audit_snapshot, fields_assign
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    Purpose,
    PurposeTranslation,
    Role,
    Site,
    SiteMembership,
    SiteOrigin,
)
from consent.sites.selectors import EDITOR_ROLES, site_role_for_user

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

OWNER_ROLES: frozenset[str] = frozenset({Role.OWNER})

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
)
# A purpose's key is copied into consent records by value, so only these change.
PURPOSE_FIELDS: tuple[str, ...] = ("is_sale_or_share", "position")
PURPOSE_TRANSLATION_FIELDS: tuple[str, ...] = ("language", "name", "description")


def site_role_require(*, site: Site, user: AbstractUser, roles: Iterable[str], refusal: str) -> None:
    """Raise PermissionDenied(refusal) unless `user` is a superuser or holds one of `roles` on `site`."""
    if user.is_superuser:
        return
    if not SiteMembership.objects.filter(site=site, user=user, role__in=list(roles)).exists():
        raise PermissionDenied(refusal)


def site_actor_require(*, site: Site, by: AbstractUser | None, roles: Iterable[str], refusal: str) -> None:
    """`site_role_require` for a person; trusted code (`by` None) passes."""
    if by is not None:
        site_role_require(site=site, user=by, roles=roles, refusal=refusal)


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


# Sites


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
    by: AbstractUser | None = None,
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
        membership = SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
        _membership_audit(membership, "site_membership.add", by, ip, {"role": Role.OWNER})
    for origin in origins:
        _site_origin_add(site, origin, by, ip)
    return site


@transaction.atomic
def site_settings_update(
    *, site: Site, by: AbstractUser | None = None, ip: str | None = None, **fields: Any
) -> Site:
    """Change a site's settings (owners); the audit row holds each changed field before and after."""
    _owner_require(site, by)
    # Locked so two owners saving at once each see, and record, the other's change as "before".
    site = Site.objects.select_for_update().get(pk=site.pk)
    before = audit_snapshot(obj=site, fields=SITE_SETTINGS_FIELDS)
    fields_assign(obj=site, fields=fields, allowed=SITE_SETTINGS_FIELDS)
    site.full_clean()
    changes = audit_changes(before=before, after=audit_snapshot(obj=site, fields=SITE_SETTINGS_FIELDS))
    if not changes:
        return site
    site.save()
    if {"languages", "default_language"} & set(changes):
        necessary_purpose_ensure(site=site)
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="site.settings_change",
        target=str(site),
        data={"changes": changes},
    )
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


# Origins


@transaction.atomic
def site_origin_add(
    *, site: Site, origin: str, by: AbstractUser | None = None, ip: str | None = None
) -> SiteOrigin:
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
    *, site_origin: SiteOrigin, origin: str, by: AbstractUser | None = None, ip: str | None = None
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
def site_origin_remove(
    *, site_origin: SiteOrigin, by: AbstractUser | None = None, ip: str | None = None
) -> None:
    """Stop answering CORS for an origin (owners)."""
    site_origin = SiteOrigin.objects.select_related("site").get(pk=site_origin.pk)
    _owner_require(site_origin.site, by)
    audit_record(
        site=site_origin.site, actor=by, actor_ip=ip, action="site_origin.remove", target=site_origin.origin
    )
    site_origin.delete()


# Members and roles


def _member_name(user: AbstractUser) -> str:
    return user.email or user.get_username()


def _membership_audit(
    membership: SiteMembership, action: str, by: AbstractUser | None, ip: str | None, data: Mapping[str, Any]
) -> None:
    audit_record(
        site=membership.site,
        actor=by,
        actor_ip=ip,
        action=action,
        target=_member_name(membership.user),
        data={"user": _member_name(membership.user), **data},
    )


def site_membership_change_check(
    *,
    site: Site,
    by: AbstractUser | None,
    user: AbstractUser | None,
    old_role: str | None,
    new_role: str | None,
) -> None:
    """Refuse (PermissionDenied) unless `by` may move `user` from `old_role` to `new_role` on `site`.

    None as a role means "not a member". Nobody changes their own role (not even a
    superuser: a second person must agree); granting or removing the DPO role needs a DPO of
    the site or a superuser, so an owner cannot make themselves or a friend the person who
    signs off policies; every other change needs an owner.
    """
    if by is None:
        return
    if user is not None and user.pk == by.pk:
        raise PermissionDenied(
            gettext("Nobody can change their own role on a site: ask another owner, a DPO or a superuser.")
        )
    if by.is_superuser:
        return
    by_role = site_role_for_user(site=site, user=by)
    if Role.DPO in (old_role, new_role):
        if by_role != Role.DPO:
            raise PermissionDenied(
                gettext("Only a DPO of this site or a superuser can grant or remove the DPO role.")
            )
    elif by_role != Role.OWNER:
        raise PermissionDenied(gettext("Only the site's owners can manage its members."))


def _role_validate(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(
            {"role": gettext("Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}}
        )


@transaction.atomic
def site_member_set(
    *, site: Site, email: str, role: Role | str, by: AbstractUser | None = None, ip: str | None = None
) -> SiteMembership:
    """Give the user with this email `role` on the site, creating a staff account if none exists.

    A new account has no usable password: its owner sets one through "Forgotten your
    password?" on the admin login page, so nobody ever handles another person's password.
    """
    email = email.strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": gettext("Enter the member's email address.")})
    _role_validate(role)
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    membership = (
        SiteMembership.objects.select_for_update().filter(site=site, user=user).first() if user else None
    )
    old_role = membership.role if membership else None
    site_membership_change_check(site=site, by=by, user=user, old_role=old_role, new_role=role)
    if membership is not None:
        return _membership_role_set(membership, role, by, ip)
    account_created = user is None
    if user is None:
        user = User(username=email, email=email, is_staff=True)
        user.set_unusable_password()
        user.save()
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    membership = SiteMembership.objects.create(site=site, user=user, role=role)
    _membership_audit(
        membership, "site_membership.add", by, ip, {"role": str(role), "account_created": account_created}
    )
    return membership


@transaction.atomic
def site_membership_role_change(
    *, membership: SiteMembership, role: Role | str, by: AbstractUser | None = None, ip: str | None = None
) -> SiteMembership:
    """Give a member another role, under the rules of `site_membership_change_check`."""
    _role_validate(role)
    membership = (
        SiteMembership.objects.select_for_update().select_related("site", "user").get(pk=membership.pk)
    )
    site_membership_change_check(
        site=membership.site, by=by, user=membership.user, old_role=membership.role, new_role=role
    )
    return _membership_role_set(membership, role, by, ip)


def _membership_role_set(
    membership: SiteMembership, role: str, by: AbstractUser | None, ip: str | None
) -> SiteMembership:
    if membership.role == role:
        return membership
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _membership_audit(
        membership, "site_membership.role_change", by, ip, {"changes": {"role": [before, str(role)]}}
    )
    return membership


@transaction.atomic
def site_membership_remove(
    *, membership: SiteMembership, by: AbstractUser | None = None, ip: str | None = None
) -> None:
    """Take a member off the site, under the rules of `site_membership_change_check`."""
    membership = (
        SiteMembership.objects.select_for_update().select_related("site", "user").get(pk=membership.pk)
    )
    site_membership_change_check(
        site=membership.site, by=by, user=membership.user, old_role=membership.role, new_role=None
    )
    _membership_audit(membership, "site_membership.remove", by, ip, {"role": membership.role})
    membership.delete()


# Purposes


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
    by: AbstractUser | None = None,
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
    *, purpose: Purpose, by: AbstractUser | None = None, ip: str | None = None, **fields: Any
) -> Purpose:
    """Change whether a purpose is sold or shared, or its place in the banner (owners and DPOs)."""
    _editor_require(purpose.site, by)
    purpose = Purpose.objects.select_for_update().select_related("site").get(pk=purpose.pk)
    before = audit_snapshot(obj=purpose, fields=PURPOSE_FIELDS)
    fields_assign(obj=purpose, fields=fields, allowed=PURPOSE_FIELDS)
    purpose.full_clean()
    changes = audit_changes(before=before, after=audit_snapshot(obj=purpose, fields=PURPOSE_FIELDS))
    if changes:
        purpose.save()
        audit_record(
            site=purpose.site,
            actor=by,
            actor_ip=ip,
            action="purpose.change",
            target=_purpose_target(purpose),
            data={"changes": changes},
        )
    return purpose


@transaction.atomic
def purpose_delete(*, purpose: Purpose, by: AbstractUser | None = None, ip: str | None = None) -> None:
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
    by: AbstractUser | None = None,
    ip: str | None = None,
) -> PurposeTranslation:
    """Write a purpose's name and description in one language (owners and DPOs)."""
    existing = PurposeTranslation.objects.filter(purpose=purpose, language=language).first()
    if existing is not None:
        return purpose_translation_update(
            translation=existing, name=name, description=description, by=by, ip=ip
        )
    _editor_require(purpose.site, by)
    translation = PurposeTranslation(purpose=purpose, language=language, name=name, description=description)
    translation.full_clean()
    translation.save()
    audit_record(
        site=purpose.site,
        actor=by,
        actor_ip=ip,
        action="purpose_translation.add",
        target=_translation_target(translation),
        data=audit_snapshot(obj=translation, fields=PURPOSE_TRANSLATION_FIELDS),
    )
    return translation


@transaction.atomic
def purpose_translation_update(
    *, translation: PurposeTranslation, by: AbstractUser | None = None, ip: str | None = None, **fields: Any
) -> PurposeTranslation:
    """Change a purpose's wording in one language (owners and DPOs)."""
    translation = (
        PurposeTranslation.objects.select_for_update().select_related("purpose__site").get(pk=translation.pk)
    )
    _editor_require(translation.purpose.site, by)
    before = audit_snapshot(obj=translation, fields=PURPOSE_TRANSLATION_FIELDS)
    fields_assign(obj=translation, fields=fields, allowed=PURPOSE_TRANSLATION_FIELDS)
    translation.full_clean()
    changes = audit_changes(
        before=before, after=audit_snapshot(obj=translation, fields=PURPOSE_TRANSLATION_FIELDS)
    )
    if changes:
        translation.save()
        audit_record(
            site=translation.purpose.site,
            actor=by,
            actor_ip=ip,
            action="purpose_translation.change",
            target=_translation_target(translation),
            data={"changes": changes},
        )
    return translation


@transaction.atomic
def purpose_translation_delete(
    *, translation: PurposeTranslation, by: AbstractUser | None = None, ip: str | None = None
) -> None:
    """Delete a purpose's wording in one language (owners and DPOs)."""
    site = translation.purpose.site
    _editor_require(site, by)
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="purpose_translation.delete",
        target=_translation_target(translation),
        data=audit_snapshot(obj=translation, fields=PURPOSE_TRANSLATION_FIELDS),
    )
    translation.delete()
