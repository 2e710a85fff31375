"""Sub-processors (vendors) of a site, its published list versions, subscribers and objections.

The working list is the site's vendors with `is_listed`; publishing copies them by value
into an immutable, numbered `SubprocessorListVersion` (GDPR Art. 28(2), SCC Clause 9(a)).
Everything that is evidence (versions, notification attempts, objections and their answers)
is append-only.
"""

import re
import secrets
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES
from consent.models import Edition, ImmutableModel, Site
from consent.rules.jurisdictions import EEA_COUNTRIES

VENDOR_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,63}$"
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
# EU-17: a DPF certification is looked up on the Data Privacy Framework list; a check older
# than this is stale, since organisations drop out of the list.
DPF_CHECK_MAX_AGE = timedelta(days=366)


def public_key_new() -> str:
    return secrets.token_urlsafe(16)


class VendorCategory(models.TextChoices):
    ANALYTICS = "analytics", _("Analytics")
    ADVERTISING = "advertising", _("Advertising")
    SUPPORT = "support", _("Customer support and messaging")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure and hosting")
    COMMUNICATION = "communication", _("Email and communication")
    PAYMENTS = "payments", _("Payments")
    OTHER = "other", _("Other")


class TransferMechanism(models.TextChoices):
    """Why personal data may leave the EEA (GDPR Art. 45/46) or Russia (152-FZ Art. 12)."""

    ADEQUACY = "adequacy", _("EU adequacy decision")
    EU_US_DPF = "eu_us_dpf", _("EU-US Data Privacy Framework (certified recipient)")
    SCCS = "sccs", _("Standard contractual clauses 2021/914 with a transfer assessment")
    BCR = "bcr", _("Binding corporate rules")
    RU_CROSS_BORDER_NOTICE = (
        "ru_cross_border_notice",
        _("Russian cross-border transfer notice (152-FZ Art. 12)"),
    )


# Countries with an EU adequacy decision (Art. 45). The US is adequate only for
# DPF-certified recipients, so it is not here: it needs `eu_us_dpf` or SCCs.
EU_ADEQUATE_COUNTRIES = frozenset(
    {"AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "UY"}
)


class Vendor(models.Model):
    """A sub-processor of one site (and the provider of cookies in its banner).

    Tenants never share vendor rows: two sites using Google each have their own, so one
    site's edits never change what another site published. Its purpose (what a reader of the
    list is told it does) is per language in `translations` (VendorTranslation).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="vendors", verbose_name=_("site"))
    key = models.CharField(
        max_length=64,
        validators=[RegexValidator(VENDOR_KEY_PATTERN, "Lowercase letters, digits, '-' and '_'.")],
        help_text=_("Stable identifier, e.g. 'google'. Published lists and diffs name the vendor by it."),
        verbose_name=_("key"),
    )
    name = models.CharField(
        max_length=200, help_text=_("Trading name, e.g. Google Analytics."), verbose_name=_("name")
    )
    legal_entity = models.CharField(
        max_length=200, help_text=_("The contracting legal entity."), verbose_name=_("legal entity")
    )
    address = models.TextField(
        help_text=_("Registered address of the legal entity."), verbose_name=_("address")
    )
    contact = models.CharField(
        max_length=255,
        help_text=_("Privacy or DPO contact: an email address or URL."),
        verbose_name=_("contact"),
    )
    website = models.URLField(blank=True, verbose_name=_("website"))
    privacy_policy_url = models.URLField(blank=True, verbose_name=_("privacy policy URL"))
    dpa_url = models.URLField(
        _("DPA URL"), blank=True, help_text=_("The data processing agreement or terms.")
    )
    data_categories = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Categories of personal data, e.g. online identifiers."),
        verbose_name=_("data categories"),
    )
    locations = models.JSONField(
        default=list,
        help_text=_("Countries where the data is processed (ISO 3166-1 alpha-2)."),
        verbose_name=_("locations"),
    )
    transfer_mechanisms = models.JSONField(default=list, blank=True, verbose_name=_("transfer mechanisms"))
    transfer_assessment_ref = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Reference of the transfer impact assessment (needed with SCCs)."),
        verbose_name=_("transfer assessment ref"),
    )
    dpf_checked_on = models.DateField(
        _("DPF list checked on"),
        null=True,
        blank=True,
        help_text=_("When the DPF certification was last checked."),
    )
    ru_cross_border_notified_on = models.DateField(
        _("Roskomnadzor notified on"), null=True, blank=True, help_text=_("152-FZ Art. 12 notification date.")
    )
    category = models.CharField(
        max_length=32,
        choices=VendorCategory.choices,
        default=VendorCategory.OTHER,
        verbose_name=_("category"),
    )
    is_listed = models.BooleanField(
        default=True,
        help_text=_("On the working sub-processor list (published with the next version)."),
        verbose_name=_("is listed"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["site", "key"]
        constraints = [models.UniqueConstraint(fields=["site", "key"], name="vendor_key_unique_per_site")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def is_outside_eea(self) -> bool:
        return any(country not in EEA_COUNTRIES for country in self.locations or [])

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        for field in ("name", "legal_entity", "address", "contact"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                errors.setdefault(field, []).append("This field is required for a sub-processor.")
        locations = self.locations
        if not isinstance(locations, list) or not all(isinstance(code, str) for code in locations):
            errors["locations"] = ['Give a list of country codes, e.g. ["IE", "US"].']
        else:
            self.locations = sorted({code.strip().upper() for code in locations if code.strip()})
            bad = [code for code in self.locations if not COUNTRY_PATTERN.match(code)]
            if bad:
                errors["locations"] = [f"Not ISO 3166-1 alpha-2 codes: {', '.join(bad)}."]
            elif not self.locations:
                errors["locations"] = ["Give at least one country where the data is processed."]
        categories = self.data_categories
        if not isinstance(categories, list) or not all(isinstance(item, str) for item in categories):
            errors["data_categories"] = ['Give a list of texts, e.g. ["online identifiers"].']
        else:
            self.data_categories = [item.strip() for item in categories if item.strip()]
        mechanisms = self.transfer_mechanisms
        if not isinstance(mechanisms, list) or not all(isinstance(item, str) for item in mechanisms):
            errors["transfer_mechanisms"] = ["Give a list of transfer mechanisms."]
        else:
            self.transfer_mechanisms = sorted(set(mechanisms))
            unknown = [item for item in self.transfer_mechanisms if item not in TransferMechanism.values]
            if unknown:
                errors["transfer_mechanisms"] = [
                    f"Unknown: {', '.join(unknown)}. Known: {', '.join(TransferMechanism.values)}."
                ]
            elif "locations" not in errors:
                errors.update(self._transfer_errors())
        if errors:
            raise ValidationError(errors)

    def _transfer_errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        mechanisms = set(self.transfer_mechanisms)
        outside = [code for code in self.locations if code not in EEA_COUNTRIES]
        if outside and not mechanisms:
            errors["transfer_mechanisms"] = [
                f"Processing outside the EEA ({', '.join(outside)}) needs a transfer mechanism."
            ]
        if TransferMechanism.ADEQUACY in mechanisms:
            not_adequate = [code for code in outside if code not in EU_ADEQUATE_COUNTRIES]
            if not_adequate and not mechanisms - {TransferMechanism.ADEQUACY}:
                errors["transfer_mechanisms"] = [
                    f"No EU adequacy decision covers {', '.join(not_adequate)}: add DPF, SCCs or BCRs."
                ]
        if TransferMechanism.SCCS in mechanisms and not self.transfer_assessment_ref.strip():
            errors["transfer_assessment_ref"] = ["SCCs need the reference of a transfer impact assessment."]
        if TransferMechanism.EU_US_DPF in mechanisms:
            if "US" not in self.locations:
                errors["transfer_mechanisms"] = ["The EU-US DPF covers transfers to the United States only."]
            if self.dpf_checked_on is None:
                errors["dpf_checked_on"] = ["Record when the recipient's DPF certification was checked."]
            elif self.dpf_checked_on > timezone.now().date() + timedelta(days=1):
                errors["dpf_checked_on"] = ["The check date is in the future."]
            elif timezone.now().date() - self.dpf_checked_on > DPF_CHECK_MAX_AGE:
                errors["dpf_checked_on"] = [
                    "The DPF check is more than a year old: check the DPF list again."
                ]
        if (
            TransferMechanism.RU_CROSS_BORDER_NOTICE in mechanisms
            and self.ru_cross_border_notified_on is None
        ):
            errors["ru_cross_border_notified_on"] = ["Give the date Roskomnadzor was notified."]
        return errors

    def as_entry(self, *, texts: dict[str, str], default_language: str) -> dict[str, Any]:
        """The vendor by value, as a published list stores it (the hash input).

        `texts`: its purpose per language. `purpose` is the one in the site's default language
        (what lists published before per-language texts had, and what feeds and emails quote);
        `texts` has every language, `language` names the one `purpose` is in.
        """

        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "key": self.key,
            "name": self.name.strip(),
            "legal_entity": self.legal_entity.strip(),
            "address": self.address.strip(),
            "contact": self.contact.strip(),
            "website": self.website,
            "privacy_policy_url": self.privacy_policy_url,
            "dpa_url": self.dpa_url,
            "purpose": texts.get(default_language, "").strip(),
            "language": default_language,
            "texts": {code: {"purpose": text.strip()} for code, text in sorted(texts.items())},
            "data_categories": list(self.data_categories),
            "locations": list(self.locations),
            "transfer_mechanisms": list(self.transfer_mechanisms),
            "transfer_assessment_ref": self.transfer_assessment_ref.strip(),
            "dpf_checked_on": day(self.dpf_checked_on),
            "ru_cross_border_notified_on": day(self.ru_cross_border_notified_on),
            "category": self.category,
        }


class VendorTranslation(models.Model):
    """A vendor's purpose in one language: what a reader of the sub-processor list is told it does."""

    vendor = models.ForeignKey(
        Vendor, on_delete=models.CASCADE, related_name="translations", verbose_name=_("vendor")
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("language"))
    purpose = models.TextField(
        help_text=_("The service it provides and why personal data is shared."), verbose_name=_("purpose")
    )

    class Meta:
        verbose_name = _("vendor text")
        verbose_name_plural = _("vendor texts")
        ordering = ["vendor", "language"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "language"], name="vendor_translation_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.vendor.key} [{self.language}]"


class SubprocessorListVersion(Edition):
    """One published, frozen edition of a site's sub-processor list (entries by value)."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="subprocessor_list_versions", verbose_name=_("site")
    )
    entries = models.JSONField(
        editable=False, help_text=_("The listed vendors by value, sorted by key."), verbose_name=_("entries")
    )

    class Meta:
        verbose_name = _("sub-processor list version")
        verbose_name_plural = _("sub-processor list versions")
        ordering = ["site", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="subprocessor_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"Sub-processor list v{self.number} ({self.site.key})"


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class Subscriber(models.Model):
    """An email address that asked to hear about changes to one site's list (double opt-in)."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="subprocessor_subscribers", verbose_name=_("site")
    )
    key = models.CharField(
        max_length=32, unique=True, default=public_key_new, editable=False, verbose_name=_("key")
    )
    email = models.EmailField(verbose_name=_("email"))
    # The language of the page they subscribed on: every email to them is written in it.
    language = models.CharField(
        max_length=8, choices=LANGUAGE_CHOICES, blank=True, default="", verbose_name=_("language")
    )
    status = models.CharField(
        max_length=16,
        choices=SubscriberStatus.choices,
        default=SubscriberStatus.PENDING,
        verbose_name=_("status"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    confirmation_sent_at = models.DateTimeField(
        null=True, editable=False, verbose_name=_("confirmation sent at")
    )
    confirmed_at = models.DateTimeField(null=True, editable=False, verbose_name=_("confirmed at"))
    unsubscribed_at = models.DateTimeField(null=True, editable=False, verbose_name=_("unsubscribed at"))

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["site", "email"]
        constraints = [
            models.UniqueConstraint(fields=["site", "email"], name="subprocessor_subscriber_unique_email")
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class NotificationStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Failed, no more retries")


class NotificationLog(ImmutableModel):
    """One attempt to tell one recipient about one list version (SP-4 evidence). Append-only.

    Emails only since webhooks moved to the consent app (consent.WebhookDelivery); the webhook
    rows written before stay, one per attempt.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    version = models.ForeignKey(
        SubprocessorListVersion,
        on_delete=models.PROTECT,
        related_name="notifications",
        verbose_name=_("version"),
    )
    channel = models.CharField(max_length=16, choices=NotificationChannel.choices, verbose_name=_("channel"))
    recipient = models.CharField(
        max_length=500, help_text=_("Email address or webhook URL."), verbose_name=_("recipient")
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("subscriber")
    )
    # Webhook rows are from before webhooks moved to consent.WebhookDelivery; new ones go there.
    endpoint = models.ForeignKey(
        "consent.WebhookEndpoint",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("endpoint"),
    )
    attempt = models.PositiveSmallIntegerField(default=1, verbose_name=_("attempt"))
    status = models.CharField(max_length=16, choices=NotificationStatus.choices, verbose_name=_("status"))
    http_status = models.PositiveSmallIntegerField(null=True, verbose_name=_("http status"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    content_sha256 = models.CharField(max_length=64, verbose_name=_("content SHA-256"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    # Erasing a subscriber keeps the evidence row but must be able to drop the link to them.
    mutable_columns = ("subscriber_id", "endpoint_id")

    class Meta:
        verbose_name = _("notification log entry")
        verbose_name_plural = _("notification log")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "-created_at"], name="subproc_notif_site_time")]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.status} (v{self.version.number})"


class Objection(ImmutableModel):
    """A subscriber's objection to one upcoming addition, as they wrote it. Append-only.

    Answers are separate append-only rows (`ObjectionAnswer`): the objection stays exactly as
    received, and a follow-up answer never overwrites the first.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    version = models.ForeignKey(
        SubprocessorListVersion,
        on_delete=models.PROTECT,
        related_name="objections",
        verbose_name=_("version"),
    )
    vendor_key = models.CharField(max_length=64, verbose_name=_("vendor key"))
    vendor_name = models.CharField(max_length=200, verbose_name=_("vendor name"))
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="objections", verbose_name=_("subscriber")
    )
    email = models.EmailField(
        help_text=_("The subscriber's address when they objected."), verbose_name=_("email")
    )
    reason = models.TextField(verbose_name=_("reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "vendor_key", "subscriber"], name="objection_unique_per_subscriber"
            )
        ]

    def __str__(self) -> str:
        return f"Objection to {self.vendor_name} (v{self.version.number}) by {self.email}"


class ObjectionAnswer(ImmutableModel):
    """The DPO's answer to an objection, emailed to the subscriber. Append-only."""

    objection = models.ForeignKey(
        Objection, on_delete=models.PROTECT, related_name="answers", verbose_name=_("objection")
    )
    text = models.TextField(verbose_name=_("text"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("answered by")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("answer to an objection")
        verbose_name_plural = _("answers to objections")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Answer to objection {self.objection_id}"
