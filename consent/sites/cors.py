"""Per-site CORS: a response may be read cross-origin only by the site's registered origins."""

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from consent.models import Site

CORS_MAX_AGE_SECONDS = 600


def site_origin_allowed(*, site: Site, origin: str) -> bool:
    """True when `origin` (as the browser sent it) is registered for the site.

    Read from the per-process site snapshot, the same one the consent and config paths use.
    """
    from consent.sites.selectors import site_snapshot

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
