"""The audit log: one immutable row per state change a person made, with who, when, from where and what."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.models.immutable import ImmutableModel
from consent.models.sites import Site


class AuditEntry(ImmutableModel):
    """Who did what to a site's published records, when and from where. Append-only."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="audit_entries", null=True, verbose_name=_("site")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="audit_entries",
        null=True,
        verbose_name=_("actor"),
    )
    actor_ip = models.GenericIPAddressField(null=True, verbose_name=_("actor IP"))
    action = models.CharField(
        max_length=64,
        help_text=_("Stable dotted name, e.g. policy_version.publish."),
        verbose_name=_("action"),
    )
    target = models.CharField(
        max_length=200, help_text=_("What was acted on, e.g. 'privacy policy v3'."), verbose_name=_("target")
    )
    data = models.JSONField(
        default=dict, help_text=_("Details: numbers, hashes, dates."), verbose_name=_("data")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "-created_at"], name="audit_site_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"
