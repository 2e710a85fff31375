"""Middleware that stays out of the public, cookie-less endpoints.

The consent write path and the banner's config and loader are called cross-origin by
anonymous visitors: they must not read or set a session, check CSRF tokens, load a user
or negotiate the admin's language. Skipping these middleware there is both the privacy
promise (no cookie of ours on a customer's visitors) and a measurable speed-up.
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware


def is_public_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(settings.PUBLIC_PATH_PREFIXES)


class PublicSessionMiddleware(SessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if not is_public_path(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if is_public_path(request):
            return response
        return super().process_response(request, response)


class PublicAuthenticationMiddleware(AuthenticationMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if not is_public_path(request):
            super().process_request(request)


class PublicMessageMiddleware(MessageMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if not is_public_path(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if is_public_path(request):
            return response
        return super().process_response(request, response)


class PublicCsrfViewMiddleware(CsrfViewMiddleware):
    def process_view(self, request, callback, callback_args, callback_kwargs):  # type: ignore[no-untyped-def]
        if is_public_path(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if is_public_path(request):
            return response
        return super().process_response(request, response)


class PublicLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if not is_public_path(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if is_public_path(request):
            return response
        return super().process_response(request, response)
