"""The management API's side of a request's erasure: `POST /api/v1/sites/<key>/requests/<id>/
erasure-confirmation` (scope requests:write), by which the site's backend says it erased its own
data after a `request.erasure_requested` webhook (consent/requests/automation.py). The audit row
names the token (consent.tokens.management), the request's history shows the confirmation.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import TokenScope
from consent.requests.automation import NOTE_MAX_LENGTH, request_erasure_confirm
from consent.requests.selectors import request_get_by_public_id
from consent.tokens.management import IDEMPOTENCY_KEY, ManagementApiView, fields_refusal
from edge.schema import ErrorSerializer


class ErasureNotAwaited(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "erasure_not_awaited"


class RequestErasureConfirmationApi(ManagementApiView):
    """Confirm that the site's backend erased its own data for a deletion or destruction request
    it was asked to erase for (the `request.erasure_requested` webhook). Once per erasure: a
    second confirmation, or one for a request that awaits none, is a 409."""

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=NOTE_MAX_LENGTH,
            help_text="What was erased, for the DPO (optional, up to 2,000 characters).",
        )

        class Meta:
            ref_name = "RequestErasureConfirmationInput"

    class OutputSerializer(serializers.Serializer):
        request = serializers.CharField(help_text="The request's public id.")
        confirmed_at = serializers.DateTimeField()
        note = serializers.CharField(allow_blank=True)

        class Meta:
            ref_name = "RequestErasureConfirmation"

    @extend_schema(
        operation_id="data_subject_request_erasure_confirm",
        tags=["requests"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Bad input (`fields` names each); nothing written."
            ),
            403: OpenApiResponse(ErrorSerializer, description="The token lacks the requests:write scope."),
            404: OpenApiResponse(ErrorSerializer, description="No such request on this site."),
            409: OpenApiResponse(
                ErrorSerializer, description="No erasure is awaited (none was asked, or it was confirmed)."
            ),
        },
    )
    def post(self, request: Request, site_key: str, public_id: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.REQUESTS_WRITE)
        filed = request_get_by_public_id(site=site, public_id=public_id)
        if filed is None:
            raise Http404
        fields_refusal(request.data, {"note"})
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)

        def confirm() -> Response:
            try:
                event = request_erasure_confirm(
                    request=filed, note=given.validated_data.get("note", ""), **self.service_kwargs(request)
                )
            except ValidationError as error:
                if error.code == "not_awaited":
                    raise ErasureNotAwaited(error.messages[0]) from None
                if hasattr(error, "error_dict"):
                    raise serializers.ValidationError(error.message_dict) from None
                raise serializers.ValidationError({"non_field_errors": error.messages}) from None
            return Response(
                self.OutputSerializer(
                    {"request": filed.public_id, "confirmed_at": event.at, "note": event.note}
                ).data,
                status=status.HTTP_201_CREATED,
            )

        return self.idempotent(request, site, confirm)
