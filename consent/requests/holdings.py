"""What Consentry holds about a data-subject request's subject, and what was done with it (reads).

A request is about its account (`subject_hmac`, blank for a request filed by email only), the
visitor ids it names and the visitors linked to that account (SubjectLink). A visitor id named by
the request never pulls in an account: a shared browser may be linked to someone else's.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from consent.models import (
    ConsentRecord,
    DataSubjectRequest,
    RequestAction,
    RequestEvent,
    RequestType,
    SubjectLink,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

# Types answered with a package of the consent history (GDPR Arts. 15 and 20, CCPA §1798.110,
# 152-FZ Art. 14).
PACKAGE_TYPES = frozenset({RequestType.ACCESS, RequestType.PORTABILITY})
# Types whose answer erases what Consentry holds and asks the site's backend to erase its own
# (GDPR Art. 17, CCPA §1798.105, 152-FZ Art. 21; under RU a withdrawal is followed by destruction).
ERASURE_TYPES = frozenset({RequestType.DELETION, RequestType.DESTRUCTION})
# Types applied as decisions in the ledger: an opt-out of sale or sharing, a withdrawal of consent.
DECISION_TYPES = frozenset({RequestType.OPT_OUT_SALE_SHARE, RequestType.WITHDRAW_CONSENT})


def erasure_applies(request: DataSubjectRequest) -> bool:
    """Whether answering `request` includes erasing (and the backend's confirmation of it)."""
    return request.type in ERASURE_TYPES or (
        request.type == RequestType.WITHDRAW_CONSENT and request.jurisdiction == "RU"
    )


@dataclass(frozen=True)
class RequestSubjects:
    """Who a request is about: the account's keyed hash ("" for none) and every visitor id."""

    subject_hmac: str
    visitor_ids: tuple[str, ...]
    linked_visitor_ids: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not self.subject_hmac and not self.visitor_ids


def request_subjects(request: DataSubjectRequest) -> RequestSubjects:
    """The request's account and visitors: its own visitor ids first, then the account's links."""
    linked: list[str] = []
    if request.subject_hmac:
        linked = list(
            SubjectLink.objects.filter(site_id=request.site_id, subject_hmac=request.subject_hmac)
            .order_by("created_at", "id")
            .values_list("visitor_id", flat=True)
        )
    named = [visitor for visitor in request.visitor_ids if isinstance(visitor, str)]
    return RequestSubjects(
        subject_hmac=request.subject_hmac,
        visitor_ids=tuple(dict.fromkeys([*named, *linked])),
        linked_visitor_ids=tuple(linked),
    )


def request_records(
    request: DataSubjectRequest, subjects: RequestSubjects | None = None
) -> QuerySet[ConsentRecord]:
    """The request's site's ledger records of its account and visitors (none when it names neither)."""
    subjects = subjects or request_subjects(request)
    match = Q(pk__in=[])
    if subjects.subject_hmac:
        match |= Q(subject_hmac=subjects.subject_hmac)
    if subjects.visitor_ids:
        match |= Q(visitor_id__in=list(subjects.visitor_ids))
    return ConsentRecord.objects.filter(match, site_id=request.site_id)


def request_event_last(request: DataSubjectRequest, action: str) -> RequestEvent | None:
    return RequestEvent.objects.filter(request=request, action=action).order_by("-at", "-pk").first()


def erasure_dedupe_key(request: DataSubjectRequest) -> str:
    return f"request.erasure_requested:{request.public_id}"


def erasure_hooked(request: DataSubjectRequest) -> bool:
    """Whether the site's backend was sent the request's `request.erasure_requested` event (an
    endpoint took it when the DPO erased) and an active endpoint still takes it: then only the
    backend confirms, through the API. Once no endpoint does (deleted or switched off since), the
    DPO confirms by hand, or the request could never be answered."""
    if not WebhookEvent.objects.filter(
        site_id=request.site_id, dedupe_key=erasure_dedupe_key(request)
    ).exists():
        return False
    endpoints = WebhookEndpoint.objects.filter(site_id=request.site_id, is_active=True)
    return any(endpoint.wants(WebhookEventType.REQUEST_ERASURE_REQUESTED) for endpoint in endpoints)


def erasure_awaited(request: DataSubjectRequest) -> bool:
    """Whether the site's backend was asked to erase and has not confirmed yet."""
    erased = request_event_last(request, RequestAction.ERASED)
    if erased is None:
        return False
    return not RequestEvent.objects.filter(
        request=request, action=RequestAction.ERASURE_CONFIRMED, pk__gt=erased.pk
    ).exists()


def fulfil_refusal(request: DataSubjectRequest) -> str | None:
    """Why `request` cannot be fulfilled yet, if it cannot: an opt-out or withdrawal naming visitors
    or an account not recorded in the ledger; an erasure not run, or not confirmed."""
    if (
        request.type in DECISION_TYPES
        and not request_subjects(request).is_empty
        and request_event_last(request, RequestAction.DECISIONS_RECORDED) is None
    ):
        return gettext("Record the decisions in the ledger first: the answer confirms them.")
    if not erasure_applies(request):
        return None
    if request_event_last(request, RequestAction.ERASED) is None:
        return gettext("Erase what Consentry holds first: the answer confirms the erasure.")
    if erasure_awaited(request):
        return gettext(
            "The site's backend has not confirmed its erasure yet: wait for it (or, without a webhook "
            "endpoint, confirm by hand with a note)."
        )
    return None
