"""Writes for the working list and its publication: vendors, and numbered list versions with notice."""

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext

from consent.audit.services import (
    audit_record,
    audit_snapshot,
    audited_change,
    audited_create,
    audited_delete,
)
from consent.content.selectors import missing_texts_refusal, site_required_languages
from consent.editions import canonical_json, edition_publish, sha256_hex
from consent.jobs import job_enqueue_on_commit
from consent.models import Site, WebhookEventType
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from consent.webhooks.services import webhook_event_emit
from subprocessors.lists.selectors import (
    ListDiff,
    list_page_url,
    subprocessor_list_diff,
    subprocessor_list_latest,
    subprocessor_list_working_entries,
    vendor_list,
    vendor_texts,
    vendor_texts_missing,
)
from subprocessors.models import (
    SubprocessorListVersion,
    Vendor,
    VendorTranslation,
)

# A vendor's site and key never change: published lists and cookies name it by them.
VENDOR_FIELDS: tuple[str, ...] = (
    "name",
    "legal_entity",
    "address",
    "contact",
    "website",
    "privacy_policy_url",
    "dpa_url",
    "data_categories",
    "locations",
    "transfer_mechanisms",
    "transfer_assessment_ref",
    "dpf_checked_on",
    "ru_cross_border_notified_on",
    "category",
    "is_listed",
)


def _editor_require(site: Site, by: AbstractUser | None) -> None:
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only the site's owners and DPOs can change its sub-processors."),
    )


def _vendor_target(vendor: Vendor) -> str:
    return f"vendor {vendor.key}"


@transaction.atomic
def vendor_create(
    *,
    site: Site,
    key: str,
    name: str,
    legal_entity: str,
    address: str,
    contact: str,
    purpose: str,
    locations: list[str],
    category: str = "other",
    data_categories: list[str] | None = None,
    transfer_mechanisms: list[str] | None = None,
    transfer_assessment_ref: str = "",
    dpf_checked_on: date | None = None,
    ru_cross_border_notified_on: date | None = None,
    website: str = "",
    privacy_policy_url: str = "",
    dpa_url: str = "",
    is_listed: bool = True,
    by: AbstractUser | None,
    ip: str | None = None,
) -> Vendor:
    """Add a vendor to the site's working list; refused without the identity fields Art. 28 needs.

    `purpose` is its purpose in the site's default language (other languages: vendor_translation_set).
    """
    _editor_require(site, by)
    vendor = Vendor(
        site=site,
        key=key,
        name=name,
        legal_entity=legal_entity,
        address=address,
        contact=contact,
        locations=list(locations),
        category=category,
        data_categories=list(data_categories or []),
        transfer_mechanisms=list(transfer_mechanisms or []),
        transfer_assessment_ref=transfer_assessment_ref,
        dpf_checked_on=dpf_checked_on,
        ru_cross_border_notified_on=ru_cross_border_notified_on,
        website=website,
        privacy_policy_url=privacy_policy_url,
        dpa_url=dpa_url,
        is_listed=is_listed,
    )
    _full_clean_with_text(vendor, "purpose", purpose, gettext("This field is required for a sub-processor."))
    vendor.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="vendor.create",
        target=_vendor_target(vendor),
        data={"key": vendor.key, **audit_snapshot(obj=vendor, fields=VENDOR_FIELDS)},
    )
    vendor_translation_set(vendor=vendor, language=site.default_language, purpose=purpose, by=by, ip=ip)
    return vendor


def _full_clean_with_text(row: Vendor, field: str, text: str, required: str) -> None:
    """`row.full_clean()`, with `field` (a text kept per language) refused too when empty."""
    errors: dict[str, list[str]] = {}
    try:
        row.full_clean()
    except ValidationError as error:
        errors = error.message_dict
    if not text.strip():
        errors.setdefault(field, []).append(required)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def vendor_update(*, vendor: Vendor, by: AbstractUser | None, ip: str | None = None, **fields: Any) -> Vendor:
    """Change a vendor on the working list (published with the next version); owners and DPOs.

    `purpose` changes its purpose in the site's default language.
    """
    for name in fields:
        if name in ("site", "site_id", "key", "pk", "id"):
            raise ValidationError({name: gettext("The site and key of a vendor never change.")})
    vendor = Vendor.objects.select_for_update().select_related("site").get(pk=vendor.pk)
    _editor_require(vendor.site, by)
    if "purpose" in fields:
        purpose = fields.pop("purpose")
        vendor_translation_set(
            vendor=vendor, language=vendor.site.default_language, purpose=purpose, by=by, ip=ip
        )
    audited_change(
        obj=vendor,
        fields=fields,
        allowed=VENDOR_FIELDS,
        site=vendor.site,
        by=by,
        ip=ip,
        action="vendor.change",
        target=_vendor_target,
    )
    return vendor


@transaction.atomic
def vendor_delete(*, vendor: Vendor, by: AbstractUser | None, ip: str | None = None) -> None:
    """Delete a vendor no cookie names; published lists keep it by value (owners and DPOs)."""
    _editor_require(vendor.site, by)
    audit_record(
        site=vendor.site,
        actor=by,
        actor_ip=ip,
        action="vendor.delete",
        target=_vendor_target(vendor),
        data={"key": vendor.key, "name": vendor.name},
    )
    try:
        with transaction.atomic():
            vendor.delete()
    except ProtectedError as error:
        raise ValidationError(
            gettext("Cookies of the catalogue name %(vendor)s as their provider: change them first.")
            % {"vendor": vendor.name}
        ) from error


def _vendor_translation_target(translation: VendorTranslation) -> str:
    return f"{_vendor_target(translation.vendor)} [{translation.language}]"


VENDOR_TRANSLATION_FIELDS: tuple[str, ...] = ("language", "purpose")


@transaction.atomic
def vendor_translation_set(
    *, vendor: Vendor, language: str, purpose: str, by: AbstractUser | None, ip: str | None = None
) -> VendorTranslation:
    """Write a vendor's purpose in one language (owners and DPOs); published with the next list."""
    existing = VendorTranslation.objects.filter(vendor=vendor, language=language).first()
    if existing is not None:
        return vendor_translation_update(translation=existing, purpose=purpose, by=by, ip=ip)
    _editor_require(vendor.site, by)
    return audited_create(
        obj=VendorTranslation(vendor=vendor, language=language, purpose=purpose.strip()),
        fields=VENDOR_TRANSLATION_FIELDS,
        site=vendor.site,
        by=by,
        ip=ip,
        action="vendor_translation.add",
        target=_vendor_translation_target,
    )


@transaction.atomic
def vendor_translation_update(
    *, translation: VendorTranslation, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> VendorTranslation:
    """Change a vendor's purpose in one language (owners and DPOs)."""
    translation = (
        VendorTranslation.objects.select_for_update().select_related("vendor__site").get(pk=translation.pk)
    )
    _editor_require(translation.vendor.site, by)
    fields = {name: value.strip() if name == "purpose" else value for name, value in fields.items()}
    audited_change(
        obj=translation,
        fields=fields,
        allowed=VENDOR_TRANSLATION_FIELDS,
        site=translation.vendor.site,
        by=by,
        ip=ip,
        action="vendor_translation.change",
        target=_vendor_translation_target,
    )
    return translation


@transaction.atomic
def vendor_translation_delete(
    *, translation: VendorTranslation, by: AbstractUser | None, ip: str | None = None
) -> None:
    """Delete a vendor's purpose in one language: readers in it see another language's, named."""
    site = translation.vendor.site
    _editor_require(site, by)
    audited_delete(
        obj=translation,
        fields=VENDOR_TRANSLATION_FIELDS,
        site=site,
        by=by,
        ip=ip,
        action="vendor_translation.delete",
        target=_vendor_translation_target,
    )


def subprocessor_list_earliest_effective_at(*, site: Site, published_at: datetime) -> datetime:
    return published_at + timedelta(days=site.notice_period_days)


@transaction.atomic
def subprocessor_list_publish(
    *,
    site: Site,
    effective_at: datetime,
    change_note: str,
    by: AbstractUser | None,
    ip: str | None,
    now: datetime | None = None,
) -> SubprocessorListVersion:
    """Freeze the working list as the next version and tell every confirmed subscriber.

    Additions and replacements take effect no earlier than the site's notice period after
    publication; removals and cosmetic edits may take effect at once. The first version
    needs no notice: it records the list the site already had, and nobody was told of an
    earlier one to compare with.
    """
    published_at = (now or timezone.now()).replace(microsecond=0)
    if timezone.is_naive(effective_at):
        raise ValidationError({"effective_at": "Give the date with its time zone."})
    # Lock the site row: two DPOs publishing at once must not take the same number.
    site = Site.objects.select_for_update().get(pk=site.pk)

    entries = _listed_entries(site)
    refusals = subprocessor_list_language_refusals(site=site)
    if refusals:
        raise ValidationError({"languages": refusals})

    latest = subprocessor_list_latest(site=site)
    if latest is None and not entries:
        raise ValidationError("The working list is empty: add sub-processors before publishing.")
    diff = subprocessor_list_diff(old_entries=latest.entries if latest else [], new_entries=entries)
    content_sha256 = sha256_hex(canonical_json(entries))
    if latest is not None and diff.needs_notice:
        _notice_period_require(site, diff, published_at=published_at, effective_at=effective_at)
    version = edition_publish(
        editions=SubprocessorListVersion.objects.filter(site=site),
        content_sha256=content_sha256,
        published_at=published_at,
        effective_at=effective_at,
        published_by=by,
        change_note=change_note,
        site=site,
        entries=entries,
    )
    audit_record(
        action="subprocessor_list.publish",
        target=f"sub-processor list v{version.number}",
        site=site,
        actor=by,
        actor_ip=ip,
        data={
            "number": version.number,
            "content_sha256": content_sha256,
            "effective_at": effective_at.isoformat(),
            "summary": diff.summary(),
        },
    )
    webhook_event_emit(
        site=site,
        type=WebhookEventType.SUBPROCESSORS_PUBLISHED,
        data={
            "version": {
                "number": version.number,
                "published_at": version.published_at.isoformat(),
                "effective_at": version.effective_at.isoformat(),
                "content_sha256": version.content_sha256,
                "change_note": version.change_note,
            },
            "diff": diff.as_dict(),
            "url": list_page_url(site.key),
        },
        dedupe_key=f"subprocessors.published:{version.number}",
    )
    # After commit: a worker must never pick up a version that was rolled back.
    job_enqueue_on_commit("subprocessors.version_notify", version.pk)
    return version


def subprocessor_list_language_refusals(*, site: Site) -> list[str]:
    """One message per language the site's jurisdictions require in which a listed vendor's purpose
    is missing (readers of the page would meet another language there); empty when none is.

    The sub-processor part of `cookies.banner.selectors.site_content_missing`, which the
    subprocessors app cannot import.
    """
    refusals = []
    for language, jurisdictions in site_required_languages(site=site).items():
        missing = vendor_texts_missing(site=site, languages=[language])
        if missing:
            refusals.append(
                missing_texts_refusal(language=language, required_by=jurisdictions, missing=missing)
            )
    return refusals


def _listed_entries(site: Site) -> list[dict[str, Any]]:
    """The listed vendors as published entries; refused (naming each) if any is incomplete."""
    errors = []
    texts = vendor_texts(site=site)
    for vendor in vendor_list(site=site).filter(is_listed=True):
        problems = []
        try:
            vendor.full_clean()
        except ValidationError as error:
            problems = [f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
        if site.default_language not in texts.get(vendor.pk, {}):
            problems.append(
                gettext("purpose: none in the site's default language (%(language)s).")
                % {"language": site.default_language}
            )
        if problems:
            errors.append(f"{vendor.name} ({vendor.key}) is incomplete: {'; '.join(problems)}")
    if errors:
        raise ValidationError(errors)
    return subprocessor_list_working_entries(site=site)


def _notice_period_require(
    site: Site, diff: ListDiff, *, published_at: datetime, effective_at: datetime
) -> None:
    """A version that needs notice takes effect no sooner than the site's notice period after publishing."""
    earliest = subprocessor_list_earliest_effective_at(site=site, published_at=published_at)
    if effective_at < earliest:
        raise ValidationError(
            {
                "effective_at": (
                    f"This version {', '.join(diff.notice_reasons)}: "
                    f"with {site.notice_period_days} days' "
                    f"notice it can take effect on {earliest:%Y-%m-%d %H:%M} UTC at the earliest."
                )
            }
        )
