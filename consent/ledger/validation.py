"""The hand-written validator of the consent write path (a serializer would halve its throughput).

Turns a decoded JSON body into a ConsentInput or raises InputError naming every problem.
"""

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from consent.models import NECESSARY_PURPOSE_KEY, OPT_OUT_ACTIONS, ConsentAction, UiLayer, origin_normalise
from consent.sites.selectors import SiteSnapshot

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# No consent is nested deeper than {"versions": {"policies": {"slug": 1}}}: a little room above it.
MAX_DEPTH = 6


# NUL (PostgreSQL refuses it in text; SQLite would store it) and lone surrogates (not UTF-8).
FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


KNOWN_FIELDS = frozenset(
    {
        "visitor_id",
        "action",
        "granted",
        "denied",
        "versions",
        "language",
        "ui_layer",
        "gpc",
        "dnt",
        "page_url",
    }
    | {"idempotency_key"}
)


# Django builds `.values` anew on every access; the write path asks twice per request.
ACTIONS = tuple(ConsentAction.values)


UI_LAYERS = tuple(UiLayer.values)


@dataclass
class InputError(Exception):
    """Bad input: answered with `status` and the JSON error shape; nothing is written."""

    status: int
    code: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsentInput:
    visitor_id: str | None  # None only for a decision the site's systems record without a browser
    action: str
    granted: tuple[str, ...]
    denied: tuple[str, ...]
    versions: dict[str, Any]  # pinned by value: kind -> number and sha256 (policies: slug -> ...)
    language: str
    ui_layer: str
    gpc: bool
    dnt: bool
    page_url: str
    idempotency_key: str | None


def page_url_clean(value: Any, origins: frozenset[str]) -> tuple[str, str | None]:
    """The page the choice was made on, without query or fragment (they may carry personal data)."""
    if value in (None, ""):
        return "", None
    if not isinstance(value, str) or len(value) > 2048:
        return "", _("Give the page URL as a string of at most 2048 characters.")
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "https://[::1": an unclosed IPv6 bracket
        return "", _("Give an absolute http(s) URL.")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "", _("Give an absolute http(s) URL.")
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin not in origins:  # the usual case is already in normal form; otherwise normalise it
        try:
            origin = origin_normalise(origin)
        except ValidationError:
            return "", _("Give an absolute http(s) URL.")
    if origin not in origins:
        return "", _("The page is not on one of the site's registered origins.")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), None


def versions_pin(value: Any, snapshot: SiteSnapshot, errors: dict[str, list[str]]) -> dict[str, Any]:
    if not isinstance(value, dict):
        errors["versions"] = [_('Give an object, e.g. {"policies": {"privacy-policy": 3}, "banner": 2}.')]
        return {}
    pinned: dict[str, Any] = {}
    problems = []
    for kind, requested in value.items():
        if kind == "policies":
            if not isinstance(requested, dict):
                problems.append(_("policies: give an object of document slug -> version number."))
                continue
            pinned_policies = {}
            for slug, number in requested.items():
                editions = snapshot.policies.get(slug)
                if editions is None:
                    problems.append(_("policies.%(slug)s: no such document on this site.") % {"slug": slug})
                elif type(number) is not int or number not in editions:
                    problems.append(
                        _("policies.%(slug)s: version %(number)r is not a published version of it.")
                        % {"slug": slug, "number": number}
                    )
                else:
                    pinned_policies[slug] = {"number": number, "sha256": editions[number]}
            pinned["policies"] = dict(sorted(pinned_policies.items()))
        elif kind in snapshot.pins:
            editions = snapshot.pins[kind]
            if type(requested) is not int or requested not in editions:
                problems.append(
                    _("%(kind)s: version %(number)r is not a published version on this site.")
                    % {"kind": kind, "number": requested}
                )
            else:
                pinned[kind] = {"number": requested, "sha256": editions[requested]}
        else:
            known = ", ".join(["policies", *sorted(snapshot.pins)])
            problems.append(
                _("%(kind)s: unknown kind of version (known: %(known)s).") % {"kind": kind, "known": known}
            )
    if problems:
        errors["versions"] = problems
    return pinned


def consent_input_parse(
    payload: Any, snapshot: SiteSnapshot, *, gpc_header: bool, idempotency_header: str | None
) -> ConsentInput:
    """The decision in `payload`, valid for this site; InputError names every field that is not."""
    if not isinstance(payload, dict):
        raise InputError(400, "invalid", _("The body must be a JSON object."))
    content_check(payload)
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(payload) - KNOWN_FIELDS)
    if unknown:
        errors["non_field_errors"] = [_("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}]
    _choice_fields_check(payload, snapshot, errors)
    granted, denied = _purposes(payload, snapshot, errors)
    versions = versions_pin(payload.get("versions", {}), snapshot, errors)
    page_url, page_error = page_url_clean(payload.get("page_url"), snapshot.origins)
    if page_error:
        errors["page_url"] = [page_error]
    idempotency_key = payload["idempotency_key"] if "idempotency_key" in payload else idempotency_header
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.match(idempotency_key)
    ):
        errors["idempotency_key"] = [_("Give 8 to 64 letters, digits, '-' or '_'.")]
    if errors:
        raise InputError(
            400, "invalid", _("The consent is not valid; see fields. Nothing was recorded."), errors
        )
    return ConsentInput(
        visitor_id=payload["visitor_id"],
        action=payload["action"],
        granted=tuple(sorted(granted)),
        denied=tuple(sorted(denied)),
        versions=versions,
        language=payload["language"],
        ui_layer=payload["ui_layer"],
        gpc=bool(payload.get("gpc", False)) or gpc_header,
        dnt=bool(payload.get("dnt", False)),
        page_url=page_url,
        idempotency_key=idempotency_key,
    )


def content_check(payload: dict[str, Any]) -> None:
    """Refuse, before any field is read, a body nested deeper than a consent ever is, or with a
    string (value or key) that holds a NUL or a lone surrogate: the same 400 on every database."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if FORBIDDEN_CHARACTERS.search(value):
                raise InputError(
                    400,
                    "invalid",
                    _("The body holds a NUL character or a lone surrogate. Nothing was recorded."),
                )
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise InputError(400, "invalid", _("The body is nested too deeply. Nothing was recorded."))
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


def _choice_fields_check(
    payload: dict[str, Any], snapshot: SiteSnapshot, errors: dict[str, list[str]]
) -> None:
    """The visitor id, the action, the layer, the language and the two flags must each be one we know."""
    visitor_id = payload.get("visitor_id")
    if not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
        errors["visitor_id"] = [_("Give the random visitor id: 16 to 64 letters, digits, '-' or '_'.")]
    # Each value is type-checked before it is compared: a list or an object is never a choice.
    if not isinstance(payload.get("action"), str) or payload["action"] not in ACTIONS:
        errors["action"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(ACTIONS)}]
    if not isinstance(payload.get("ui_layer"), str) or payload["ui_layer"] not in UI_LAYERS:
        errors["ui_layer"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(UI_LAYERS)}]
    language = payload.get("language")
    if not isinstance(language, str) or language not in snapshot.site.enabled_languages:
        errors["language"] = [
            _("Choose one of the site's languages: %(languages)s.")
            % {"languages": ", ".join(snapshot.site.enabled_languages)}
        ]
    for flag in ("gpc", "dnt"):
        if flag in payload and not isinstance(payload[flag], bool):
            errors[flag] = [_("Give true or false.")]


def _purposes(
    payload: dict[str, Any], snapshot: SiteSnapshot, errors: dict[str, list[str]]
) -> tuple[set[str], set[str]]:
    """The purposes granted (always with the necessary one) and denied: lists of keys that
    together name every purpose of the site once, and agree with the action."""
    granted: set[str] = set()
    denied: set[str] = set()
    for name, raw, target in (
        ("granted", payload.get("granted"), granted),
        ("denied", payload.get("denied", []), denied),
    ):
        if not isinstance(raw, list) or not all(isinstance(key, str) for key in raw):
            errors[name] = [_("Give a list of purpose keys.")]
        else:
            target.update(raw)
    if "granted" in errors or "denied" in errors:
        return granted, denied
    known = set(snapshot.purposes)
    problems = purpose_coverage_problems(granted, denied, known)
    granted.add(NECESSARY_PURPOSE_KEY)
    if not problems:
        action = payload.get("action")
        problems = action_contradiction(
            action if isinstance(action, str) else None,
            granted,
            denied,
            known - {NECESSARY_PURPOSE_KEY},
            snapshot.sale_or_share_purposes,
        )
    if problems:
        errors["granted"] = problems
    return granted, denied


def purpose_coverage_problems(granted: set[str], denied: set[str], known: set[str]) -> list[str]:
    """Every purpose granted or denied, none both, none unknown, the necessary one never denied."""
    problems = []
    if unknown_keys := sorted((granted | denied) - known):
        problems.append(_("Unknown purposes: %(purposes)s.") % {"purposes": ", ".join(unknown_keys)})
    if both := sorted(granted & denied):
        problems.append(_("Both granted and denied: %(purposes)s.") % {"purposes": ", ".join(both)})
    if NECESSARY_PURPOSE_KEY in denied:
        problems.append(_("The necessary purpose is required and cannot be denied."))
    if missing := sorted(known - granted - denied - {NECESSARY_PURPOSE_KEY}):
        problems.append(
            _("Missing purposes (grant or deny each): %(purposes)s.") % {"purposes": ", ".join(missing)}
        )
    return problems


def action_contradiction(
    action: Any, granted: set[str], denied: set[str], optional: set[str], sale_or_share: frozenset[str]
) -> list[str]:
    """An all-or-nothing action must not come with a partial choice (that is `custom`)."""
    if action == ConsentAction.ACCEPT_ALL and denied:
        return [_("accept_all grants every purpose; use custom for a partial choice.")]
    if action in (ConsentAction.REJECT_ALL, ConsentAction.WITHDRAW) and granted & optional:
        return [
            _("%(action)s denies every optional purpose; use custom for a partial choice.")
            % {"action": action}
        ]
    if action in OPT_OUT_ACTIONS and granted & sale_or_share:
        return [_("%(action)s denies every purpose that sells or shares personal data.") % {"action": action}]
    return []
