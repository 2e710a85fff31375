"""Policy documents: a working copy per language and immutable, numbered published versions."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES, VISITOR_LANGUAGES
from consent.models.editions import Edition
from consent.models.sites import Site


class DocumentKind(models.TextChoices):
    """The kinds of legal document a site publishes. Values appear in URLs and the API."""

    PRIVACY_POLICY = "privacy_policy", _("Privacy policy")
    COOKIE_POLICY = "cookie_policy", _("Cookie policy")
    CALIFORNIA_NOTICE = "california_notice", _("California notice at collection")
    # 152-FZ Art. 9 as amended by 156-FZ: consent is a document of its own (RU-4).
    PD_CONSENT = "pd_consent", _("Consent to personal data processing (152-FZ)")
    TERMS = "terms", _("Terms of use")


class ChangeKind(models.TextChoices):
    """What a policy version changed; some kinds make earlier consents stale (see the rules table)."""

    NEW_PURPOSE = "new_purpose", _("New purpose")
    NEW_RECIPIENT = "new_recipient", _("New recipient or category of recipients")
    NEW_TRANSFER_COUNTRY = "new_transfer_country", _("New transfer country")
    LEGAL_BASIS_CHANGE = "legal_basis_change", _("Legal basis changed")
    RETENTION_CHANGE = "retention_change", _("Retention changed")
    CONTACT_CHANGE = "contact_change", _("Controller or contact details changed")
    EDITORIAL = "editorial", _("Editorial (wording, layout, corrections)")


SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"


class PolicyDocument(models.Model):
    """One legal document of a site (e.g. its privacy policy for Russia), published in editions.

    The working copy is its `texts` (one per language); publishing freezes them as the next
    PolicyVersion. A site may have several documents of one kind, e.g. one per jurisdiction.
    """

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="policy_documents", verbose_name=_("site")
    )
    kind = models.CharField(max_length=32, choices=DocumentKind.choices, verbose_name=_("kind"))
    slug = models.CharField(
        max_length=63,
        validators=[RegexValidator(SLUG_PATTERN, "Lowercase letters, digits and '-'.")],
        help_text=_("Names the document in public URLs: /s/<site>/policies/<slug>/."),
        verbose_name=_("slug"),
    )
    jurisdictions = models.JSONField(
        default=list,
        blank=True,
        help_text='Jurisdiction codes this document serves, e.g. ["RU"]; empty: every jurisdiction.',
        verbose_name=_("jurisdictions"),
    )
    prevailing_language = models.CharField(
        max_length=8,
        choices=LANGUAGE_CHOICES,
        help_text=_("The language whose text prevails over translations (Russian for Russian documents)."),
        verbose_name=_("prevailing language"),
    )
    languages = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "Languages every published version must have; the prevailing language is always required."
        ),
        verbose_name=_("languages"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")
        ordering = ["site", "kind", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="policy_document_slug_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.slug})"

    def clean(self) -> None:
        from consent.rules.jurisdictions import RULESETS

        errors: dict[str, str] = {}
        if not isinstance(self.jurisdictions, list) or any(
            code not in RULESETS for code in self.jurisdictions
        ):
            errors["jurisdictions"] = f"Give a list of jurisdiction codes from: {', '.join(RULESETS)}."
        if not isinstance(self.languages, list) or any(
            code not in VISITOR_LANGUAGES for code in self.languages
        ):
            errors["languages"] = "Give a list of supported language codes."
        elif (
            isinstance(self.jurisdictions, list)
            and "RU" in self.jurisdictions
            and self.prevailing_language != "ru"
        ):
            # 168-FZ: Russian first; our customers' Russian policies say the Russian text prevails (RU-17).
            errors["prevailing_language"] = (
                "A document for Russia must have Russian as its prevailing language."
            )
        if errors:
            raise ValidationError(errors)


class PolicyText(models.Model):
    """The editable working copy of a document in one language (Markdown)."""

    document = models.ForeignKey(
        PolicyDocument, on_delete=models.CASCADE, related_name="texts", verbose_name=_("document")
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("language"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(
        help_text=_("Markdown. Headings, lists, links, emphasis and tables are kept."), verbose_name=_("body")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("policy text")
        verbose_name_plural = _("policy texts")
        ordering = ["document", "language"]
        constraints = [
            models.UniqueConstraint(fields=["document", "language"], name="policy_text_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.language}]"


class PolicyVersion(Edition):
    """A published edition of a document: its texts in every language, frozen and hashed.

    `texts` maps language -> {"title", "body" (Markdown), "html" (sanitised, rendered at
    publication)}; storing the HTML keeps what visitors saw even if the renderer changes.
    """

    document = models.ForeignKey(
        PolicyDocument, on_delete=models.PROTECT, related_name="versions", verbose_name=_("document")
    )
    prevailing_language = models.CharField(
        max_length=8, editable=False, verbose_name=_("prevailing language")
    )
    texts = models.JSONField(editable=False, verbose_name=_("texts"))
    is_material = models.BooleanField(default=False, editable=False, verbose_name=_("is material"))
    change_kinds = models.JSONField(default=list, editable=False, verbose_name=_("change kinds"))
    affected_purposes = models.JSONField(
        default=list,
        editable=False,
        help_text=_("Purpose keys whose consents this version affects; empty: all."),
        verbose_name=_("affected purposes"),
    )
    published_from_ip = models.GenericIPAddressField(
        null=True, editable=False, verbose_name=_("published from IP")
    )

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="policy_version_number_unique")
        ]
        indexes = [models.Index(fields=["document", "effective_at"], name="policy_version_effective")]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    @property
    def languages(self) -> list[str]:
        return [self.prevailing_language] + sorted(
            code for code in self.texts if code != self.prevailing_language
        )
