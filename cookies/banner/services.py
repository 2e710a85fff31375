"""Writes for the banner: its settings and texts, and publishing a banner version."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from consent.audit.services import audit_record, audit_snapshot, audited_change, fields_assign
from consent.content.selectors import missing_texts_refusal
from consent.editions import canonical_json, edition_publish, sha256_hex
from consent.models import Purpose, Site, WebhookEventType
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from consent.webhooks.services import webhook_event_emit
from cookies.banner.selectors import site_content_missing
from cookies.models import BannerSettings, BannerText, BannerVersion, consent_mode_guess


def banner_settings_ensure(*, site: Site) -> BannerSettings:
    """The site's banner working copy, created with a Consent Mode mapping guessed from purpose keys."""
    settings_row = BannerSettings.objects.filter(site=site).first()
    if settings_row is not None:
        return settings_row
    keys = Purpose.objects.filter(site=site, is_necessary=False).values_list("key", flat=True)
    return BannerSettings.objects.create(site=site, consent_mode=consent_mode_guess(keys))


BANNER_SETTINGS_FIELDS: tuple[str, ...] = (
    "position",
    "layout",
    "color_background",
    "color_text",
    "color_accent",
    "color_accent_text",
    "radius",
    "consent_mode",
)
BANNER_TEXT_FIELDS: tuple[str, ...] = ("language", "title", "body")


def _editor_require(site: Site, by: AbstractUser | None) -> None:
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only the site's owners and DPOs can change its banner."),
    )


@transaction.atomic
def banner_settings_create(
    *, site: Site, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> BannerSettings:
    """Start a site's banner working copy with the given look (owners and DPOs)."""
    _editor_require(site, by)
    settings_row = BannerSettings(site=site)
    fields_assign(obj=settings_row, fields=fields, allowed=BANNER_SETTINGS_FIELDS)
    settings_row.full_clean()
    settings_row.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="banner_settings.create",
        target=gettext("banner settings"),
        data=audit_snapshot(obj=settings_row, fields=BANNER_SETTINGS_FIELDS),
    )
    return settings_row


@transaction.atomic
def banner_settings_update(
    *, settings_row: BannerSettings, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> BannerSettings:
    """Change the banner working copy (owners and DPOs); visitors see it once it is published."""
    settings_row = BannerSettings.objects.select_for_update().select_related("site").get(pk=settings_row.pk)
    _editor_require(settings_row.site, by)
    audited_change(
        obj=settings_row,
        fields=fields,
        allowed=BANNER_SETTINGS_FIELDS,
        site=settings_row.site,
        by=by,
        ip=ip,
        action="banner_settings.change",
        target=lambda row: gettext("banner settings"),
    )
    return settings_row


def _text_target(text: BannerText) -> str:
    return f"banner text [{text.language}]"


@transaction.atomic
def banner_text_set(
    *,
    site: Site,
    language: str,
    title: str = "",
    body: str = "",
    by: AbstractUser | None,
    ip: str | None = None,
) -> BannerText:
    """Write the site's own banner title and body in one language (owners and DPOs)."""
    existing = BannerText.objects.filter(site=site, language=language).first()
    if existing is not None:
        return banner_text_update(text=existing, title=title, body=body, by=by, ip=ip)
    _editor_require(site, by)
    text = BannerText(site=site, language=language, title=title.strip(), body=body.strip())
    text.full_clean()
    text.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="banner_text.add",
        target=_text_target(text),
        data=audit_snapshot(obj=text, fields=BANNER_TEXT_FIELDS),
    )
    return text


@transaction.atomic
def banner_text_update(
    *, text: BannerText, by: AbstractUser | None, ip: str | None = None, **fields: Any
) -> BannerText:
    """Change a banner text (owners and DPOs); the audit row has each change before and after."""
    text = BannerText.objects.select_for_update().select_related("site").get(pk=text.pk)
    _editor_require(text.site, by)
    fields = {name: value.strip() if name in ("title", "body") else value for name, value in fields.items()}
    audited_change(
        obj=text,
        fields=fields,
        allowed=BANNER_TEXT_FIELDS,
        site=text.site,
        by=by,
        ip=ip,
        action="banner_text.change",
        target=_text_target,
    )
    return text


@transaction.atomic
def banner_text_delete(*, text: BannerText, by: AbstractUser | None, ip: str | None = None) -> None:
    """Drop a banner text: the built-in wording shows in that language (owners and DPOs)."""
    _editor_require(text.site, by)
    audit_record(
        site=text.site,
        actor=by,
        actor_ip=ip,
        action="banner_text.delete",
        target=_text_target(text),
        data=audit_snapshot(obj=text, fields=BANNER_TEXT_FIELDS),
    )
    text.delete()


def banner_content(*, site: Site) -> dict[str, Any]:
    """The working copy as it would be frozen: what a published banner version contains."""
    settings_row = banner_settings_ensure(site=site)
    purposes = list(
        Purpose.objects.filter(site=site).order_by("position", "key").values_list("key", "is_sale_or_share")
    )
    return {
        "theme": settings_row.theme,
        "consent_mode": {key: sorted(value) for key, value in sorted(settings_row.consent_mode.items())},
        "purposes": [key for key, _ in purposes],
        "texts": {
            text.language: {"title": text.title, "body": text.body}
            for text in BannerText.objects.filter(site=site).order_by("language")
            if text.title or text.body
        },
    }


def banner_language_refusals(*, site: Site) -> list[str]:
    """One message per required language a visitor would miss texts in; empty when none is."""
    refusals = []
    for language in site_content_missing(site=site):
        missing = [text for text in language.missing if text.seen_in(language.required_by)]
        if language.required_by and missing:
            refusals.append(
                missing_texts_refusal(
                    language=language.language, required_by=language.required_by, missing=missing
                )
            )
    return refusals


@transaction.atomic
def banner_version_publish(
    *,
    site: Site,
    by: AbstractUser | None,
    change_note: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> BannerVersion:
    """Freeze the banner working copy as the next version, in force at once; unchanged is refused.

    A banner version changes how the choice is asked, not what it covers: new purposes and
    vendors make visitors answer again through the config's purpose list and epoch.

    Refused (ValidationError, nothing written) while a text a visitor would see is missing in a
    language one of the site's jurisdictions requires (Russian for RU): there a text in another
    language is not enough. Elsewhere a missing text falls back to another language, named.
    """
    site_actor_require(
        site=site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only the site's owners and DPOs can publish its banner."),
    )
    Site.objects.select_for_update().filter(pk=site.pk).values_list("pk", flat=True).first()
    refusals = banner_language_refusals(site=site)
    if refusals:
        raise ValidationError({"languages": refusals})
    now = now or timezone.now()
    content = banner_content(site=site)
    content_sha256 = sha256_hex(canonical_json(content))
    version = edition_publish(
        editions=BannerVersion.objects.filter(site=site),
        content_sha256=content_sha256,
        published_at=now,
        effective_at=now,
        published_by=by,
        change_note=change_note,
        site=site,
        content=content,
        published_from_ip=ip or None,
    )
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="banner_version.publish",
        target=f"banner v{version.number}",
        data={"number": version.number, "content_sha256": content_sha256},
    )
    webhook_event_emit(
        site=site,
        type=WebhookEventType.BANNER_PUBLISHED,
        data={
            "number": version.number,
            "published_at": version.published_at.isoformat(),
            "content_sha256": content_sha256,
            "change_note": change_note,
        },
        dedupe_key=f"banner.published:{version.number}",
    )
    return version
