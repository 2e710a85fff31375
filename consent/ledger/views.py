"""Receipt pages for people: a decision, what was shown, and a proof check in the reader's browser.

Every word comes from the gettext catalogues (context "receipt" where a short word is
ambiguous): the page's own through {% translate %}, the sentences with values in them here,
and the in-browser checks' messages as data (a JSON block the scripts read: the strict CSP
allows no inline script), with {placeholders} the scripts fill in.
"""

from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from consent.catalogues import catalogue_path
from consent.languages import RIGHT_TO_LEFT, VISITOR_LANGUAGES
from consent.ledger.crypto import timestamp
from consent.ledger.promise import PromiseStatus, receipt_promise_status
from consent.ledger.selectors import RECEIPT_ID, Receipt, receipt_get
from consent.models import Site
from consent.policies.selectors import pinned_policy_titles
from consent.policies.views import page_strings
from consent.sites.selectors import purpose_list
from edge.http import language_choose, render_in_language


@cache
def receipt_languages() -> tuple[str, ...]:
    """The languages a receipt page can be read in: every visitor language with a catalogue."""
    return tuple(code for code in VISITOR_LANGUAGES if catalogue_path(code).exists())


def receipt_language(request: HttpRequest, record_language: str | None = None) -> str:
    """`?lang=`, then the record's language, then Accept-Language, among receipt_languages(); else English."""
    available = list(receipt_languages())
    asked = request.GET.get("lang", "").lower()
    if asked in available:
        return asked
    if record_language in available:
        return record_language
    return language_choose(request, available, "en")


def script_strings() -> dict[str, str]:
    """The in-browser checks' messages in the active language ({name}: filled in by the script)."""
    return {
        "step_leaf": _("The record (under Technical details) hashes to leaf {leaf}…"),
        "step_leaf_bad": _("The record hashes to leaf {leaf}…, not to the leaf {given}… given"),
        "step_receipt": _("The record carries this receipt id"),
        "step_inclusion": _(
            "Its inclusion proof leads to the root of the log at size {size} (entry {entry}; steps: {steps})"
        ),
        "step_note": _("The signed checkpoint note states that size and root"),
        "step_signature": _(
            "The note is signed (Ed25519) by key {key} = {public} "
            "(compare it with the key the site publishes)"
        ),
        "verdict_pending": _("Recorded; not sealed into the signed log yet. Check again in a minute."),
        "verdict_mismatch": _("This record does not match its receipt."),
        "verdict_verified": _("Every check passed: this decision is in the signed log as shown."),
        "verdict_failed": _("A check failed: this receipt does not prove what it says."),
        "verdict_error": _("The check could not run:"),
        "error_status": _("the server answered {status}."),
        "error_note": _("this is not a signed Consentry promise."),
        **promise_strings(),
        "promise_signed": _("Your copy of the promise is signed (Ed25519) by the site's log key {key}"),
        "promise_unsigned": _("Your copy of the promise is not validly signed by the site's log key"),
        "promise_receipt": _("Your copy of the promise names receipt {receipt}"),
        "promise_error": _("The promise could not be checked:"),
    }


def promise_strings() -> dict[str, str]:
    """What became of a promise, one sentence per state: the page's and the script's."""
    return {
        "promise_included": _("Promised at {time}, included at index {index} in checkpoint {size}."),
        "promise_pending": _("Promised at {time}, not yet included, due by {due}."),
        "promise_overdue": _(
            "Promised at {time}, due by {due}, and still not in the signed log: the promise is broken."
        ),
        "promise_altered": _(
            "The record no longer has the leaf hash promised at {time}: evidence that it was altered."
        ),
        "promise_purged": _(
            "Promised at {time}, included at index {index}, then deleted when the site's retention "
            "period ended."
        ),
        "promise_removed": _(
            "Evidence of removal: the site promised at {time} to add receipt {receipt} to its signed "
            "log within {delay} seconds, but the ledger no longer has this record."
        ),
    }


def edition_names() -> dict[str, str]:
    """The editions a record pins besides policies, by kind."""
    return {
        "banner": pgettext("receipt", "Banner"),
        "subprocessors": _("Sub-processor list"),
    }


@require_safe
def receipt_lookup(request: HttpRequest) -> HttpResponseBase:
    """Look a receipt up by its id (as an export, an email or a site's settings page gives it)."""
    receipt_id = request.GET.get("id", "").strip()
    if receipt_id and receipt_get(receipt_id=receipt_id, with_proof=False) is not None:
        return redirect("receipt-page", receipt_id=receipt_id)
    language = receipt_language(request)
    response = render_in_language(
        request,
        language,
        "consent/receipt_lookup.html",
        {"receipt_id": receipt_id, "not_found": bool(receipt_id), "dir": _direction(language)},
        status=404 if receipt_id else 200,
    )
    patch_vary_headers(response, ("Accept-Language",))
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def receipt_page(request: HttpRequest, receipt_id: str) -> HttpResponseBase:
    """A consent receipt for people: what was decided, what was shown, and its proof.

    The visitor, the site's DPO or a regulator can read it without an account; the proof is
    checked in the reader's own browser (static/consent/receipt.js), not taken on our word.
    No personal data: the visitor id, address and browser appear only as their commitment.
    """
    receipt = receipt_get(receipt_id=receipt_id, with_proof=False)
    if receipt is None:
        return _receipt_missing(request, receipt_id)
    record = receipt.record
    language = receipt_language(request, record.language)
    with translation.override(language):
        context = _receipt_context(receipt, language)
    response = render_in_language(request, language, "consent/receipt.html", context)
    patch_vary_headers(response, ("Accept-Language",))
    # Sealing and redaction change what it shows; a receipt is nobody's business but its holder's.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def _receipt_context(receipt: Receipt, language: str) -> dict[str, Any]:
    """What receipt.html shows, its sentences in the active language."""
    record = receipt.record
    checkpoint = receipt.checkpoint
    promise = receipt_promise_status(receipt=receipt, now=timezone.now())
    return {
        "site": record.site,
        "record": record,
        "receipt": receipt,
        "shown": _editions_shown(receipt, language),
        "sealed_text": _sealed_text(receipt)
        if checkpoint is not None
        else "",  # only a sealed record has one
        "witnessed": [
            _(
                "This checkpoint is witnessed by {name} at {time} UTC: an independent party checked "
                "that the log only grew up to it."
            ).format(name=c.witness_name, time=f"{c.witnessed_at:%Y-%m-%d %H:%M:%S}")
            for c in (checkpoint.cosignatures.all() if checkpoint is not None else [])
        ],
        "promise_status": promise,
        "promise_text": promise_status_text(promise),
        "checkpoint_text": _("size {size}, root").format(size=checkpoint.tree_size) if checkpoint else "",
        "visitor_place": "-".join(part for part in (record.country, record.region) if part)
        if record.country
        else "",
        "granted": _purposes_named(record.site, record.purposes_granted, language),
        "denied": _purposes_named(record.site, record.purposes_denied, language),
        "action": record.get_action_display(),
        "ui_layer": record.get_ui_layer_display(),
        # A decision the site's own systems recorded (the "Where" row says so): how they got it.
        "collection_method": record.get_collection_method_display() if record.collection_method else "",
        "t": page_strings(language),
        "script_strings": script_strings(),
        "dir": _direction(language),
    }


def _purposes_named(site: Site, keys: list[str], language: str) -> str:
    """The purposes as the reader knows them: today's name in their language (else the site's
    default), and the key the record holds, which is what it proves."""
    names: dict[str, dict[str, str]] = {}
    for purpose in purpose_list(site=site):
        names[purpose.key] = {text.language: text.name for text in purpose.translations.all()}
    named = []
    for key in keys:
        texts = names.get(key, {})
        name = texts.get(language) or texts.get(site.default_language)
        named.append(f"{name} ({key})" if name and name != key else key)
    return ", ".join(named)


def _editions_shown(receipt: Receipt, language: str) -> list[dict[str, Any]]:
    """What the visitor was shown: the pinned policy versions (titled, linked) and the other editions."""
    record = receipt.record
    pinned_policies = record.versions.get("policies", {})
    titles = pinned_policy_titles(site_id=record.site_id, pinned=pinned_policies, language=language)
    shown: list[dict[str, Any]] = [
        {
            "name": titles.get(slug, slug),
            "number": pinned["number"],
            "url": reverse("policy-version", args=[receipt.site_key, slug, pinned["number"]])
            + f"?lang={language}",
        }
        for slug, pinned in sorted(pinned_policies.items())
    ]
    names = edition_names()
    shown += [
        {"name": names.get(kind, kind), "number": pinned["number"], "url": None}
        for kind, pinned in sorted(record.versions.items())
        if kind != "policies"
    ]
    return shown


def _sealed_text(receipt: Receipt) -> str:
    """Where a sealed record stands in the log, and which signed checkpoint covers it."""
    checkpoint = receipt.checkpoint
    assert checkpoint is not None and receipt.leaf_index is not None
    return _(
        "This record is entry {entry} of {size} in {site}'s append-only consent log, whose state at "
        "{time} UTC is signed (key {key}). Changing or removing this record, or any entry before it, "
        "would break this proof. Keep the checkpoint's size and root below to hold the log to it later."
    ).format(
        entry=receipt.leaf_index + 1,
        size=checkpoint.tree_size,
        site=receipt.record.site.name,
        time=f"{checkpoint.created_at:%Y-%m-%d %H:%M:%S}",
        key=checkpoint.key_id,
    )


def promise_status_text(status: PromiseStatus) -> str:
    """The page's sentence for what became of a promise, in the active language (the script
    fills the same strings)."""
    promise = status.promise
    return promise_strings()[f"promise_{status.state}"].format(
        time=promise.promised_at,
        due=timestamp(promise.due_at),
        index=status.leaf_index,
        size=status.checkpoint.tree_size if status.checkpoint else "",
        receipt=promise.receipt_id,
        delay=promise.merge_delay_seconds,
    )


def _receipt_missing(request: HttpRequest, receipt_id: str) -> HttpResponseBase:
    """A 404 page that still checks the promise the visitor's browser kept (in the URL fragment,
    which never reaches the server): a valid promise of a missing record is evidence of removal."""
    language = receipt_language(request)
    shown_id = receipt_id if RECEIPT_ID.match(receipt_id) else ""
    with translation.override(language):
        context = {
            "receipt_id": shown_id,
            "missing_text": _(
                "The ledger has no record with receipt id {receipt}. If your browser kept the site's "
                "signed promise for it, the check below says what that means."
            ).format(receipt=shown_id),
            "t": page_strings(language),
            "script_strings": script_strings(),
            "dir": _direction(language),
        }
    response = render_in_language(request, language, "consent/receipt_missing.html", context, status=404)
    patch_vary_headers(response, ("Accept-Language",))
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
