"""The languages visitors can be served in.

Codes are BCP 47 primary language subtags (lowercase) and are stored in the database
and in the ledger, so treat them as API: add, never rename.
"""

from typing import Final

# Code -> name of the language in itself (what a visitor recognises in a picker).
VISITOR_LANGUAGES: Final[dict[str, str]] = {
    # The 24 official languages of the European Union.
    "bg": "Български",
    "cs": "Čeština",
    "da": "Dansk",
    "de": "Deutsch",
    "el": "Ελληνικά",
    "en": "English",
    "es": "Español",
    "et": "Eesti",
    "fi": "Suomi",
    "fr": "Français",
    "ga": "Gaeilge",
    "hr": "Hrvatski",
    "hu": "Magyar",
    "it": "Italiano",
    "lt": "Lietuvių",
    "lv": "Latviešu",
    "mt": "Malti",
    "nl": "Nederlands",
    "pl": "Polski",
    "pt": "Português",
    "ro": "Română",
    "sk": "Slovenčina",
    "sl": "Slovenščina",
    "sv": "Svenska",
    # Beyond the EU: the jurisdictions we serve and their neighbours.
    "ru": "Русский",
    "kk": "Қазақ тілі",
    "uk": "Українська",
    "tr": "Türkçe",
    "ar": "العربية",
    "he": "עברית",
    "nb": "Norsk bokmål",
    "is": "Íslenska",
}

RIGHT_TO_LEFT: Final[frozenset[str]] = frozenset({"ar", "he"})

LANGUAGE_CHOICES: Final[list[tuple[str, str]]] = [
    (code, f"{name} ({code})") for code, name in VISITOR_LANGUAGES.items()
]
