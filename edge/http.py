"""HTTP helpers every public endpoint uses: ETags, conditional GETs, public caching, language choice."""

import hashlib

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header


def etag_for(*parts: object) -> str:
    """A strong ETag (quoted) from the values a response depends on."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def not_modified_or_none(request: HttpRequest, etag: str) -> HttpResponseBase | None:
    """A 304 when the client already holds this representation, else None."""
    return get_conditional_response(request, etag=etag)


def cache_public(
    response: HttpResponseBase, *, etag: str, max_age: int, vary: tuple[str, ...] = ()
) -> HttpResponseBase:
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    if vary:
        patch_vary_headers(response, vary)
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
