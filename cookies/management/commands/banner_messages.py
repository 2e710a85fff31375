"""Compile the banner's messages from the catalogues to cookies/banner/strings/<lang>.json.

The banner's strings are data served in its config, not code: this build step reads them
through Django's gettext (the compiled locale/*/LC_MESSAGES/django.mo, so run compilemessages
first; `make messages` does both) and writes one JSON file per language, committed like the
banner's built script. The plural forms become days_<category> for each CLDR category the
language has for whole numbers (Babel's CLDR rules), so the banner's
``Intl.PluralRules(lang).select(n)`` finds its form; `--check` fails when a file is stale.
"""

import json
from typing import Any

from babel import Locale
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cookies.banner.messages import STRINGS_DIR, banner_days, banner_texts

# Whole numbers a cookie's lifetime in days can take; the first of each CLDR category is its sample.
DAY_SAMPLES = range(0, 10_001)


def plural_samples(language: str) -> dict[str, int]:
    """Each CLDR plural category `language` has for whole numbers, with the first number in it."""
    rule = Locale.parse(language).plural_form
    samples: dict[str, int] = {}
    for n in DAY_SAMPLES:
        samples.setdefault(rule(n), n)
    return samples


def compiled_strings(language: str) -> dict[str, Any]:
    """The banner's strings in `language`, days_<category> for each of its plural categories."""
    with translation.override(language):
        strings = banner_texts()
        for category, n in plural_samples(language).items():
            strings[f"days_{category}"] = banner_days(n)
    # Where "other" covers only fractions (ru, uk, pl, cs, ...), the banner still needs a
    # fallback: the form for the most numbers ("many" in these languages).
    fallback = next(key for key in ("days_many", "days_few", "days_one") if key in strings)
    strings.setdefault("days_other", strings[fallback])
    return dict(sorted(strings.items()))


def as_json(strings: dict[str, Any]) -> str:
    return json.dumps(strings, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Compile the banner's messages from the .po catalogues to per-language JSON."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--check", action="store_true", help="Fail when a compiled file is stale.")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        stale = []
        STRINGS_DIR.mkdir(exist_ok=True)
        for language, _name in settings.LANGUAGES:
            path = STRINGS_DIR / f"{language}.json"
            text = as_json(compiled_strings(language))
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if check:
                stale.append(path.name)
            else:
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {path.relative_to(settings.BASE_DIR)}")
        if stale:
            raise CommandError(
                f"cookies/banner/strings is out of date with the catalogues ({', '.join(stale)}): "
                "run make messages and commit the result"
            )
