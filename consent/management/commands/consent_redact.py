"""Erase one visitor's (or one account's) personal data from a site's ledger (proofs stay valid)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.ledger.retention import consent_receipts_redact, consent_visitor_redact
from consent.ledger.validation import VISITOR_ID
from consent.models import Site
from consent.subjects.services import subject_redact
from consent.subjects.validation import subject_valid


class Command(BaseCommand):
    help = (
        "Redact a visitor: clear their visitor id, IP and user agent in every record (or in the records "
        "of the receipts given), or an account the site recorded consents for (--subject: its keyed "
        "hash and its links to visitors); keep the commitments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True)
        whom = parser.add_mutually_exclusive_group(required=True)
        whom.add_argument("--visitor")
        whom.add_argument("--subject", help="The site's account id, as the management API was given it.")
        whom.add_argument(
            "--receipt",
            action="append",
            help="A receipt id the visitor holds, as --receipt=ID (ids may start with '-'); repeat for more.",
        )
        parser.add_argument("--reason", default="")

    def handle(
        self,
        *args: Any,
        site: str,
        visitor: str | None,
        receipt: list[str] | None,
        subject: str | None,
        reason: str,
        **options: Any,
    ) -> None:
        target = Site.objects.filter(key=site).first()
        if target is None:
            raise CommandError(f"No site with key {site!r}.")
        if subject is not None:
            if not subject_valid(subject):
                raise CommandError("An account id is 1 to 200 printable characters.")
            count = subject_redact(site=target, subject=subject, reason=reason, by=None)
        elif receipt:
            count = consent_receipts_redact(site=target, receipt_ids=receipt, reason=reason, by=None)
        else:
            if not VISITOR_ID.match(visitor or ""):
                raise CommandError("A visitor id is 16 to 64 letters, digits, '-' or '_'.")
            count = consent_visitor_redact(site=target, visitor_id=visitor or "", reason=reason, by=None)
        self.stdout.write(f"Redacted {count} record(s).")
