"""HTTP helpers for the public endpoints: per-site CORS."""

from django.http import HttpRequest, HttpResponseBase

from consent.models import Site

CORS_MAX_AGE_SECONDS = 600


def site_origin_allowed(*, site: Site, origin: str) -> bool:
    """True when `origin` (as the browser sent it) is registered for the site."""
    return any(registered.origin == origin.lower() for registered in site.origins.all())


def cors_allow_site_origin(
    *, request: HttpRequest, response: HttpResponseBase, site: Site
) -> HttpResponseBase:
    """Let the site's own pages read the response cross-origin; never with credentials.

    The answer depends on the Origin header, so caches are told to key on it.
    """
    origin = request.headers.get("Origin", "")
    response["Vary"] = ", ".join(filter(None, [response.get("Vary", ""), "Origin"]))
    if origin and site_origin_allowed(site=site, origin=origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
    return response
