"""The public list page (with its history and the subscribe form) and its Atom feed.

The forms are CSRF-exempt on purpose: the list page is public and cached (an ETag, five
minutes), so it cannot carry a per-visitor CSRF token; a forged request could at most start
a subscription that only the mailbox owner can confirm (double opt-in).
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
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from consent.languages import VISITOR_LANGUAGES
from consent.models import Site
from edge.client import address_limit_key, client_ip
from edge.http import cache_public, no_store, not_modified_or_none
from edge.ratelimit import rate_limits_exceeded
from subprocessors.lists.http import LIST_MAX_AGE, list_etag
from subprocessors.lists.pages import in_page_language, message_page, page_language, site_or_404
from subprocessors.lists.selectors import (
    entry_text,
    subprocessor_history,
    subprocessor_list_diff,
    subprocessor_list_in_force,
    subprocessor_list_upcoming,
)
from subprocessors.models import TransferMechanism, VendorCategory
from subprocessors.notices.messages import absolute
from subprocessors.notices.services import subscriber_subscribe

SUBSCRIBE_RATE = "10/hour"


def _entry_view(entry: dict[str, Any], *, language: str, fallback: str) -> dict[str, Any]:
    # The choices' labels are lazy: read here, inside the page's language.
    MECHANISM_LABELS = dict(TransferMechanism.choices)  # noqa: N806
    CATEGORY_LABELS = dict(VendorCategory.choices)  # noqa: N806
    purpose = entry_text(entry, language=language, fallback=fallback)
    return {
        **entry,
        "purpose": purpose.text,
        # A purpose not written in the page's language is shown in another, marked up and named.
        "purpose_lang": purpose.language if purpose.is_fallback else "",
        "purpose_note": _("Shown in {language}: not yet translated.").format(
            language=VISITOR_LANGUAGES.get(purpose.language, purpose.language)
        )
        if purpose.is_fallback
        else "",
        "mechanism_labels": [MECHANISM_LABELS.get(m, m) for m in entry.get("transfer_mechanisms", [])],
        "category_label": CATEGORY_LABELS.get(entry.get("category", ""), entry.get("category", "")),
    }


def _page(
    request: HttpRequest, site: Site, *, status: int = 200, form: dict[str, Any] | None = None
) -> HttpResponse:
    now = timezone.now()
    language = page_language(request, site)
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
        "entries": [
            _entry_view(entry, language=language, fallback=site.default_language)
            for entry in (in_force.entries if in_force else [])
        ],
        "upcoming": upcoming,
        "history": subprocessor_history(site=site),
        "form": form or {},
        "feed_url": reverse("subprocessors:feed", args=[site.key]),
        "json_url": reverse("subprocessors:api-list", args=[site.key]),
    }
    return render(request, "subprocessors/list.html", context, status=status)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@in_page_language
def subprocessor_page(request: HttpRequest, site_key: str) -> HttpResponseBase:
    """The list in force, upcoming changes with their dates, the history with diffs, a subscribe form."""
    try:
        site = site_or_404(site_key)
    except Http404:
        return message_page(request, None, 404, _("Site not found"), _("There is no site with this key."))
    if request.method == "POST":
        return _subscribe(request, site)
    etag = list_etag(site=site, variant=f"html-{page_language(request, site)}")
    cached = not_modified_or_none(request, etag, max_age=LIST_MAX_AGE)
    if cached is not None:
        return cached
    return cache_public(_page(request, site), etag=etag, max_age=LIST_MAX_AGE)


ATOM_NS = "http://www.w3.org/2005/Atom"


def _atom_time(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@require_safe
@in_page_language
def feed(request: HttpRequest, site_key: str) -> HttpResponseBase:
    """Atom 1.0 (RFC 4287): one entry per published version, newest first."""
    try:
        site = site_or_404(site_key)
    except Http404:
        return message_page(request, None, 404, _("Site not found"), _("There is no site with this key."))
    etag = list_etag(site=site, variant=f"atom-{page_language(request, site)}")
    cached = not_modified_or_none(request, etag, max_age=LIST_MAX_AGE)
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
    sub(root, "title", _("%(site)s: sub-processor list") % {"site": site.name})
    sub(root, "link", rel="alternate", type="text/html", href=page)
    sub(root, "link", rel="self", type="application/atom+xml", href=absolute(request.path))
    updated = max((version.published_at for version, _ in history), default=site.created_at)
    sub(root, "updated", _atom_time(updated))
    author = sub(root, "author")
    sub(author, "name", site.name)
    for version, diff in history:
        entry = sub(root, "entry")
        sub(entry, "id", f"{authority}:v{version.number}")
        sub(
            entry,
            "title",
            _("Version %(number)s, effective %(date)s")
            % {"number": version.number, "date": f"{version.effective_at:%Y-%m-%d}"},
        )
        sub(entry, "link", rel="alternate", type="text/html", href=f"{page}#v{version.number}")
        sub(entry, "published", _atom_time(version.published_at))
        sub(entry, "updated", _atom_time(version.published_at))
        summary = _("Takes effect on %(when)s UTC.") % {"when": f"{version.effective_at:%Y-%m-%d %H:%M}"}
        summary += f" {diff.summary()}"
        if version.change_note:
            summary += f" {version.change_note}"
        sub(entry, "summary", summary, type="text")
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )
    response = HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
    return cache_public(response, etag=etag, max_age=LIST_MAX_AGE)


def _subscribe(request: HttpRequest, site: Site) -> HttpResponse:
    email = str(request.POST.get("email", ""))[:320]
    address = address_limit_key(client_ip(request))
    if rate_limits_exceeded([(f"subproc-subscribe:{address}", SUBSCRIBE_RATE)]) is not None:
        return message_page(
            request,
            site,
            429,
            _("Too many requests"),
            _("Too many subscriptions from your address. Try again in an hour."),
        )
    try:
        subscriber_subscribe(site=site, email=email, language=page_language(request, site))
    except ValidationError as error:
        messages = (
            error.message_dict.get("email", error.messages)
            if hasattr(error, "error_dict")
            else error.messages
        )
        return no_store(_page(request, site, status=400, form={"email": email, "error": " ".join(messages)}))
    return message_page(
        request,
        site,
        200,
        _("Check your inbox"),
        _(
            "If %(email)s can receive mail, a confirmation link is on its way. Your subscription starts "
            "when you open it and press the button."
        )
        % {"email": email},
    )
