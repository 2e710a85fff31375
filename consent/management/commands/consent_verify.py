"""Check every record, node, checkpoint and proof of the consent ledger; exit 1 on any mismatch."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.ledger.verify import ledger_verify
from consent.models import Site


class Command(BaseCommand):
    help = "Verify the consent ledger from first principles and name every record or checkpoint that fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", help="Only this site key (default: every site).")

    def handle(self, *args: Any, site: str | None, **options: Any) -> None:
        sites = Site.objects.all() if not site else Site.objects.filter(key=site)
        if site and not sites.exists():
            raise CommandError(f"No site with key {site!r}.")
        failures = 0
        for one in sites.order_by("key"):
            report = ledger_verify(site=one)
            self.stdout.write(
                f"{report.site_key}: {report.records} records ({report.sealed} sealed, "
                f"{report.unsealed} unsealed, {report.redacted} redacted), "
                f"{report.purged} purged by retention, "
                f"{report.checkpoints} checkpoints, {report.proofs} proofs checked"
            )
            for problem in report.problems:
                self.stdout.write(self.style.ERROR(f"  MISMATCH {report.site_key}: {problem}"))
            failures += len(report.problems)
        if failures:
            raise CommandError(f"{failures} mismatch(es) found.")
        self.stdout.write(self.style.SUCCESS("The ledger verifies."))
