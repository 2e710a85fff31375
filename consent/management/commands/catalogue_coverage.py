"""Print each catalogue's coverage of our message ids (CI prints it; README "Translations")."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from consent.catalogues import SOURCE_LANGUAGE, catalogue_coverage


class Command(BaseCommand):
    help = "Print the share of message ids each language's catalogue translates."

    def handle(self, *args: Any, **options: Any) -> None:
        for language, name in settings.LANGUAGES:
            if language == SOURCE_LANGUAGE:
                continue
            coverage = catalogue_coverage(language)
            self.stdout.write(
                f"{language:3} {coverage.percent:5.1f}%  {coverage.translated}/{coverage.total}"
                f"  fuzzy {coverage.fuzzy}  {name}"
            )
