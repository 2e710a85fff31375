"""What the translation catalogues hold: per-language coverage of our message ids.

Read by the CI checks (tests/i18n) and `manage.py catalogue_coverage`; the catalogues are the
committed locale/<lang>/LC_MESSAGES/django.po (English is the source language: its catalogue
lists every message id `make messages` extracted, with empty translations).
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

SOURCE_LANGUAGE = "en"
# Languages whose every message a person reads must be translated (issue 13).
COMPLETE_LANGUAGES = ("ru", "kk")


def catalogue_path(language: str) -> Path:
    return Path(settings.BASE_DIR, "locale", language, "LC_MESSAGES", "django.po")


@dataclass(frozen=True)
class Coverage:
    language: str
    total: int
    translated: int
    fuzzy: int
    missing_ids: int  # message ids of the source the catalogue does not have at all

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0


def message_keys(language: str) -> dict[tuple[str | None, str], object]:
    """Every message of the language's catalogue: (context, msgid) -> the Babel message."""
    from babel.messages.pofile import read_po  # a dev dependency: only checks read catalogues

    with catalogue_path(language).open("rb") as file:
        catalogue = read_po(file)
    return {
        (message.context, message.id if isinstance(message.id, str) else message.id[0]): message
        for message in catalogue
        if message.id
    }


def catalogue_coverage(language: str) -> Coverage:
    source = message_keys(SOURCE_LANGUAGE)
    messages = message_keys(language)
    translated = fuzzy = 0
    for key in source:
        message = messages.get(key)
        if message is None:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            fuzzy += 1
        elif all(strings):
            translated += 1
    return Coverage(
        language=language,
        total=len(source),
        translated=translated,
        fuzzy=fuzzy,
        missing_ids=len(set(source) - set(messages)),
    )
