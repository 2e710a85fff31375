"""Data-subject requests through the management API (`/api/v1/`), for the site's own systems:

- `POST /api/v1/sites/<key>/requests` files a request for one of the site's logged-in accounts
  (requests:write; Idempotency-Key): the site has identified the requester, so the request is
  verified at once and its clock counts from filing;
- `GET .../requests` lists the site's requests (requests:read; cursor pages; `status`, `type`
  and `subject` filters), `GET .../requests/<public_id>` reads one: its status, clock and
  timeline (never the staff's internal notes).

The subject (the site's account id) is kept only as its HMAC and never repeated in an answer.
Another site's request is a 404 whatever the token.
"""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from consent.ledger.crypto import subject_hmac
from consent.ledger.validation import VISITOR_ID
from consent.models import DataSubjectRequest, RequestAction, RequestStatus, RequestType, TokenScope
from consent.requests.api import REQUESTER_LANGUAGES, RESIDENCE, request_answer
from consent.requests.selectors import (
    request_get_by_public_id,
    request_jurisdiction_resolve,
    request_list,
    request_timeline,
)
from consent.requests.services import MAX_VISITOR_IDS, request_clock, request_file_verified
from consent.subjects.validation import subject_refusal, subject_valid
from consent.tokens.access import request_token
from consent.tokens.management import (
    IDEMPOTENCY_KEY,
    PAGE_PARAMETERS,
    ManagementApiView,
    fields_refusal,
    page_serializer,
)
from edge.schema import ErrorSerializer

PUBLIC_ID = OpenApiParameter(
    "public_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The request's public id (`id`)."
)
LIST_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=RequestStatus.values, description="Only this status."),
    OpenApiParameter("type", OpenApiTypes.STR, enum=RequestType.values, description="Only this type."),
    OpenApiParameter(
        "subject",
        OpenApiTypes.STR,
        description="Only the requests filed for this account id (compared by its HMAC).",
    ),
]


def _errors(codes: dict[int, str]) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description=text) for code, text in codes.items()}


_READ_ERRORS = {
    400: "Bad query parameters (`fields` names each).",
    403: "The token lacks the `requests:read` scope (`scope_missing`).",
    404: "No such site for this token, or no such request on it.",
}


class ClockSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    days_left = serializers.IntegerField(help_text="Negative once overdue.")
    day_type = serializers.ChoiceField(
        choices=["calendar_days", "business_days", "ru_working_days"],
        help_text="The kind of day `days_left` counts (calendar days once overdue).",
    )
    left = serializers.CharField(help_text="The days left, in words, in the requester's language.")
    explanation = serializers.CharField()
    is_overdue = serializers.BooleanField()
    is_due_soon = serializers.BooleanField()


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.ChoiceField(choices=RequestAction.choices)
    from_status = serializers.CharField(help_text="'' for the filing.")
    to_status = serializers.CharField()
    note = serializers.CharField(help_text="What was written with the step (the staff's notes never appear).")


class RequestSummarySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The request's public id.")
    type = serializers.ChoiceField(choices=RequestType.choices)
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    status_url = serializers.CharField(help_text="The requester's status page (the link is the key).")
    jurisdiction = serializers.CharField()
    rules_version = serializers.CharField()
    acknowledge_by = serializers.DateField(allow_null=True)
    acknowledge_explanation = serializers.CharField()
    due_at = serializers.DateField(allow_null=True)
    due_explanation = serializers.CharField()
    email = serializers.EmailField()
    language = serializers.CharField()
    filed_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    has_subject = serializers.BooleanField(help_text="Filed for one of the site's accounts (this API).")
    by_agent = serializers.BooleanField(help_text="Filed by an authorised agent.")

    class Meta:
        ref_name = "ManagementRequestSummary"


class RequestDetailSerializer(RequestSummarySerializer):
    clock = ClockSerializer(allow_null=True, help_text="Time left to answer; null without a due date.")
    timeline = TimelineEventSerializer(many=True, help_text="Oldest first.")

    class Meta:
        ref_name = "ManagementRequestDetail"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(request: DataSubjectRequest) -> dict[str, Any]:
    return {
        **request_answer(request),
        "email": request.email,
        "language": request.language,
        "filed_at": _iso(request.filed_at),
        "verified_at": _iso(request.verified_at),
        "closed_at": _iso(request.closed_at),
        "has_subject": bool(request.subject_hmac),
        "by_agent": bool(request.agent_name),
    }


def _summaries(requests: Sequence[DataSubjectRequest]) -> list[dict[str, Any]]:
    return [_summary(request) for request in requests]


def _detail(request: DataSubjectRequest) -> dict[str, Any]:
    with translation.override(request.language):
        clock = request_clock(request)
        clock_data = (
            {
                "due_on": clock.due_on.isoformat(),
                "days_left": clock.days_left,
                "day_type": str(clock.day_type),
                "left": clock.left,
                "explanation": clock.explanation,
                "is_overdue": clock.is_overdue,
                "is_due_soon": clock.is_due_soon,
            }
            if clock is not None
            else None
        )
    return {
        **_summary(request),
        "clock": clock_data,
        "timeline": [
            {
                "at": event.at.isoformat(),
                "action": event.action,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "note": event.note,
            }
            for event in request_timeline(request=request)
        ],
    }


class RequestListApi(ManagementApiView):
    """The site's data-subject requests (GET), and filing one for a logged-in account (POST)."""

    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=RequestType.choices)
        subject = serializers.CharField(
            max_length=200,
            trim_whitespace=False,
            help_text="The site's account id of the requester (1 to 200 printable characters): "
            "stored only as an HMAC under the site's secret, never echoed.",
        )
        email = serializers.EmailField(max_length=254, help_text="Where the requester is written to.")
        language = serializers.ChoiceField(
            choices=REQUESTER_LANGUAGES,
            required=False,
            help_text="The language of the emails and the status page; default: the site's default.",
        )
        residence = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=6,
            help_text='Where the requester lives: ISO 3166-1 country, optionally "-" and the ISO 3166-2 '
            'region ("DE", "US-CA"). Decides the law; without it, the site\'s default jurisdiction.',
        )
        visitor_ids = serializers.ListField(
            child=serializers.RegexField(VISITOR_ID.pattern),
            required=False,
            max_length=MAX_VISITOR_IDS,
            help_text="The banner's visitor ids of the account's browsers, to find their consents.",
        )

        class Meta:
            ref_name = "ManagementRequestInput"

        def validate_subject(self, value: str) -> str:
            if not subject_valid(value):
                raise serializers.ValidationError(subject_refusal())
            return value

        def validate_residence(self, value: str) -> str:
            if value and not RESIDENCE.match(value):
                raise serializers.ValidationError(
                    _('Give a country code, optionally with its region: "DE", "US-CA".')
                )
            return value.upper()

    @extend_schema(
        operation_id="management_request_list",
        tags=["management"],
        parameters=[*LIST_FILTERS, *PAGE_PARAMETERS],
        responses={
            200: page_serializer("ManagementRequestPage", RequestSummarySerializer()),
            **_errors(_READ_ERRORS),
        },
    )
    def get(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.REQUESTS_READ)
        params = request.query_params
        errors: dict[str, list[str]] = {}
        if params.get("status") and params["status"] not in RequestStatus.values:
            errors["status"] = [_("Give one of: %(values)s.") % {"values": ", ".join(RequestStatus.values)}]
        if params.get("type") and params["type"] not in RequestType.values:
            errors["type"] = [_("Give one of: %(values)s.") % {"values": ", ".join(RequestType.values)}]
        subject = params.get("subject")
        if subject is not None and not subject_valid(subject):
            errors["subject"] = [subject_refusal()]
        if errors:
            raise ValidationError(errors)
        requests = request_list(
            site=site,
            status=params.get("status") or None,
            type=params.get("type") or None,
            subject_hmac=subject_hmac(secret=site.subject_secret, subject=subject) if subject else None,
        )
        return self.cursor_page(request, requests, _summaries, time_field="filed_at")

    @extend_schema(
        operation_id="management_request_create",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={
            201: RequestSummarySerializer,
            **_errors(
                {
                    400: "Bad input (`fields` names each); nothing written.",
                    403: "The token lacks the `requests:write` scope (`scope_missing`).",
                    404: "No such site for this token.",
                    409: "A request with this Idempotency-Key is being answered.",
                    422: "This Idempotency-Key was used for another request.",
                }
            ),
        },
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.REQUESTS_WRITE)
        fields_refusal(request.data, {"type", "subject", "email", "language", "residence", "visitor_ids"})
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        language = data.get("language") or site.default_language
        residence = RESIDENCE.match(data.get("residence") or "")
        country = residence["country"] if residence else ""
        region = (residence["region"] or "") if residence else ""
        jurisdiction = request_jurisdiction_resolve(
            site=site, country=country, region=region, http_request=None, on=timezone.now().date()
        )
        token = request_token(request)
        token_name = (
            f"{token.name} ({token.visible_prefix})" if token is not None else request.user.get_username()
        )

        def file() -> Response:
            try:
                with translation.override(language):
                    filed = request_file_verified(
                        site=site,
                        type=data["type"],
                        subject=data["subject"],
                        email=data["email"],
                        language=language,
                        jurisdiction=jurisdiction,
                        token_name=token_name,
                        residence_country=country,
                        residence_region=region,
                        visitor_ids=data.get("visitor_ids") or [],
                    )
            except DjangoValidationError as error:
                raise ValidationError(error.message_dict) from error
            return self.with_etag(_summary(filed), status.HTTP_201_CREATED)

        return self.idempotent(request, site, file)


class RequestDetailApi(ManagementApiView):
    """One of the site's requests: its status, clock and timeline (without internal notes)."""

    @extend_schema(
        operation_id="management_request_detail",
        tags=["management"],
        parameters=[PUBLIC_ID],
        responses={200: RequestDetailSerializer, **_errors(_READ_ERRORS)},
    )
    def get(self, request: Request, site_key: str, public_id: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.REQUESTS_READ)
        found = request_get_by_public_id(site=site, public_id=public_id)
        if found is None:
            raise Http404
        return self.with_etag(_detail(found))
