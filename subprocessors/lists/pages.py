"""What every public sub-processor page shares: finding the site, and the one-message page."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from consent.models import Site
from consent.sites.selectors import site_get_by_key
from edge.http import no_store


def site_or_404(site_key: str) -> Site:
    """The site with this public key, or a 404 (an over-long key is never looked up)."""
    site = site_get_by_key(key=site_key)
    if site is None:
        raise Http404("No site with this key.")
    return site


def message_page(
    request: HttpRequest, site: Site | None, status: int, title: str, text: str, **extra: Any
) -> HttpResponse:
    """A short page saying one thing (a confirmation, an error), never cached."""
    response = render(
        request,
        "subprocessors/message.html",
        {"site": site, "title": title, "text": text, **extra},
        status=status,
    )
    return no_store(response)
