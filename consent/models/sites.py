"""Sites (the tenant), their origins, who may manage them and in which role, and their purposes."""

import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES, VISITOR_LANGUAGES

SITE_KEY_PATTERN = r"^[A-Za-z0-9_-]{3,64}$"


PURPOSE_KEY_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


NECESSARY_PURPOSE_KEY = "necessary"


def subject_secret_new() -> str:
    """A site's key for account-id HMACs (consent.ledger.crypto.subject_hmac): 32 random bytes, hex."""
    return secrets.token_hex(32)


def site_key_new() -> str:
    """A public site key: 128 random bits, URL-safe, unrelated to the row id."""
    return secrets.token_urlsafe(16)


def jurisdiction_choices() -> list[tuple[str, str]]:
    # Imported here, not at module level: the rules table is code that models only name.
    from consent.rules.jurisdictions import RULESETS

    # The names are gettext_noop'd in the rules table (its values stay English, as the API shows
    # them); a form asks for its choices per request, so they are in the reader's language.
    return [(code, f"{gettext(ruleset.name)} ({code})") for code, ruleset in RULESETS.items()]


def origin_normalise(value: str) -> str:
    """Return `scheme://host[:port]` in lowercase, or raise ValidationError.

    Browsers send exactly this form in the Origin header, so comparing normalised
    strings is the whole CORS check.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an origin such as https://www.example.com (scheme and host).")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValidationError(
            "An origin has no path, query, fragment or credentials: only scheme://host[:port]."
        )
    try:
        port = parts.port
    except ValueError as error:
        raise ValidationError("The port is not a number between 0 and 65535.") from error
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if not re.fullmatch(r"[a-z0-9.\-\[\]:]+", host):
        raise ValidationError("Use the host's ASCII (punycode) form, e.g. https://xn--e1afmkfd.xn--p1ai.")
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


class DataResidency(models.TextChoices):
    """Where a site's personal data must be stored first (152-FZ Art. 18(5), KZ 94-V Art. 12)."""

    ANY = "any", _("No requirement")
    EU = "eu", _("European Economic Area")
    RU = "ru", _("Russia")
    KZ = "kz", _("Kazakhstan")
    US = "us", _("United States")


class IpStorage(models.TextChoices):
    """How much of a visitor's IP address a consent record keeps (personal data, GDPR Art. 5(1)(c))."""

    TRUNCATED = "truncated", _("Truncated (IPv4 /24, IPv6 /48)")
    FULL = "full", _("Full address")
    NONE = "none", _("Not stored")


class Site(models.Model):
    """A customer website: the tenant every other row a site owner sees hangs off."""

    key = models.CharField(
        max_length=64,
        unique=True,
        default=site_key_new,
        validators=[RegexValidator(SITE_KEY_PATTERN, "3 to 64 letters, digits, '-' or '_'.")],
        help_text=_("Public identifier used in the script tag and public URLs. Random; not guessable."),
        verbose_name=_("key"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    default_language = models.CharField(
        max_length=8, choices=LANGUAGE_CHOICES, default="en", verbose_name=_("default language")
    )
    languages = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Languages the site serves visitors in (codes); always includes the default language."),
        verbose_name=_("languages"),
    )
    default_jurisdiction = models.CharField(
        max_length=16,
        choices=jurisdiction_choices,
        default="EU",
        help_text=_("Rules applied when the visitor's location cannot be resolved."),
        verbose_name=_("default jurisdiction"),
    )
    jurisdiction_overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'Per-jurisdiction stricter settings, e.g. {"EU": {"reask_after_consent_days": 180}}. '
            "Only changes that protect visitors more than the law requires are accepted."
        ),
        verbose_name=_("jurisdiction overrides"),
    )
    data_residency = models.CharField(
        max_length=8,
        choices=DataResidency.choices,
        default=DataResidency.ANY,
        verbose_name=_("data residency"),
    )
    data_residency_note = models.TextField(
        blank=True,
        help_text=_("Where this site's data is hosted and why (shown to DPOs and in exports)."),
        verbose_name=_("data residency note"),
    )
    consent_retention_days = models.PositiveIntegerField(
        default=1095,
        validators=[MinValueValidator(395), MaxValueValidator(3650)],
        help_text=_(
            "How long consent records are kept. At least 13 months, so every consent still in use "
            "can be proven; 3 years by default."
        ),
        verbose_name=_("consent retention days"),
    )
    ip_storage = models.CharField(
        max_length=16,
        choices=IpStorage.choices,
        default=IpStorage.TRUNCATED,
        help_text=_("What consent records keep of the visitor's IP address."),
        verbose_name=_("IP storage"),
    )
    store_user_agent = models.BooleanField(
        default=True,
        help_text=_("Keep the browser's user agent in consent records (helps prove the device)."),
        verbose_name=_("store user agent"),
    )
    notice_period_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_("Days between publishing a material change and it taking effect."),
        verbose_name=_("notice period days"),
    )
    # The key of the HMAC under which the ledger keeps the site's account ids (subjects of
    # consents recorded through the management API): never shown, never exported, never
    # editable; changing it would orphan every subject's history.
    subject_secret = models.CharField(
        max_length=64, default=subject_secret_new, editable=False, verbose_name=_("subject secret")
    )
    establishment_country = models.CharField(
        max_length=2,
        blank=True,
        default="",
        # Also in the database: rows written by code that predates the column (older migrations'
        # models, a running old release during a deploy) get it too.
        db_default="",
        validators=[RegexValidator(r"^[A-Z]{2}$", "Two capital letters (ISO 3166-1), e.g. DE.")],
        help_text=_(
            "Where the site's controller is established (ISO 3166-1 code, e.g. DE): its public holidays "
            "move EU request deadlines. Blank: taken from the default jurisdiction where it names one "
            "country, else weekends only."
        ),
        verbose_name=_("establishment country"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def enabled_languages(self) -> list[str]:
        """The site's languages, default first, without duplicates."""
        return [self.default_language] + [code for code in self.languages if code != self.default_language]

    def clean(self) -> None:
        from consent.rules.jurisdictions import RULESETS
        from consent.rules.overrides import overrides_validate

        errors: dict[str, list[str]] = {}
        if not isinstance(self.languages, list) or not all(isinstance(code, str) for code in self.languages):
            errors["languages"] = ['Give a list of language codes, e.g. ["en", "ru"].']
        else:
            unknown = sorted({code for code in self.languages if code not in VISITOR_LANGUAGES})
            if unknown:
                errors["languages"] = [f"Unsupported language codes: {', '.join(unknown)}."]
            elif self.default_language not in self.languages:
                self.languages = self.enabled_languages
        if not isinstance(self.jurisdiction_overrides, dict):
            errors["jurisdiction_overrides"] = ["Give an object keyed by jurisdiction code."]
        else:
            messages = []
            for code, overrides in self.jurisdiction_overrides.items():
                if code not in RULESETS:
                    messages.append(f"{code}: unknown jurisdiction (known: {', '.join(RULESETS)}).")
                elif not isinstance(overrides, dict):
                    messages.append(f"{code}: give an object of settings.")
                else:
                    messages.extend(
                        f"{code}: {message}" for message in overrides_validate(code, overrides).values()
                    )
            if messages:
                errors["jurisdiction_overrides"] = messages
        if errors:
            raise ValidationError(errors)


class SiteOrigin(models.Model):
    """A web origin the site's banner runs on; public endpoints answer CORS only for these."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="origins", verbose_name=_("site"))
    origin = models.CharField(
        max_length=255,
        help_text=_("scheme://host[:port], e.g. https://www.example.com"),
        verbose_name=_("origin"),
    )

    class Meta:
        verbose_name = _("origin")
        verbose_name_plural = _("origins")
        ordering = ["origin"]
        constraints = [models.UniqueConstraint(fields=["site", "origin"], name="site_origin_unique")]

    def __str__(self) -> str:
        return self.origin

    def clean(self) -> None:
        self.origin = origin_normalise(self.origin)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    DPO = "dpo", _("Data protection officer")
    VIEWER = "viewer", _("Viewer")


class SiteMembership(models.Model):
    """Grants one user one role on one site. Superusers need none to see every site."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("site")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="site_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER, verbose_name=_("role"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("site member")
        verbose_name_plural = _("site members")
        ordering = ["site", "user"]
        constraints = [models.UniqueConstraint(fields=["site", "user"], name="site_membership_unique")]

    def __str__(self) -> str:
        return _("%(user)s is %(role)s of %(site)s") % {
            "user": self.user,
            "role": self.get_role_display(),
            "site": self.site,
        }


class Purpose(models.Model):
    """A purpose (cookie category) a visitor can grant or deny on one site.

    `necessary` exists on every site, is always on and cannot be switched off; its key and
    every other purpose key are stored by value in the ledger, so keys never change.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="purposes", verbose_name=_("site"))
    key = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(PURPOSE_KEY_PATTERN, "Lowercase letters, digits and '_', starting with a letter.")
        ],
        verbose_name=_("key"),
    )
    is_necessary = models.BooleanField(default=False, editable=False, verbose_name=_("is necessary"))
    is_sale_or_share = models.BooleanField(
        default=False,
        help_text=_(
            "Personal data is sold or shared for cross-context advertising under this purpose: "
            "GPC signals and 'Do Not Sell or Share' requests deny it where the law says so."
        ),
        verbose_name=_("is sale or share"),
    )
    position = models.PositiveSmallIntegerField(
        default=100, help_text=_("Order in the banner (lowest first)."), verbose_name=_("position")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        ordering = ["site", "position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["site", "key"], name="purpose_key_unique_per_site"),
            models.CheckConstraint(
                condition=Q(key=NECESSARY_PURPOSE_KEY, is_necessary=True, is_sale_or_share=False)
                | (~Q(key=NECESSARY_PURPOSE_KEY) & Q(is_necessary=False)),
                name="purpose_necessary_is_locked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.site.key})"

    def clean(self) -> None:
        self.is_necessary = self.key == NECESSARY_PURPOSE_KEY
        if self.is_necessary and self.is_sale_or_share:
            raise ValidationError(
                {"is_sale_or_share": "Strictly necessary storage can never be sold or shared."}
            )


class PurposeTranslation(models.Model):
    """A purpose's name and description in one language."""

    purpose = models.ForeignKey(
        Purpose, on_delete=models.CASCADE, related_name="translations", verbose_name=_("purpose")
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("language"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(verbose_name=_("description"))

    class Meta:
        verbose_name = _("purpose text")
        verbose_name_plural = _("purpose texts")
        ordering = ["purpose", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "language"], name="purpose_translation_unique_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.language}]"
