"""CORS on the public paths: django-cors-headers' middleware, answering `*` for public documents.

Which origin may read what is decided by the library's settings (`CORS_*` in config/settings.py)
and by the `check_request_enabled` receivers the apps register (a site's registered origins on
the paths that name the site: `consent.sites.cors`). The one thing added here: on
`CORS_ANY_ORIGIN_URLS_REGEX` (read-only documents meant for anyone, sent without credentials)
an allowed answer says `*` instead of echoing the Origin, so a shared cache may hand the same
copy to every origin.
"""

import re

from corsheaders.middleware import ACCESS_CONTROL_ALLOW_ORIGIN
from corsheaders.middleware import CorsMiddleware as LibraryCorsMiddleware
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase


def cors_any_origin_path(path: str) -> bool:
    """True for the paths any origin may read (`settings.CORS_ANY_ORIGIN_URLS_REGEX`)."""
    return re.match(settings.CORS_ANY_ORIGIN_URLS_REGEX, path) is not None


class CorsMiddleware(LibraryCorsMiddleware):
    def add_response_headers(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = super().add_response_headers(request, response)
        if ACCESS_CONTROL_ALLOW_ORIGIN in response and cors_any_origin_path(request.path_info):
            response[ACCESS_CONTROL_ALLOW_ORIGIN] = "*"
        return response
