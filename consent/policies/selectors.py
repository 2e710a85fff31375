"""Reads of policy documents: the version in force, upcoming ones, the timeline and diffs between editions."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from consent.editions import edition_in_force, editions_upcoming
from consent.models import PolicyDocument, PolicyText, PolicyVersion, Site
from consent.policies.text import DiffBlock, text_diff


def policy_document_list(*, site: Site) -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.filter(site=site).order_by("kind", "slug")


def policy_document_get(*, site: Site, slug: str) -> PolicyDocument | None:
    return PolicyDocument.objects.filter(site=site, slug=slug).first()


def policy_texts(*, document: PolicyDocument) -> QuerySet[PolicyText]:
    """The working copy: the document's draft text in each language, by language."""
    return PolicyText.objects.filter(document=document).order_by("language")


def policy_text_get(*, document: PolicyDocument, language: str) -> PolicyText | None:
    return policy_texts(document=document).filter(language=language).first()


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


def pinned_policy_titles(
    *, site_id: int, pinned: Mapping[str, Mapping[str, Any]], language: str
) -> dict[str, str]:
    """slug -> title of the pinned edition ({slug: {"number": n, ...}}, as a record pins them),
    in `language` where the edition has it, else in its prevailing language."""
    titles = {}
    for version in PolicyVersion.objects.filter(
        document__site_id=site_id, document__slug__in=list(pinned)
    ).select_related("document"):
        if pinned[version.document.slug]["number"] == version.number:
            text = version.texts.get(language) or version.texts[version.prevailing_language]
            titles[version.document.slug] = text["title"]
    return titles
