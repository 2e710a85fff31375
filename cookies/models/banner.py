"""The banner's tables: its settings and texts per site, and its immutable published versions."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES
from consent.models.editions import Edition
from consent.models.sites import Purpose, Site

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour as #rrggbb.")


# Google Consent Mode v2 storage types a site may map its purposes to.
CONSENT_MODE_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
)

# Which Consent Mode types a purpose key usually feeds; a starting point the owner can change.
DEFAULT_CONSENT_MODE = {
    "analytics": ("analytics_storage",),
    "statistics": ("analytics_storage",),
    "marketing": ("ad_storage", "ad_user_data", "ad_personalization"),
    "advertising": ("ad_storage", "ad_user_data", "ad_personalization"),
    "preferences": ("functionality_storage", "personalization_storage"),
    "functional": ("functionality_storage",),
}


def consent_mode_guess(purpose_keys: Iterable[str]) -> dict[str, list[str]]:
    """Consent Mode type -> purpose keys as DEFAULT_CONSENT_MODE guesses them, keys in the order given."""
    mapping: dict[str, list[str]] = {}
    for key in purpose_keys:
        for mode_type in DEFAULT_CONSENT_MODE.get(key, ()):
            mapping.setdefault(mode_type, []).append(key)
    return mapping


class BannerPosition(models.TextChoices):
    BOTTOM = "bottom", _("Bottom")
    BOTTOM_LEFT = "bottom-left", _("Bottom left")
    BOTTOM_RIGHT = "bottom-right", _("Bottom right")
    CENTER = "center", _("Centre")


class BannerLayout(models.TextChoices):
    BAR = "bar", _("Bar across the page")
    BOX = "box", _("Box")


class BannerSettings(models.Model):
    """The working copy of a site's banner: look, and how purposes map to Google Consent Mode.

    Publishing freezes it, with the texts, as the next BannerVersion; visitors only ever
    see published versions, and consent records pin the one they saw.
    """

    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, related_name="banner_settings", verbose_name=_("site")
    )
    position = models.CharField(
        max_length=16,
        choices=BannerPosition.choices,
        default=BannerPosition.BOTTOM,
        verbose_name=_("position"),
    )
    layout = models.CharField(
        max_length=8, choices=BannerLayout.choices, default=BannerLayout.BAR, verbose_name=_("layout")
    )
    color_background = models.CharField(
        max_length=7, default="#ffffff", validators=[HEX_COLOUR], verbose_name=_("color background")
    )
    color_text = models.CharField(
        max_length=7, default="#1b1f24", validators=[HEX_COLOUR], verbose_name=_("color text")
    )
    color_accent = models.CharField(
        max_length=7, default="#0b57d0", validators=[HEX_COLOUR], verbose_name=_("color accent")
    )
    color_accent_text = models.CharField(
        max_length=7, default="#ffffff", validators=[HEX_COLOUR], verbose_name=_("color accent text")
    )
    radius = models.PositiveSmallIntegerField(
        default=8, help_text=_("Corner radius in pixels (0-24)."), verbose_name=_("radius")
    )
    consent_mode = models.JSONField(
        default=dict,
        blank=True,
        help_text='Consent Mode type -> purpose keys, e.g. {"analytics_storage": ["analytics"], '
        '"ad_storage": ["marketing"]}. A type is granted when any of its purposes is.',
        verbose_name=_("consent mode"),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("banner settings")
        verbose_name_plural = _("banner settings")

    def __str__(self) -> str:
        return f"Banner of {self.site}"

    @property
    def theme(self) -> dict[str, Any]:
        """The look as a banner version freezes it (colours in lowercase, so equal looks hash equal)."""
        return {
            "position": self.position,
            "layout": self.layout,
            "colors": {
                "background": self.color_background.lower(),
                "text": self.color_text.lower(),
                "accent": self.color_accent.lower(),
                "accent_text": self.color_accent_text.lower(),
            },
            "radius": self.radius,
        }

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.radius > 24:
            errors["radius"] = "At most 24 pixels."
        if not isinstance(self.consent_mode, dict):
            errors["consent_mode"] = "Give an object of Consent Mode type -> list of purpose keys."
        else:
            keys = set(Purpose.objects.filter(site_id=self.site_id).values_list("key", flat=True))
            problems = []
            for mode_type, purposes in self.consent_mode.items():
                if mode_type not in CONSENT_MODE_TYPES:
                    problems.append(
                        f"{mode_type}: not a Consent Mode type ({', '.join(CONSENT_MODE_TYPES)})."
                    )
                elif not isinstance(purposes, list) or not set(purposes) <= keys:
                    problems.append(f"{mode_type}: give a list of this site's purpose keys.")
            if problems:
                errors["consent_mode"] = " ".join(problems)
        if errors:
            raise ValidationError(errors)


class BannerText(models.Model):
    """The site's own banner title and body in one language (the rest of the UI comes built in)."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="banner_texts", verbose_name=_("site")
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("language"))
    title = models.CharField(
        max_length=120, blank=True, help_text=_("Empty: the built-in title."), verbose_name=_("title")
    )
    body = models.TextField(
        blank=True, help_text=_("Empty: the built-in text. Plain text, no HTML."), verbose_name=_("body")
    )

    class Meta:
        verbose_name = _("banner text")
        verbose_name_plural = _("banner texts")
        ordering = ["site", "language"]
        constraints = [
            models.UniqueConstraint(fields=["site", "language"], name="banner_text_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.site.key} [{self.language}]"


class BannerVersion(Edition):
    """A published banner: theme, Consent Mode mapping, purposes and site texts, frozen and hashed."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="banner_versions", verbose_name=_("site")
    )
    content = models.JSONField(editable=False, verbose_name=_("content"))
    published_from_ip = models.GenericIPAddressField(
        null=True, editable=False, verbose_name=_("published from IP")
    )

    class Meta:
        verbose_name = _("banner version")
        verbose_name_plural = _("banner versions")
        ordering = ["site", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="banner_version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.site.key} banner v{self.number}"
