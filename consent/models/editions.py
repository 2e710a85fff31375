"""The abstract published edition: the shape shared by policy, banner and sub-processor list versions.

The functions that read and publish editions are in consent/editions.py.
"""

from django.conf import settings
from django.db import models

from consent.models.immutable import ImmutableModel


class Edition(ImmutableModel):
    """Abstract: one frozen, numbered edition. Concrete models add their parent and content."""

    number = models.PositiveIntegerField(editable=False)
    content_sha256 = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(editable=False)
    effective_at = models.DateTimeField(editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    change_note = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True
