"""Filing a data-subject request over the public API (a site's own form, an app)."""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.languages import VISITOR_LANGUAGES
from consent.models import DataSubjectRequest, RequestStatus, RequestType
from consent.requests.emails import status_url
from consent.requests.selectors import request_jurisdiction_resolve
from consent.requests.services import request_file
from consent.sites.selectors import site_get_by_key
from edge.api import PublicApiView
from edge.http import language_choose, no_store
from edge.schema import ErrorSerializer

# ISO 3166-1 alpha-2, optionally with the ISO 3166-2 subdivision: "DE", "US-CA".
# The languages a requester can be written to in: every visitor language (our own words are in all).
REQUESTER_LANGUAGES = sorted(VISITOR_LANGUAGES)

RESIDENCE = re.compile(r"^(?P<country>[A-Za-z]{2})(?:-(?P<region>[A-Za-z0-9]{1,3}))?$")


def request_answer(request: DataSubjectRequest) -> dict[str, Any]:
    """What the requester's client is told about a filed request: where to follow it and its clock."""
    return {
        "id": request.public_id,
        "type": request.type,
        "status": request.status,
        "status_url": status_url(request),
        "jurisdiction": request.jurisdiction,
        "rules_version": request.rules_version,
        "acknowledge_by": request.acknowledge_by.isoformat() if request.acknowledge_by else None,
        "acknowledge_explanation": request.acknowledge_explanation,
        "due_at": request.due_at.isoformat() if request.due_at else None,
        "due_explanation": request.due_explanation,
    }


class RequestCreateApi(PublicApiView):
    """File a data-subject request for the site. The requester is emailed a verification link (in
    `language`); the answer carries the status page's link and the request's legal clock. The law is
    the declared `residence`'s, else the caller's location as the banner resolves it. Bad input is a
    400 naming each field, with nothing written."""

    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=RequestType.choices)
        email = serializers.EmailField(max_length=254)
        residence = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=6,
            help_text='Where the requester lives: ISO 3166-1 country, optionally "-" and the ISO 3166-2 '
            'region ("DE", "US-CA"). Decides the law; without it, the caller\'s location does.',
        )
        language = serializers.ChoiceField(
            choices=REQUESTER_LANGUAGES,
            required=False,
            help_text="The language of the emails and the status page; default: Accept-Language among "
            "the site's languages, else its default language.",
        )
        visitor_id = serializers.CharField(
            required=False,
            max_length=64,
            help_text="The banner's visitor id (its cookie), to find their consents.",
        )

        class Meta:
            ref_name = "DataSubjectRequestInput"

        def validate_residence(self, value: str) -> str:
            if value and not RESIDENCE.match(value):
                raise serializers.ValidationError(
                    _('Give a country code, optionally with its region: "DE", "US-CA".')
                )
            return value.upper()

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(help_text="The request's public id (in its status link).")
        type = serializers.ChoiceField(choices=RequestType.choices)
        status = serializers.ChoiceField(choices=RequestStatus.choices)
        status_url = serializers.CharField(
            help_text="The requester's status page (no account; the link is the key)."
        )
        jurisdiction = serializers.CharField(help_text="The rules-table row the request is filed under.")
        rules_version = serializers.CharField()
        acknowledge_by = serializers.DateField(
            allow_null=True, help_text="The last day to confirm receipt, where the law has one (California)."
        )
        acknowledge_explanation = serializers.CharField(
            help_text="How that date was counted ('' without one)."
        )
        due_at = serializers.DateField(allow_null=True, help_text="The last day the answer is on time.")
        due_explanation = serializers.CharField(help_text="How the due date was counted, in `language`.")

        class Meta:
            ref_name = "DataSubjectRequestFiled"

    @extend_schema(
        operation_id="data_subject_request_create",
        tags=["requests"],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Bad input (`fields` names each); nothing written."
            ),
            404: OpenApiResponse(ErrorSerializer, description="No site with this key."),
        },
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = site_get_by_key(key=site_key)
        if site is None:
            raise Http404
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        language = data.get("language") or language_choose(
            request, site.enabled_languages, site.default_language
        )
        residence = RESIDENCE.match(data.get("residence") or "")
        country = residence["country"] if residence else ""
        region = (residence["region"] or "") if residence else ""
        jurisdiction = request_jurisdiction_resolve(
            site=site, country=country, region=region, http_request=request, on=timezone.now().date()
        )
        try:
            with translation.override(language):
                filed = request_file(
                    site=site,
                    type=data["type"],
                    email=data["email"],
                    language=language,
                    jurisdiction=jurisdiction,
                    residence_country=country,
                    residence_region=region,
                    visitor_ids=[data["visitor_id"]] if data.get("visitor_id") else [],
                )
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return no_store(Response(self.OutputSerializer(request_answer(filed)).data, status=201))
