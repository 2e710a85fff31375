"""HTTP helpers for the public endpoints: per-site CORS, ETags, language choice."""

import hashlib

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

from consent.models import Site

CORS_MAX_AGE_SECONDS = 600


def site_origin_allowed(*, site: Site, origin: str) -> bool:
    """True when `origin` (as the browser sent it) is registered for the site.

    Read from the per-process site snapshot, the same one the consent and config paths use.
    """
    from consent.selectors import site_snapshot

    snapshot = site_snapshot(key=site.key)
    return snapshot is not None and origin.lower() in snapshot.origins


def cors_allow_site_origin(
    *, request: HttpRequest, response: HttpResponseBase, site: Site
) -> HttpResponseBase:
    """Let the site's own pages read the response cross-origin; never with credentials.

    The answer depends on the Origin header, so caches are told to key on it.
    """
    origin = request.headers.get("Origin", "")
    patch_vary_headers(response, ("Origin",))
    if origin and site_origin_allowed(site=site, origin=origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
    return response


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
