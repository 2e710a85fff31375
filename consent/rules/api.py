"""Public JSON about jurisdictions: the rules table, a location's row, and the row a site's visitor gets."""

from datetime import date

from django.http import Http404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.rules.geo import jurisdiction_resolve
from consent.rules.jurisdictions import (
    RULES_VERSION,
    rules_table_as_dict,
    ruleset_as_dict,
    ruleset_for_location,
)
from consent.sites.cors import cors_allow_site_origin
from consent.sites.selectors import site_get_by_key
from edge.api import PublicApiView


class JurisdictionTableApi(PublicApiView):
    """The whole rules table, so anyone can see which rules a banner applies and why."""

    def get(self, request: Request) -> Response:
        response = Response(rules_table_as_dict())
        response["Cache-Control"] = "public, max-age=3600"
        response["Access-Control-Allow-Origin"] = "*"
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
        response["Access-Control-Allow-Origin"] = "*"
        return response


class SiteJurisdictionApi(PublicApiView):
    """The rules that apply to this visitor on this site, and how they were found."""

    def get(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        resolution = jurisdiction_resolve(
            request=request,
            default_code=site.default_jurisdiction,
            overrides=site.jurisdiction_overrides,
        )
        response = Response(
            {
                "site": site.key,
                "jurisdiction": resolution.ruleset.code,
                "rules_version": RULES_VERSION,
                "country": resolution.country,
                "region": resolution.region,
                "resolved_by": resolution.method,
                "rules": ruleset_as_dict(resolution.ruleset),
            }
        )
        response["Cache-Control"] = "private, no-store"
        return cors_allow_site_origin(request=request, response=response, site=site)
