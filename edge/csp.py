"""The Content-Security-Policy of every HTML page (django-csp, configured in settings).

Only HTML gets the header: JSON, the loader script and other assets are not documents a browser
renders, so a policy there protects nothing. Scripts and styles come from our own origin
('self': the static files, Django admin's included); no page has an inline script, an inline
style attribute or an event-handler attribute, and the one inline <style> that remains (the
demo's stand-in video player) carries the request's nonce.

frame-ancestors follows X-Frame-Options, so the two can never disagree: DENY everywhere
('none'), SAMEORIGIN where a view allows it (the admin's banner preview, the demo embed), which
is why this middleware sits before XFrameOptionsMiddleware in MIDDLEWARE (it sees its header).
"""

from typing import Any

from csp.constants import NONE, SELF
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase


def _is_html(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").split(";", 1)[0].strip().lower() == "text/html"


class HtmlContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, for HTML responses only, with frame-ancestors from X-Frame-Options."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not _is_html(response):
            return response
        return super().process_response(request, response)

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        frame_options = response.get("X-Frame-Options", "").upper()
        ancestors = [SELF] if frame_options == "SAMEORIGIN" else [NONE]
        replace: dict[str, Any] = {"frame-ancestors": ancestors, **(parts.replace or {})}
        parts.replace = replace
        return parts
