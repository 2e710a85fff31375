"""Middleware that stays out of the public, cookie-less endpoints.

The consent write path and the banner's config and loader are called cross-origin by
anonymous visitors: they must not read or set a session, check CSRF tokens, load a user
or negotiate the admin's language. Skipping these middleware there is both the privacy
promise (no cookie of ours on a customer's visitors) and a measurable speed-up.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware


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
    pass
