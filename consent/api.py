"""JSON endpoints: the public jurisdiction rules and the management API for sites."""

from datetime import date
from typing import Any

from django.conf import settings
from django.http import Http404
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from consent.geo import jurisdiction_resolve
from consent.http import cors_allow_site_origin
from consent.jurisdictions import RULES_VERSION, rules_table_as_dict, ruleset_as_dict, ruleset_for_location
from consent.models import Site
from consent.selectors import purpose_list, site_get_by_key, site_list_for_user, site_role_for_user


class PublicRateThrottle(SimpleRateThrottle):
    """Per client address, at settings.PUBLIC_API_RATE (read per request, so it can change live)."""

    scope = "public"

    def get_rate(self) -> str:
        return settings.PUBLIC_API_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicApiView(APIView):
    """No session, no CSRF, no authentication: anyone may call, within a per-IP rate limit."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]


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


class SiteOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    default_language = serializers.CharField()
    languages = serializers.ListField(source="enabled_languages", child=serializers.CharField())
    default_jurisdiction = serializers.CharField()
    jurisdiction_overrides = serializers.DictField()
    data_residency = serializers.CharField()
    origins = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_origins(self, site: Site) -> list[str]:
        return [origin.origin for origin in site.origins.all()]


class SiteListApi(APIView):
    """The sites the authenticated user is a member of."""

    def get(self, request: Request) -> Response:
        sites = site_list_for_user(user=request.user).prefetch_related("origins")
        return Response({"sites": SiteOutputSerializer(sites, many=True).data})


class SiteDetailApi(APIView):
    """One site with the caller's role and its purposes; 404 for sites the caller is not a member of."""

    class PurposeOutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        is_necessary = serializers.BooleanField()
        is_sale_or_share = serializers.BooleanField()
        position = serializers.IntegerField()
        texts = serializers.SerializerMethodField()

        def get_texts(self, purpose: Any) -> dict[str, dict[str, str]]:
            return {
                text.language: {"name": text.name, "description": text.description}
                for text in purpose.translations.all()
            }

    def get(self, request: Request, site_key: str) -> Response:
        # Looked up among the caller's sites only: another tenant's site is "not found",
        # not "forbidden", so its existence does not leak either.
        site = site_list_for_user(user=request.user).prefetch_related("origins").filter(key=site_key).first()
        if site is None:
            raise Http404
        data = dict(SiteOutputSerializer(site).data)
        data["role"] = (
            "superuser" if request.user.is_superuser else site_role_for_user(site=site, user=request.user)
        )
        data["purposes"] = self.PurposeOutputSerializer(purpose_list(site=site), many=True).data
        return Response(data)
