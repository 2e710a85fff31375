"""What every public sub-processor page shares: finding the site, and the one-message page."""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers

from consent.models import Site
from consent.sites.selectors import site_get_by_key
from edge.http import language_choose, no_store


def page_language(request: HttpRequest, site: Site | None) -> str:
    """`?lang=`, then Accept-Language, among the site's languages, else its default language."""
    if site is None:
        return language_choose(request, [code for code, _ in settings.LANGUAGES], settings.LANGUAGE_CODE)
    return language_choose(request, site.enabled_languages, site.default_language)


def in_page_language(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Run a public sub-processor view (its gettext calls, its templates) in the reader's language.

    Public paths are outside LocaleMiddleware; the language also goes into Content-Language and
    Vary, so a shared cache keeps one copy per language.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, site_key: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        language = page_language(request, site_get_by_key(key=site_key))
        with translation.override(language):
            response = view(request, site_key, *args, **kwargs)
        response["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
        return response

    return wrapper


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
