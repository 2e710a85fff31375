"""Per-site CORS: which origin may read a public response, for django-cors-headers.

The middleware (edge/cors.py, settings `CORS_*`) writes every CORS header; this module only
answers its `check_request_enabled` signal. On a path that names a site
(`/api/public/v1/sites/<key>/…`, `/c/<key>.js`) the request's Origin must be registered for
that site; on the read-only public documents (`settings.CORS_ANY_ORIGIN_URLS_REGEX`: receipts,
checkpoints, policies, sub-processor lists and feed, the rules table) any origin may read.
Origins come from the cached site snapshot, the one the consent POST and config use: no query
per request.
"""

import logging
import re
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest

from consent.sites.selectors import site_snapshot
from edge.cors import cors_any_origin_path

logger = logging.getLogger(__name__)

_SITE_PATH = re.compile(r"^/api/public/v1/sites/(?P<key>[^/]+)/|^/c/(?P<loader_key>[^/]+)\.js$")


def site_key_from_path(path: str) -> str | None:
    """The site a public path names, or None."""
    match = _SITE_PATH.match(path)
    if match is None:
        return None
    return match["key"] or match["loader_key"]


def site_origin_allowed(*, site_key: str, origin: str) -> bool:
    """True when `origin` (as the browser sent it) is registered for the site with this key."""
    snapshot = site_snapshot(key=site_key)
    return snapshot is not None and origin.lower() in snapshot.origins


def cors_request_allowed(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """The `check_request_enabled` receiver: may this request's Origin read the answer?"""
    path = request.path_info
    if re.match(settings.CORS_URLS_REGEX, path) is None:
        return False  # never widen CORS beyond the public paths
    if cors_any_origin_path(path):
        return True
    origin = request.headers.get("Origin", "")
    site_key = site_key_from_path(path)
    if not origin or site_key is None:
        return False
    try:
        return site_origin_allowed(site_key=site_key, origin=origin)
    except DatabaseError:
        # The site cannot be read, so the view answers a 503 (or did already): let the page
        # read it and its Retry-After. The consent POST still refuses a foreign origin itself.
        logger.warning("CORS: site %s could not be read; answering for %s", site_key, origin)
        return True
