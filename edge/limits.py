"""One rate-limit policy for every public endpoint, applied before anything else runs.

`PublicRateLimitMiddleware` counts each request to a public path against the limit its path
names in settings.PUBLIC_RATE_PATHS, per client address (edge.client.client_ip), on the one
limiter (edge.ratelimit): one in-process check, no network round trip per request, shared
through Redis at most every RATE_LIMIT_SYNC_SECONDS and per process while Redis is down.

A refusal is a 429 with Retry-After, in the form the path speaks: the JSON error shape
(edge.errors) on the APIs, a one-line page on HTML pages, a comment on the loader script.
Paths that match no rule, and rules with no limit name (the consent POST, limited per address
and per site by its own view), pass untouched.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.utils.translation import ngettext

from edge.client import address_limit_key, client_ip
from edge.errors import json_error
from edge.ratelimit import rate_limits_exceeded


def throttled_response(kind: str, retry_after: int, message: str = "") -> HttpResponse:
    """The 429 for a path that answers `kind` ("json", "html" or "js")."""
    message = message or ngettext(
        "Too many requests from your address; try again in %(seconds)d second.",
        "Too many requests from your address; try again in %(seconds)d seconds.",
        retry_after,
    ) % {"seconds": retry_after}
    if kind == "json":
        response: HttpResponse = json_error(429, "throttled", message)
    elif kind == "js":
        response = HttpResponse(
            f"/* Consentry: {message} */\n", content_type="text/javascript; charset=utf-8", status=429
        )
    else:
        response = HttpResponse(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Too many requests</title>"
            f"<h1>Too many requests</h1><p>{escape(message)}</p></html>\n",
            content_type="text/html; charset=utf-8",
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class PublicRateLimitMiddleware:
    """Per-address limits on the public paths, by the first matching rule of PUBLIC_RATE_PATHS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # (path regex, limit name or None, kind); the limits' rates are read per request.
        self.rules = [(re.compile(pattern), name, kind) for pattern, name, kind in settings.PUBLIC_RATE_PATHS]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        for pattern, name, kind in self.rules:
            if pattern.match(path):
                if name is not None:
                    rate = settings.PUBLIC_RATE_LIMITS[name]
                    address = address_limit_key(client_ip(request))
                    retry_after = rate_limits_exceeded([(f"public:{name}:{address}", rate)])
                    if retry_after is not None:
                        return throttled_response(kind, retry_after)
                break
        return self.get_response(request)
