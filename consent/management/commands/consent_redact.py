"""Erase one visitor's personal data from a site's ledger (proofs stay valid)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.ledger.retention import consent_visitor_redact
from consent.ledger.validation import VISITOR_ID
from consent.models import Site


class Command(BaseCommand):
    help = (
        "Redact a visitor: clear their visitor id, IP and user agent in every record; keep the commitments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True)
        parser.add_argument("--visitor", required=True)
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, site: str, visitor: str, reason: str, **options: Any) -> None:
        target = Site.objects.filter(key=site).first()
        if target is None:
            raise CommandError(f"No site with key {site!r}.")
        if not VISITOR_ID.match(visitor):
            raise CommandError("A visitor id is 16 to 64 letters, digits, '-' or '_'.")
        count = consent_visitor_redact(site=target, visitor_id=visitor, reason=reason, by=None)
        self.stdout.write(f"Redacted {count} record(s).")
