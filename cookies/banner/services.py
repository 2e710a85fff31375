"""Writes for the banner: its settings and texts, and publishing a banner version."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from consent.audit.services import audit_record
from consent.editions import canonical_json, edition_publish, sha256_hex
from consent.models import Purpose, Site
from consent.sites.selectors import EDITOR_ROLES
from consent.sites.services import site_role_require
from cookies.models import BannerSettings, BannerText, BannerVersion, consent_mode_guess


def banner_settings_ensure(*, site: Site) -> BannerSettings:
    """The site's banner working copy, created with a Consent Mode mapping guessed from purpose keys."""
    settings_row = BannerSettings.objects.filter(site=site).first()
    if settings_row is not None:
        return settings_row
    keys = Purpose.objects.filter(site=site, is_necessary=False).values_list("key", flat=True)
    return BannerSettings.objects.create(site=site, consent_mode=consent_mode_guess(keys))


def banner_text_set(*, site: Site, language: str, title: str = "", body: str = "") -> BannerText:
    text = BannerText.objects.filter(site=site, language=language).first() or BannerText(
        site=site, language=language
    )
    text.title, text.body = title.strip(), body.strip()
    text.full_clean()
    text.save()
    return text


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


@transaction.atomic
def banner_version_publish(
    *, site: Site, by: AbstractUser, change_note: str = "", ip: str | None = None, now: datetime | None = None
) -> BannerVersion:
    """Freeze the banner working copy as the next version, in force at once; unchanged is refused.

    A banner version changes how the choice is asked, not what it covers: new purposes and
    vendors make visitors answer again through the config's purpose list and epoch.
    """
    site_role_require(
        site=site,
        user=by,
        roles=EDITOR_ROLES,
        refusal="Only the site's owners and DPOs can publish its banner.",
    )
    Site.objects.select_for_update().filter(pk=site.pk).values_list("pk", flat=True).first()
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
    return version
