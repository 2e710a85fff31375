"""Public pages (no login): the list with its history, subscribing, confirming, unsubscribing,
objecting, and the Atom feed.

The forms are CSRF-exempt on purpose. The list page is public and cached (an ETag, five
minutes), so it cannot carry a per-visitor CSRF token; and a forged request could at most
start a subscription that only the mailbox owner can confirm (double opt-in), or act with a
signed token the attacker would already need to hold. Flooding is stopped by per-address
rate limits instead.
"""

from datetime import UTC
from typing import Any
from xml.etree import ElementTree as ET

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from consent.models import Site
from consent.selectors import site_get_by_key
from subprocessors import services
from subprocessors.http import cacheable, client_ip, list_etag, no_store, not_modified, rate_limited
from subprocessors.messages import absolute
from subprocessors.models import TransferMechanism, VendorCategory
from subprocessors.selectors import (
    subprocessor_history,
    subprocessor_list_diff,
    subprocessor_list_in_force,
    subprocessor_list_upcoming,
)
from subprocessors.tokens import TokenError, confirm_token_read, unsubscribe_token_read

SUBSCRIBE_LIMIT_PER_HOUR = 10
TOKEN_FORM_LIMIT_PER_HOUR = 60
MECHANISM_LABELS = dict(TransferMechanism.choices)
CATEGORY_LABELS = dict(VendorCategory.choices)


def _site_or_404(site_key: str) -> Site:
    site = site_get_by_key(key=site_key) if len(site_key) <= 64 else None
    if site is None:
        raise Http404("No site with this key.")
    return site


def _message(
    request: HttpRequest, site: Site | None, status: int, title: str, text: str, **extra: Any
) -> HttpResponse:
    response = render(
        request,
        "subprocessors/message.html",
        {"site": site, "title": title, "text": text, **extra},
        status=status,
    )
    return no_store(response)


def _entry_view(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        **entry,
        "mechanism_labels": [MECHANISM_LABELS.get(m, m) for m in entry.get("transfer_mechanisms", [])],
        "category_label": CATEGORY_LABELS.get(entry.get("category", ""), entry.get("category", "")),
    }


def _page(
    request: HttpRequest, site: Site, *, status: int = 200, form: dict[str, Any] | None = None
) -> HttpResponse:
    now = timezone.now()
    in_force = subprocessor_list_in_force(site=site, at=now)
    upcoming = []
    previous_entries = in_force.entries if in_force else []
    for version in subprocessor_list_upcoming(site=site, at=now):
        upcoming.append(
            (version, subprocessor_list_diff(old_entries=previous_entries, new_entries=version.entries))
        )
        previous_entries = version.entries
    context = {
        "site": site,
        "in_force": in_force,
        "entries": [_entry_view(entry) for entry in (in_force.entries if in_force else [])],
        "upcoming": upcoming,
        "history": subprocessor_history(site=site),
        "form": form or {},
        "feed_url": reverse("subprocessors:feed", args=[site.key]),
        "json_url": reverse("subprocessors:api-list", args=[site.key]),
    }
    return render(request, "subprocessors/list.html", context, status=status)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def subprocessor_page(request: HttpRequest, site_key: str) -> HttpResponseBase:
    """The list in force, upcoming changes with their dates, the history with diffs, a subscribe form."""
    try:
        site = _site_or_404(site_key)
    except Http404:
        return _message(request, None, 404, "Site not found", "There is no site with this key.")
    if request.method == "POST":
        return _subscribe(request, site)
    etag = list_etag(site=site, variant="html")
    cached = not_modified(request, etag)
    if cached is not None:
        return cached
    return cacheable(_page(request, site), etag)


def _subscribe(request: HttpRequest, site: Site) -> HttpResponse:
    email = str(request.POST.get("email", ""))[:320]
    if rate_limited(
        scope="subproc-subscribe",
        ident=client_ip(request),
        limit=SUBSCRIBE_LIMIT_PER_HOUR,
        window_seconds=3600,
    ):
        return _message(
            request,
            site,
            429,
            "Too many requests",
            "Too many subscriptions from your address. Try again in an hour.",
        )
    try:
        services.subscriber_subscribe(site=site, email=email)
    except ValidationError as error:
        messages = (
            error.message_dict.get("email", error.messages)
            if hasattr(error, "error_dict")
            else error.messages
        )
        return no_store(_page(request, site, status=400, form={"email": email, "error": " ".join(messages)}))
    return _message(
        request,
        site,
        200,
        "Check your inbox",
        f"If {email} can receive mail, a confirmation link is on its way. Your subscription starts "
        "when you open it and press the button.",
    )


def _token_view(
    request: HttpRequest, site_key: str, token: str, scope: str
) -> tuple[Site | None, HttpResponse | None]:
    try:
        site = _site_or_404(site_key)
    except Http404:
        return None, _message(request, None, 404, "Site not found", "There is no site with this key.")
    if len(token) > 500:
        return site, _message(request, site, 400, "Link not valid", "This link is not valid.")
    if request.method == "POST" and rate_limited(
        scope=scope, ident=client_ip(request), limit=TOKEN_FORM_LIMIT_PER_HOUR, window_seconds=3600
    ):
        return site, _message(
            request, site, 429, "Too many requests", "Too many requests. Try again in an hour."
        )
    return site, None


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe_confirm(request: HttpRequest, site_key: str, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links; they must not confirm); POST confirms."""
    site, refusal = _token_view(request, site_key, token, "subproc-confirm")
    if refusal is not None:
        return refusal
    assert site is not None
    if request.method != "POST":
        try:
            confirm_token_read(token)
        except TokenError as error:
            return _message(request, site, 400, "Link not valid", error.message)
        return _message(
            request,
            site,
            200,
            "Confirm your subscription",
            "Press the button to start receiving notices.",
            action=request.path,
            button="Confirm subscription",
        )
    try:
        subscriber, changed = services.subscriber_confirm(site=site, token=token)
    except TokenError as error:
        return _message(request, site, 400, "Link not valid", error.message)
    text = (
        f"{subscriber.email} will get an email each time {site.name} publishes a new list."
        if changed
        else "Your subscription was already confirmed; nothing changed."
    )
    return _message(request, site, 200, "Subscription confirmed", text)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, site_key: str, token: str) -> HttpResponse:
    """RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` here; GET shows a button."""
    site, refusal = _token_view(request, site_key, token, "subproc-unsubscribe")
    if refusal is not None:
        return refusal
    assert site is not None
    if request.method != "POST":
        try:
            unsubscribe_token_read(token)
        except TokenError as error:
            return _message(request, site, 400, "Link not valid", error.message)
        return _message(
            request,
            site,
            200,
            "Unsubscribe",
            f"Stop receiving notices about {site.name}'s sub-processors?",
            action=request.path,
            button="Unsubscribe",
        )
    try:
        subscriber, changed = services.subscriber_unsubscribe(site=site, token=token)
    except TokenError as error:
        return _message(request, site, 400, "Link not valid", error.message)
    text = "You will get no more notices." if changed else "You had already unsubscribed; nothing changed."
    return _message(request, site, 200, "Unsubscribed", text)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def objection(request: HttpRequest, site_key: str, token: str) -> HttpResponse:
    """Object to an upcoming addition before it takes effect (the link comes in the notice email)."""
    site, refusal = _token_view(request, site_key, token, "subproc-object")
    if refusal is not None:
        return refusal
    assert site is not None
    try:
        subscriber, version, entry = services.objection_target(site=site, token=token)
    except TokenError as error:
        return _message(request, site, 400, "Link not valid", error.message)
    context = {
        "site": site,
        "entry": entry,
        "version": version,
        "subscriber": subscriber,
        "action": request.path,
    }
    if request.method != "POST":
        if timezone.now() >= version.effective_at:
            return _message(
                request,
                site,
                410,
                "Objections closed",
                f"{entry['name']} took effect on {version.effective_at:%Y-%m-%d %H:%M} UTC; "
                "objections closed then.",
            )
        return no_store(render(request, "subprocessors/objection.html", context))
    reason = str(request.POST.get("reason", ""))
    try:
        recorded = services.objection_record(site=site, token=token, reason=reason)
    except services.AlreadyRecorded as already:
        return _message(
            request,
            site,
            409,
            "Objection already recorded",
            f"Your objection to {entry['name']} was recorded on "
            f"{already.objection.created_at:%Y-%m-%d %H:%M} UTC; "
            "it is not recorded twice. The site's DPO will answer you by email.",
        )
    except ValidationError as error:
        if hasattr(error, "error_dict") and "reason" in error.error_dict:
            context.update(reason=reason, error=" ".join(error.message_dict["reason"]))
            return no_store(render(request, "subprocessors/objection.html", context, status=400))
        return _message(request, site, 410, "Objections closed", " ".join(error.messages))
    return _message(
        request,
        site,
        201,
        "Objection recorded",
        f"We recorded your objection to {entry['name']} on {recorded.created_at:%Y-%m-%d %H:%M} UTC. "
        "The site's DPO will answer you by email.",
    )


ATOM_NS = "http://www.w3.org/2005/Atom"


def _atom_time(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@require_safe
def feed(request: HttpRequest, site_key: str) -> HttpResponseBase:
    """Atom 1.0 (RFC 4287): one entry per published version, newest first."""
    try:
        site = _site_or_404(site_key)
    except Http404:
        return _message(request, None, 404, "Site not found", "There is no site with this key.")
    etag = list_etag(site=site, variant="atom")
    cached = not_modified(request, etag)
    if cached is not None:
        return cached
    history = subprocessor_history(site=site)
    page = absolute(reverse("subprocessors:page", args=[site.key]))
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    root = ET.Element(f"{{{ATOM_NS}}}feed")
    # tag: URIs (RFC 4151) are stable whatever host or path the feed is served from.
    authority = f"tag:consentry,2026:subprocessors:{site.key}"
    sub(root, "id", authority)
    sub(root, "title", f"{site.name}: sub-processor list")
    sub(root, "link", rel="alternate", type="text/html", href=page)
    sub(root, "link", rel="self", type="application/atom+xml", href=absolute(request.path))
    updated = max((version.published_at for version, _ in history), default=site.created_at)
    sub(root, "updated", _atom_time(updated))
    author = sub(root, "author")
    sub(author, "name", site.name)
    for version, diff in history:
        entry = sub(root, "entry")
        sub(entry, "id", f"{authority}:v{version.number}")
        sub(entry, "title", f"Version {version.number}, effective {version.effective_at:%Y-%m-%d}")
        sub(entry, "link", rel="alternate", type="text/html", href=f"{page}#v{version.number}")
        sub(entry, "published", _atom_time(version.published_at))
        sub(entry, "updated", _atom_time(version.published_at))
        summary = f"Takes effect on {version.effective_at:%Y-%m-%d %H:%M} UTC. {diff.summary()}"
        if version.change_note:
            summary += f" {version.change_note}"
        sub(entry, "summary", summary, type="text")
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )
    response = HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
    return cacheable(response, etag, cors=True)
