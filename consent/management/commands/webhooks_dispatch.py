"""Send webhook events: consent events read from the ledger, policy versions taking effect, and
every delivery that is due (retries, and tasks a queue lost).

With --every it is the webhooks' periodic job (`make run` starts it beside the sealer and the
worker; run one in production): a round every N seconds, so consent events leave within the
settle lag plus N seconds; once a minute a round also looks behind the cursors for records that
committed late. The deliveries themselves run in the worker (`manage.py db_worker`).
"""

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from consent.webhooks.dispatch import webhooks_dispatch_round

# How often a round also looks behind the cursors for records that committed late.
LATE_SCAN_SECONDS = 60


class Command(BaseCommand):
    help = "Write webhook events from the ledger and the policy calendar, and queue due deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="Keep running, a round every N seconds.")

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        late_scan_at: float | None = None
        while True:
            late = not every or late_scan_at is None or time.monotonic() - late_scan_at >= LATE_SCAN_SECONDS
            try:
                result = webhooks_dispatch_round(late=late)
                if late:
                    late_scan_at = time.monotonic()
                if result.events or result.queued:
                    self.stdout.write(
                        f"webhooks: {result.events} events written, {result.queued} deliveries queued"
                    )
            except DatabaseError as error:
                if not every:
                    raise CommandError(f"The database failed: {error}") from error
                # The periodic job outlives a database outage: the outbox and the cursors are in it.
                self.stderr.write(
                    f"webhooks_dispatch: the database failed ({error}); retrying in {every:g} s"
                )
                close_old_connections()
            if not every:
                return
            sys.stdout.flush()
            time.sleep(every)
