"""The management API's sub-processor resources: vendors (the working list, with their purpose per
language), publishing a list version (scope `publish`), the version in force and the history.

Every change goes through the services the admin uses (subprocessors.lists.services), so a
refusal is the admin's message (a 400, or a 403 for a role that may not change sub-processors).
"""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import Site, TokenScope
from consent.tokens.management import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    PAGE_PARAMETERS,
    ManagementApiView,
    fields_refusal,
    page_serializer,
)
from subprocessors.lists.api import (
    SubprocessorListOutputSerializer,
    SubprocessorVersionDetailOutputSerializer,
    VersionHistoryItemOutputSerializer,
    _version,
)
from subprocessors.lists.selectors import (
    subprocessor_list_diff,
    subprocessor_list_in_force,
    subprocessor_list_upcoming,
    subprocessor_version_diff,
    vendor_list,
)
from subprocessors.lists.services import (
    VENDOR_FIELDS,
    subprocessor_list_publish,
    vendor_create,
    vendor_delete,
    vendor_translation_delete,
    vendor_translation_set,
    vendor_update,
)
from subprocessors.models import VENDOR_KEY_PATTERN, SubprocessorListVersion, Vendor, VendorCategory

TEXTS_HELP = 'Language -> the vendor\'s purpose in it: {"ru": {"purpose": "..."}}.'


class VendorTextSerializer(serializers.Serializer):
    purpose = serializers.CharField(help_text="The service it provides and why personal data is shared.")

    class Meta:
        ref_name = "VendorText"


class VendorOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    legal_entity = serializers.CharField()
    address = serializers.CharField()
    contact = serializers.CharField()
    website = serializers.CharField(allow_blank=True)
    privacy_policy_url = serializers.CharField(allow_blank=True)
    dpa_url = serializers.CharField(allow_blank=True)
    data_categories = serializers.ListField(child=serializers.CharField())
    locations = serializers.ListField(child=serializers.CharField(), help_text="ISO 3166-1 alpha-2 codes.")
    transfer_mechanisms = serializers.ListField(child=serializers.CharField())
    transfer_assessment_ref = serializers.CharField(allow_blank=True)
    dpf_checked_on = serializers.DateField(allow_null=True)
    ru_cross_border_notified_on = serializers.DateField(allow_null=True)
    category = serializers.ChoiceField(choices=VendorCategory.choices)
    is_listed = serializers.BooleanField(help_text="On the working list (published with the next version).")
    texts = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Vendor"

    @extend_schema_field(serializers.DictField(child=VendorTextSerializer(), help_text=TEXTS_HELP))
    def get_texts(self, vendor: Vendor) -> dict[str, dict[str, str]]:
        return {text.language: {"purpose": text.purpose} for text in vendor.translations.all()}


class _VendorFieldsSerializer(serializers.Serializer):
    """The vendor's fields a client may set (the service checks them as the admin's form does)."""

    name = serializers.CharField(max_length=200)
    legal_entity = serializers.CharField(max_length=200)
    address = serializers.CharField()
    contact = serializers.CharField(max_length=255)
    website = serializers.CharField(max_length=200, allow_blank=True, required=False)
    privacy_policy_url = serializers.CharField(max_length=200, allow_blank=True, required=False)
    dpa_url = serializers.CharField(max_length=200, allow_blank=True, required=False)
    data_categories = serializers.ListField(child=serializers.CharField(), required=False)
    locations = serializers.ListField(child=serializers.CharField(), help_text="ISO 3166-1 alpha-2 codes.")
    transfer_mechanisms = serializers.ListField(child=serializers.CharField(), required=False)
    transfer_assessment_ref = serializers.CharField(max_length=200, allow_blank=True, required=False)
    dpf_checked_on = serializers.DateField(allow_null=True, required=False)
    ru_cross_border_notified_on = serializers.DateField(allow_null=True, required=False)
    category = serializers.ChoiceField(choices=VendorCategory.choices, required=False)
    is_listed = serializers.BooleanField(required=False)


def _vendor_data(vendor: Vendor) -> dict[str, Any]:
    fresh = Vendor.objects.prefetch_related("translations").get(pk=vendor.pk)
    return dict(VendorOutputSerializer(fresh).data)


class VendorListApi(ManagementApiView):
    """The site's vendors (listed or not), by key; POST adds one with its purposes (owners and DPOs)."""

    class InputSerializer(_VendorFieldsSerializer):
        key = serializers.RegexField(VENDOR_KEY_PATTERN, max_length=64)
        texts = serializers.DictField(
            child=VendorTextSerializer(),
            help_text=TEXTS_HELP + " The site's default language is required.",
        )

        class Meta:
            ref_name = "VendorCreate"

    @extend_schema(
        operation_id="vendor_list",
        tags=["management"],
        responses=inline_serializer("VendorList", {"vendors": VendorOutputSerializer(many=True)}),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        vendors = vendor_list(site=site).prefetch_related("translations")
        return Response({"vendors": VendorOutputSerializer(vendors, many=True).data})

    @extend_schema(
        operation_id="vendor_create",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: VendorOutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.WRITE)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        texts = {language: text["purpose"] for language, text in data.pop("texts").items()}

        def create() -> Response:
            who = self.service_kwargs(request)
            # The default language's purpose goes with the vendor: the service refuses it missing.
            vendor = vendor_create(site=site, purpose=texts.pop(site.default_language, ""), **data, **who)
            for language, purpose in texts.items():
                vendor_translation_set(vendor=vendor, language=language, purpose=purpose, **who)
            return self.with_etag(_vendor_data(vendor), status.HTTP_201_CREATED)

        return self.idempotent(request, site, create)


class VendorDetailApi(ManagementApiView):
    """One vendor: GET (ETag); PATCH its fields and purposes with If-Match; DELETE with If-Match."""

    class InputSerializer(_VendorFieldsSerializer):
        texts = serializers.DictField(
            child=VendorTextSerializer(allow_null=True),
            required=False,
            help_text=TEXTS_HELP + " null removes that language's purpose.",
        )

        class Meta:
            ref_name = "VendorUpdate"

    def _vendor(self, request: Request, site_key: str, vendor_key: str, scope: str) -> Vendor:
        site = self.site_for(request, site_key, scope)
        return get_object_or_404(Vendor.objects.select_related("site"), site=site, key=vendor_key)

    @extend_schema(operation_id="vendor", tags=["management"], responses=VendorOutputSerializer)
    def get(self, request: Request, site_key: str, vendor_key: str) -> Response:
        return self.with_etag(_vendor_data(self._vendor(request, site_key, vendor_key, TokenScope.READ)))

    @extend_schema(
        operation_id="vendor_update",
        tags=["management"],
        parameters=[IF_MATCH],
        request=InputSerializer,
        responses=VendorOutputSerializer,
    )
    def patch(self, request: Request, site_key: str, vendor_key: str) -> Response:
        vendor = self._vendor(request, site_key, vendor_key, TokenScope.WRITE)
        self.precondition_check(request, _vendor_data(vendor))
        fields_refusal(request.data, {*VENDOR_FIELDS, "texts"})
        given = self.InputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        texts = data.pop("texts", {})
        who = self.service_kwargs(request)
        with transaction.atomic():
            if data:
                vendor = vendor_update(vendor=vendor, **data, **who)
            for language, text in texts.items():
                existing = vendor.translations.filter(language=language).first()
                if text is None:
                    if existing is not None:
                        vendor_translation_delete(translation=existing, **who)
                else:
                    vendor_translation_set(vendor=vendor, language=language, purpose=text["purpose"], **who)
        return self.with_etag(_vendor_data(vendor))

    @extend_schema(
        operation_id="vendor_delete", tags=["management"], parameters=[IF_MATCH], responses={204: None}
    )
    def delete(self, request: Request, site_key: str, vendor_key: str) -> Response:
        vendor = self._vendor(request, site_key, vendor_key, TokenScope.WRITE)
        self.precondition_check(request, _vendor_data(vendor))
        with transaction.atomic():
            vendor_delete(vendor=vendor, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _in_force_data(site: Site) -> dict[str, Any]:
    now = timezone.now()
    in_force = subprocessor_list_in_force(site=site, at=now)
    upcoming = []
    previous = in_force.entries if in_force else []
    for version in subprocessor_list_upcoming(site=site, at=now):
        upcoming.append(
            _version(version, diff=subprocessor_list_diff(old_entries=previous, new_entries=version.entries))
        )
        previous = version.entries
    return {
        "site": site.key,
        "notice_period_days": site.notice_period_days,
        "in_force": _version(in_force) if in_force else None,
        "upcoming": upcoming,
    }


class SubprocessorListInForceApi(ManagementApiView):
    """The list version in force now and the published ones still to take effect (with an ETag)."""

    @extend_schema(
        operation_id="subprocessor_list_in_force",
        tags=["management"],
        responses=SubprocessorListOutputSerializer,
    )
    def get(self, request: Request, site_key: str) -> Response:
        return self.with_etag(_in_force_data(self.site_for(request, site_key, TokenScope.READ)))


class SubprocessorVersionsApi(ManagementApiView):
    """GET: every published version, oldest first, a page at a time, each with what it changed.
    POST: publish the working list as the next version (scope `publish`), as the admin does."""

    class InputSerializer(serializers.Serializer):
        effective_at = serializers.DateTimeField(
            help_text="With its offset. Additions and replacements need the site's notice period; "
            "removals may take effect at once."
        )
        change_note = serializers.CharField(allow_blank=True, default="")

        class Meta:
            ref_name = "SubprocessorListPublish"

    @extend_schema(
        operation_id="subprocessor_version_history",
        tags=["management"],
        parameters=PAGE_PARAMETERS,
        responses=page_serializer("SubprocessorVersionPage", VersionHistoryItemOutputSerializer()),
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        now = timezone.now()
        in_force = subprocessor_list_in_force(site=site, at=now)

        def serialize(rows: Sequence[Any]) -> Any:
            items = []
            for version in rows:
                data = _version(version, diff=subprocessor_version_diff(version=version), entries=False)
                data["is_in_force"] = in_force is not None and version.pk == in_force.pk
                data["is_upcoming"] = version.effective_at > now
                items.append(data)
            return items

        return self.cursor_page(
            request, SubprocessorListVersion.objects.filter(site=site), serialize, time_field="published_at"
        )

    @extend_schema(
        operation_id="subprocessor_list_publish",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: SubprocessorVersionDetailOutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.PUBLISH)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)

        def publish() -> Response:
            try:
                version = subprocessor_list_publish(
                    site=site, **given.validated_data, **self.service_kwargs(request)
                )
            except DjangoValidationError as error:
                raise _as_admin_shows(error, set(self.InputSerializer().fields)) from error
            data = {"site": site.key, **_version(version, diff=subprocessor_version_diff(version=version))}
            return Response(data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, site, publish)


class SubprocessorVersionDetailApi(ManagementApiView):
    """One published list version by its number: its entries and what it changed."""

    @extend_schema(
        operation_id="subprocessor_list_version",
        tags=["management"],
        responses=SubprocessorVersionDetailOutputSerializer,
    )
    def get(self, request: Request, site_key: str, number: int) -> Response:
        site = self.site_for(request, site_key, TokenScope.READ)
        version = get_object_or_404(SubprocessorListVersion.objects.filter(site=site), number=number)
        data = {"site": site.key, **_version(version, diff=subprocessor_version_diff(version=version))}
        return self.with_etag(data)


def _as_admin_shows(error: DjangoValidationError, inputs: set[str]) -> DjangoValidationError:
    """A refusal as the admin's publish form shows it: on the field given, else the form's own
    message (e.g. a required language's missing texts), which the API answers as its `message`."""
    if not hasattr(error, "error_dict"):
        return error
    on_fields = {name: messages for name, messages in error.message_dict.items() if name in inputs}
    general = [
        message for name, messages in error.message_dict.items() if name not in inputs for message in messages
    ]
    if general and not on_fields:
        return DjangoValidationError(general)
    return DjangoValidationError({**on_fields, **({"non_field_errors": general} if general else {})})
