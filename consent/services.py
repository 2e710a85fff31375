"""Writes with business rules for sites, memberships and purposes."""

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consent.editions import canonical_json, edition_next_fields, sha256_hex, text_normalise
from consent.jurisdictions import RULESETS
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    AuditEntry,
    ChangeKind,
    DocumentKind,
    PolicyDocument,
    PolicyText,
    PolicyVersion,
    Purpose,
    PurposeTranslation,
    Role,
    Site,
    SiteMembership,
    SiteOrigin,
)
from consent.policy_text import markdown_render

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


def audit_record(
    *,
    action: str,
    target: str,
    site: Site | None = None,
    actor: AbstractUser | None = None,
    actor_ip: str | None = None,
    data: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Append one audit entry. Call it inside the transaction of the change it records."""
    return AuditEntry.objects.create(
        site=site,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_ip=actor_ip or None,
        action=action,
        target=target,
        data=dict(data or {}),
    )


# Wording that gives consent. Since 2025-09-01 a Russian consent must be a document of its
# own, never part of a policy (RU-4), so policies for Russia may not contain it.
CONSENT_GIVING_PHRASES = re.compile(
    r"даю\s+(сво[её]\s+)?согласие|выражаю\s+(сво[её]\s+)?согласие|"
    r"\bI\s+(hereby\s+)?(give\s+(my\s+)?)?consent\b|\bI\s+agree\s+to\s+the\s+processing\b",
    re.IGNORECASE,
)

# Who may publish legal documents: the site's DPO (and superusers, who administer the platform).
PUBLISHER_ROLES = frozenset({Role.DPO})


def policy_document_create(
    *,
    site: Site,
    kind: DocumentKind | str,
    slug: str | None = None,
    jurisdictions: Iterable[str] = (),
    prevailing_language: str | None = None,
    languages: Iterable[str] | None = None,
) -> PolicyDocument:
    """Create a document; Russian documents prevail in Russian, others in the site's default language."""
    jurisdictions = list(jurisdictions)
    if prevailing_language is None:
        prevailing_language = (
            "ru" if "RU" in jurisdictions or kind == DocumentKind.PD_CONSENT else site.default_language
        )
    document = PolicyDocument(
        site=site,
        kind=kind,
        slug=slug or str(kind).replace("_", "-"),
        jurisdictions=jurisdictions,
        prevailing_language=prevailing_language,
        languages=list(languages) if languages is not None else site.enabled_languages,
    )
    document.full_clean()
    document.save()
    return document


def policy_text_set(*, document: PolicyDocument, language: str, title: str, body: str) -> PolicyText:
    """Write the working copy of a document in one language (drafts are freely editable)."""
    text = PolicyText.objects.filter(document=document, language=language).first() or PolicyText(
        document=document, language=language
    )
    text.title, text.body = title, body
    text.full_clean()
    text.save()
    return text


def policy_required_languages(*, document: PolicyDocument) -> list[str]:
    """Languages every version needs: the prevailing one, the document's, and its jurisdictions'."""
    required = [document.prevailing_language, *document.languages]
    for code in document.jurisdictions:
        required.extend(RULESETS[code].required_languages)
    return list(dict.fromkeys(required))


def policy_reconsent_kinds(*, document: PolicyDocument) -> set[str]:
    """Change kinds that make consents stale under any jurisdiction the document serves."""
    codes = document.jurisdictions or list(RULESETS)
    return {kind for code in codes for kind in RULESETS[code].reconsent_change_kinds}


def _publisher_check(*, site: Site, by: AbstractUser) -> None:
    if by.is_superuser:
        return
    if not SiteMembership.objects.filter(site=site, user=by, role__in=PUBLISHER_ROLES).exists():
        raise PermissionDenied("Only the site's data protection officer can publish its documents.")


@transaction.atomic
def policy_version_publish(
    *,
    document: PolicyDocument,
    effective_at: datetime,
    by: AbstractUser,
    summary: str = "",
    is_material: bool = False,
    change_kinds: Iterable[str] = (),
    affected_purposes: Iterable[str] = (),
    ip: str | None = None,
    now: datetime | None = None,
) -> PolicyVersion:
    """Freeze the working copy as the next edition.

    Refused (ValidationError, nothing written) when a required language is missing, nothing
    changed, a policy for Russia contains consent wording, or a material change would take
    effect before the site's notice period has passed. A change of a kind that needs fresh
    consent under a jurisdiction the document serves is material whatever the flag says.
    """
    now = now or timezone.now()
    # Lock the document: two DPOs publishing at once must not take the same number.
    document = PolicyDocument.objects.select_for_update().select_related("site").get(pk=document.pk)
    site = document.site
    _publisher_check(site=site, by=by)

    change_kinds = list(dict.fromkeys(change_kinds))
    affected_purposes = sorted(set(affected_purposes))
    errors: dict[str, list[str]] = {}
    unknown_kinds = [kind for kind in change_kinds if kind not in ChangeKind.values]
    if unknown_kinds:
        errors["change_kinds"] = [f"Unknown change kinds: {', '.join(unknown_kinds)}."]
    site_purposes = set(Purpose.objects.filter(site=site, is_necessary=False).values_list("key", flat=True))
    unknown_purposes = [key for key in affected_purposes if key not in site_purposes]
    if unknown_purposes:
        errors["affected_purposes"] = [f"Not purposes of this site: {', '.join(unknown_purposes)}."]

    texts = {text.language: text for text in PolicyText.objects.filter(document=document)}
    missing = [code for code in policy_required_languages(document=document) if code not in texts]
    if missing:
        errors["languages"] = [
            f"The text is missing in: {', '.join(missing)}. Every required language is needed."
        ]
    empty = sorted(code for code, text in texts.items() if not text_normalise(text.body).strip())
    if empty:
        errors.setdefault("languages", []).append(f"The text is empty in: {', '.join(empty)}.")

    if "RU" in document.jurisdictions and document.kind != DocumentKind.PD_CONSENT:
        offending = sorted(code for code, text in texts.items() if CONSENT_GIVING_PHRASES.search(text.body))
        if offending:
            errors.setdefault("body", []).append(
                "A document for Russia cannot contain consent wording (e.g. 'даю согласие'): since "
                "1 September 2025 consent is a separate document. Move it to a 152-FZ consent document. "
                f"Found in: {', '.join(offending)}."
            )

    is_material = is_material or bool(set(change_kinds) & policy_reconsent_kinds(document=document))
    if is_material:
        earliest = now + timedelta(days=site.notice_period_days)
        if effective_at < earliest.replace(microsecond=0):
            errors.setdefault("effective_at", []).append(
                f"A material change needs {site.notice_period_days} days' notice: it can take effect on "
                f"{earliest:%Y-%m-%d %H:%M} UTC at the earliest."
            )
    if errors:
        raise ValidationError(errors)

    frozen = {
        code: {"title": text_normalise(text.title).strip(), "body": text_normalise(text.body)}
        for code, text in sorted(texts.items())
    }
    content_sha256 = sha256_hex(
        canonical_json({"prevailing_language": document.prevailing_language, "texts": frozen})
    )
    number = edition_next_fields(
        editions=PolicyVersion.objects.filter(document=document),
        content_sha256=content_sha256,
        published_at=now,
        effective_at=effective_at,
    )
    version = PolicyVersion.objects.create(
        document=document,
        number=number,
        content_sha256=content_sha256,
        published_at=now,
        effective_at=effective_at,
        published_by=by,
        change_note=summary.strip(),
        prevailing_language=document.prevailing_language,
        texts={code: {**text, "html": markdown_render(text["body"])} for code, text in frozen.items()},
        is_material=is_material,
        change_kinds=change_kinds,
        affected_purposes=affected_purposes,
        published_from_ip=ip or None,
    )
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="policy_version.publish",
        target=f"{document} v{number}",
        data={
            "document": document.slug,
            "number": number,
            "content_sha256": content_sha256,
            "effective_at": effective_at.isoformat(),
            "is_material": is_material,
            "change_kinds": change_kinds,
            "affected_purposes": affected_purposes,
            "languages": sorted(frozen),
        },
    )
    return version
