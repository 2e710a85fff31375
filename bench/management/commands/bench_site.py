"""Create the benchmark site (origin and purposes, through the services) and print it as JSON."""

import json
from typing import Any

from django.core.management.base import BaseCommand

from consent.sites.services import purpose_create, site_create

ORIGIN = "https://shop.example"
PURPOSES = {
    "analytics": ("Analytics", "Counts visits to improve the site."),
    "marketing": ("Marketing", "Personalised advertising."),
}


class Command(BaseCommand):
    help = "Create a site for the benchmarks; prints {site_key, origin, purposes}."

    def handle(self, *args: Any, **options: Any) -> None:
        site = site_create(name="Benchmark shop", languages=["en"], origins=[ORIGIN], by=None)
        for position, (key, texts) in enumerate(PURPOSES.items(), start=1):
            purpose_create(site=site, key=key, texts={"en": texts}, position=position, by=None)
        self.stdout.write(json.dumps({"site_key": site.key, "origin": ORIGIN, "purposes": list(PURPOSES)}))
