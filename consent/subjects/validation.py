"""The body of a consent the site's own systems record (POST /api/v1/sites/<key>/consents).

The same rules as the banner's POST where they overlap (purposes, pinned editions, page,
visitor id: consent.ledger.validation), and these of its own:
- `subject` is the site's account id, 1 to 200 printable characters. It is never stored (only
  its HMAC), never logged and never repeated in an error.
- A form may ask about some purposes only: `purposes_granted` / `purposes_denied` name those
  it decided; the others keep whatever the account decided before (the state is per purpose,
  consent.subjects.selectors). `accept_all`, `reject_all` and `withdraw` decide every optional
  purpose, `do_not_sell_opt_out` every purpose that sells or shares, so with one of them the
  lists may be left out.
- No backdating: the record's time is the server's. The jurisdiction is the one the site states,
  else its default (the request comes from the site's server: its address says nothing).
"""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from consent.ledger.validation import (
    VISITOR_ID,
    ConsentInput,
    InputError,
    action_contradiction,
    content_check,
    page_url_clean,
    versions_pin,
)
from consent.models import NECESSARY_PURPOSE_KEY, CollectionMethod, ConsentAction, UiLayer
from consent.rules.jurisdictions import RULESETS
from consent.sites.selectors import SiteSnapshot

SUBJECT_MAX_LENGTH = 200

# GPC is a browser's signal: a site's server cannot send one for a person.
BACKEND_ACTIONS = tuple(action for action in ConsentAction.values if action != ConsentAction.GPC_OPT_OUT)
# A data-subject request's decisions are recorded by Consentry itself (consent/requests/automation.py).
BACKEND_METHODS = tuple(
    method for method in CollectionMethod.values if method != CollectionMethod.DATA_SUBJECT_REQUEST
)

KNOWN_FIELDS = frozenset(
    {
        "subject",
        "action",
        "purposes_granted",
        "purposes_denied",
        "versions",
        "collection_method",
        "language",
        "jurisdiction",
        "page_url",
        "visitor_id",
    }
)


@dataclass(frozen=True)
class SubjectConsentInput:
    """A valid decision for the site, the account it is about and how it was collected."""

    subject: str
    collection_method: str
    jurisdiction: str | None
    consent: ConsentInput


def subject_valid(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= SUBJECT_MAX_LENGTH and value.isprintable()


def subject_refusal() -> str:
    """What is wrong with a subject that is not valid (the value itself is never repeated)."""
    return _("Give the account id: 1 to 200 printable characters.")


def subject_consent_parse(payload: Any, snapshot: SiteSnapshot) -> SubjectConsentInput:
    """The decision in `payload`, valid for this site; InputError names every field that is not."""
    if not isinstance(payload, dict):
        raise InputError(400, "invalid", _("The body must be a JSON object."))
    content_check(payload)
    errors: dict[str, list[str]] = {}
    if unknown := sorted(set(payload) - KNOWN_FIELDS):
        errors["non_field_errors"] = [_("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}]
    if not subject_valid(payload.get("subject")):
        errors["subject"] = [subject_refusal()]
    method = payload.get("collection_method")
    if not isinstance(method, str) or method not in BACKEND_METHODS:
        errors["collection_method"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(BACKEND_METHODS)}
        ]
    language = payload.get("language")
    if not isinstance(language, str) or language not in snapshot.site.enabled_languages:
        errors["language"] = [
            _("Choose one of the site's languages: %(languages)s.")
            % {"languages": ", ".join(snapshot.site.enabled_languages)}
        ]
    jurisdiction = payload.get("jurisdiction")
    if jurisdiction is not None and (not isinstance(jurisdiction, str) or jurisdiction not in RULESETS):
        errors["jurisdiction"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(RULESETS)}]
    visitor_id = payload.get("visitor_id")
    if visitor_id is not None and (not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id)):
        errors["visitor_id"] = [_("Give the random visitor id: 16 to 64 letters, digits, '-' or '_'.")]
    action, granted, denied = _decision(payload, snapshot, errors)
    versions = versions_pin(payload.get("versions", {}), snapshot, errors)
    page_url, page_error = page_url_clean(payload.get("page_url"), snapshot.origins)
    if page_error:
        errors["page_url"] = [page_error]
    if errors:
        raise InputError(
            400, "invalid", _("The consent is not valid; see fields. Nothing was recorded."), errors
        )
    return SubjectConsentInput(
        subject=payload["subject"],
        collection_method=method,  # type: ignore[arg-type]
        jurisdiction=jurisdiction,
        consent=ConsentInput(
            visitor_id=visitor_id,
            action=action,
            granted=tuple(sorted(granted)),
            denied=tuple(sorted(denied)),
            versions=versions,
            language=language,  # type: ignore[arg-type]
            ui_layer=UiLayer.BACKEND,
            gpc=False,
            dnt=False,
            page_url=page_url,
            idempotency_key=None,
        ),
    )


def _decision(
    payload: dict[str, Any], snapshot: SiteSnapshot, errors: dict[str, list[str]]
) -> tuple[str, set[str], set[str]]:
    """The action and the purposes it grants and denies (the necessary one always granted)."""
    action = payload.get("action")
    if action is not None and (not isinstance(action, str) or action not in BACKEND_ACTIONS):
        errors["action"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(BACKEND_ACTIONS)}]
        action = None
    lists: dict[str, set[str]] = {}
    for name in ("purposes_granted", "purposes_denied"):
        raw = payload.get(name, [])
        if not isinstance(raw, list) or not all(isinstance(key, str) for key in raw):
            errors[name] = [_("Give a list of purpose keys.")]
            raw = []
        lists[name] = set(raw)
    granted, denied = lists["purposes_granted"], lists["purposes_denied"]
    optional = set(snapshot.purposes) - {NECESSARY_PURPOSE_KEY}
    problems = []
    if unknown := sorted((granted | denied) - set(snapshot.purposes)):
        problems.append(_("Unknown purposes: %(purposes)s.") % {"purposes": ", ".join(unknown)})
    if both := sorted(granted & denied):
        problems.append(_("Both granted and denied: %(purposes)s.") % {"purposes": ", ".join(both)})
    if NECESSARY_PURPOSE_KEY in denied:
        problems.append(_("The necessary purpose is required and cannot be denied."))
    if not problems and action is not None:
        problems = action_contradiction(action, granted, denied, optional, snapshot.sale_or_share_purposes)
    if not problems:
        # An all-or-nothing action decides the purposes it names; the lists only have to agree.
        if action == ConsentAction.ACCEPT_ALL:
            granted |= optional
        elif action in (ConsentAction.REJECT_ALL, ConsentAction.WITHDRAW):
            denied |= optional
        elif action == ConsentAction.DO_NOT_SELL_OPT_OUT:
            denied |= set(snapshot.sale_or_share_purposes) & optional
        if optional and not (granted | denied) & optional:
            problems.append(
                _("Name at least one purpose granted or denied, or give an action that decides them.")
            )
    if problems:
        # Beside a type error already found on the list, not over it.
        errors["purposes_granted"] = [*errors.get("purposes_granted", []), *problems]
        return "", granted, denied
    if action is None:
        if optional <= granted:
            action = ConsentAction.ACCEPT_ALL
        elif optional <= denied:
            action = ConsentAction.REJECT_ALL
        else:
            action = ConsentAction.CUSTOM
    granted.add(NECESSARY_PURPOSE_KEY)
    return action, granted, denied
