"""HTTP helpers every public endpoint uses: ETags, conditional GETs, public caching, language choice."""

import hashlib
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

Response = TypeVar("Response", bound=HttpResponseBase)


def etag_for(*parts: object) -> str:
    """A strong ETag (quoted) from the values a response depends on."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def not_modified_or_none(
    request: HttpRequest, etag: str, *, max_age: int | None = None
) -> HttpResponseBase | None:
    """A 304 when the client already holds this representation, else None.

    With `max_age`, the 304 repeats the ETag and public Cache-Control (as cache_public sets
    them), so a cache that revalidated keeps its copy for another `max_age` seconds.
    """
    response = get_conditional_response(request, etag=etag)
    if response is not None and max_age is not None and response.status_code == 304:
        cache_public(response, etag=etag, max_age=max_age)
    return response


def cache_public(
    response: HttpResponseBase,
    *,
    etag: str,
    max_age: int,
    vary: tuple[str, ...] = (),
) -> HttpResponseBase:
    """Let any cache keep `response` for `max_age` seconds and revalidate it by `etag`.

    Who may read it cross-origin is the CORS middleware's business (edge/cors.py).
    """
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    if vary:
        patch_vary_headers(response, vary)
    return response


def no_store(response: Response) -> Response:
    """Keep `response` out of every cache: it answers one person (a form, its errors, a token page)."""
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ["Cookie"])
    return response


def render_in_language(
    request: HttpRequest, language: str, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """`template` rendered with `language` active (gettext, {% translate %}, dates), and named.

    Public pages are outside LocaleMiddleware (their language is the visitor's choice among the
    site's languages, language_choose), so each renders under its own override.
    """
    with translation.override(language):
        response = render(request, template, {"language": language, **context}, status=status)
    response["Content-Language"] = language
    return response


def language_choose(request: HttpRequest, available: list[str], fallback: str) -> str:
    """`?lang=` if available, else the best Accept-Language match, else `fallback`."""
    asked = request.GET.get("lang", "").lower()
    if asked in available:
        return asked
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        primary = code.split("-")[0].lower()
        if primary in available:
            return primary
    return fallback
