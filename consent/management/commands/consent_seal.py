"""Append unsealed consent records to each site's Merkle log and sign a checkpoint.

With --every it is the ledger's periodic job (`make run` starts it; run one in production):
it seals every N seconds, creates the coming months' partitions on PostgreSQL, and once
every --retention-hours queues the retention task for the worker, so a long retention
run never delays sealing. Each round looks ROUND_LOOK_BACK behind the newest checkpoint for
records that committed late; the first round and one an hour look back the whole
LATE_COMMIT_MARGIN (a run without --every always does).
"""

import sys
import time
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from consent.ledger.crypto import LATE_COMMIT_MARGIN
from consent.ledger.partitions import partitions_ensure
from consent.ledger.seal import ledger_seal
from consent.models import Site
from consent.tasks import consent_retention_task

ROUND_LOOK_BACK = timedelta(minutes=2)
DEEP_ROUND_SECONDS = 3600


class Command(BaseCommand):
    help = "Seal the consent ledger: Merkle-log every unsealed record and sign a checkpoint per site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", help="Only this site key (default: every site).")
        parser.add_argument("--every", type=float, default=0, help="Keep running, sealing every N seconds.")
        parser.add_argument(
            "--retention-hours",
            type=float,
            default=24,
            help="With --every: queue the retention task at start and then every N hours (0: never).",
        )

    def handle(
        self, *args: Any, site: str | None, every: float, retention_hours: float, **options: Any
    ) -> None:
        if site and not Site.objects.filter(key=site).exists():
            raise CommandError(f"No site with key {site!r}.")
        retention_queued_at: float | None = None
        deep_round_at: float | None = None
        while True:
            deep = (
                not every or deep_round_at is None or time.monotonic() - deep_round_at >= DEEP_ROUND_SECONDS
            )
            try:
                retention_due = retention_queued_at is None or (
                    time.monotonic() - retention_queued_at >= retention_hours * 3600
                )
                if every and retention_hours and retention_due:
                    consent_retention_task.enqueue()
                    retention_queued_at = time.monotonic()
                self.seal_all(site, look_back=LATE_COMMIT_MARGIN if deep else ROUND_LOOK_BACK)
                if deep:
                    deep_round_at = time.monotonic()
            except DatabaseError as error:
                if not every:
                    raise CommandError(f"The database failed: {error}") from error
                # The periodic job outlives a database outage: unsealed rows wait for the next round.
                self.stderr.write(f"consent_seal: the database failed ({error}); retrying in {every:g} s")
                close_old_connections()
            if not every:
                return
            sys.stdout.flush()
            time.sleep(every)

    def seal_all(self, site_key: str | None, *, look_back: timedelta) -> None:
        partitions_ensure()
        # Read afresh every round: a site registered while the job runs is sealed too.
        sites = Site.objects.filter(key=site_key) if site_key else Site.objects.all()
        for one in sites:
            try:
                checkpoint = ledger_seal(site=one, look_back=look_back)
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from error
            if checkpoint is not None:
                self.stdout.write(
                    f"{one.key}: sealed up to {checkpoint.tree_size}, root {checkpoint.root_hash}"
                )
