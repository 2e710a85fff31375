"""Reads for sub-processor lists: the working list, versions in force and upcoming, diffs."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.content.selectors import MissingText
from consent.editions import edition_in_force, editions_upcoming
from consent.models import Site
from subprocessors.models import (
    SubprocessorListVersion,
    Vendor,
    VendorTranslation,
)

# Fields whose change makes an entry a different engagement, with the same notice as an
# addition (Art. 28(2) "replacement"): another legal entity is another sub-processor, and new
# processing countries or a different transfer mechanism change where and under which
# safeguards the data goes, which is exactly what the controller must be able to object to.
NOTICE_FIELDS = frozenset({"legal_entity", "locations", "transfer_mechanisms"})


def _comparable(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as a diff compares it: the purpose in each language other than the one `purpose` is
    in becomes a field of its own ("purpose [ru]"); `language` and `texts` are bookkeeping. An entry
    published before purposes were per language has only `purpose`."""
    fields = {name: value for name, value in entry.items() if name not in ("language", "texts")}
    for code, text in (entry.get("texts") or {}).items():
        if code != entry.get("language"):
            fields[f"purpose [{code}]"] = text.get("purpose", "")
    return fields


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class EntryChange:
    key: str
    name: str
    changes: tuple[FieldChange, ...]

    @property
    def needs_notice(self) -> bool:
        return any(change.field in NOTICE_FIELDS for change in self.changes)


@dataclass(frozen=True)
class ListDiff:
    """What changed from one list to the next: entries added, removed, and changed field by field."""

    added: tuple[Mapping[str, Any], ...]
    removed: tuple[Mapping[str, Any], ...]
    changed: tuple[EntryChange, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def needs_notice(self) -> bool:
        """Additions and replacements need the notice period; removals and cosmetic edits do not."""
        return bool(self.added) or any(change.needs_notice for change in self.changed)

    @property
    def notice_reasons(self) -> list[str]:
        reasons = [f"adds {entry['name']}" for entry in self.added]
        reasons += [
            "changes "
            + ", ".join(c.field for c in change.changes if c.field in NOTICE_FIELDS)
            + f" of {change.name}"
            for change in self.changed
            if change.needs_notice
        ]
        return reasons

    def summary(self) -> str:
        """One line a person can read, e.g. 'Added: Hotjar. Removed: VK.'"""
        parts = []
        if self.added:
            parts.append(_("Added: %(names)s.") % {"names": ", ".join(entry["name"] for entry in self.added)})
        if self.removed:
            parts.append(
                _("Removed: %(names)s.") % {"names": ", ".join(entry["name"] for entry in self.removed)}
            )
        if self.changed:
            changed = "; ".join(f"{c.name} ({', '.join(f.field for f in c.changes)})" for c in self.changed)
            parts.append(_("Changed: %(names)s.") % {"names": changed})
        return " ".join(parts) or _("No changes.")

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": [dict(entry) for entry in self.added],
            "removed": [dict(entry) for entry in self.removed],
            "changed": [
                {
                    "key": change.key,
                    "name": change.name,
                    "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in change.changes],
                }
                for change in self.changed
            ],
            "summary": self.summary(),
        }


def subprocessor_list_diff(
    *, old_entries: Sequence[Mapping[str, Any]], new_entries: Sequence[Mapping[str, Any]]
) -> ListDiff:
    """Compare two lists of entries by vendor key."""
    old = {entry["key"]: entry for entry in old_entries}
    new = {entry["key"]: entry for entry in new_entries}
    changed = []
    for key in sorted(old.keys() & new.keys()):
        before, after = _comparable(old[key]), _comparable(new[key])
        fields = sorted(before.keys() | after.keys())
        changes = tuple(
            FieldChange(field=field, old=before.get(field), new=after.get(field))
            for field in fields
            if before.get(field) != after.get(field)
        )
        if changes:
            changed.append(EntryChange(key=key, name=str(new[key].get("name", key)), changes=changes))
    return ListDiff(
        added=tuple(new[key] for key in sorted(new.keys() - old.keys())),
        removed=tuple(old[key] for key in sorted(old.keys() - new.keys())),
        changed=tuple(changed),
    )


def vendor_list(*, site: Site) -> QuerySet[Vendor]:
    return Vendor.objects.filter(site=site).order_by("key")


def vendor_texts(*, site: Site) -> dict[int, dict[str, str]]:
    """Vendor id -> language -> its purpose in that language (non-empty texts only), for one site."""
    texts: dict[int, dict[str, str]] = {}
    for vendor_id, language, purpose in VendorTranslation.objects.filter(vendor__site=site).values_list(
        "vendor_id", "language", "purpose"
    ):
        if purpose.strip():
            texts.setdefault(vendor_id, {})[language] = purpose
    return texts


def subprocessor_list_working_entries(*, site: Site) -> list[dict[str, Any]]:
    """The working list (listed vendors) by value, sorted by key: what publishing would freeze."""
    texts = vendor_texts(site=site)
    return [
        vendor.as_entry(texts=texts.get(vendor.pk, {}), default_language=site.default_language)
        for vendor in vendor_list(site=site).filter(is_listed=True)
    ]


def vendor_texts_missing(*, site: Site, languages: Iterable[str]) -> list[MissingText]:
    """The listed vendors whose purpose a reader of the sub-processor page lacks in each of `languages`."""
    texts = vendor_texts(site=site)
    vendors = list(vendor_list(site=site).filter(is_listed=True))
    return [
        MissingText(kind="vendor", key=vendor.key, label=vendor.name, language=language, object_id=vendor.pk)
        for language in languages
        for vendor in vendors
        if language not in texts.get(vendor.pk, {})
    ]


@dataclass(frozen=True)
class EntryText:
    """An entry's purpose as a page shows it: the text and the language it is actually in."""

    text: str
    language: str
    is_fallback: bool


def entry_text(entry: Mapping[str, Any], *, language: str, fallback: str) -> EntryText:
    """A published entry's purpose in `language`, else in `fallback`, else as published.

    Lists published before per-language texts have only `purpose`, in the site's default language
    of the time (`fallback` for them).
    """
    texts = entry.get("texts") or {}
    for code in (language, fallback):
        if code in texts and texts[code].get("purpose"):
            return EntryText(texts[code]["purpose"], code, code != language)
    source = entry.get("language") or fallback
    return EntryText(str(entry.get("purpose", "")), source, source != language)


def subprocessor_list_versions(*, site: Site) -> QuerySet[SubprocessorListVersion]:
    return SubprocessorListVersion.objects.filter(site=site).order_by("-number")


def subprocessor_list_latest(*, site: Site) -> SubprocessorListVersion | None:
    return subprocessor_list_versions(site=site).first()


def subprocessor_list_in_force(*, site: Site, at: datetime | None = None) -> SubprocessorListVersion | None:
    """The newest published version with effective_at <= at (now by default)."""
    return edition_in_force(SubprocessorListVersion.objects.filter(site=site), at or timezone.now())


def subprocessor_list_upcoming(
    *, site: Site, at: datetime | None = None
) -> QuerySet[SubprocessorListVersion]:
    """Published versions not yet in force, soonest first."""
    return editions_upcoming(SubprocessorListVersion.objects.filter(site=site), at or timezone.now())


def subprocessor_version_get(*, site: Site, number: int) -> SubprocessorListVersion | None:
    return SubprocessorListVersion.objects.filter(site=site, number=number).first()


def subprocessor_version_previous(*, version: SubprocessorListVersion) -> SubprocessorListVersion | None:
    return (
        SubprocessorListVersion.objects.filter(site_id=version.site_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def subprocessor_version_diff(
    *, version: SubprocessorListVersion, previous: SubprocessorListVersion | None = None
) -> ListDiff:
    """What this version changed compared with the version before it (everything, for the first)."""
    if previous is None:
        previous = subprocessor_version_previous(version=version)
    return subprocessor_list_diff(
        old_entries=previous.entries if previous else [], new_entries=version.entries
    )


def subprocessor_history(*, site: Site) -> list[tuple[SubprocessorListVersion, ListDiff]]:
    """Every version, newest first, with its diff against the one before (one query)."""
    versions = list(subprocessor_list_versions(site=site))
    history = []
    for index, version in enumerate(versions):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        history.append(
            (
                version,
                subprocessor_list_diff(
                    old_entries=previous.entries if previous else [], new_entries=version.entries
                ),
            )
        )
    return history


def entries_by_key(entries: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {entry["key"]: entry for entry in entries}


def list_page_url(site_key: str) -> str:
    """The public sub-processor page of a site, absolute (emails, feeds, webhooks link to it)."""
    return settings.PUBLIC_BASE_URL + reverse("subprocessors:page", args=[site_key])
