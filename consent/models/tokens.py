"""API tokens: a site's management-API credentials, each with its scopes, shown once, stored hashed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.models.sites import Site


class TokenScope(models.TextChoices):
    """What a token may do; a token holds only scopes its creator's role allows (consent.tokens)."""

    READ = "read", _("Read the site's configuration and editions")
    WRITE = "write", _("Change the site's configuration")
    PUBLISH = "publish", _("Publish banner, policy and sub-processor list versions")
    CONSENTS_READ = "consents:read", _("Read consents")
    CONSENTS_WRITE = "consents:write", _("Record consents from the site's backend")
    EXPORT = "export", _("Export consent records")
    REQUESTS_READ = "requests:read", _("Read data-subject requests")
    REQUESTS_WRITE = (
        "requests:write",
        _("File data-subject requests and confirm their erasure from the site's backend"),
    )


# The visible start of every token: secret scanners and people recognise it.
TOKEN_PREFIX = "cst_"


class ApiToken(models.Model):
    """One credential of one site's management API.

    The token is `cst_<prefix>_<secret>`; only its SHA-256 is kept (it is 256 random bits, so a
    fast hash is enough: nothing to guess from), and the prefix, which the owner sees in the
    admin and in audit rows to tell tokens apart. Never deleted: a revoked token keeps its row,
    so the audit rows that name it still point somewhere.
    """

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("site")
    )
    name = models.CharField(
        max_length=100, help_text=_("What it is for, e.g. “sign-up form backend”."), verbose_name=_("name")
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False, verbose_name=_("prefix"))
    secret_sha256 = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, verbose_name=_("scopes"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for a token made from the shell (manage.py token_create)."),
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty: until revoked."), verbose_name=_("expires at")
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("revoked at"))
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["site", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}{self.prefix}…)"

    @property
    def visible_prefix(self) -> str:
        return f"{TOKEN_PREFIX}{self.prefix}"


class ApiIdempotencyKey(models.Model):
    """The answer a management-API POST gave under an `Idempotency-Key`, replayed to a retry.

    Kept per site and caller (a token's prefix, or `user:<id>`), with the SHA-256 of the request
    (method, path, body), so the same key with another request is refused, not answered with
    someone else's result. Only successful answers are kept: a refused request wrote nothing,
    so running it again is safe. Forgotten after IDEMPOTENCY_KEY_HOURS (consent.tokens.idempotency).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    caller = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    request_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    # The first answer's ETag ("" if it had none): a retry must be able to PATCH what it made.
    etag = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "caller", "key"], name="api_idempotency_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
