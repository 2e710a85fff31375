"""Memberships and the role rules: who may grant which role on a site, and the checks services run.

Nobody grants or changes their own role; only a DPO of the site or a superuser grants or
removes the DPO role; other membership changes need an owner. `by=None` is trusted code (the
demo, commands).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext

from consent.audit.services import audit_record
from consent.languages import VISITOR_LANGUAGES
from consent.models import (
    AdminPreference,
    Role,
    Site,
    SiteMembership,
)
from consent.tenancy.selectors import site_role_for_user


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


def site_first_owner_add(
    *, site: Site, owner: AbstractUser, by: AbstractUser | None, ip: str | None
) -> SiteMembership:
    """Make `owner` the owner of a site being created (inside site_create's transaction)."""
    membership = SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    _membership_audit(membership, "site_membership.add", by, ip, {"role": Role.OWNER})
    return membership


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
    *, site: Site, email: str, role: Role | str, by: AbstractUser | None, ip: str | None = None
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
    *, membership: SiteMembership, role: Role | str, by: AbstractUser | None, ip: str | None = None
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
    *, membership: SiteMembership, by: AbstractUser | None, ip: str | None = None
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


def admin_language_set(*, user: AbstractUser, language: str, ip: str | None) -> AdminPreference:
    """Keep `language` as `user`'s back-office language (consent.tenancy.language applies it on
    each of their admin requests, in any browser). A change is audited; the same choice again is not."""
    if language not in VISITOR_LANGUAGES:
        raise ValidationError(
            gettext("%(language)s is not a language of the back office.") % {"language": language}
        )
    with transaction.atomic():
        preference, created = AdminPreference.objects.select_for_update().get_or_create(
            user=user, defaults={"language": language}
        )
        before = None if created else preference.language
        if before == language:
            return preference
        if not created:
            preference.language = language
            preference.save(update_fields=["language", "updated_at"])
        audit_record(
            actor=user,
            actor_ip=ip,
            action="user.admin_language_set",
            target=f"user:{user.get_username()}",
            data={"language": [before, language]},
        )
    return preference
