"""Middleware that stays out of the public, cookie-less endpoints.

The consent write path and the banner's config and loader are called cross-origin by
anonymous visitors: they must not read or set a session, check CSRF tokens, load a user
or negotiate the admin's language. Skipping these middleware there is both the privacy
promise (no cookie of ours on a customer's visitors) and a measurable speed-up.
"""

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from edge.errors import json_error
from edge.http import language_choose

logger = logging.getLogger(__name__)

# Where a fault must answer as JSON: the APIs, the loader script (a banner reads both) and the log's tiles.
JSON_FAULT_PREFIXES = ("/api/", "/c/", "/log/")

# What a client is told to wait when the database is down (the consent POST says the same).
DATABASE_RETRY_AFTER_SECONDS = 5


def is_public_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(settings.PUBLIC_PATH_PREFIXES)


class SkipOnPublicPaths:
    """Mixed in before a Django middleware: its hooks do nothing on the public paths."""

    def process_request(self, request: HttpRequest) -> Any:
        hook = getattr(super(), "process_request", None)
        return None if hook is None or is_public_path(request) else hook(request)

    def process_view(self, request: HttpRequest, *args: Any) -> Any:
        hook = getattr(super(), "process_view", None)
        return None if hook is None or is_public_path(request) else hook(request, *args)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        hook = getattr(super(), "process_response", None)
        return response if hook is None or is_public_path(request) else hook(request, response)


class PublicSessionMiddleware(SkipOnPublicPaths, SessionMiddleware):
    pass


class PublicAuthenticationMiddleware(SkipOnPublicPaths, AuthenticationMiddleware):
    pass


class PublicMessageMiddleware(SkipOnPublicPaths, MessageMiddleware):
    pass


class PublicCsrfViewMiddleware(SkipOnPublicPaths, CsrfViewMiddleware):
    pass


class PublicLocaleMiddleware(SkipOnPublicPaths, LocaleMiddleware):
    """The admin's language (cookie, Accept-Language) everywhere but the public paths; there,
    no cookie and no session: `?lang=`, then Accept-Language, among the shipped languages, so
    an error `message` is in the visitor's language. Pages that belong to a site choose among
    its languages themselves (edge.http.render_in_language)."""

    def process_request(self, request: HttpRequest) -> Any:
        if is_public_path(request):
            language = language_choose(request, SHIPPED_LANGUAGES, settings.LANGUAGE_CODE)
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return None
        return super().process_request(request)


SHIPPED_LANGUAGES = [code for code, _name in settings.LANGUAGES]


class ApiFaultMiddleware:
    """A fault under /api/ or /c/ answers in the JSON error shape, never Django's HTML page.

    The answer names an error id, and the log line with the traceback carries the same id, so
    a customer who reports it can be matched to the cause; nothing else of the fault is shown.
    The database being unreachable is an outage, not a fault: a 503 with Retry-After, on every
    API at once (DRF's handler leaves it to here), so a client retries instead of giving up.
    Innermost in MIDDLEWARE, so the middleware around it (CORS among them) still decorates it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path_info.startswith(JSON_FAULT_PREFIXES):
            return None  # the admin and the pages: Django's own 500 handling
        error_id = uuid.uuid4().hex[:16]
        if isinstance(exception, OperationalError | InterfaceError):
            # The database is unreachable or went away: not a bug of ours but an outage, so the
            # client is told to retry (nothing was written: the request's transaction never committed).
            logger.warning(
                "Database unavailable on %s %s (error id %s): %s",
                request.method,
                request.path,
                error_id,
                exception,
            )
            response = json_error(
                503,
                "unavailable",
                _("A service we depend on is down right now; nothing was saved. Retry in a few seconds."),
            )
            response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
            response["X-Error-Id"] = error_id
            response["Cache-Control"] = "no-store"
            return response
        logger.error(
            "Fault on %s %s (error id %s)", request.method, request.path, error_id, exc_info=exception
        )
        response = json_error(
            500,
            "server_error",
            _("Something went wrong on our side; nothing was saved. Error id: %(id)s.") % {"id": error_id},
        )
        response["X-Error-Id"] = error_id
        response["Cache-Control"] = "no-store"
        return response
