"""Check every record, node, checkpoint and proof of the consent ledger; exit 1 on any mismatch."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from consent.ledger.promise import promise_status_message, promises_check
from consent.ledger.verify import ledger_verify
from consent.models import Site


class Command(BaseCommand):
    help = "Verify the consent ledger from first principles and name every record or checkpoint that fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", help="Only this site key (default: every site).")
        parser.add_argument(
            "--promises",
            metavar="FILE",
            help="Check these signed inclusion promises instead of the ledger: JSON lines, each the "
            "`promise` object of a consent POST's answer or its note as a JSON string ('-': stdin). "
            "A promise whose record is gone, or not in the log after its merge delay, fails.",
        )

    def handle(self, *args: Any, site: str | None, promises: str | None, **options: Any) -> None:
        if promises:
            self._promises(promises)
            return
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

    def _promises(self, path: str) -> None:
        """Each promise's fate, one line each; a broken or invalid one is a failure (exit 1)."""
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        failures = checked = 0
        with stream:
            for check in promises_check(stream, now=timezone.now()):
                checked += 1
                if check.status is None:
                    failures += 1
                    self.stdout.write(self.style.ERROR(f"  INVALID line {check.line}: {check.problem}"))
                    continue
                promise = check.status.promise
                label = f"line {check.line}: {promise.site_key} receipt {promise.receipt_id}"
                message = promise_status_message(check.status)
                if check.kept:
                    self.stdout.write(f"  {check.status.state} {label}: {message}")
                    continue
                failures += 1
                kind = "REMOVED" if check.status.state == "removed" else "BROKEN"
                self.stdout.write(self.style.ERROR(f"  {kind} {label}: {message}"))
        if failures:
            raise CommandError(f"{failures} of {checked} promise(s) not kept or not valid.")
        self.stdout.write(self.style.SUCCESS(f"{checked} promise(s) checked: every one is kept."))
