"""The back office's language follows the user, not the browser.

Django's switcher (set_language) keeps the choice in a cookie, so on another browser the admin
came up in whatever Accept-Language said. Here the choice is also stored on the user
(AdminPreference, through consent.tenancy.services.admin_language_set): every admin request of a
logged-in user is served in it, and the response puts it in this browser's cookie (at login too),
so the login page, before anyone is known, is in it next time.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import translation
from django.views.i18n import set_language

from consent.languages import VISITOR_LANGUAGES
from consent.tenancy.selectors import admin_language_for_user
from consent.tenancy.services import admin_language_set
from edge.client import client_ip

# The back office (the admin site is mounted here, config/urls.py).
ADMIN_PATH_PREFIX = "/admin/"


def language_set(request: HttpRequest) -> HttpResponseBase:
    """Django's set_language (a POST sets the cookie; any request is redirected to `next`), and a
    logged-in user's choice kept on them."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in VISITOR_LANGUAGES:
        admin_language_set(user=request.user, language=language, ip=client_ip(request) or None)
    return response


class AdminLanguageMiddleware:
    """After authentication: a logged-in user's stored language wins over cookie and browser."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(ADMIN_PATH_PREFIX):
            return self.get_response(request)
        user_pk = request.user.pk
        language = admin_language_for_user(user=request.user)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        # After a login request.user is the new user: their choice reaches this browser's cookie.
        if request.user.pk != user_pk:
            language = admin_language_for_user(user=request.user)
        if (
            language
            and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language
            and settings.LANGUAGE_COOKIE_NAME not in response.cookies  # set_language just set it
        ):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
