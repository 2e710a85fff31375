"""Reads for sites and the roles users hold on them."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from consent.editions import edition_in_force, editions_upcoming
from consent.jurisdictions import RuleSet
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    PolicyDocument,
    PolicyVersion,
    Purpose,
    Role,
    Site,
    SiteMembership,
)
from consent.policy_text import DiffBlock, text_diff

# Roles that may change a site's configuration (purposes, texts, origins).
EDITOR_ROLES: frozenset[str] = frozenset({Role.OWNER, Role.DPO})


def site_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Site]:
    """The sites a user may see: all for superusers, their memberships otherwise."""
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(memberships__user=user).distinct()


def site_ids_for_user(
    *, user: AbstractBaseUser | AnonymousUser, roles: frozenset[str] | None = None
) -> set[int]:
    """Ids of the sites on which the user holds one of `roles` (any role when None); not for superusers."""
    memberships = SiteMembership.objects.filter(user=user, user__is_active=True)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return set(memberships.values_list("site_id", flat=True))


def site_role_for_user(*, site: Site, user: AbstractBaseUser | AnonymousUser) -> str | None:
    if not user.is_authenticated:
        return None
    return SiteMembership.objects.filter(site=site, user=user).values_list("role", flat=True).first()


def site_get_by_key(*, key: str) -> Site | None:
    return Site.objects.filter(key=key).first()


def purpose_list(*, site: Site) -> QuerySet[Purpose]:
    """The site's purposes in banner order, with their translations loaded."""
    return Purpose.objects.filter(site=site).prefetch_related("translations").order_by("position", "key")


# --- Policy documents ---------------------------------------------------------------------


def policy_document_list(*, site: Site) -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.filter(site=site).order_by("kind", "slug")


def policy_document_get(*, site: Site, slug: str) -> PolicyDocument | None:
    return PolicyDocument.objects.filter(site=site, slug=slug).first()


def policy_versions(*, document: PolicyDocument) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(document=document)


def policy_version_in_force(*, document: PolicyDocument, at: datetime) -> PolicyVersion | None:
    """The newest edition with effective_at <= at."""
    return edition_in_force(policy_versions(document=document), at)


def policy_versions_upcoming(*, document: PolicyDocument, at: datetime) -> list[PolicyVersion]:
    return list(editions_upcoming(policy_versions(document=document), at))


def policy_version_get(*, document: PolicyDocument, number: int) -> PolicyVersion | None:
    return policy_versions(document=document).filter(number=number).first()


@dataclass(frozen=True)
class PolicyTimeline:
    """A document's editions as a reader needs them at one moment."""

    document: PolicyDocument
    in_force: PolicyVersion | None
    upcoming: tuple[PolicyVersion, ...]
    history: tuple[PolicyVersion, ...]  # every edition, newest first


def policy_timeline(*, document: PolicyDocument, at: datetime) -> PolicyTimeline:
    """In force, upcoming and history from one query."""
    history = tuple(policy_versions(document=document).order_by("-number"))
    effective = [version for version in history if version.effective_at <= at]
    upcoming = tuple(
        sorted((version for version in history if version.effective_at > at), key=lambda v: v.number)
    )
    return PolicyTimeline(
        document=document, in_force=effective[0] if effective else None, upcoming=upcoming, history=history
    )


@dataclass(frozen=True)
class LanguageDiff:
    language: str
    old_title: str
    new_title: str
    blocks: tuple[DiffBlock, ...]


def policy_version_diff(
    *, old: PolicyVersion | None, new: PolicyVersion | PolicyDocument, context: int | None = None
) -> list[LanguageDiff]:
    """Per-language changes from `old` (None: nothing) to `new` (an edition, or a document's working copy).

    `context`: keep that many unchanged lines around each change (None: the whole text).
    """
    if isinstance(new, PolicyDocument):
        new_texts = {text.language: {"title": text.title, "body": text.body} for text in new.texts.all()}
        prevailing = new.prevailing_language
    else:
        new_texts, prevailing = new.texts, new.prevailing_language
    old_texts = old.texts if old is not None else {}
    languages = [prevailing] + sorted((set(new_texts) | set(old_texts)) - {prevailing})
    diffs = []
    for language in languages:
        before, after = old_texts.get(language, {}), new_texts.get(language, {})
        diffs.append(
            LanguageDiff(
                language=language,
                old_title=before.get("title", ""),
                new_title=after.get("title", ""),
                blocks=text_diff(before.get("body", ""), after.get("body", ""), context),
            )
        )
    return diffs


# --- Does a visitor's consent still hold? ---------------------------------------------------


@dataclass(frozen=True)
class ConsentFreshness:
    """Whether a past decision still holds at `at`, and if not, why (stable reason codes)."""

    holds: bool
    reasons: tuple[str, ...]
    # When the decision stops holding if nothing else changes (the re-ask date); None: never.
    expires_at: datetime | None


def consent_freshness(
    *,
    site: Site,
    ruleset: RuleSet,
    decided_at: datetime,
    purposes_granted: Iterable[str],
    at: datetime,
) -> ConsentFreshness:
    """Whether a visitor's last decision on `site`, made at `decided_at` under `ruleset`, still holds.

    It stops holding when the jurisdiction's re-ask interval has passed (after a consent, or
    after a refusal), or when a policy version of a document serving this jurisdiction took
    effect after the decision and changed what the consent covered: a material version, or
    one whose change kinds need fresh consent under this jurisdiction, touching a purpose the
    visitor granted. A refusal is never made stale by a policy change (it asked for nothing).
    """
    granted = {key for key in purposes_granted if key != NECESSARY_PURPOSE_KEY}
    reasons: list[str] = []
    interval = ruleset.reask_after_consent_days if granted else ruleset.reask_after_refusal_days
    expires_at = decided_at + timedelta(days=interval) if interval is not None else None
    if expires_at is not None and at >= expires_at:
        reasons.append("reask_interval")

    if granted:
        versions = (
            PolicyVersion.objects.filter(
                document__site=site, effective_at__gt=decided_at, effective_at__lte=at
            )
            .select_related("document")
            .order_by("effective_at", "pk")
        )
        for version in versions:
            serves = not version.document.jurisdictions or ruleset.code in version.document.jurisdictions
            needs_consent = version.is_material or set(version.change_kinds) & set(
                ruleset.reconsent_change_kinds
            )
            touches = not version.affected_purposes or granted & set(version.affected_purposes)
            if serves and needs_consent and touches:
                reasons.append(f"policy_version:{version.document.slug}:v{version.number}")
    return ConsentFreshness(holds=not reasons, reasons=tuple(reasons), expires_at=expires_at)
