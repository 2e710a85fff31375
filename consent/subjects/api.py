"""The management API's consents from the site's own systems, its accounts and their links:

- `POST /api/v1/sites/<key>/consents` records a decision the site collected (consents:write);
- `POST .../subjects/<subject>/link` links a banner visitor to an account, `GET`/`DELETE
  .../subjects/<subject>/links/<visitor_id>` read and remove one link (consents:write);
- `GET .../subjects/<subject>/consents` and `GET .../visitors/<visitor_id>/consents`: the state
  per purpose (consent.subjects.selectors for the rule), the opt-out signals and the history
  (consents:read).

The subject is the site's account id; it is stored only as an HMAC, never logged by us and
never repeated in an answer or an error. It travels in the path of the reads and links, so
give an opaque id (not an email address) if your access logs are kept.
"""

from collections.abc import Sequence
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from consent.ledger.promise import promise_note, record_promise
from consent.ledger.validation import VISITOR_ID, InputError
from consent.models import CollectionMethod, ConsentRecord, Site, SubjectLink, TokenScope
from consent.sites.selectors import SiteSnapshot, site_snapshot
from consent.subjects.selectors import (
    ConsentState,
    subject_consent_state,
    subject_link_get,
    subject_links,
    subject_records,
    subject_ref,
    visitor_consent_state,
    visitor_is_linked,
    visitor_records,
)
from consent.subjects.services import (
    LinkLimitReached,
    subject_consent_record,
    subject_link_create,
    subject_link_remove,
)
from consent.subjects.validation import (
    BACKEND_ACTIONS,
    BACKEND_METHODS,
    subject_consent_parse,
    subject_refusal,
    subject_valid,
)
from consent.tokens.access import request_token
from consent.tokens.management import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    PAGE_PARAMETERS,
    ManagementApiView,
    fields_refusal,
    page_serializer,
)

SUBJECT = OpenApiParameter(
    "subject",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The site's account id (1 to 200 printable characters, percent-encoded; '/' allowed): "
    "the ledger keeps only its HMAC under the site's secret.",
)
VISITOR = OpenApiParameter(
    "visitor_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The banner's random visitor id."
)


class LinkLimit(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "link_limit_reached"


# --- what the answers look like -----------------------------------------------------------------


class PurposeStateSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    decided_by = serializers.CharField(help_text="The receipt id of the record that decided it.")
    at = serializers.DateTimeField(help_text="When that record was made.")
    by_optout_signal = serializers.BooleanField(
        help_text="Denied by an opt-out signal (listed in `optout_signals`), not by a choice naming it."
    )


class OptOutSignalSerializer(serializers.Serializer):
    receipt_id = serializers.CharField()
    at = serializers.DateTimeField()
    signal = serializers.ChoiceField(
        choices=["gpc", "gpc_opt_out", "do_not_sell_opt_out"],
        help_text="`gpc`: a decision sent with Global Privacy Control where its rules honour it as an "
        "opt-out; else the opt-out decision itself.",
    )
    jurisdiction = serializers.CharField()
    visitor_id = serializers.CharField(allow_null=True)
    source = serializers.ChoiceField(choices=["banner", "backend"])


class HistoryRecordSerializer(serializers.Serializer):
    receipt_id = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    source = serializers.ChoiceField(
        choices=["banner", "backend"], help_text="`backend`: recorded by the site's systems."
    )
    action = serializers.CharField()
    ui_layer = serializers.CharField()
    collection_method = serializers.ChoiceField(choices=CollectionMethod.choices, allow_null=True)
    granted = serializers.ListField(child=serializers.CharField())
    denied = serializers.ListField(child=serializers.CharField())
    jurisdiction = serializers.CharField()
    language = serializers.CharField()
    versions = serializers.DictField(help_text="The editions shown: kind -> number and content hash.")
    gpc = serializers.BooleanField()
    visitor_id = serializers.CharField(allow_null=True, help_text="The browser's id (null once redacted).")
    redacted = serializers.BooleanField()
    receipt_url = serializers.CharField()
    receipt_page_url = serializers.CharField()


def _state_data(state: ConsentState) -> dict[str, Any]:
    return {
        "state": {
            key: {
                "granted": purpose.granted,
                "decided_by": purpose.decided_by,
                "at": purpose.at.isoformat(),
                "by_optout_signal": purpose.by_optout_signal,
            }
            for key, purpose in state.purposes.items()
        },
        "optout_signals": [
            {
                "receipt_id": signal.receipt_id,
                "at": signal.at.isoformat(),
                "signal": signal.kind,
                "jurisdiction": signal.jurisdiction,
                "visitor_id": signal.visitor_id,
                "source": signal.source,
            }
            for signal in state.optout_signals
        ],
    }


def _history(records: Sequence[ConsentRecord]) -> list[dict[str, Any]]:
    return [
        {
            "receipt_id": record.receipt_id,
            "recorded_at": record.created_at.isoformat(),
            "source": record.source,
            "action": record.action,
            "ui_layer": record.ui_layer,
            "collection_method": record.collection_method,
            "granted": record.purposes_granted,
            "denied": record.purposes_denied,
            "jurisdiction": record.jurisdiction,
            "language": record.language,
            "versions": record.versions,
            "gpc": record.gpc,
            "visitor_id": record.visitor_id,
            "redacted": record.is_redacted,
            "receipt_url": f"/api/public/v1/receipts/{record.receipt_id}",
            "receipt_page_url": f"/r/{record.receipt_id}/",
        }
        for record in records
    ]


def _link_data(link: SubjectLink) -> dict[str, Any]:
    return {"visitor_id": link.visitor_id, "linked_at": link.created_at.isoformat()}


class LinkSerializer(serializers.Serializer):
    visitor_id = serializers.CharField()
    linked_at = serializers.DateTimeField()


STATE_FIELDS = {
    "state": serializers.DictField(
        child=PurposeStateSerializer(), help_text="Purpose key -> its current state and the record behind it."
    ),
    "optout_signals": OptOutSignalSerializer(many=True, help_text="Newest first."),
}


class _SubjectView(ManagementApiView):
    """What every subject resource does first: the site under the scope, the subject checked."""

    def subject_for(self, request: Request, site_key: str, subject: str, scope: str) -> tuple[Site, str]:
        site = self.site_for(request, site_key, scope)
        if not subject_valid(subject):
            raise ValidationError({"subject": [subject_refusal()]})
        return site, subject_ref(site=site, subject=subject)

    def token_prefix(self, request: Request) -> str:
        token = request_token(request)
        return token.visible_prefix if token is not None else ""


def _snapshot(site: Site) -> SiteSnapshot:
    snapshot = site_snapshot(key=site.key)
    if snapshot is None:  # the site went between two reads
        raise Http404
    return snapshot


class SubjectConsentCreateApi(_SubjectView):
    """Record a decision the site collected itself (a sign-up form's consent to the personal data
    document, a settings page, a call centre) for one of its accounts, into the same ledger as
    the banner's: same receipts, proofs, exports and verification."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SubjectConsentCreate"

        subject = serializers.CharField(
            max_length=200,
            help_text="The site's account id (1 to 200 printable characters): stored only as an HMAC "
            "under a per-site secret, never echoed.",
        )
        collection_method = serializers.ChoiceField(
            choices=[choice for choice in CollectionMethod.choices if choice[0] in BACKEND_METHODS]
        )
        language = serializers.CharField(help_text="The language the person was shown (a site language).")
        purposes_granted = serializers.ListField(
            child=serializers.CharField(), required=False, help_text="The purposes the person agreed to."
        )
        purposes_denied = serializers.ListField(
            child=serializers.CharField(),
            required=False,
            help_text="The purposes the person refused. Purposes named in neither list are not decided "
            "by this record: the account keeps its earlier decision for them.",
        )
        action = serializers.ChoiceField(
            choices=BACKEND_ACTIONS,
            required=False,
            help_text="Optional: derived from the lists (accept_all, reject_all or custom). accept_all, "
            "reject_all and withdraw decide every optional purpose, do_not_sell_opt_out every purpose "
            "that sells or shares.",
        )
        versions = serializers.DictField(
            required=False,
            help_text='The editions shown, as the banner pins them: {"policies": {"pd-consent": 3}, '
            '"banner": 2}. Each must be published; the server adds its content hash.',
        )
        jurisdiction = serializers.CharField(
            required=False, help_text="The rules that apply (a rules table code); default: the site's."
        )
        page_url = serializers.CharField(required=False, help_text="On one of the site's origins.")
        visitor_id = serializers.CharField(
            required=False,
            help_text="The banner's visitor id of the browser it was collected in: also links it.",
        )

    class OutputSerializer(serializers.Serializer):
        receipt_id = serializers.CharField()
        recorded_at = serializers.DateTimeField(help_text="The server's time: no backdating.")
        leaf_sha256 = serializers.CharField()
        receipt_url = serializers.CharField()
        receipt_page_url = serializers.CharField()
        promise = inline_serializer(
            "SubjectConsentPromise",
            {
                "note": serializers.CharField(),
                "leaf_hash": serializers.CharField(),
                "promised_at": serializers.IntegerField(),
                "merge_delay_seconds": serializers.IntegerField(),
            },
        )
        state = inline_serializer(
            "SubjectConsentRecorded",
            {
                "action": serializers.CharField(),
                "granted": serializers.ListField(child=serializers.CharField()),
                "denied": serializers.ListField(child=serializers.CharField()),
                "jurisdiction": serializers.CharField(),
                "collection_method": serializers.CharField(),
                "linked_visitor": serializers.CharField(allow_null=True),
            },
        )

        class Meta:
            ref_name = "SubjectConsentReceipt"

    @extend_schema(
        operation_id="subject_consent_create",
        tags=["management"],
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: OutputSerializer},
    )
    def post(self, request: Request, site_key: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.CONSENTS_WRITE)
        snapshot = _snapshot(site)
        try:
            data = subject_consent_parse(request.data, snapshot)
        except InputError as error:
            raise ValidationError(error.fields or {"non_field_errors": [error.message]}) from None

        def record() -> Response:
            try:
                made = subject_consent_record(
                    snapshot=snapshot,
                    data=data,
                    token=self.token_prefix(request),
                    **self.service_kwargs(request),
                )
            except LinkLimitReached as limit:
                raise LinkLimit(str(limit)) from None
            promise = record_promise(made, site.key)
            return Response(
                {
                    "receipt_id": made.receipt_id,
                    "recorded_at": made.created_at.isoformat(),
                    "leaf_sha256": made.leaf_sha256,
                    "receipt_url": f"/api/public/v1/receipts/{made.receipt_id}",
                    "receipt_page_url": f"/r/{made.receipt_id}/",
                    "promise": {
                        "note": promise_note(promise).decode(),
                        "leaf_hash": made.leaf_sha256,
                        "promised_at": promise.promised_at,
                        "merge_delay_seconds": promise.merge_delay_seconds,
                    },
                    "state": {
                        "action": made.action,
                        "granted": made.purposes_granted,
                        "denied": made.purposes_denied,
                        "jurisdiction": made.jurisdiction,
                        "collection_method": made.collection_method,
                        "linked_visitor": made.visitor_id,
                    },
                },
                status=status.HTTP_201_CREATED,
            )

        return self.idempotent(request, site, record)


class SubjectLinkCreateApi(_SubjectView):
    """Link a banner visitor (a browser) to an account: from then on a withdrawal or an opt-out
    signal on that browser reaches the account's state. Linking twice is one link (200)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SubjectLinkCreate"

        visitor_id = serializers.RegexField(VISITOR_ID.pattern, help_text="The banner's visitor id.")

    @extend_schema(
        operation_id="subject_link_create",
        tags=["management"],
        parameters=[SUBJECT, IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: LinkSerializer, 200: LinkSerializer},
    )
    def post(self, request: Request, site_key: str, subject: str) -> Response:
        site, _reference = self.subject_for(request, site_key, subject, TokenScope.CONSENTS_WRITE)
        fields_refusal(request.data, {"visitor_id"})
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)

        def link() -> Response:
            try:
                made, created = subject_link_create(
                    site=site,
                    subject=subject,
                    visitor_id=given.validated_data["visitor_id"],
                    token=self.token_prefix(request),
                    **self.service_kwargs(request),
                )
            except LinkLimitReached as limit:
                raise LinkLimit(str(limit)) from None
            return self.with_etag(
                _link_data(made), status.HTTP_201_CREATED if created else status.HTTP_200_OK
            )

        return self.idempotent(request, site, link)


class SubjectLinkDetailApi(_SubjectView):
    """One link: GET it (ETag); DELETE it with If-Match (the visitor's decisions stop counting)."""

    def _link(
        self, request: Request, site_key: str, subject: str, visitor_id: str, scope: str
    ) -> SubjectLink:
        site = self.site_for(request, site_key, scope)
        if not subject_valid(subject):
            raise Http404  # no link names such an account
        reference = subject_ref(site=site, subject=subject)
        link = subject_link_get(site=site, subject_hmac=reference, visitor_id=visitor_id)
        if link is None:
            raise Http404
        return link

    @extend_schema(
        operation_id="subject_link",
        tags=["management"],
        parameters=[SUBJECT, VISITOR],
        responses=LinkSerializer,
    )
    def get(self, request: Request, site_key: str, subject: str, visitor_id: str) -> Response:
        link = self._link(request, site_key, subject, visitor_id, TokenScope.CONSENTS_READ)
        return self.with_etag(_link_data(link))

    @extend_schema(
        operation_id="subject_link_remove",
        tags=["management"],
        parameters=[SUBJECT, VISITOR, IF_MATCH],
        responses={204: None},
    )
    def delete(self, request: Request, site_key: str, subject: str, visitor_id: str) -> Response:
        link = self._link(request, site_key, subject, visitor_id, TokenScope.CONSENTS_WRITE)
        self.precondition_check(request, _link_data(link))
        subject_link_remove(link=link, **self.service_kwargs(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubjectConsentsApi(_SubjectView):
    """An account's consent: the state per purpose (its own records and its linked browsers',
    opt-out signals holding sale and sharing denied), its links and a page of its history."""

    class OutputSerializer(serializers.Serializer):
        state = STATE_FIELDS["state"]
        optout_signals = STATE_FIELDS["optout_signals"]
        linked_visitors = LinkSerializer(many=True)
        history = page_serializer("SubjectConsentHistory", HistoryRecordSerializer())

        class Meta:
            ref_name = "SubjectConsents"

    @extend_schema(
        operation_id="subject_consents",
        tags=["management"],
        parameters=[SUBJECT, *PAGE_PARAMETERS],
        responses=OutputSerializer,
    )
    def get(self, request: Request, site_key: str, subject: str) -> Response:
        site, reference = self.subject_for(request, site_key, subject, TokenScope.CONSENTS_READ)
        links = subject_links(site=site, subject_hmac=reference)
        visitors = [link.visitor_id for link in links]
        records = subject_records(site=site, subject_hmac=reference, visitor_ids=visitors)
        history = self.cursor_page(request, records, _history).data
        if not links and not history["results"] and not records.exists():
            raise Http404  # an account the site never recorded anything for
        state = subject_consent_state(
            site=site,
            subject_hmac=reference,
            visitor_ids=visitors,
            sale_or_share=_snapshot(site).sale_or_share_purposes,
        )
        return Response(
            {
                **_state_data(state),
                "linked_visitors": [_link_data(link) for link in links],
                "history": history,
            }
        )


class VisitorConsentsApi(ManagementApiView):
    """A browser's consent as the banner recorded it: the state per purpose (its newest decision
    for each), its opt-out signals, whether it is linked to an account, and a page of its history."""

    class OutputSerializer(serializers.Serializer):
        state = STATE_FIELDS["state"]
        optout_signals = STATE_FIELDS["optout_signals"]
        linked = serializers.BooleanField(help_text="Whether the browser is linked to an account.")
        history = page_serializer("VisitorConsentHistory", HistoryRecordSerializer())

        class Meta:
            ref_name = "VisitorConsents"

    @extend_schema(
        operation_id="visitor_consents",
        tags=["management"],
        parameters=[VISITOR, *PAGE_PARAMETERS],
        responses=OutputSerializer,
    )
    def get(self, request: Request, site_key: str, visitor_id: str) -> Response:
        site = self.site_for(request, site_key, TokenScope.CONSENTS_READ)
        if not VISITOR_ID.match(visitor_id):
            raise ValidationError(
                {"visitor_id": [_("Give the visitor id: 16 to 64 letters, digits, '-' or '_'.")]}
            )
        records = visitor_records(site=site, visitor_id=visitor_id)
        history = self.cursor_page(request, records, _history).data
        linked = visitor_is_linked(site=site, visitor_id=visitor_id)
        if not linked and not history["results"] and not records.exists():
            raise Http404
        state = visitor_consent_state(site=site, visitor_id=visitor_id)
        return Response({**_state_data(state), "linked": linked, "history": history})
