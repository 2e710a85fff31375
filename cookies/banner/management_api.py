"""The management API's banner: its settings and texts per language (the working copy), publishing
it as a banner version (scope `publish`), and reads of the version in force and the history.

Every change goes through cookies.banner.services, as the admin's; a refusal of the publishing
service (a language a jurisdiction requires lacks a text, nothing changed) is a 400 with the
sentence the admin shows. The public config the banner loads is cookies/banner/api.py.
"""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.languages import LANGUAGE_CHOICES
from consent.models import Purpose, Site, TokenScope
from consent.tokens.management import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    PAGE_PARAMETERS,
    ManagementApiView,
    fields_refusal,
    page_serializer,
)
from cookies.banner.selectors import banner_version_latest
from cookies.banner.services import (
    BANNER_SETTINGS_FIELDS,
    banner_settings_ensure,
    banner_settings_update,
    banner_text_delete,
    banner_text_set,
    banner_version_publish,
)
from cookies.models import BannerSettings, BannerText, BannerVersion, consent_mode_guess

LANGUAGES = frozenset(code for code, _name in LANGUAGE_CHOICES)


# --- Settings ----------------------------------------------------------------------------------


class BannerSettingsOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = BannerSettings
        fields = list(BANNER_SETTINGS_FIELDS)
        ref_name = "BannerSettings"


class BannerSettingsInputSerializer(serializers.ModelSerializer):
    """The look and Consent Mode mapping PATCH may change (all optional)."""

    class Meta:
        model = BannerSettings
        fields = list(BANNER_SETTINGS_FIELDS)
        extra_kwargs = {field: {"required": False} for field in BANNER_SETTINGS_FIELDS}
        ref_name = "BannerSettingsUpdate"


def _settings_row(site: Site) -> BannerSettings:
    """The working copy; before its first change, the one banner_settings_ensure would start."""
    row = BannerSettings.objects.filter(site=site).first()
    if row is not None:
        return row
    keys = Purpose.objects.filter(site=site, is_necessary=False).values_list("key", flat=True)
    return BannerSettings(site=site, consent_mode=consent_mode_guess(keys))


def _settings_data(row: BannerSettings) -> dict[str, Any]:
    return dict(BannerSettingsOutputSerializer(row).data)


class BannerSettingsApi(ManagementApiView):
    """The banner working copy's look and Consent Mode mapping: GET (ETag), PATCH with If-Match.

    Visitors see a change once a banner version is published.
    """

    @extend_schema(
        operation_id="banner_settings", tags=["management"], responses=BannerSettingsOutputSerializer
    )
    def get(self, request: Request, site_key: str) -> Response:
        return self.with_etag(
            _settings_data(_settings_row(self.site_for(request, site_key, TokenScope.READ)))
        )

    @extend_schema(
        operation_id="banner_settings_update",
        tags=["management"],
        parameters=[IF_MATCH],
        request=BannerSettingsInputSerializer,
        responses=BannerSettingsOutputSerializer,
    )
    def patch(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        self.precondition_check(request, _settings_data(_settings_row(site)))
        fields_refusal(request.data, set(BANNER_SETTINGS_FIELDS))
        given = BannerSettingsInputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            row = banner_settings_update(
                settings_row=banner_settings_ensure(site=site),
                **given.validated_data,
                **self.service_kwargs(request),
            )
        return self.with_etag(_settings_data(row))


# --- Texts -------------------------------------------------------------------------------------


class BannerTextOutputSerializer(serializers.Serializer):
    language = serializers.CharField()
    title = serializers.CharField(allow_blank=True, help_text="Empty: the built-in title.")
    body = serializers.CharField(allow_blank=True, help_text="Empty: the built-in text. Plain text, no HTML.")

    class Meta:
        ref_name = "BannerText"


class BannerTextInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, allow_blank=True, default="")
    body = serializers.CharField(allow_blank=True, default="")

    class Meta:
        ref_name = "BannerTextPut"


def _texts_data(site: Site) -> dict[str, Any]:
    return {
        "texts": {
            text.language: {"title": text.title, "body": text.body}
            for text in BannerText.objects.filter(site=site).order_by("language")
        }
    }


class BannerTextListApi(ManagementApiView):
    """The site's own banner title and body in every language it wrote them in (ETag)."""

    @extend_schema(
        operation_id="banner_text_list",
        tags=["management"],
        responses=inline_serializer(
            "BannerTextList",
            {
                "texts": serializers.DictField(
                    child=inline_serializer(
                        "BannerTextItem",
                        {"title": serializers.CharField(), "body": serializers.CharField()},
                    ),
                    help_text="Language -> the site's title and body in it.",
                )
            },
        ),
    )
    def get(self, request: Request, site_key: str) -> Response:
        return self.with_etag(_texts_data(self.site_for(request, site_key, TokenScope.READ)))


class BannerTextDetailApi(ManagementApiView):
    """The banner's title and body in one language: GET (ETag); PUT writes them (a language not
    written yet needs no If-Match, replacing one does); DELETE with If-Match (the built-in wording
    shows in that language again)."""

    def _site_and_text(
        self, request: Request, site_key: str, language: str, scope: str
    ) -> tuple[Site, BannerText | None]:
        site = self.site_for(request, site_key, scope)
        if language not in LANGUAGES:
            raise Http404
        return site, BannerText.objects.filter(site=site, language=language).select_related("site").first()

    @extend_schema(operation_id="banner_text", tags=["management"], responses=BannerTextOutputSerializer)
    def get(self, request: Request, site_key: str, language: str) -> Response:
        _site, text = self._site_and_text(request, site_key, language, TokenScope.READ)
        if text is None:
            raise Http404
        return self.with_etag(dict(BannerTextOutputSerializer(text).data))

    @extend_schema(
        operation_id="banner_text_put",
        tags=["management"],
        parameters=[IF_MATCH],
        request=BannerTextInputSerializer,
        responses={200: BannerTextOutputSerializer, 201: BannerTextOutputSerializer},
    )
    def put(self, request: Request, site_key: str, language: str) -> Response:
        site, text = self._site_and_text(request, site_key, language, TokenScope.WRITE)
        if text is not None:
            self.precondition_check(request, dict(BannerTextOutputSerializer(text).data))
        fields_refusal(request.data, {"title", "body"})
        given = BannerTextInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            saved = banner_text_set(
                site=site, language=language, **given.validated_data, **self.service_kwargs(request)
            )
        return self.with_etag(
            dict(BannerTextOutputSerializer(saved).data),
            status.HTTP_200_OK if text is not None else status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="banner_text_delete", tags=["management"], parameters=[IF_MATCH], responses={204: None}
    )
    def delete(self, request: Request, site_key: str, language: str) -> Response:
        _site, text = self._site_and_text(request, site_key, language, TokenScope.WRITE)
        if text is None:
            raise Http404
        self.precondition_check(request, dict(BannerTextOutputSerializer(text).data))
        with transaction.atomic():
            banner_text_delete(text=text, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Versions ----------------------------------------------------------------------------------


class BannerVersionOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    change_note = serializers.CharField(allow_blank=True)
    content = serializers.JSONField(help_text="Theme, Consent Mode mapping, purposes and texts, frozen.")

    class Meta:
        ref_name = "BannerVersion"


class BannerVersionListApi(ManagementApiView):
    """Every banner version, oldest first, a page at a time; POST publishes the working copy as the
    next version, in force at once (scope `publish`, owners and DPOs)."""

    class InputSerializer(serializers.Serializer):
        change_note = serializers.CharField(
            allow_blank=True, default="", help_text="What changed, for the record."
        )

        class Meta:
            ref_name = "BannerVersionPublish"

    @extend_schema(
        operation_id="banner_version_list",
        tags=["management"],
        parameters=PAGE_PARAMETERS,
        responses=page_serializer("BannerVersionPage", BannerVersionOutputSerializer()),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)

        def serialize(rows: Sequence[Any]) -> Any:
            return BannerVersionOutputSerializer(rows, many=True).data

        return self.cursor_page(
            request, BannerVersion.objects.filter(site=site), serialize, time_field="published_at"
        )

    @extend_schema(
        operation_id="banner_version_publish",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: BannerVersionOutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.PUBLISH)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        who = self.service_kwargs(request)

        def publish() -> Response:
            try:
                version = banner_version_publish(
                    site=site, change_note=given.validated_data["change_note"], **who
                )
            except DjangoValidationError as refused:
                # The admin shows the refusal as one message: the same sentence here.
                raise serializers.ValidationError(refused.messages) from refused
            return self.with_etag(dict(BannerVersionOutputSerializer(version).data), status.HTTP_201_CREATED)

        return self.idempotent(request, site, publish)


class BannerVersionCurrentApi(ManagementApiView):
    """The banner version visitors see now (the newest: banner versions take effect when published)."""

    @extend_schema(
        operation_id="banner_version_current", tags=["management"], responses=BannerVersionOutputSerializer
    )
    def get(self, request: Request, site_key: str) -> Response:
        version = banner_version_latest(site=self.site_for(request, site_key, TokenScope.READ))
        if version is None:
            raise Http404
        return self.with_etag(dict(BannerVersionOutputSerializer(version).data))


class BannerVersionDetailApi(ManagementApiView):
    """One published banner version by its number, with its frozen content."""

    @extend_schema(
        operation_id="banner_version", tags=["management"], responses=BannerVersionOutputSerializer
    )
    def get(self, request: Request, site_key: str, number: int) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        version = get_object_or_404(BannerVersion.objects.filter(site=site), number=number)
        return self.with_etag(dict(BannerVersionOutputSerializer(version).data))
