"""What notifications say: the emails about a published version (pure functions; the webhook
event is built where the list is published, subprocessors.lists.services)."""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from consent.editions import canonical_json, sha256_hex
from consent.languages import VISITOR_LANGUAGES
from consent.models import Site
from subprocessors.lists.selectors import ListDiff, entry_text, list_page_url
from subprocessors.models import SubprocessorListVersion, Subscriber
from subprocessors.notices.tokens import objection_token_make, unsubscribe_token_make


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def unsubscribe_url(subscriber: Subscriber) -> str:
    token = unsubscribe_token_make(subscriber_key=subscriber.key)
    return absolute(reverse("subprocessors:unsubscribe", args=[subscriber.site.key, token]))


def objection_url(subscriber: Subscriber, version: SubprocessorListVersion, vendor_key: str) -> str:
    token = objection_token_make(
        subscriber_key=subscriber.key, version_number=version.number, vendor_key=vendor_key
    )
    return absolute(reverse("subprocessors:object", args=[subscriber.site.key, token]))


def _when(version: SubprocessorListVersion) -> str:
    return f"{version.effective_at:%Y-%m-%d %H:%M} UTC"


def subscriber_language(subscriber: Subscriber) -> str:
    """The language a subscriber reads our emails in: chosen at subscription, else the site's."""
    return subscriber.language or subscriber.site.default_language


def version_email(
    *, subscriber: Subscriber, version: SubprocessorListVersion, diff: ListDiff
) -> tuple[str, str, dict[str, str]]:
    """Subject, plain-text body and headers of the notice of a new list version, in the
    subscriber's language."""
    with translation.override(subscriber_language(subscriber)):
        return _version_email(subscriber, version, diff)


def _purpose_in(entry: Mapping[str, Any], subscriber: Subscriber, site: Site) -> str:
    """The entry's purpose in the subscriber's language, else the site's, named when it is not theirs."""
    language = subscriber.language or site.default_language
    purpose = entry_text(entry, language=language, fallback=site.default_language)
    if not purpose.is_fallback:
        return purpose.text
    note = _("Shown in {language}: not yet translated.").format(
        language=VISITOR_LANGUAGES.get(purpose.language, purpose.language)
    )
    return f"{purpose.text} ({note})"


def _version_email(
    subscriber: Subscriber, version: SubprocessorListVersion, diff: ListDiff
) -> tuple[str, str, dict[str, str]]:
    site = version.site
    subject = _("%(site)s: sub-processor list version %(number)s, effective %(date)s") % {
        "site": site.name,
        "number": version.number,
        "date": f"{version.effective_at:%Y-%m-%d}",
    }
    lines = [
        _("%(site)s published version %(number)s of its list of sub-processors.")
        % {"site": site.name, "number": version.number},
        _("It takes effect on %(when)s.") % {"when": _when(version)},
        "",
        diff.summary(),
    ]
    for entry in diff.added:
        lines += [
            "",
            _("New: %(name)s (%(entity)s, %(locations)s)")
            % {
                "name": entry["name"],
                "entity": entry["legal_entity"],
                "locations": ", ".join(entry["locations"]),
            },
            "  " + _("Purpose: %(purpose)s") % {"purpose": _purpose_in(entry, subscriber, site)},
            "  "
            + _("To object before %(when)s: %(url)s")
            % {"when": _when(version), "url": objection_url(subscriber, version, entry["key"])},
        ]
    for change in diff.changed:
        lines += ["", _("Changed: %(name)s") % {"name": change.name}]
        lines += [f"  {field.field}: {field.old} -> {field.new}" for field in change.changes]
    for entry in diff.removed:
        lines += [
            "",
            _("Removed: %(name)s (%(entity)s)") % {"name": entry["name"], "entity": entry["legal_entity"]},
        ]
    if version.change_note:
        lines += ["", _("Note from the publisher:"), version.change_note]
    unsubscribe = unsubscribe_url(subscriber)
    lines += [
        "",
        _("The full list and its history: %(url)s") % {"url": list_page_url(site.key)},
        _("Stop these emails: %(url)s") % {"url": unsubscribe},
    ]
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return subject, "\n".join(lines) + "\n", headers


def confirmation_email(*, subscriber: Subscriber, confirm_url: str) -> tuple[str, str]:
    """Subject and body of the double opt-in email, in the language chosen at subscription."""
    site = subscriber.site
    with translation.override(subscriber_language(subscriber)):
        subject = _("Confirm your subscription to %(site)s's sub-processor list") % {"site": site.name}
        body = (
            _(
                "Someone (we hope you) asked to receive an email each time %(site)s changes the list of "
                "companies it shares personal data with (its sub-processors)."
            )
            % {"site": site.name}
            + "\n\n"
            + _("To confirm, open this link within 7 days and press the button:")
            + f"\n{confirm_url}\n\n"
            + _("If you did not ask for this, ignore this email: nothing will be sent to you.")
            + "\n"
        )
    return subject, body


def answer_email(
    *, email: str, site_name: str, vendor_name: str, text: str, language: str
) -> tuple[str, str]:
    """Subject and body of the DPO's answer to an objection, in the objector's language."""
    with translation.override(language):
        subject = _("%(site)s: answer to your objection to %(vendor)s") % {
            "site": site_name,
            "vendor": vendor_name,
        }
        body = (
            _("You objected to %(site)s engaging %(vendor)s as a sub-processor. Our answer:")
            % {"site": site_name, "vendor": vendor_name}
            + f"\n\n{text}\n"
        )
    return subject, body


def content_hash(*parts: str) -> str:
    return sha256_hex(canonical_json(list(parts)))
