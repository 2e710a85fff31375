"""The consent ledger: one immutable row per decision, idempotency claims, the Merkle log and checkpoints."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.models.immutable import ImmutableModel
from consent.models.sites import Site


class ConsentAction(models.TextChoices):
    """What the visitor (or their browser's signal) decided. Values are stored in the ledger: API."""

    ACCEPT_ALL = "accept_all", _("Accept all")
    REJECT_ALL = "reject_all", _("Reject all")
    CUSTOM = "custom", _("Custom choice")
    WITHDRAW = "withdraw", _("Withdraw consent")
    GPC_OPT_OUT = "gpc_opt_out", _("Global Privacy Control opt-out")
    DO_NOT_SELL_OPT_OUT = "do_not_sell_opt_out", _("Do Not Sell or Share opt-out")


# The decisions that are themselves an opt-out of sale or sharing (whatever the purposes say).
OPT_OUT_ACTIONS = frozenset({ConsentAction.GPC_OPT_OUT, ConsentAction.DO_NOT_SELL_OPT_OUT})


class UiLayer(models.TextChoices):
    """Where the decision was taken."""

    FIRST_LAYER = "first_layer", _("Banner (first layer)")
    SECOND_LAYER = "second_layer", _("Preferences (second layer)")
    OPT_OUT_LINK = "opt_out_link", _("Do Not Sell or Share page")
    SIGNAL = "signal", _("Browser signal, no interaction")
    API = "api", _("Site's own interface through the JavaScript API")
    BACKEND = "backend", _("Recorded by the site's own systems (management API)")


class CollectionMethod(models.TextChoices):
    """How the site collected a decision it records itself (management API). Stored: API."""

    SIGN_UP_FORM = "sign_up_form", _("Sign-up form")
    ACCOUNT_SETTINGS = "account_settings", _("Account settings")
    CALL_CENTRE = "call_centre", _("Call centre")
    PAPER_FORM = "paper_form", _("Paper form")
    EMAIL = "email", _("Email")
    OTHER = "other", _("Other")
    # Recorded by Consentry itself, applying a verified data-subject request (opt-out, withdrawal).
    DATA_SUBJECT_REQUEST = "data_subject_request", _("Data-subject request")


class ConsentRecord(ImmutableModel):
    """One decision of one visitor on one site, exactly as it was shown and taken. Append-only.

    The purposes are copied by value and `versions` pins the editions the visitor was
    shown (number and content hash of each), so the record proves what was agreed even
    if everything else changes; editions themselves can never be deleted.

    Personal data (visitor id, IP, user agent, and for a decision the site recorded itself
    the HMAC of its account id) is kept beside a salted commitment (`personal_sha256`); the
    leaf hash covers the commitment, not the values. Redaction clears the values and the
    salt, the only change the database allows, and every proof still verifies. Rows are
    never updated otherwise, and deleted only by retention.

    A decision recorded by the site's own systems (management API, `ui_layer` "backend")
    names its `subject` only as `subject_hmac` and says how it was collected
    (`collection_method`); both are NULL on the banner's records.
    """

    mutable_columns = ("visitor_id", "ip_address", "user_agent", "personal_salt", "subject_hmac")
    purgeable = True

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="consent_records", verbose_name=_("site")
    )
    receipt_id = models.CharField(max_length=32, db_index=True, verbose_name=_("receipt id"))
    created_at = models.DateTimeField(db_index=True, verbose_name=_("recorded at"))
    action = models.CharField(max_length=32, choices=ConsentAction.choices, verbose_name=_("decision"))
    ui_layer = models.CharField(max_length=32, choices=UiLayer.choices, verbose_name=_("where"))
    purposes_granted = models.JSONField(verbose_name=_("purposes allowed"))
    purposes_denied = models.JSONField(verbose_name=_("purposes refused"))
    jurisdiction = models.CharField(max_length=16, verbose_name=_("jurisdiction"))
    rules_version = models.CharField(max_length=32, verbose_name=_("rules version"))
    rules_sha256 = models.CharField(
        max_length=64,
        help_text=_("Hash of the rules applied, site overrides included."),
        verbose_name=_("rules hash"),
    )
    resolved_by = models.CharField(max_length=16, verbose_name=_("location resolved by"))
    country = models.CharField(max_length=2, blank=True, verbose_name=_("country"))
    region = models.CharField(max_length=8, blank=True, verbose_name=_("region"))
    language = models.CharField(max_length=8, verbose_name=_("language"))
    versions = models.JSONField(
        help_text=_("The editions shown: kind -> number and content hash."), verbose_name=_("editions shown")
    )
    gpc = models.BooleanField(verbose_name=_("Global Privacy Control"))
    dnt = models.BooleanField(verbose_name=_("Do Not Track"))
    page_url = models.CharField(max_length=2048, blank=True, verbose_name=_("page address"))
    idempotency_key = models.CharField(max_length=64, null=True, verbose_name=_("idempotency key"))  # noqa: DJ001
    # Personal data, erasable: cleared by redaction (NULL means "erased", distinct from ""),
    # committed to by personal_sha256.
    visitor_id = models.CharField(max_length=64, null=True, verbose_name=_("visitor id"))  # noqa: DJ001
    ip_address = models.CharField(max_length=45, null=True, verbose_name=_("IP address"))  # noqa: DJ001
    user_agent = models.CharField(max_length=512, null=True, verbose_name=_("browser (user agent)"))  # noqa: DJ001
    personal_salt = models.CharField(max_length=32, null=True, verbose_name=_("personal data salt"))  # noqa: DJ001
    # HMAC-SHA256 (hex) of the site's account id under the site's subject secret
    # (consent.ledger.crypto.subject_hmac): pseudonymous, so erasable like the columns above.
    subject_hmac = models.CharField(max_length=64, null=True, verbose_name=_("subject (keyed hash)"))  # noqa: DJ001
    collection_method = models.CharField(  # noqa: DJ001 (NULL: a banner record, no method)
        max_length=32,
        null=True,
        choices=CollectionMethod.choices,
        verbose_name=_("collection method"),
    )
    personal_sha256 = models.CharField(max_length=64, verbose_name=_("personal data commitment"))
    leaf_sha256 = models.CharField(
        max_length=64, help_text=_("RFC 6962 leaf hash of the canonical record."), verbose_name=_("leaf hash")
    )

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-created_at", "-id"]
        # Idempotency keys are unique per site through IdempotencyClaim, not an index here:
        # PostgreSQL cannot hold a unique index on the partitioned ledger without the month.
        indexes = [
            models.Index(fields=["site", "visitor_id", "-id"], name="consent_visitor_latest"),
            models.Index(fields=["site", "subject_hmac", "-id"], name="consent_subject_latest"),
            # The sealer's and consent_verify's keyset order: (created_at, id) > (t, n) is an
            # index condition on it, so a page starts where the last one ended.
            models.Index(fields=["site", "created_at", "id"], name="consent_site_time_id"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_id} {self.get_action_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_redacted(self) -> bool:
        return self.personal_salt is None

    @staticmethod
    def source_of(ui_layer: str) -> str:
        """Who recorded it, as the API, exports and webhooks say: "backend" (the site's own
        systems, through the management API) or "banner" (the visitor)."""
        return "backend" if ui_layer == UiLayer.BACKEND else "banner"

    @property
    def source(self) -> str:
        return self.source_of(self.ui_layer)


class IdempotencyClaim(ImmutableModel):
    """An Idempotency-Key a site's ledger has accepted, and the receipt it was given.

    The database's guard against replays, the same on SQLite and PostgreSQL: a trigger on the
    ledger table (consent.ledger.idempotency) writes the claim in the same statement as the record,
    so a replayed key fails that INSERT with an IntegrityError in one round trip, also when
    two servers race. Append-only like the ledger (a deleted claim would let a replay in):
    only retention deletes claims, with their records.
    """

    purgeable = True

    pk = models.CompositePrimaryKey("site", "idempotency_key")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=64)
    receipt_id = models.CharField(max_length=32)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.idempotency_key} -> {self.receipt_id}"


class MerkleNode(ImmutableModel):
    """A perfect subtree of a site's Merkle log: level 0 is a leaf (one consent record).

    Written by the sealing job as leaves are appended, never changed, and enough to compute
    any root, inclusion proof or consistency proof in O(log n) lookups (see consent.ledger.merkle).
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
        # The leaves in their records' (created_at, id) order: "which of these records are
        # sealed" and "the newest sealed record" (the sealer), a receipt's leaf, and the
        # walk of consent_verify are index range scans on it, whatever the statistics say.
        indexes = [
            models.Index(
                fields=["site", "record_created_at", "record_id"],
                name="merkle_leaf_time",
                condition=models.Q(level=0),
            )
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.level}/{self.index}"


class Checkpoint(ImmutableModel):
    """A signed statement of a site's log: its size and root hash at a time (a signed tree head)."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="checkpoints", verbose_name=_("site")
    )
    tree_size = models.BigIntegerField(verbose_name=_("size"))
    root_hash = models.CharField(max_length=64, verbose_name=_("root hash"))
    created_at = models.DateTimeField(verbose_name=_("signed at"))
    key_id = models.CharField(
        max_length=16,
        help_text=_("First 8 bytes (hex) of SHA-256 of the public key."),
        verbose_name=_("key id"),
    )
    signature = models.CharField(
        max_length=128,
        help_text=_("Ed25519 signature (base64) of the checkpoint note."),
        verbose_name=_("signature"),
    )
    # The C2SP signed note exactly as signed: "<origin>\n<size>\n<base64 root>\n", a blank line
    # and the log's signature line. Empty for checkpoints signed before the C2SP format: their
    # `signature` is over the older text (consent.ledger.crypto.checkpoint_note_legacy).
    note = models.TextField(blank=True, default="", verbose_name=_("signed note"))

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["site", "-tree_size"]
        constraints = [models.UniqueConstraint(fields=["site", "tree_size"], name="checkpoint_size_unique")]

    def __str__(self) -> str:
        return gettext("%(site)s, size %(size)s") % {"site": self.site_id, "size": self.tree_size}


class Cosignature(ImmutableModel):
    """A witness's C2SP tlog-cosignature of a checkpoint: its signature line, checked on arrival
    against the witness keys this deployment trusts (settings.LEDGER_WITNESS_KEYS)."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures", verbose_name=_("checkpoint")
    )
    witness_name = models.CharField(
        max_length=255, help_text=_("The witness's key name."), verbose_name=_("witness")
    )
    witnessed_at = models.DateTimeField(
        help_text=_("The cosignature's own timestamp."), verbose_name=_("witnessed at")
    )
    created_at = models.DateTimeField(
        help_text=_("When Consentry received it."), verbose_name=_("received at")
    )
    signature_line = models.TextField(
        help_text=_("The note signature line, as appended to the checkpoint."),
        verbose_name=_("signature line"),
    )

    class Meta:
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        ordering = ["checkpoint", "witnessed_at"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness_name"], name="cosignature_one_per_witness")
        ]

    def __str__(self) -> str:
        return gettext("%(witness)s on %(checkpoint)s") % {
            "witness": self.witness_name,
            "checkpoint": self.checkpoint,
        }
