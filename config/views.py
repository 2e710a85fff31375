"""Process health for load balancers and orchestrators."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; touches nothing else (a liveness probe)."""
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the cache answer: the server can take traffic (a readiness probe)."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # any driver error means "not ready"; the details go to the log only
        logger.exception("readiness: database check failed")
        checks["database"] = "unavailable"
    try:
        probe_key, probe_value = "readyz-probe", uuid.uuid4().hex
        cache.set(probe_key, probe_value, timeout=10)
        checks["cache"] = "ok" if cache.get(probe_key) == probe_value else "unavailable"
    except Exception:
        logger.exception("readiness: cache check failed")
        checks["cache"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The platform's front page: where the admin, the demo and the health checks are."""
    return render(request, "home.html")
