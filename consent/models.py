"""The core tables: sites (the tenant), who may manage them, and their purposes."""

import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from consent.editions import Edition
from consent.immutability import ImmutableModel
from consent.languages import LANGUAGE_CHOICES, VISITOR_LANGUAGES

SITE_KEY_PATTERN = r"^[A-Za-z0-9_-]{3,64}$"
PURPOSE_KEY_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
NECESSARY_PURPOSE_KEY = "necessary"


def site_key_new() -> str:
    """A public site key: 128 random bits, URL-safe, unrelated to the row id."""
    return secrets.token_urlsafe(16)


def jurisdiction_choices() -> list[tuple[str, str]]:
    # Imported here, not at module level: the rules table is code that models only name.
    from consent.jurisdictions import RULESETS

    return [(code, f"{ruleset.name} ({code})") for code, ruleset in RULESETS.items()]


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

    ANY = "any", "No requirement"
    EU = "eu", "European Economic Area"
    RU = "ru", "Russia"
    KZ = "kz", "Kazakhstan"
    US = "us", "United States"


class IpStorage(models.TextChoices):
    """How much of a visitor's IP address a consent record keeps (personal data, GDPR Art. 5(1)(c))."""

    TRUNCATED = "truncated", "Truncated (IPv4 /24, IPv6 /48)"
    FULL = "full", "Full address"
    NONE = "none", "Not stored"


class Site(models.Model):
    """A customer website: the tenant every other row a site owner sees hangs off."""

    key = models.CharField(
        max_length=64,
        unique=True,
        default=site_key_new,
        validators=[RegexValidator(SITE_KEY_PATTERN, "3 to 64 letters, digits, '-' or '_'.")],
        help_text="Public identifier used in the script tag and public URLs. Random; not guessable.",
    )
    name = models.CharField(max_length=200)
    default_language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default="en")
    languages = models.JSONField(
        default=list,
        blank=True,
        help_text="Languages the site serves visitors in (codes); always includes the default language.",
    )
    default_jurisdiction = models.CharField(
        max_length=16,
        choices=jurisdiction_choices,
        default="EU",
        help_text="Rules applied when the visitor's location cannot be resolved.",
    )
    jurisdiction_overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Per-jurisdiction stricter settings, e.g. {"EU": {"reask_after_consent_days": 180}}. '
            "Only changes that protect visitors more than the law requires are accepted."
        ),
    )
    data_residency = models.CharField(max_length=8, choices=DataResidency.choices, default=DataResidency.ANY)
    data_residency_note = models.TextField(
        blank=True, help_text="Where this site's data is hosted and why (shown to DPOs and in exports)."
    )
    consent_retention_days = models.PositiveIntegerField(
        default=1095,
        validators=[MinValueValidator(395), MaxValueValidator(3650)],
        help_text=(
            "How long consent records are kept. At least 13 months, so every consent still in use "
            "can be proven; 3 years by default."
        ),
    )
    ip_storage = models.CharField(
        max_length=16,
        choices=IpStorage.choices,
        default=IpStorage.TRUNCATED,
        help_text="What consent records keep of the visitor's IP address.",
    )
    store_user_agent = models.BooleanField(
        default=True, help_text="Keep the browser's user agent in consent records (helps prove the device)."
    )
    notice_period_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="Days between publishing a material change and it taking effect.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def enabled_languages(self) -> list[str]:
        """The site's languages, default first, without duplicates."""
        return [self.default_language] + [code for code in self.languages if code != self.default_language]

    def clean(self) -> None:
        from consent.jurisdictions import RULESETS, overrides_validate

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

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="origins")
    origin = models.CharField(max_length=255, help_text="scheme://host[:port], e.g. https://www.example.com")

    class Meta:
        ordering = ["origin"]
        constraints = [models.UniqueConstraint(fields=["site", "origin"], name="site_origin_unique")]

    def __str__(self) -> str:
        return self.origin

    def clean(self) -> None:
        self.origin = origin_normalise(self.origin)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    DPO = "dpo", "Data protection officer"
    VIEWER = "viewer", "Viewer"


class SiteMembership(models.Model):
    """Grants one user one role on one site. Superusers need none to see every site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "user"]
        constraints = [models.UniqueConstraint(fields=["site", "user"], name="site_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()} of {self.site}"


class Purpose(models.Model):
    """A purpose (cookie category) a visitor can grant or deny on one site.

    `necessary` exists on every site, is always on and cannot be switched off; its key and
    every other purpose key are stored by value in the ledger, so keys never change.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="purposes")
    key = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(PURPOSE_KEY_PATTERN, "Lowercase letters, digits and '_', starting with a letter.")
        ],
    )
    is_necessary = models.BooleanField(default=False, editable=False)
    is_sale_or_share = models.BooleanField(
        default=False,
        help_text=(
            "Personal data is sold or shared for cross-context advertising under this purpose: "
            "GPC signals and 'Do Not Sell or Share' requests deny it where the law says so."
        ),
    )
    position = models.PositiveSmallIntegerField(default=100, help_text="Order in the banner (lowest first).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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

    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    name = models.CharField(max_length=120)
    description = models.TextField()

    class Meta:
        ordering = ["purpose", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "language"], name="purpose_translation_unique_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.language}]"


class AuditEntry(ImmutableModel):
    """Who did what to a site's published records, when and from where. Append-only."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="audit_entries", null=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="audit_entries", null=True
    )
    actor_ip = models.GenericIPAddressField(null=True)
    action = models.CharField(max_length=64, help_text="Stable dotted name, e.g. policy_version.publish.")
    target = models.CharField(max_length=200, help_text="What was acted on, e.g. 'privacy policy v3'.")
    data = models.JSONField(default=dict, help_text="Details: numbers, hashes, dates.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["site", "-created_at"], name="audit_site_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"


class DocumentKind(models.TextChoices):
    """The kinds of legal document a site publishes. Values appear in URLs and the API."""

    PRIVACY_POLICY = "privacy_policy", "Privacy policy"
    COOKIE_POLICY = "cookie_policy", "Cookie policy"
    CALIFORNIA_NOTICE = "california_notice", "California notice at collection"
    # 152-FZ Art. 9 as amended by 156-FZ: consent is a document of its own (RU-4).
    PD_CONSENT = "pd_consent", "Consent to personal data processing (152-FZ)"
    TERMS = "terms", "Terms of use"


class ChangeKind(models.TextChoices):
    """What a policy version changed; some kinds make earlier consents stale (see the rules table)."""

    NEW_PURPOSE = "new_purpose", "New purpose"
    NEW_RECIPIENT = "new_recipient", "New recipient or category of recipients"
    NEW_TRANSFER_COUNTRY = "new_transfer_country", "New transfer country"
    LEGAL_BASIS_CHANGE = "legal_basis_change", "Legal basis changed"
    RETENTION_CHANGE = "retention_change", "Retention changed"
    CONTACT_CHANGE = "contact_change", "Controller or contact details changed"
    EDITORIAL = "editorial", "Editorial (wording, layout, corrections)"


SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"


class PolicyDocument(models.Model):
    """One legal document of a site (e.g. its privacy policy for Russia), published in editions.

    The working copy is its `texts` (one per language); publishing freezes them as the next
    PolicyVersion. A site may have several documents of one kind, e.g. one per jurisdiction.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="policy_documents")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    slug = models.CharField(
        max_length=63,
        validators=[RegexValidator(SLUG_PATTERN, "Lowercase letters, digits and '-'.")],
        help_text="Names the document in public URLs: /s/<site>/policies/<slug>/.",
    )
    jurisdictions = models.JSONField(
        default=list,
        blank=True,
        help_text='Jurisdiction codes this document serves, e.g. ["RU"]; empty: every jurisdiction.',
    )
    prevailing_language = models.CharField(
        max_length=8,
        choices=LANGUAGE_CHOICES,
        help_text="The language whose text prevails over translations (Russian for Russian documents).",
    )
    languages = models.JSONField(
        default=list,
        blank=True,
        help_text="Languages every published version must have; the prevailing language is always required.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "kind", "slug"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="policy_document_slug_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.slug})"

    def clean(self) -> None:
        from consent.jurisdictions import RULESETS

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

    document = models.ForeignKey(PolicyDocument, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown. Headings, lists, links, emphasis and tables are kept.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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

    document = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="versions")
    prevailing_language = models.CharField(max_length=8, editable=False)
    texts = models.JSONField(editable=False)
    is_material = models.BooleanField(default=False, editable=False)
    change_kinds = models.JSONField(default=list, editable=False)
    affected_purposes = models.JSONField(
        default=list,
        editable=False,
        help_text="Purpose keys whose consents this version affects; empty: all.",
    )
    published_from_ip = models.GenericIPAddressField(null=True, editable=False)

    class Meta:
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


class ConsentAction(models.TextChoices):
    """What the visitor (or their browser's signal) decided. Values are stored in the ledger: API."""

    ACCEPT_ALL = "accept_all", "Accept all"
    REJECT_ALL = "reject_all", "Reject all"
    CUSTOM = "custom", "Custom choice"
    WITHDRAW = "withdraw", "Withdraw consent"
    GPC_OPT_OUT = "gpc_opt_out", "Global Privacy Control opt-out"
    DO_NOT_SELL_OPT_OUT = "do_not_sell_opt_out", "Do Not Sell or Share opt-out"


class UiLayer(models.TextChoices):
    """Where the decision was taken."""

    FIRST_LAYER = "first_layer", "Banner (first layer)"
    SECOND_LAYER = "second_layer", "Preferences (second layer)"
    OPT_OUT_LINK = "opt_out_link", "Do Not Sell or Share page"
    SIGNAL = "signal", "Browser signal, no interaction"
    API = "api", "Site's own interface through the JavaScript API"


class ConsentRecord(ImmutableModel):
    """One decision of one visitor on one site, exactly as it was shown and taken. Append-only.

    The purposes are copied by value and `versions` pins the editions the visitor was
    shown (number and content hash of each), so the record proves what was agreed even
    if everything else changes; editions themselves can never be deleted.

    Personal data (visitor id, IP, user agent) is kept beside a salted commitment
    (`personal_sha256`); the leaf hash covers the commitment, not the values. Redaction
    clears the values and the salt, the only change the database allows, and every proof
    still verifies. Rows are never updated otherwise, and deleted only by retention.
    """

    mutable_columns = ("visitor_id", "ip_address", "user_agent", "personal_salt")
    purgeable = True

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="consent_records")
    receipt_id = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=32, choices=ConsentAction.choices)
    ui_layer = models.CharField(max_length=32, choices=UiLayer.choices)
    purposes_granted = models.JSONField()
    purposes_denied = models.JSONField()
    jurisdiction = models.CharField(max_length=16)
    rules_version = models.CharField(max_length=32)
    rules_sha256 = models.CharField(
        max_length=64, help_text="Hash of the rules applied, site overrides included."
    )
    resolved_by = models.CharField(max_length=16)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=8, blank=True)
    language = models.CharField(max_length=8)
    versions = models.JSONField(help_text="The editions shown: kind -> number and content hash.")
    gpc = models.BooleanField()
    dnt = models.BooleanField()
    page_url = models.CharField(max_length=2048, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True)  # noqa: DJ001
    # Personal data, erasable: cleared by redaction (NULL means "erased", distinct from ""),
    # committed to by personal_sha256.
    visitor_id = models.CharField(max_length=64, null=True)  # noqa: DJ001
    ip_address = models.CharField(max_length=45, null=True)  # noqa: DJ001
    user_agent = models.CharField(max_length=512, null=True)  # noqa: DJ001
    personal_salt = models.CharField(max_length=32, null=True)  # noqa: DJ001
    personal_sha256 = models.CharField(max_length=64)
    leaf_sha256 = models.CharField(max_length=64, help_text="RFC 6962 leaf hash of the canonical record.")

    class Meta:
        ordering = ["-created_at", "-id"]
        # Idempotency keys are unique per site through IdempotencyClaim, not an index here:
        # PostgreSQL cannot hold a unique index on the partitioned ledger without the month.
        indexes = [
            models.Index(fields=["site", "visitor_id", "-id"], name="consent_visitor_latest"),
            models.Index(fields=["site", "created_at"], name="consent_site_time"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_id} {self.action} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_redacted(self) -> bool:
        return self.personal_salt is None


class IdempotencyClaim(models.Model):
    """An Idempotency-Key a site's ledger has accepted, and the receipt it was given.

    The database's guard against replays, the same on SQLite and PostgreSQL: a trigger on the
    ledger table (consent.idempotency) writes the claim in the same statement as the record,
    so a replayed key fails that INSERT with an IntegrityError in one round trip, also when
    two servers race. Housekeeping, not history: retention deletes claims with their records.
    """

    pk = models.CompositePrimaryKey("site", "idempotency_key")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=64)
    receipt_id = models.CharField(max_length=32)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.idempotency_key} -> {self.receipt_id}"


class MerkleNode(ImmutableModel):
    """A perfect subtree of a site's Merkle log: level 0 is a leaf (one consent record).

    Written by the sealing job as leaves are appended, never changed, and enough to compute
    any root, inclusion proof or consistency proof in O(log n) lookups (see consent.merkle).
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    # For leaves: the record it commits to (not a foreign key: retention may delete the record,
    # the log keeps its hash so every later proof still verifies).
    record_id = models.BigIntegerField(null=True)
    # For leaves: when the record was made, so verification can tell retention from deletion.
    record_created_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "level", "index"], name="merkle_node_unique")]
        indexes = [models.Index(fields=["record_id"], name="merkle_leaf_record")]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.level}/{self.index}"


class Checkpoint(ImmutableModel):
    """A signed statement of a site's log: its size and root hash at a time (a signed tree head)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="checkpoints")
    tree_size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16, help_text="First 8 bytes (hex) of SHA-256 of the public key.")
    signature = models.CharField(
        max_length=128, help_text="Ed25519 signature (base64) of the checkpoint note."
    )

    class Meta:
        ordering = ["site", "-tree_size"]
        constraints = [models.UniqueConstraint(fields=["site", "tree_size"], name="checkpoint_size_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} size {self.tree_size}"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ConsentExport(models.Model):
    """A DPO's export of a site's consent records, written to a file by a background task."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="consent_exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    date_from = models.DateField()
    date_to = models.DateField()
    format = models.CharField(max_length=8, choices=ExportFormat.choices, default=ExportFormat.CSV)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.site.key} {self.date_from}..{self.date_to} ({self.format})"

    @property
    def percent(self) -> int:
        return (
            100 if self.status == ExportStatus.DONE else int(100 * self.rows_done / max(self.rows_total, 1))
        )
