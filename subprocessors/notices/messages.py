"""What notifications say: the email and webhook bodies for a published version (pure functions)."""

import json
from typing import Any

from django.conf import settings
from django.urls import reverse

from consent.editions import canonical_json, sha256_hex
from subprocessors.lists.selectors import ListDiff
from subprocessors.models import SubprocessorListVersion, Subscriber
from subprocessors.notices.tokens import objection_token_make, unsubscribe_token_make


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def page_url(site_key: str) -> str:
    return absolute(reverse("subprocessors:page", args=[site_key]))


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


def version_email(
    *, subscriber: Subscriber, version: SubprocessorListVersion, diff: ListDiff
) -> tuple[str, str, dict[str, str]]:
    """Subject, plain-text body and headers of the notice of a new list version."""
    site = version.site
    subject = (
        f"{site.name}: sub-processor list version {version.number}, effective {version.effective_at:%Y-%m-%d}"
    )
    lines = [
        f"{site.name} published version {version.number} of its list of sub-processors.",
        f"It takes effect on {_when(version)}.",
        "",
        diff.summary(),
    ]
    for entry in diff.added:
        lines += [
            "",
            f"New: {entry['name']} ({entry['legal_entity']}, {', '.join(entry['locations'])})",
            f"  Purpose: {entry['purpose']}",
            f"  To object before {_when(version)}: {objection_url(subscriber, version, entry['key'])}",
        ]
    for change in diff.changed:
        lines += ["", f"Changed: {change.name}"]
        lines += [f"  {field.field}: {field.old} -> {field.new}" for field in change.changes]
    for entry in diff.removed:
        lines += ["", f"Removed: {entry['name']} ({entry['legal_entity']})"]
    if version.change_note:
        lines += ["", "Note from the publisher:", version.change_note]
    unsubscribe = unsubscribe_url(subscriber)
    lines += [
        "",
        f"The full list and its history: {page_url(site.key)}",
        f"Stop these emails: {unsubscribe}",
    ]
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return subject, "\n".join(lines) + "\n", headers


def confirmation_email(*, subscriber: Subscriber, confirm_url: str) -> tuple[str, str]:
    site = subscriber.site
    subject = f"Confirm your subscription to {site.name}'s sub-processor list"
    body = (
        f"Someone (we hope you) asked to receive an email each time {site.name} changes the list of\n"
        "companies it shares personal data with (its sub-processors).\n\n"
        f"To confirm, open this link within 7 days and press the button:\n{confirm_url}\n\n"
        "If you did not ask for this, ignore this email: nothing will be sent to you.\n"
    )
    return subject, body


def answer_email(*, email: str, site_name: str, vendor_name: str, text: str) -> tuple[str, str]:
    subject = f"{site_name}: answer to your objection to {vendor_name}"
    body = f"You objected to {site_name} engaging {vendor_name} as a sub-processor. Our answer:\n\n{text}\n"
    return subject, body


def version_payload(*, version: SubprocessorListVersion, diff: ListDiff) -> dict[str, Any]:
    return {
        "type": "subprocessor_list.published",
        "site": version.site.key,
        "version": {
            "number": version.number,
            "published_at": version.published_at.isoformat(),
            "effective_at": version.effective_at.isoformat(),
            "content_sha256": version.content_sha256,
            "change_note": version.change_note,
        },
        "diff": diff.as_dict(),
        "url": page_url(version.site.key),
    }


def payload_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()


def content_hash(*parts: str) -> str:
    return sha256_hex(canonical_json(list(parts)))
