"""The banner config endpoint in the OpenAPI contract.

`banner_config_view` (api.py) is a plain Django view for speed (the second-hottest path). This
schema-only DRF view, never routed, describes it: `config/openapi.py` puts it in the schema under
the config's real path. The serializers mirror `cookies.banner.selectors.banner_config`.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from edge.schema import ERROR_DESCRIPTIONS, ErrorSerializer


class BannerRulesSerializer(serializers.Serializer):
    code = serializers.CharField()
    model = serializers.CharField()
    reject_first_layer = serializers.BooleanField()
    gpc = serializers.CharField()
    gpc_status = serializers.BooleanField()
    reask_consent_days = serializers.IntegerField(allow_null=True)
    reask_refusal_days = serializers.IntegerField(allow_null=True)
    cookie_days = serializers.IntegerField(allow_null=True)


class BannerCookieSerializer(serializers.Serializer):
    name = serializers.CharField()
    provider = serializers.CharField()
    days = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    lang = serializers.CharField(
        required=False,
        help_text="Only when the description is in another language than the config's: that one.",
    )


class BannerPurposeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    locked = serializers.BooleanField(help_text="The necessary purpose: cannot be refused.")
    sale = serializers.BooleanField(help_text="Sells or shares personal data (US opt-out laws).")
    lang = serializers.CharField(
        required=False,
        help_text="Only when the name and description are in another language than the config's: that one.",
    )
    cookies = BannerCookieSerializer(many=True)
    vendors = serializers.ListField(child=serializers.CharField())


class BannerCookieNameSerializer(serializers.Serializer):
    name = serializers.CharField()
    days = serializers.IntegerField(allow_null=True)


class BannerConfigSerializer(serializers.Serializer):
    v = serializers.IntegerField()
    site = serializers.CharField()
    endpoint = serializers.CharField(help_text="The base URL of this site's public API.")
    lang = serializers.CharField()
    dir = serializers.ChoiceField(choices=["ltr", "rtl"])
    languages = serializers.ListField(child=serializers.CharField())
    jurisdiction = BannerRulesSerializer()
    gpc_header = serializers.BooleanField()
    epoch = serializers.CharField(allow_null=True, help_text="Choices made before it are asked again.")
    versions = serializers.DictField(help_text="The editions in force, to send back with the consent.")
    texts = serializers.DictField(child=serializers.CharField())
    purposes = BannerPurposeSerializer(many=True)
    links = serializers.DictField(child=serializers.CharField())
    requests_url = serializers.CharField(
        help_text="The site's data-subject request form (access, deletion, opt-out, ...), in the "
        "visitor's language."
    )
    theme = serializers.DictField()
    consent_mode = serializers.DictField()
    cookie = BannerCookieNameSerializer()


class BannerConfigSchema(APIView):
    """Schema only: the contract of `banner_config_view`; never routed."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="banner_config",
        tags=["banner"],
        summary="What this visitor's banner shows",
        description=(
            "The visitor's jurisdiction (edge header, GeoIP or the site's default), language "
            "(Accept-Language among the site's), texts, purposes with their cookies and vendors, "
            "the editions in force and links. Carries an `ETag`: send it back in `If-None-Match` "
            "for a 304. `Access-Control-Allow-Origin` for the site's registered origins."
        ),
        parameters=[
            OpenApiParameter(
                "Sec-GPC",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                enum=["1"],
                description="Global Privacy Control: `1` counts as the signal.",
            ),
        ],
        responses={
            200: OpenApiResponse(BannerConfigSerializer, description="The banner's config."),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)."),
            404: OpenApiResponse(ErrorSerializer, description="No site with this key."),
            429: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[429]),
            503: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[503]),
        },
    )
    def get(self, request: Request, site_key: str) -> None:
        raise NotImplementedError  # pragma: no cover - never routed
