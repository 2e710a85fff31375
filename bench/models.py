from django.db import models

from consent.models import Site


class RawConsentRow(models.Model):
    """A row as wide as consent.ConsentRecord (same columns, types and indexes), written with no checks.

    The baseline of the consent write benchmark: what one ORM INSERT of such a row costs.
    Differences kept on purpose: no append-only triggers (they fire on UPDATE/DELETE only) and,
    on PostgreSQL, no monthly partitioning (the ledger routes every row through its partitions).
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    receipt_id = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=32)
    ui_layer = models.CharField(max_length=32)
    purposes_granted = models.JSONField()
    purposes_denied = models.JSONField()
    jurisdiction = models.CharField(max_length=16)
    rules_version = models.CharField(max_length=32)
    rules_sha256 = models.CharField(max_length=64)
    resolved_by = models.CharField(max_length=16)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=8, blank=True)
    language = models.CharField(max_length=8)
    versions = models.JSONField()
    gpc = models.BooleanField()
    dnt = models.BooleanField()
    page_url = models.CharField(max_length=2048, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True)  # noqa: DJ001
    visitor_id = models.CharField(max_length=64, null=True)  # noqa: DJ001
    ip_address = models.CharField(max_length=45, null=True)  # noqa: DJ001
    user_agent = models.CharField(max_length=512, null=True)  # noqa: DJ001
    personal_salt = models.CharField(max_length=32, null=True)  # noqa: DJ001
    personal_sha256 = models.CharField(max_length=64)
    leaf_sha256 = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["site", "visitor_id", "-id"], name="bench_raw_visitor_latest"),
            models.Index(fields=["site", "idempotency_key"], name="bench_raw_idempotency"),
            models.Index(fields=["site", "created_at"], name="bench_raw_site_time"),
        ]

    def __str__(self) -> str:
        return self.receipt_id
