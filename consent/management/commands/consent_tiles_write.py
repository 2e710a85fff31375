"""Write a site's log as C2SP tlog-tiles files into a directory, for a CDN or object store to serve.

The directory then holds what /log/<site_key>/ answers: `checkpoint`, `tile/<L>/<N>[.p/<W>]`
and `tile/entries/<N>[.p/<W>]`. Run it after each sealing (or every few minutes): full tiles
already written are kept, since they never change; serve them with a long, immutable cache.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.ledger.tiles import log_directory_write
from consent.sites.selectors import site_get_by_key


class Command(BaseCommand):
    help = "Write a site's log (checkpoint and tiles, C2SP tlog-tiles) into a directory, incrementally."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("site_key")
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, site_key: str, directory: Path, **options: Any) -> None:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise CommandError(f"No site with key {site_key!r}.")
        try:
            result = log_directory_write(site=site, directory=directory)
        except OSError as error:
            raise CommandError(f"Cannot write to {directory}: {error}") from error
        if not result.written:
            self.stdout.write(f"{site_key}: no C2SP checkpoint yet; nothing written.")
            return
        self.stdout.write(f"{site_key}: {result.written} files written, {result.kept} full tiles kept.")
        for path in result.gone or []:
            self.stderr.write(f"{path}: not written: a record in it was removed by retention.")
