"""Sites over HTTP: the management API (the sites a caller belongs to, one site's settings) and
the public answer to "which jurisdiction's rules does this site's visitor get?"."""

from typing import Any

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.models import PURPOSE_KEY_PATTERN, Purpose, Site, SiteOrigin, TokenScope
from consent.rules.geo import ResolutionMethod, jurisdiction_resolve
from consent.rules.jurisdictions import RULES_VERSION, ruleset_as_dict
from consent.sites.selectors import purpose_list, site_get_by_key
from consent.sites.services import (
    SITE_SETTINGS_FIELDS,
    purpose_create,
    purpose_delete,
    purpose_translation_delete,
    purpose_translation_set,
    purpose_update,
    site_origin_add,
    site_origin_remove,
    site_settings_update,
)
from consent.tenancy.selectors import site_role_for_user
from consent.tokens.access import api_actor, api_site, api_sites, request_token
from consent.tokens.management import IDEMPOTENCY_KEY, IF_MATCH, ManagementApiView, fields_refusal
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


# --- The management API's site resources: settings, origins, purposes -----------------------


class SiteSettingsInputSerializer(serializers.ModelSerializer):
    """The settings PATCH may change (all optional; a site's owners only, as in the admin)."""

    class Meta:
        model = Site
        fields = list(SITE_SETTINGS_FIELDS)
        extra_kwargs = {field: {"required": False} for field in SITE_SETTINGS_FIELDS}


class SiteSettingsApi(ManagementApiView):
    """A site's settings: GET them with an ETag, PATCH some of them with If-Match (owners)."""

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Site
            fields = ["key", *SITE_SETTINGS_FIELDS]
            ref_name = "SiteSettings"

    def _data(self, site: Site) -> dict[str, Any]:
        return dict(self.OutputSerializer(site).data)

    @extend_schema(operation_id="site_settings", tags=["management"], responses=OutputSerializer)
    def get(self, request: Request, site_key: str) -> Response:
        return self.with_etag(self._data(self.site_for(request, site_key, TokenScope.READ)))

    @extend_schema(
        operation_id="site_settings_update",
        tags=["management"],
        parameters=[IF_MATCH],
        request=SiteSettingsInputSerializer,
        responses=OutputSerializer,
    )
    def patch(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        self.precondition_check(request, self._data(site))
        fields_refusal(request.data, set(SITE_SETTINGS_FIELDS))
        given = SiteSettingsInputSerializer(site, data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            site = site_settings_update(site=site, **given.validated_data, **self.service_kwargs(request))
        return self.with_etag(self._data(site))


class OriginOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    origin = serializers.CharField(help_text="Scheme, host and port, as the browser sends it in `Origin`.")


class SiteOriginListApi(ManagementApiView):
    """The origins the banner runs on (CORS); POST registers one more (owners)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SiteOriginCreate"

        origin = serializers.CharField(max_length=200)

    @extend_schema(
        operation_id="site_origin_list",
        tags=["management"],
        responses=inline_serializer("SiteOriginList", {"origins": OriginOutputSerializer(many=True)}),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        return Response({"origins": OriginOutputSerializer(site.origins.order_by("id"), many=True).data})

    @extend_schema(
        operation_id="site_origin_add",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: OriginOutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)

        def add() -> Response:
            origin = site_origin_add(
                site=site, origin=given.validated_data["origin"], **self.service_kwargs(request)
            )
            return self.with_etag(OriginOutputSerializer(origin).data, status.HTTP_201_CREATED)

        return self.idempotent(request, site, add)


class SiteOriginDetailApi(ManagementApiView):
    """One origin: GET it (ETag), DELETE it with If-Match (owners)."""

    def _origin(self, request: Request, site_key: str, origin_id: int, scope: str) -> SiteOrigin:
        site = self.site_for(request, site_key, scope)
        return get_object_or_404(site.origins, pk=origin_id)

    @extend_schema(operation_id="site_origin", tags=["management"], responses=OriginOutputSerializer)
    def get(self, request: Request, site_key: str, origin_id: int) -> Response:
        origin = self._origin(request, site_key, origin_id, TokenScope.READ)
        return self.with_etag(OriginOutputSerializer(origin).data)

    @extend_schema(
        operation_id="site_origin_remove", tags=["management"], parameters=[IF_MATCH], responses={204: None}
    )
    def delete(self, request: Request, site_key: str, origin_id: int) -> Response:
        origin = self._origin(request, site_key, origin_id, TokenScope.WRITE)
        self.precondition_check(request, OriginOutputSerializer(origin).data)
        with transaction.atomic():
            site_origin_remove(site_origin=origin, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PurposeTextInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField()


class PurposeListApi(ManagementApiView):
    """The site's purposes in banner order; POST adds one with its texts (owners and DPOs)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PurposeCreate"

        key = serializers.RegexField(PURPOSE_KEY_PATTERN, max_length=40)
        is_sale_or_share = serializers.BooleanField(default=False)
        position = serializers.IntegerField(min_value=0, max_value=32767, default=100)
        texts = serializers.DictField(
            child=PurposeTextInputSerializer(),
            allow_empty=False,
            help_text="Language -> the purpose's name and description in it.",
        )

    @extend_schema(
        operation_id="purpose_list",
        tags=["management"],
        responses=inline_serializer("PurposeList", {"purposes": PurposeOutputSerializer(many=True)}),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        return Response({"purposes": PurposeOutputSerializer(purpose_list(site=site), many=True).data})

    @extend_schema(
        operation_id="purpose_create",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: PurposeOutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data

        def create() -> Response:
            purpose = purpose_create(
                site=site,
                key=data["key"],
                texts={
                    language: (text["name"], text["description"]) for language, text in data["texts"].items()
                },
                is_sale_or_share=data["is_sale_or_share"],
                position=data["position"],
                **self.service_kwargs(request),
            )
            return self.with_etag(_purpose_data(purpose), status.HTTP_201_CREATED)

        return self.idempotent(request, site, create)


def _purpose_data(purpose: Purpose) -> dict[str, Any]:
    fresh = Purpose.objects.prefetch_related("translations").get(pk=purpose.pk)
    return dict(PurposeOutputSerializer(fresh).data)


class PurposeDetailApi(ManagementApiView):
    """One purpose: GET (ETag); PATCH its flags, place and texts with If-Match; DELETE with If-Match."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PurposeUpdate"

        is_sale_or_share = serializers.BooleanField(required=False)
        position = serializers.IntegerField(min_value=0, max_value=32767, required=False)
        texts = serializers.DictField(
            child=PurposeTextInputSerializer(allow_null=True),
            required=False,
            help_text="Language -> the new name and description; null removes that language's text.",
        )

    def _purpose(self, request: Request, site_key: str, purpose_key: str, scope: str) -> Purpose:
        site = self.site_for(request, site_key, scope)
        return get_object_or_404(Purpose.objects.select_related("site"), site=site, key=purpose_key)

    @extend_schema(operation_id="purpose", tags=["management"], responses=PurposeOutputSerializer)
    def get(self, request: Request, site_key: str, purpose_key: str) -> Response:
        return self.with_etag(_purpose_data(self._purpose(request, site_key, purpose_key, TokenScope.READ)))

    @extend_schema(
        operation_id="purpose_update",
        tags=["management"],
        parameters=[IF_MATCH],
        request=InputSerializer,
        responses=PurposeOutputSerializer,
    )
    def patch(self, request: Request, site_key: str, purpose_key: str) -> Response:
        purpose = self._purpose(request, site_key, purpose_key, TokenScope.WRITE)
        self.precondition_check(request, _purpose_data(purpose))
        fields_refusal(request.data, {"is_sale_or_share", "position", "texts"})
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        texts = data.pop("texts", {})
        who = self.service_kwargs(request)
        with transaction.atomic():
            if data:
                purpose = purpose_update(purpose=purpose, **data, **who)
            for language, text in texts.items():
                existing = purpose.translations.filter(language=language).first()
                if text is None:
                    if existing is not None:
                        purpose_translation_delete(translation=existing, **who)
                else:
                    purpose_translation_set(
                        purpose=purpose,
                        language=language,
                        name=text["name"],
                        description=text["description"],
                        **who,
                    )
        return self.with_etag(_purpose_data(purpose))

    @extend_schema(
        operation_id="purpose_delete", tags=["management"], parameters=[IF_MATCH], responses={204: None}
    )
    def delete(self, request: Request, site_key: str, purpose_key: str) -> Response:
        purpose = self._purpose(request, site_key, purpose_key, TokenScope.WRITE)
        self.precondition_check(request, _purpose_data(purpose))
        with transaction.atomic():
            purpose_delete(purpose=purpose, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
