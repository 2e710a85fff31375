"""The management API's streamed export of a site's consent records (CSV or JSON Lines)."""

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from consent.audit.services import audit_record
from consent.exports.selectors import consent_export_lines, consent_export_queryset
from consent.models import ExportFormat, TokenScope
from consent.tokens.access import api_actor, api_site
from edge.client import client_ip


class ConsentExportApi(APIView):
    """`GET /api/v1/sites/<site_key>/consents/export?from=&to=&format=csv|jsonl`: every record of
    the period, streamed in constant memory; scope `export` (owners and DPOs)."""

    class InputSerializer(serializers.Serializer):
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["date_to"] < attrs["date_from"]:
                raise serializers.ValidationError({"to": ["The end date is before the start date."]})
            return attrs

    @extend_schema(
        operation_id="consent_export",
        tags=["management"],
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (UTC)."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day (UTC)."),
            OpenApiParameter("format", str, enum=ExportFormat.values, default=ExportFormat.CSV),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One record a row."),
            (200, "application/jsonl"): OpenApiResponse(OpenApiTypes.STR, description="One record a line."),
        },
    )
    def get(self, request: Request, site_key: str) -> StreamingHttpResponse:
        site = api_site(request, site_key=site_key, scope=TokenScope.EXPORT)
        query = self.InputSerializer(
            data={
                "date_from": request.query_params.get("from"),
                "date_to": request.query_params.get("to"),
                "format": request.query_params.get("format", ExportFormat.CSV),
            }
        )
        if not query.is_valid():
            errors = {
                {"date_from": "from", "date_to": "to"}.get(key, key): value
                for key, value in query.errors.items()
            }
            raise serializers.ValidationError(errors)
        data = query.validated_data
        actor, via_token = api_actor(request)
        audit_record(
            site=site,
            actor=actor,
            actor_ip=client_ip(request),
            action="consent.export",
            target=f"consent records {data['date_from']}..{data['date_to']}",
            data={"format": data["format"], "via": "api", **via_token},
        )
        records = consent_export_queryset(site=site, date_from=data["date_from"], date_to=data["date_to"])
        response = StreamingHttpResponse(
            consent_export_lines(records=records, fmt=data["format"]),
            content_type="text/csv; charset=utf-8"
            if data["format"] == ExportFormat.CSV
            else "application/jsonl",
        )
        name = f"{site.key}-consents-{data['date_from']}-{data['date_to']}.{data['format']}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
