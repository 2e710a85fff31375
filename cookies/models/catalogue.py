"""The cookie catalogue: which cookies a site sets, for which purpose, from which vendor."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES
from consent.models.sites import Purpose, Site
from subprocessors.models import Vendor

# Cookie names per RFC 6265 (a token); '*' marks the variable part of a pattern.
COOKIE_NAME_PATTERN = r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$"


class Cookie(models.Model):
    """One cookie (or family of cookies, by name pattern) a site's pages may set.

    The vendor is its provider and a sub-processor of the site; no vendor means first-party.
    What it does is told per language in `translations` (CookieTranslation).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="cookies", verbose_name=_("site"))
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="cookies", verbose_name=_("purpose")
    )
    vendor = models.ForeignKey(
        Vendor,
        on_delete=models.PROTECT,
        related_name="cookies",
        null=True,
        blank=True,
        help_text=_("The provider; leave empty for the site's own (first-party) cookies."),
        verbose_name=_("vendor"),
    )
    name = models.CharField(
        max_length=128,
        validators=[RegexValidator(COOKIE_NAME_PATTERN, "A cookie name; use * for a variable part.")],
        help_text=_("Exact name, or a pattern with * such as _hjSessionUser_*."),
        verbose_name=_("name"),
    )
    is_pattern = models.BooleanField(default=False, editable=False, verbose_name=_("is pattern"))
    domain = models.CharField(
        max_length=255, blank=True, help_text=_("Empty: the site's own domain."), verbose_name=_("domain")
    )
    duration_days = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty: a session cookie."), verbose_name=_("duration days")
    )
    justification = models.TextField(
        blank=True,
        help_text=_("Why it is strictly necessary (required for the necessary purpose)."),
        verbose_name=_("justification"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("cookie")
        verbose_name_plural = _("cookies")
        ordering = ["site", "purpose__position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name", "domain"], name="cookie_unique_per_site_domain")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.is_pattern = "*" in (self.name or "")
        if self.purpose_id is not None and self.site_id is not None and self.purpose.site_id != self.site_id:
            errors["purpose"] = "Choose a purpose of the same site."
        if self.vendor_id is not None and self.site_id is not None and self.vendor.site_id != self.site_id:
            errors["vendor"] = "Choose a vendor of the same site."
        if self.purpose_id is not None and self.purpose.is_necessary and not self.justification.strip():
            # ePrivacy Art. 5(3) exemption: keep the reason it needs no consent (EU-3).
            errors["justification"] = "Say why this cookie is strictly necessary: it is set without consent."
        if errors:
            raise ValidationError(errors)


class CookieTranslation(models.Model):
    """A cookie's description in one language: what a visitor reads about it in the banner."""

    cookie = models.ForeignKey(
        Cookie, on_delete=models.CASCADE, related_name="translations", verbose_name=_("cookie")
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("language"))
    description = models.TextField(
        help_text=_("What it stores and why, in plain words."), verbose_name=_("description")
    )

    class Meta:
        verbose_name = _("cookie text")
        verbose_name_plural = _("cookie texts")
        ordering = ["cookie", "language"]
        constraints = [
            models.UniqueConstraint(fields=["cookie", "language"], name="cookie_translation_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.cookie.name} [{self.language}]"
