"""Delete consent records past each site's retention (whole months at once on PostgreSQL), and the
data-subject requests closed more than 24 months ago."""

from typing import Any

from django.core.management.base import BaseCommand

from consent.ledger.retention import consent_retention_apply
from consent.requests.retention import requests_retention_apply


class Command(BaseCommand):
    help = "Apply each site's consent retention; every deletion leaves an audit entry."

    def handle(self, *args: Any, **options: Any) -> None:
        for key, count in sorted(consent_retention_apply().items()):
            self.stdout.write(f"{key}: {count} record(s) past retention deleted")
        for key, count in sorted(requests_retention_apply().items()):
            self.stdout.write(f"{key}: {count} data-subject request(s) past retention deleted")
