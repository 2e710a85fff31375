"""The base of every public DRF endpoint: no credentials, anonymous.

Rate limits are not DRF throttles (they read the cache on every request, and a Redis outage
made them 500s): edge.limits.PublicRateLimitMiddleware limits every public path before DRF runs.
"""

from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class PublicApiView(APIView):
    """No session, no CSRF, no authentication: anyone may call, within the per-address limits."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
