"""The cookie banner's built-in interface strings: the source of their message ids.

The words the banner itself needs (buttons, headings, labels); what a site says about its
own purposes and cookies is the site's text and lives in the database. The translations are
in locale/<lang>/LC_MESSAGES/django.po under the context "banner"; `manage.py banner_messages`
compiles them to cookies/banner/messages/<lang>.json, which the config endpoint serves.

Conventions the banner's JavaScript relies on (tests/cookies/test_banner_messages.py):

- Every language has every key, and no string is empty.
- The only placeholders are ``{n}`` (in the days_* strings) and ``{purpose}`` (in
  ``placeholder``); the banner replaces exactly these, so no other braces appear.
- days_<category> are the CLDR plural categories of the language (zero, one, two, few, many,
  other); the banner picks one with ``Intl.PluralRules(lang).select(n)``.
- Accepting and refusing get equal weight: "accept_all" and "reject_all" are phrased alike.
- In English, "do_not_sell" and "your_privacy_choices" are the titles California requires
  word for word (CCPA regulations §7013, §7015); other languages translate them faithfully.
- "sale_label" is an affirmative toggle ("Allow ..."), never a double negative (§7004).
"""

import functools
import json
from pathlib import Path
from typing import Final

from django.utils.translation import npgettext, pgettext

from consent.languages import VISITOR_LANGUAGES


def banner_texts() -> dict[str, str]:
    """The banner's strings (all but the days) in the active language."""
    return {
        "title": pgettext("banner", "Cookies on this site"),
        "body": pgettext(
            "banner",
            "We'd like to use optional cookies and similar technologies for the purposes listed in Preferences. They run only if you allow them; necessary cookies are always on.",  # noqa: E501
        ),
        "accept_all": pgettext("banner", "Accept all"),
        "reject_all": pgettext("banner", "Reject all"),
        "preferences": pgettext("banner", "Preferences"),
        "save": pgettext("banner", "Save choices"),
        "close": pgettext("banner", "Close"),
        "back": pgettext("banner", "Back"),
        "always_on": pgettext("banner", "Always on"),
        "privacy_policy": pgettext("banner", "Privacy policy"),
        "cookie_policy": pgettext("banner", "Cookie policy"),
        "vendor_list": pgettext("banner", "Partners and sub-processors"),
        "consent_document": pgettext("banner", "Consent to personal data processing"),
        "notice_at_collection": pgettext("banner", "Notice at collection"),
        "do_not_sell": pgettext("banner", "Do Not Sell or Share My Personal Information"),
        "your_privacy_choices": pgettext("banner", "Your Privacy Choices"),
        "gpc_honored": pgettext(
            "banner",
            "Your browser's Global Privacy Control signal was honored: we do not sell or share your personal information.",  # noqa: E501
        ),
        "withdraw_note": pgettext(
            "banner", "You can change or withdraw your choice at any time with the privacy choices button."
        ),
        "preferences_title": pgettext("banner", "Privacy preferences"),
        "preferences_body": pgettext(
            "banner", "Choose which optional purposes you allow. You can change this at any time."
        ),
        "cookies": pgettext("banner", "Cookies"),
        "vendors": pgettext("banner", "Partners"),
        "duration": pgettext("banner", "Duration"),
        "session": pgettext("banner", "Until you close the browser"),
        "provider": pgettext("banner", "Provider"),
        "first_party": pgettext("banner", "This site"),
        "reopen": pgettext("banner", "Privacy choices"),
        "opt_out_title": pgettext("banner", "Your privacy choices"),
        "opt_out_body": pgettext(
            "banner",
            "This site uses cookies, including to share personal information for advertising; you can opt out of the sale or sharing of your personal information.",  # noqa: E501
        ),
        "sale_label": pgettext("banner", "Allow sale or sharing of my personal information"),
        "saved": pgettext("banner", "Your choices were saved."),
        "receipt": pgettext("banner", "Receipt of your choice"),
        "requests": pgettext("banner", "Your privacy rights: make a request"),
        "placeholder": pgettext("banner", "This content is blocked until you allow {purpose}."),
        "allow_and_load": pgettext("banner", "Allow and load"),
        "ok": pgettext("banner", "OK"),
    }


def banner_days(n: int) -> str:
    """A cookie's lifetime in days, "{n}" left for the banner to fill, in the active language."""
    return npgettext("banner", "{n} day", "{n} days", n)


STRINGS_DIR: Final[Path] = Path(__file__).resolve().parent / "strings"


@functools.cache
def _strings(code: str) -> dict[str, str]:
    return json.loads((STRINGS_DIR / f"{code}.json").read_text(encoding="utf-8"))


def banner_strings(language: str) -> dict[str, str]:
    """The banner's strings for `language` as compiled from the catalogues, English for a
    language we do not ship.

    `language` is a BCP 47 tag; only its primary subtag counts ("pt-BR" gets "pt"). Returns a
    copy, so callers may change it without touching the shared one.
    """
    primary = language.replace("_", "-").split("-", 1)[0].lower()
    if primary not in VISITOR_LANGUAGES:
        primary = "en"
    return dict(_strings(primary))
