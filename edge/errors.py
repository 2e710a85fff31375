"""One JSON error shape for every API: {"error": {"code", "message", "fields"}}.

`code` is a stable lowercase identifier a client can branch on (English, never translated),
`message` a sentence a person can read, in the request's language (gettext: the admin's choice
on the management API, `?lang=` or Accept-Language on the public paths, edge/middleware.py),
`fields` maps input field names to their problems (empty when the error is not about one field).
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

_MESSAGES = {
    "invalid": gettext_lazy("The request is not valid; see fields."),
    "parse_error": gettext_lazy("The request body is not valid JSON."),
}


def error_payload(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": dict(fields or {})}}


def json_error(
    status_code: int, code: str, message: str, fields: Mapping[str, list[str]] | None = None
) -> JsonResponse:
    """The error response for plain Django views (the hot public paths that skip DRF)."""
    return JsonResponse(error_payload(code, message, fields), status=status_code)


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, Mapping):
        return [f"{key}: {message}" for key, value in detail.items() for message in _flatten(value)]
    if isinstance(detail, list | tuple):
        return [message for item in detail for message in _flatten(item)]
    return [str(detail)]


def _validation_fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, Mapping):
        return {str(key): _flatten(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def _first_code(codes: Any) -> str:
    while isinstance(codes, Mapping | list | tuple) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, Mapping) else codes[0]
    return str(codes) if isinstance(codes, str) else "error"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        # ObjectDoesNotExist: a service that locked its row found it gone (deleted meanwhile).
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        # A service's refusal says why (the same sentence the admin shows): keep it.
        exc = exceptions.PermissionDenied(detail=str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a fault, not bad input: Django's 500 handling (and logging) takes over
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = _validation_fields(exc.detail)
        code = "invalid"
        message = str(_MESSAGES["invalid"])
        if list(fields) == ["non_field_errors"]:
            message = " ".join(fields.pop("non_field_errors"))
    else:
        code = _first_code(exc.get_codes())
        message = str(_MESSAGES.get(code, " ".join(_flatten(exc.detail))))
        fields = {}
    response.data = error_payload(code, message, fields)
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/log/"))


@csrf_exempt  # it changes nothing: a DELETE with a session cookie to an unknown path is a 404 too
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return json_error(
        status.HTTP_404_NOT_FOUND, "not_found", _("No API endpoint at %(path)s.") % {"path": request.path}
    )


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: under /api/ the JSON error shape, elsewhere Django's page."""
    if _is_api(request):
        return json_error(
            status.HTTP_403_FORBIDDEN,
            "csrf_failed",
            _(
                "A request made with a session cookie needs its CSRF token; "
                "an API client sends its API token instead."
            ),
        )
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return json_error(500, "server_error", _("Something went wrong on our side; nothing was saved."))
    from django.views.defaults import server_error

    return server_error(request)
