"""The management API's cookie catalogue: a site's cookies with their descriptions per language.

Every change goes through cookies.catalogue.services (owners and DPOs, one audit row each), as in
the admin; see consent/tokens/management.py for ETag/If-Match, Idempotency-Key and cursor pages.
"""

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import Purpose, Site, TokenScope
from consent.tokens.management import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    PAGE_PARAMETERS,
    ManagementApiView,
    fields_refusal,
    page_serializer,
)
from cookies.catalogue.services import (
    cookie_create,
    cookie_delete,
    cookie_translation_delete,
    cookie_translation_set,
    cookie_update,
)
from cookies.models import Cookie
from subprocessors.models import Vendor


class CookieOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Exact name, or a pattern with * for a variable part.")
    is_pattern = serializers.BooleanField()
    purpose = serializers.CharField(source="purpose.key", help_text="The key of its purpose.")
    vendor = serializers.CharField(
        source="vendor.key", allow_null=True, help_text="The key of its provider; null for first-party."
    )
    domain = serializers.CharField(allow_blank=True, help_text="Empty: the site's own domain.")
    duration_days = serializers.IntegerField(allow_null=True, help_text="Null: a session cookie.")
    justification = serializers.CharField(allow_blank=True)
    texts = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Cookie"

    @extend_schema_field(
        serializers.DictField(child=serializers.CharField(), help_text="Language -> its description.")
    )
    def get_texts(self, cookie: Cookie) -> dict[str, str]:
        return {text.language: text.description for text in cookie.translations.all()}


def _cookies(site: Site) -> Any:
    return (
        Cookie.objects.filter(site=site)
        .select_related("purpose", "vendor", "site")
        .prefetch_related("translations")
    )


def _cookie_data(cookie: Cookie) -> dict[str, Any]:
    return dict(CookieOutputSerializer(_cookies(cookie.site).get(pk=cookie.pk)).data)


@extend_schema_field(OpenApiTypes.STR)
class _SiteKeyField(serializers.SlugRelatedField):
    """A purpose or vendor of the request's site, by key (another site's is "does not exist")."""

    def __init__(self, model: type[Purpose] | type[Vendor], **kwargs: Any) -> None:
        self.model = model
        super().__init__(slug_field="key", **kwargs)

    def get_queryset(self) -> Any:
        return self.model.objects.filter(site=self.context["site"])


class CookieFieldsInputSerializer(serializers.Serializer):
    purpose = _SiteKeyField(Purpose, help_text="The key of one of the site's purposes.")
    vendor = _SiteKeyField(
        Vendor,
        allow_null=True,
        default=None,
        help_text="The key of one of the site's vendors (its provider); null for first-party.",
    )
    name = serializers.CharField(max_length=128)
    domain = serializers.CharField(max_length=255, allow_blank=True, default="")
    duration_days = serializers.IntegerField(min_value=0, allow_null=True, default=None)
    justification = serializers.CharField(allow_blank=True, default="")


class CookieListApi(ManagementApiView):
    """The site's cookies, a page at a time (oldest first); POST catalogues one (owners and DPOs)."""

    class InputSerializer(CookieFieldsInputSerializer):
        description = serializers.CharField(
            help_text="What it stores and why, in the site's default language."
        )
        texts = serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="Language -> its description in that language (other than the default).",
        )

        class Meta:
            ref_name = "CookieCreate"

    @extend_schema(
        operation_id="cookie_list",
        tags=["management"],
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("purpose", str, description="Only this purpose's.")],
        responses=page_serializer("CookiePage", CookieOutputSerializer()),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        cookies = _cookies(site)
        if request.query_params.get("purpose"):
            cookies = cookies.filter(purpose__key=request.query_params["purpose"])

        def serialize(rows: Sequence[Any]) -> Any:
            return CookieOutputSerializer(rows, many=True).data

        return self.cursor_page(request, cookies, serialize)

    @extend_schema(
        operation_id="cookie_create",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: CookieOutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        given = self.InputSerializer(data=request.data, context={"site": site})
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        texts = data.pop("texts", {})

        def create() -> Response:
            who = self.service_kwargs(request)
            cookie = cookie_create(site=site, **data, **who)
            for language, description in texts.items():
                cookie_translation_set(cookie=cookie, language=language, description=description, **who)
            return self.with_etag(_cookie_data(cookie), status.HTTP_201_CREATED)

        return self.idempotent(request, site, create)


class CookieDetailApi(ManagementApiView):
    """One cookie: GET (ETag); PATCH its fields and descriptions with If-Match; DELETE with If-Match."""

    class InputSerializer(CookieFieldsInputSerializer):
        texts = serializers.DictField(
            child=serializers.CharField(allow_null=True),
            required=False,
            help_text="Language -> its new description; null removes that language's description.",
        )

        class Meta:
            ref_name = "CookieUpdate"

    def _cookie(self, request: Request, site_key: str, cookie_id: int, scope: str) -> Cookie:
        site = self.site_for(request, site_key, scope)
        return get_object_or_404(_cookies(site), pk=cookie_id)

    @extend_schema(operation_id="cookie", tags=["management"], responses=CookieOutputSerializer)
    def get(self, request: Request, site_key: str, cookie_id: int) -> Response:
        return self.with_etag(_cookie_data(self._cookie(request, site_key, cookie_id, TokenScope.READ)))

    @extend_schema(
        operation_id="cookie_update",
        tags=["management"],
        parameters=[IF_MATCH],
        request=InputSerializer,
        responses=CookieOutputSerializer,
    )
    def patch(self, request: Request, site_key: str, cookie_id: int) -> Response:
        cookie = self._cookie(request, site_key, cookie_id, TokenScope.WRITE)
        self.precondition_check(request, _cookie_data(cookie))
        fields_refusal(request.data, set(self.InputSerializer().fields))
        given = self.InputSerializer(data=request.data, partial=True, context={"site": cookie.site})
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        texts = data.pop("texts", {})
        who = self.service_kwargs(request)
        with transaction.atomic():
            if data:
                cookie = cookie_update(cookie=cookie, **data, **who)
            for language, description in texts.items():
                existing = cookie.translations.filter(language=language).first()
                if description is None:
                    if existing is not None:
                        cookie_translation_delete(translation=existing, **who)
                else:
                    cookie_translation_set(cookie=cookie, language=language, description=description, **who)
        return self.with_etag(_cookie_data(cookie))

    @extend_schema(
        operation_id="cookie_delete", tags=["management"], parameters=[IF_MATCH], responses={204: None}
    )
    def delete(self, request: Request, site_key: str, cookie_id: int) -> Response:
        cookie = self._cookie(request, site_key, cookie_id, TokenScope.WRITE)
        self.precondition_check(request, _cookie_data(cookie))
        with transaction.atomic():
            cookie_delete(cookie=cookie, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
