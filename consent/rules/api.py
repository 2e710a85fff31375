"""Public JSON about the rules table: the whole table, and the row a location gets."""

from datetime import date

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.rules.jurisdictions import rules_table_as_dict, ruleset_as_dict, ruleset_for_location
from edge.api import PublicApiView


class RulesTableOutputSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="The rules table's version.")
    rulesets = serializers.DictField(
        child=serializers.DictField(), help_text="Jurisdiction code -> its rules (every field of the row)."
    )
    uoom_states_effective_from = serializers.DictField(
        child=serializers.DateField(), help_text="US state -> the date its universal opt-out takes effect."
    )


class JurisdictionTableApi(PublicApiView):
    """The whole rules table, so anyone can see which rules a banner applies and why."""

    @extend_schema(operation_id="jurisdiction_table", tags=["rules"], responses=RulesTableOutputSerializer)
    def get(self, request: Request) -> Response:
        response = Response(rules_table_as_dict())
        response["Cache-Control"] = "public, max-age=3600"
        return response


class JurisdictionLookupApi(PublicApiView):
    """Which rule set applies to a place on a date (e.g. ?country=US&region=CO&on=2024-06-30)."""

    class InputSerializer(serializers.Serializer):
        country = serializers.RegexField(
            r"^[A-Za-z]{2}$", error_messages={"invalid": "Give an ISO 3166-1 alpha-2 code."}
        )
        region = serializers.RegexField(
            r"^([A-Za-z]{2}-)?[A-Za-z0-9]{1,3}$",
            required=False,
            allow_blank=True,
            default="",
            error_messages={"invalid": "Give an ISO 3166-2 subdivision code such as CA or US-CA."},
        )
        on = serializers.DateField(required=False, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        country = serializers.CharField()
        region = serializers.CharField()
        jurisdiction = serializers.CharField(help_text="The code of the rule set that applies.")
        rules = serializers.DictField(help_text="The rule set's every field.")

        class Meta:
            ref_name = "JurisdictionLookup"

    @extend_schema(
        operation_id="jurisdiction_lookup",
        tags=["rules"],
        parameters=[InputSerializer],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ruleset = ruleset_for_location(
            country=data["country"], region=data["region"], on=data["on"] or date.today()
        )
        response = Response(
            {
                "country": data["country"].upper(),
                "region": data["region"].upper().split("-")[-1],
                "jurisdiction": ruleset.code,
                "rules": ruleset_as_dict(ruleset),
            }
        )
        return response
