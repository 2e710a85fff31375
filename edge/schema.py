"""The OpenAPI contract's shared parts: the error shape every API answers with, and the AutoSchema
that adds the error responses each operation can give (drf-spectacular; `docs/openapi.yaml`).

Which errors an operation documents follows from what the view is, so no view repeats them:
404 when the path names something (a site, a receipt, a version), 400 when it reads query
parameters or a body, 429 when it is throttled, 401 and 403 when it needs a login.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable lowercase identifier a client can branch on.")
    message = serializers.CharField(help_text="A sentence a person can read.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Input field name -> its problems; empty when the error is not about one field.",
    )


class ErrorSerializer(serializers.Serializer):
    """Every 4xx and 5xx of every API: `{"error": {"code", "message", "fields"}}` (edge/errors.py)."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "The request is not valid: `error.fields` names each problem. Nothing was changed.",
    401: "No valid credentials (an API token, `Authorization: Bearer cst_…`, or the admin's session).",
    403: "Authenticated, but not allowed to do this.",
    404: "No such resource (or not one the caller may see).",
    409: "A conflict with what is already recorded.",
    412: "If-Match names an older ETag: the resource changed since it was read. Nothing was changed.",
    422: "This Idempotency-Key was used for another request.",
    428: "If-Match is missing: send the ETag of the resource as read.",
    413: "The body is too large.",
    415: "The body is not application/json.",
    429: "Too many requests from this client; see Retry-After.",
    503: "A dependency (the database) is unavailable right now; retry after Retry-After seconds.",
}


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """The OpenAPI response object for an error status, referencing the shared Error component."""
    return {
        "description": description or ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses each operation can answer."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        # Registered once, whichever view comes first: the Error component every error refers to.
        self.resolve_serializer(ErrorSerializer, "response")
        responses = operation.setdefault("responses", {})
        for status in self._error_statuses(operation):
            responses.setdefault(str(status), error_response(status))
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> list[int]:
        statuses = []
        parameters = operation.get("parameters", [])
        # Bad input, or a write a service refuses (it answers why, as the admin would).
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if (
            any(parameter["in"] == "query" for parameter in parameters)
            or "requestBody" in operation
            or writes
        ):
            statuses.append(400)
        if self.view.get_authenticators():
            statuses += [401, 403]
        if any(parameter["in"] == "path" for parameter in parameters):
            statuses.append(404)
        headers = {parameter["name"] for parameter in parameters if parameter["in"] == "header"}
        if "If-Match" in headers:
            statuses += [412, 428]
        if "Idempotency-Key" in headers and self.path.startswith("/api/v1/"):
            statuses += [409, 422]
        # Every public path is rate-limited per client (edge/limits.py), and the management API
        # per token (consent/tokens/auth.py).
        if self.path.startswith("/api/public/") or self.view.get_authenticators():
            statuses.append(429)
        # Every operation reads the database; while it is unreachable the answer is a 503
        # with Retry-After (edge/middleware.py ApiFaultMiddleware), never a 500.
        statuses.append(503)
        return statuses
