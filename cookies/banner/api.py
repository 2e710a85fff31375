"""The banner's config endpoint: a plain view, the second-hottest path after the consent POST."""

import hashlib
import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from consent.rules.geo import jurisdiction_resolve
from consent.sites.selectors import site_snapshot
from cookies.banner.selectors import banner_config
from edge.errors import json_error
from edge.http import language_choose, not_modified_or_none
from edge.memo import BoundedTTLCache

logger = logging.getLogger(__name__)


CONFIG_TTL_SECONDS = 5.0


CONFIG_MAX_AGE = 300


# Entries are (site, rules, language, GPC, host): a few per site. Bounded like every
# per-process cache of the public paths (edge/memo.py).
CONFIG_CACHE_SIZE = 4096


_configs: BoundedTTLCache[tuple[str, ...], tuple[str, bytes]] = BoundedTTLCache(
    maxsize=CONFIG_CACHE_SIZE, ttl=CONFIG_TTL_SECONDS
)


def config_cache_size() -> int:
    return len(_configs)


def config_cache_forget() -> None:
    _configs.clear()


@require_safe
def banner_config_view(request: HttpRequest, site_key: str) -> HttpResponse:
    """The visitor's banner config (jurisdiction, language, texts, purposes, versions, links, theme).

    Built once per (site, rules, language, GPC) and kept per process for a few seconds, so a
    repeat answers from memory; the ETag lets browsers and CDNs revalidate with a 304.
    """
    try:
        snapshot = site_snapshot(key=site_key)
    except DatabaseError:
        logger.exception("banner config: site lookup failed")
        response = json_error(503, "unavailable", _("The banner configuration is unavailable right now."))
        response["Retry-After"] = "5"
        return response
    if snapshot is None:
        return json_error(404, "not_found", _("No site with this key."))
    site = snapshot.site
    language = language_choose(request, site.enabled_languages, site.default_language)
    resolution = jurisdiction_resolve(
        request=request, default_code=site.default_jurisdiction, overrides=site.jurisdiction_overrides
    )
    gpc_header = request.headers.get("Sec-GPC") == "1"
    base_url = f"{request.scheme}://{request.get_host()}"
    code = resolution.ruleset.code
    # The rules are the row for `code` plus the site's overrides for it: those name them exactly.
    rules_key = f"{code}:{site.jurisdiction_overrides.get(code)!r}"
    cache_key = (site.key, rules_key, language, str(gpc_header), base_url)
    cached = _configs.get(cache_key)
    if cached is None:
        config = banner_config(
            site=site, ruleset=resolution.ruleset, language=language, base_url=base_url, gpc_header=gpc_header
        )
        body = json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()
        cached = ('"' + hashlib.sha256(body).hexdigest()[:32] + '"', body)
        _configs.set(cache_key, cached)
    etag, body = cached  # type: ignore[misc]

    # Django's conditional GET, as every other public endpoint (edge/http.py): a 304 for a
    # matching If-None-Match (weak or strong), else the body.
    response = not_modified_or_none(request, etag) or HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    # Shared caches may keep it only when the location came from edge headers they key on.
    scope = "public" if resolution.method in ("header", "site_default") else "private"
    response["Cache-Control"] = f"{scope}, max-age={CONFIG_MAX_AGE}"
    geo_headers = [name for name in (settings.GEO_COUNTRY_HEADER, settings.GEO_REGION_HEADER) if name]
    # The CORS headers (and Vary: Origin) are the middleware's: edge/cors.py.
    response["Vary"] = ", ".join(["Accept-Language", "Sec-GPC", *geo_headers])
    return response
