"""Sites over HTTP: the management API (the sites a caller belongs to, one site's settings) and
the public answer to "which jurisdiction's rules does this site's visitor get?"."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.models import Site, TokenScope
from consent.rules.geo import ResolutionMethod, jurisdiction_resolve
from consent.rules.jurisdictions import RULES_VERSION, ruleset_as_dict
from consent.sites.selectors import purpose_list, site_get_by_key
from consent.tenancy.selectors import site_role_for_user
from consent.tokens.access import api_actor, api_site, api_sites, request_token
from consent.tokens.scopes import scopes_for_role
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
    """The sites the caller may read: a token's site, or the sites a person holds a role on."""

    @extend_schema(
        operation_id="site_list",
        tags=["management"],
        responses=inline_serializer("SiteList", {"sites": SiteOutputSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        sites = api_sites(request).prefetch_related("origins")
        return Response({"sites": SiteOutputSerializer(sites, many=True).data})


class SiteDetailApi(APIView):
    """One site with the caller's role and its purposes; 404 for sites the caller may not read."""

    class OutputSerializer(SiteOutputSerializer):
        role = serializers.CharField(
            allow_null=True,
            help_text="The role the call acts with: the caller's, or a token's creator's (`superuser`; "
            "null for a token made from the shell).",
        )
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=TokenScope.choices),
            help_text="What the call may do on the site: a token's scopes, or what the role allows.",
        )
        purposes = PurposeOutputSerializer(many=True)

        class Meta:
            ref_name = "SiteDetail"

    @extend_schema(operation_id="site_detail", tags=["management"], responses=OutputSerializer)
    def get(self, request: Request, site_key: str) -> Response:
        # Another tenant's site is "not found", not "forbidden", so its existence does not leak.
        site = api_site(request, site_key=site_key, scope=TokenScope.READ)
        data = dict(SiteOutputSerializer(site).data)
        actor, _audit = api_actor(request)
        if actor is None:
            data["role"] = None
        elif actor.is_superuser:
            data["role"] = "superuser"
        else:
            data["role"] = site_role_for_user(site=site, user=actor)
        token = request_token(request)
        data["scopes"] = sorted(
            token.scopes
            if token is not None
            else scopes_for_role(data["role"], is_superuser=request.user.is_superuser)
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
