"""The base of every public DRF endpoint: no credentials, anonymous, rate-limited per client."""

from typing import Any

from django.conf import settings
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class PublicRateThrottle(SimpleRateThrottle):
    """Per client address, at settings.PUBLIC_API_RATE (read per request, so it can change live)."""

    scope = "public"

    def get_rate(self) -> str:
        return settings.PUBLIC_API_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicApiView(APIView):
    """No session, no CSRF, no authentication: anyone may call, within a per-IP rate limit."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
