"""Writes for policy documents: drafting texts and publishing a version under the notice rules."""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from consent.audit.services import audit_record, audit_snapshot, audited_change
from consent.editions import canonical_json, edition_publish, sha256_hex, text_normalise
from consent.models import (
    ChangeKind,
    DocumentKind,
    PolicyDocument,
    PolicyText,
    PolicyVersion,
    Purpose,
    Role,
    Site,
    WebhookEventType,
)
from consent.policies.text import markdown_render
from consent.rules.jurisdictions import RULESETS
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require, site_role_require
from consent.webhooks.events import policy_version_data
from consent.webhooks.services import webhook_event_emit

# Wording that gives consent. Since 2025-09-01 a Russian consent must be a document of its
# own, never part of a policy (RU-4), so policies for Russia may not contain it.
CONSENT_GIVING_PHRASES = re.compile(
    r"даю\s+(сво[её]\s+)?согласие|выражаю\s+(сво[её]\s+)?согласие|"
    r"\bI\s+(hereby\s+)?(give\s+(my\s+)?)?consent\b|\bI\s+agree\s+to\s+the\s+processing\b",
    re.IGNORECASE,
)


# Who may publish legal documents: the site's DPO (and superusers, who administer the platform).
PUBLISHER_ROLES = frozenset({Role.DPO})


# A document's site, kind and slug name it in public URLs and in consent records.
POLICY_DOCUMENT_FIELDS: tuple[str, ...] = ("jurisdictions", "prevailing_language", "languages")


def _editor_require(site: Site, by: AbstractUser | None) -> None:
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only the site's owners and DPOs can edit its policies."),
    )


@transaction.atomic
def policy_document_create(
    *,
    site: Site,
    kind: DocumentKind | str,
    slug: str | None = None,
    jurisdictions: Iterable[str] = (),
    prevailing_language: str | None = None,
    languages: Iterable[str] | None = None,
    by: AbstractUser | None,
    ip: str | None = None,
) -> PolicyDocument:
    """Create a document; Russian documents prevail in Russian, others in the site's default language."""
    _editor_require(site, by)
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
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="policy_document.create",
        target=str(document),
        data={
            "kind": str(document.kind),
            "slug": document.slug,
            **audit_snapshot(obj=document, fields=POLICY_DOCUMENT_FIELDS),
        },
    )
    return document


@transaction.atomic
def policy_document_update(
    *, document: PolicyDocument, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> PolicyDocument:
    """Change which jurisdictions and languages a document serves (owners and DPOs)."""
    document = PolicyDocument.objects.select_for_update().select_related("site").get(pk=document.pk)
    _editor_require(document.site, by)
    audited_change(
        obj=document,
        fields=fields,
        allowed=POLICY_DOCUMENT_FIELDS,
        site=document.site,
        by=by,
        ip=ip,
        action="policy_document.change",
        target=str,
    )
    return document


def _text_audit(text: PolicyText) -> dict[str, Any]:
    # Bodies can be long: the trail keeps their hash; the published version keeps the text.
    return {"language": text.language, "title": text.title, "body_sha256": sha256_hex(text.body.encode())}


@transaction.atomic
def policy_text_set(
    *,
    document: PolicyDocument,
    language: str,
    title: str,
    body: str,
    by: AbstractUser | None,
    ip: str | None = None,
) -> PolicyText:
    """Write the working copy of a document in one language (drafts are freely editable)."""
    existing = PolicyText.objects.filter(document=document, language=language).first()
    if existing is not None:
        return policy_text_update(text=existing, title=title, body=body, by=by, ip=ip)
    _editor_require(document.site, by)
    text = PolicyText(document=document, language=language, title=title, body=body)
    text.full_clean()
    text.save()
    audit_record(
        site=document.site,
        actor=by,
        actor_ip=ip,
        action="policy_text.add",
        target=f"{document} [{language}]",
        data=_text_audit(text),
    )
    return text


@transaction.atomic
def policy_text_update(
    *, text: PolicyText, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> PolicyText:
    """Change a draft text (owners and DPOs); published versions are untouched."""
    text = PolicyText.objects.select_for_update().select_related("document__site").get(pk=text.pk)
    _editor_require(text.document.site, by)
    audited_change(
        obj=text,
        fields=fields,
        allowed=("language", "title", "body"),
        site=text.document.site,
        by=by,
        ip=ip,
        action="policy_text.change",
        target=lambda row: f"{row.document} [{row.language}]",
        snapshot=_text_audit,
    )
    return text


@transaction.atomic
def policy_text_delete(*, text: PolicyText, by: AbstractUser | None, ip: str | None = None) -> None:
    """Drop a draft text in one language (owners and DPOs)."""
    _editor_require(text.document.site, by)
    audit_record(
        site=text.document.site,
        actor=by,
        actor_ip=ip,
        action="policy_text.delete",
        target=f"{text.document} [{text.language}]",
        data=_text_audit(text),
    )
    text.delete()


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


@transaction.atomic
def policy_version_publish(
    *,
    document: PolicyDocument,
    effective_at: datetime,
    by: AbstractUser | None,
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
    document = _document_locked_for_publisher(document, by)
    change_kinds = list(dict.fromkeys(change_kinds))
    affected_purposes = sorted(set(affected_purposes))
    texts = {text.language: text for text in PolicyText.objects.filter(document=document)}
    is_material = is_material or bool(set(change_kinds) & policy_reconsent_kinds(document=document))
    errors = _publish_refusals(
        document, texts, change_kinds, affected_purposes, is_material, effective_at, now
    )
    if errors:
        raise ValidationError(errors)

    frozen = _texts_frozen(texts)
    content_sha256 = sha256_hex(
        canonical_json({"prevailing_language": document.prevailing_language, "texts": frozen})
    )
    version = edition_publish(
        editions=PolicyVersion.objects.filter(document=document),
        content_sha256=content_sha256,
        published_at=now,
        effective_at=effective_at,
        published_by=by,
        change_note=summary,
        document=document,
        prevailing_language=document.prevailing_language,
        texts={code: {**text, "html": markdown_render(text["body"])} for code, text in frozen.items()},
        is_material=is_material,
        change_kinds=change_kinds,
        affected_purposes=affected_purposes,
        published_from_ip=ip or None,
    )
    audit_record(
        site=document.site,
        actor=by,
        actor_ip=ip,
        action="policy_version.publish",
        target=f"{document} v{version.number}",
        data={
            "document": document.slug,
            "number": version.number,
            "content_sha256": content_sha256,
            "effective_at": effective_at.isoformat(),
            "is_material": is_material,
            "change_kinds": change_kinds,
            "affected_purposes": affected_purposes,
            "languages": sorted(frozen),
        },
    )
    webhook_event_emit(
        site=document.site,
        type=WebhookEventType.POLICY_PUBLISHED,
        data=policy_version_data(version),
        dedupe_key=f"policy.published:{document.slug}:{version.number}",
    )
    return version


def publisher_refusal() -> str:
    """Why someone who is not the site's DPO may not publish (the admin and the API say the same)."""
    return gettext("Only the site's data protection officer can publish its documents.")


def _document_locked_for_publisher(document: PolicyDocument, by: AbstractUser | None) -> PolicyDocument:
    """The document, locked until the transaction ends, once `by` is known to be its site's DPO.

    A legal document is published by a person: `by` None (e.g. a token made from the shell,
    with no one behind it) is refused like any non-DPO."""
    if by is None:
        raise PermissionDenied(publisher_refusal())
    # Two DPOs publishing at once must not take the same number.
    document = PolicyDocument.objects.select_for_update().select_related("site").get(pk=document.pk)
    site_role_require(site=document.site, user=by, roles=PUBLISHER_ROLES, refusal=publisher_refusal())
    return document


def _publish_refusals(
    document: PolicyDocument,
    texts: dict[str, PolicyText],
    change_kinds: list[str],
    affected_purposes: list[str],
    is_material: bool,
    effective_at: datetime,
    now: datetime,
) -> dict[str, list[str]]:
    """Every reason this edition may not be published, by field; empty when it may."""
    errors = {
        "change_kinds": _unknown_change_kinds(change_kinds),
        "affected_purposes": _unknown_affected_purposes(document.site, affected_purposes),
        "languages": _missing_or_empty_languages(document, texts),
        "body": _consent_wording_in_a_policy_for_russia(document, texts),
        "effective_at": _notice_period_not_given(document.site, effective_at, now) if is_material else [],
    }
    return {field: messages for field, messages in errors.items() if messages}


def _unknown_change_kinds(change_kinds: list[str]) -> list[str]:
    """A change kind must be one the jurisdictions' re-consent rules can name."""
    unknown = [kind for kind in change_kinds if kind not in ChangeKind.values]
    return [f"Unknown change kinds: {', '.join(unknown)}."] if unknown else []


def _unknown_affected_purposes(site: Site, affected_purposes: list[str]) -> list[str]:
    """A change can touch only the site's own optional purposes (the necessary one needs no consent)."""
    site_purposes = set(Purpose.objects.filter(site=site, is_necessary=False).values_list("key", flat=True))
    unknown = [key for key in affected_purposes if key not in site_purposes]
    return [f"Not purposes of this site: {', '.join(unknown)}."] if unknown else []


def _missing_or_empty_languages(document: PolicyDocument, texts: dict[str, PolicyText]) -> list[str]:
    """Every required language must have a text, and no text may be empty."""
    problems = []
    missing = [code for code in policy_required_languages(document=document) if code not in texts]
    if missing:
        problems.append(f"The text is missing in: {', '.join(missing)}. Every required language is needed.")
    empty = sorted(code for code, text in texts.items() if not text_normalise(text.body).strip())
    if empty:
        problems.append(f"The text is empty in: {', '.join(empty)}.")
    return problems


def _consent_wording_in_a_policy_for_russia(
    document: PolicyDocument, texts: dict[str, PolicyText]
) -> list[str]:
    """Since 2025-09-01 a Russian consent is a document of its own (RU-4): a policy may not give it."""
    if "RU" not in document.jurisdictions or document.kind == DocumentKind.PD_CONSENT:
        return []
    offending = sorted(code for code, text in texts.items() if CONSENT_GIVING_PHRASES.search(text.body))
    if not offending:
        return []
    return [
        "A document for Russia cannot contain consent wording (e.g. 'даю согласие'): since "
        "1 September 2025 consent is a separate document. Move it to a 152-FZ consent document. "
        f"Found in: {', '.join(offending)}."
    ]


def _notice_period_not_given(site: Site, effective_at: datetime, now: datetime) -> list[str]:
    """A material change takes effect no sooner than the site's notice period after publishing."""
    earliest = now + timedelta(days=site.notice_period_days)
    if effective_at >= earliest.replace(microsecond=0):
        return []
    return [
        f"A material change needs {site.notice_period_days} days' notice: it can take effect on "
        f"{earliest:%Y-%m-%d %H:%M} UTC at the earliest."
    ]


def _texts_frozen(texts: dict[str, PolicyText]) -> dict[str, dict[str, str]]:
    """The texts as published: normalised, by language in order, so equal texts hash equal."""
    return {
        code: {"title": text_normalise(text.title).strip(), "body": text_normalise(text.body)}
        for code, text in sorted(texts.items())
    }
