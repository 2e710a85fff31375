"""Sites over HTTP: the management API (the sites a caller belongs to, one site's settings) and
the public answer to "which jurisdiction's rules does this site's visitor get?"."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.models import Site
from consent.rules.geo import ResolutionMethod, jurisdiction_resolve
from consent.rules.jurisdictions import RULES_VERSION, ruleset_as_dict
from consent.sites.selectors import purpose_list, site_get_by_key
from consent.tenancy.selectors import site_list_for_user, site_role_for_user
from edge.api import PublicApiView


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


class PurposeOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    is_necessary = serializers.BooleanField()
    is_sale_or_share = serializers.BooleanField()
    position = serializers.IntegerField()
    texts = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.DictField(
            child=inline_serializer(
                "PurposeText", {"name": serializers.CharField(), "description": serializers.CharField()}
            ),
            help_text="Language -> the purpose's name and description.",
        )
    )
    def get_texts(self, purpose: Any) -> dict[str, dict[str, str]]:
        return {
            text.language: {"name": text.name, "description": text.description}
            for text in purpose.translations.all()
        }


class SiteListApi(APIView):
    """The sites the authenticated user is a member of."""

    @extend_schema(
        operation_id="site_list",
        tags=["management"],
        responses=inline_serializer("SiteList", {"sites": SiteOutputSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        sites = site_list_for_user(user=request.user).prefetch_related("origins")
        return Response({"sites": SiteOutputSerializer(sites, many=True).data})


class SiteDetailApi(APIView):
    """One site with the caller's role and its purposes; 404 for sites the caller is not a member of."""

    class OutputSerializer(SiteOutputSerializer):
        role = serializers.CharField(help_text="The caller's role on the site (or `superuser`).")
        purposes = PurposeOutputSerializer(many=True)

        class Meta:
            ref_name = "SiteDetail"

    @extend_schema(operation_id="site_detail", tags=["management"], responses=OutputSerializer)
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
        data["purposes"] = PurposeOutputSerializer(purpose_list(site=site), many=True).data
        return Response(data)


class SiteJurisdictionApi(PublicApiView):
    """The rules that apply to this visitor on this site, and how they were found."""

    class OutputSerializer(serializers.Serializer):
        site = serializers.CharField()
        jurisdiction = serializers.CharField()
        rules_version = serializers.CharField()
        country = serializers.CharField(help_text='ISO 3166-1 alpha-2, or "" when unknown.')
        region = serializers.CharField(allow_blank=True)
        resolved_by = serializers.ChoiceField(choices=ResolutionMethod.choices)
        rules = serializers.DictField(help_text="The rule set's every field, with the site's overrides.")

        class Meta:
            ref_name = "SiteJurisdiction"

    @extend_schema(operation_id="site_jurisdiction", tags=["rules"], responses=OutputSerializer)
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
        return response
