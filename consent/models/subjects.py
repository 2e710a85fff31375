"""Links between a site's accounts (subjects) and the banner's visitors."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.models.sites import Site


class SubjectLink(models.Model):
    """One browser (a banner visitor id) known to belong to one of the site's accounts.

    The account is named only by its HMAC (consent.ledger.crypto.subject_hmac). While the link
    exists, the visitor's decisions count in the account's state (consent.subjects.selectors):
    a withdrawal or an opt-out signal on that browser reaches the account. Made and removed
    through the management API, each with an audit row.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    subject_hmac = models.CharField(max_length=64, verbose_name=_("subject (keyed hash)"))
    visitor_id = models.CharField(max_length=64, verbose_name=_("visitor id"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("linked at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("linked by"),
    )
    token_prefix = models.CharField(
        max_length=32, blank=True, help_text=_("The API token that made the link."), verbose_name=_("token")
    )

    class Meta:
        verbose_name = _("subject link")
        verbose_name_plural = _("subject links")
        constraints = [
            models.UniqueConstraint(fields=["site", "subject_hmac", "visitor_id"], name="subject_link_unique")
        ]
        indexes = [models.Index(fields=["site", "visitor_id"], name="subject_link_visitor")]

    def __str__(self) -> str:
        return f"{self.subject_hmac[:12]}… ↔ {self.visitor_id}"
