"""Append unsealed consent records to each site's Merkle log and sign a checkpoint."""

import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.models import Site
from consent.partitions import partitions_ensure
from consent.services import ledger_seal


class Command(BaseCommand):
    help = "Seal the consent ledger: Merkle-log every unsealed record and sign a checkpoint per site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", help="Only this site key (default: every site).")
        parser.add_argument("--every", type=float, default=0, help="Keep running, sealing every N seconds.")

    def handle(self, *args: Any, site: str | None, every: float, **options: Any) -> None:
        sites = Site.objects.all()
        if site:
            sites = sites.filter(key=site)
            if not sites.exists():
                raise CommandError(f"No site with key {site!r}.")
        while True:
            partitions_ensure()
            for one in sites:
                try:
                    checkpoint = ledger_seal(site=one)
                except ImproperlyConfigured as error:
                    raise CommandError(str(error)) from error
                if checkpoint is not None:
                    self.stdout.write(
                        f"{one.key}: sealed up to {checkpoint.tree_size}, root {checkpoint.root_hash}"
                    )
            if not every:
                return
            time.sleep(every)
