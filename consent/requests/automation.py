"""What Consentry does itself for a data-subject request, about what it holds (the ledger):

- **Erasure** (deletion, destruction; under RU a withdrawal, which destruction follows, 152-FZ
  Art. 21(5)): a DPO's action, never automatic, because it cannot be undone and a request filed
  by email is verified by its mailbox only (the DPO checks the identity first, 11 CCR §7062). It
  redacts the personal values of the account's and its visitors' records through the ledger's
  redaction (the salted commitments stay: every proof still verifies), removes the account's
  links, and asks the site's backend by a `request.erasure_requested` webhook to erase its own
  data. The request then waits for the backend's confirmation (the management API's
  erasure-confirmation), or, when no endpoint takes that event, the DPO's confirmation by hand
  with a note; until then it cannot be fulfilled.
- **Decisions** (opt-out of sale or sharing, withdrawal of consent): applied when the request is
  verified if it names visitors or an account (the law says at once: CCPA §1798.120, 11 CCR
  §7026(f); GDPR Art. 7(3)), else by the DPO's action once they are known: one ledger record per
  visitor and one for the account, `ui_layer` backend, `collection_method` data_subject_request,
  denying the purposes that sell or share (opt-out) or every optional purpose (withdrawal).
  Limiting the use of sensitive data is not applied: purposes carry no sensitivity flag, so it
  waits on the DPO.
- **Packages** for access and portability: consent/requests/package.py.

This module does not import consent.requests.services (which calls into it): it locks and writes
its events itself, in the services' manner.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from consent.audit.services import audit_record
from consent.editions import sha256_hex
from consent.ledger.retention import consent_receipts_redact, consent_visitor_redact
from consent.ledger.services import consent_record_create
from consent.ledger.validation import ConsentInput
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    CollectionMethod,
    ConsentAction,
    ConsentRecord,
    DataSubjectRequest,
    RequestAction,
    RequestEvent,
    RequestStatus,
    RequestType,
    SubjectLink,
    UiLayer,
    WebhookEventType,
)
from consent.requests.holdings import (
    DECISION_TYPES,
    PACKAGE_TYPES,
    RequestSubjects,
    erasure_applies,
    erasure_awaited,
    erasure_dedupe_key,
    erasure_hooked,
    request_event_last,
    request_subjects,
)
from consent.requests.package import request_packages
from consent.rules.geo import jurisdiction_stated
from consent.sites.selectors import site_snapshot
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from consent.webhooks.events import erasure_data
from consent.webhooks.services import webhook_event_emit

NOTE_MAX_LENGTH = 2000

# Statuses Consentry acts in: verified and not answered yet.
_ACTING = frozenset(
    {
        RequestStatus.VERIFIED,
        RequestStatus.ACKNOWLEDGED,
        RequestStatus.INFO_REQUESTED,
        RequestStatus.EXTENDED,
    }
)


def _lock(request: DataSubjectRequest, by: AbstractUser | None) -> DataSubjectRequest:
    site_actor_require(
        site=request.site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only a DPO or owner of the site acts on its requests."),
    )
    return DataSubjectRequest.objects.select_for_update().select_related("site").get(pk=request.pk)


def _acting_check(request: DataSubjectRequest) -> None:
    if request.status not in _ACTING:
        if request.status in (RequestStatus.RECEIVED, RequestStatus.AWAITING_VERIFICATION):
            message = gettext("The requester has not verified their email address yet.")
        else:
            message = gettext("This cannot be done on a request that is %(status)s.") % {
                "status": RequestStatus(request.status).label
            }
        raise ValidationError(message, code="status")


def _event(
    request: DataSubjectRequest, *, action: str, by: AbstractUser | None, now: datetime, note: str
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        at=now,
        action=action,
        actor=by if by is not None and by.is_authenticated else None,
        from_status=request.status,
        to_status=request.status,
        note=note,
    )


def _audit(
    request: DataSubjectRequest, action: str, by: AbstractUser | None, ip: str | None, data: dict[str, object]
) -> None:
    audit_record(
        site=request.site,
        actor=by if by is not None and by.is_authenticated else None,
        actor_ip=ip,
        action=f"data_subject_request.{action}",
        target=f"{request.type} request {request.public_id[:8]}",
        data={"public_id": request.public_id, "type": request.type, **data},
    )


# --- Erasure ---------------------------------------------------------------------------------------


@transaction.atomic
def request_erase(
    *,
    request: DataSubjectRequest,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> int:
    """Erase what Consentry holds about the request's account and visitors (the module's rules)
    and ask the site's backend to erase its own; returns how many records were redacted. Once per
    request; refused for a type that erases nothing or a request not verified or answered."""
    now = now or timezone.now()
    request = _lock(request, by)
    if not erasure_applies(request):
        raise ValidationError(gettext("This request type does not erase anything."), code="type")
    _acting_check(request)
    if request_event_last(request, RequestAction.ERASED) is not None:
        raise ValidationError(
            gettext("What Consentry holds was erased already for this request."), code="twice"
        )
    subjects = request_subjects(request)
    reason = f"data-subject request {request.public_id[:8]}"
    redacted = 0
    for visitor_id in subjects.visitor_ids:
        redacted += consent_visitor_redact(
            site=request.site, visitor_id=visitor_id, by=by, ip=ip, reason=reason
        )
    if subjects.subject_hmac:
        receipts = list(
            ConsentRecord.objects.filter(
                site=request.site, subject_hmac=subjects.subject_hmac, personal_salt__isnull=False
            ).values_list("receipt_id", flat=True)
        )
        if receipts:
            redacted += consent_receipts_redact(
                site=request.site, receipt_ids=receipts, by=by, ip=ip, reason=reason
            )
    unlinked = 0
    if subjects.subject_hmac:
        links = SubjectLink.objects.filter(site=request.site, subject_hmac=subjects.subject_hmac)
        unlinked = links.count()
        links.delete()
    emitted = webhook_event_emit(
        site=request.site,
        type=WebhookEventType.REQUEST_ERASURE_REQUESTED,
        data=erasure_data(request, visitor_ids=list(subjects.visitor_ids)),
        dedupe_key=erasure_dedupe_key(request),
    )
    note = ngettext(
        "%(count)d ledger record redacted",
        "%(count)d ledger records redacted",
        redacted,
    ) % {"count": redacted}
    note += " " + ngettext(
        "(%(visitors)d visitor; account links removed: %(links)d).",
        "(%(visitors)d visitors; account links removed: %(links)d).",
        len(subjects.visitor_ids),
    ) % {"visitors": len(subjects.visitor_ids), "links": unlinked}
    note += " " + (
        gettext("The site's backend was asked by webhook to erase its own data.")
        if emitted is not None
        else gettext(
            "No webhook endpoint takes request.erasure_requested: confirm the backend's erasure by hand."
        )
    )
    _event(request, action=RequestAction.ERASED, by=by, now=now, note=note)
    _audit(
        request,
        "erase",
        by,
        ip,
        {
            "records": redacted,
            "visitors": len(subjects.visitor_ids),
            "subject_sha256": sha256_hex(subjects.subject_hmac.encode()) if subjects.subject_hmac else None,
            "links": unlinked,
            "webhook_event": emitted.key if emitted is not None else None,
        },
    )
    return redacted


@transaction.atomic
def request_erasure_confirm(
    *,
    request: DataSubjectRequest,
    note: str,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
    by_hand: bool = False,
) -> RequestEvent:
    """Record that the site's backend erased its own data: through the management API (its
    token's audit row), or `by_hand` by a DPO with a note when no webhook endpoint takes the
    erasure event (with one, the backend confirms itself). Refused when nothing is awaited."""
    now = now or timezone.now()
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [gettext("Keep the note under 2,000 characters.")]})
    request = _lock(request, by)
    if not erasure_awaited(request):
        raise ValidationError(
            gettext("No erasure by the site's backend is awaited for this request."), code="not_awaited"
        )
    if by_hand:
        if erasure_hooked(request):
            raise ValidationError(
                gettext("The site's backend confirms its erasure itself, through the management API."),
                code="hooked",
            )
        if not note:
            raise ValidationError({"note": [gettext("Say how you know the site's backend erased its data.")]})
    event = _event(request, action=RequestAction.ERASURE_CONFIRMED, by=by, now=now, note=note)
    _audit(request, "erasure_confirm", by, ip, {"by_hand": by_hand, "event": event.pk})
    return event


# --- Decisions in the ledger ---------------------------------------------------------------------


def _decision(
    request: DataSubjectRequest, purposes: tuple[str, ...], sale_or_share: frozenset[str]
) -> tuple[str, list[str]]:
    optional = [key for key in purposes if key != NECESSARY_PURPOSE_KEY]
    if request.type == RequestType.OPT_OUT_SALE_SHARE:
        return ConsentAction.DO_NOT_SELL_OPT_OUT, sorted(key for key in optional if key in sale_or_share)
    return ConsentAction.WITHDRAW, sorted(optional)


def _decisions_record(
    request: DataSubjectRequest,
    subjects: RequestSubjects,
    *,
    by: AbstractUser | None,
    ip: str | None,
    now: datetime,
) -> list[str]:
    snapshot = site_snapshot(key=request.site.key)
    if snapshot is None:
        raise ValidationError(gettext("The site is not available."), code="site")
    action, denied = _decision(request, snapshot.purposes, snapshot.sale_or_share_purposes)
    resolution = jurisdiction_stated(
        code=request.jurisdiction,
        default_code=request.site.default_jurisdiction,
        overrides=request.site.jurisdiction_overrides,
    )
    targets: list[tuple[str | None, str | None]] = [(visitor, None) for visitor in subjects.visitor_ids]
    if subjects.subject_hmac:
        targets.append((None, subjects.subject_hmac))
    receipts = []
    for visitor_id, subject_hmac in targets:
        record = consent_record_create(
            snapshot=snapshot,
            data=ConsentInput(
                visitor_id=visitor_id,
                action=action,
                granted=(NECESSARY_PURPOSE_KEY,),
                denied=tuple(denied),
                versions={},
                language=request.language,
                ui_layer=UiLayer.BACKEND,
                gpc=False,
                dnt=False,
                page_url="",
                idempotency_key=None,
            ),
            resolution=resolution,
            ip="",
            user_agent="",
            now=now,
            subject_hmac=subject_hmac,
            collection_method=CollectionMethod.DATA_SUBJECT_REQUEST,
        )
        receipts.append(record.receipt_id)
    note = ngettext(
        "%(count)d decision recorded (%(action)s): %(receipts)s",
        "%(count)d decisions recorded (%(action)s): %(receipts)s",
        len(receipts),
    ) % {"count": len(receipts), "action": action, "receipts": ", ".join(receipts)}
    _event(request, action=RequestAction.DECISIONS_RECORDED, by=by, now=now, note=note)
    _audit(request, "decisions", by, ip, {"action": action, "denied": denied, "receipts": receipts})
    return receipts


@transaction.atomic
def request_decisions_apply(
    *,
    request: DataSubjectRequest,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Record the request's opt-out or withdrawal in the ledger for its visitors and account
    (the module's rules); returns the receipts. Once per request; refused for another type, a
    request not verified or answered, or one that names no visitor and no account."""
    now = now or timezone.now()
    request = _lock(request, by)
    if request.type not in DECISION_TYPES:
        raise ValidationError(
            gettext("Only opt-out and withdrawal requests are recorded as decisions."), code="type"
        )
    _acting_check(request)
    if request_event_last(request, RequestAction.DECISIONS_RECORDED) is not None:
        raise ValidationError(gettext("The decisions were recorded already for this request."), code="twice")
    subjects = request_subjects(request)
    if subjects.is_empty:
        raise ValidationError(
            gettext("The request names no visitor and no account: the site's backend must apply it."),
            code="nobody",
        )
    return _decisions_record(request, subjects, by=by, ip=ip, now=now)


def request_verified_apply(*, request: DataSubjectRequest, now: datetime) -> None:
    """On verification (the caller holds the request's lock, in its transaction): an opt-out or a
    withdrawal that names visitors or an account is applied at once, by the system."""
    if request.type not in DECISION_TYPES:
        return
    subjects = request_subjects(request)
    if not subjects.is_empty:
        _decisions_record(request, subjects, by=None, ip=None, now=now)


# --- What the DPO sees -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AutomationStep:
    """One line of the request page's Automation panel: done (with when and what), or waiting."""

    label: str
    is_done: bool
    detail: str
    at: datetime | None = None


def request_automation_steps(request: DataSubjectRequest) -> list[AutomationStep]:
    """What Consentry did for the request and what still waits on people, for its type."""
    steps: list[AutomationStep] = []
    subjects = request_subjects(request)
    verified = request.verified_at is not None
    if request.type in PACKAGE_TYPES:
        packages = request_packages(request)
        if packages:
            newest = packages[0]
            detail = ngettext(
                "%(count)d record, as JSON and as a readable page.",
                "%(count)d records, as JSON and as a readable page.",
                newest.records,
            ) % {"count": newest.records}
            if request_event_last(request, RequestAction.FULFILLED) is not None:
                detail += " " + gettext(
                    "Sent with the answer: the requester downloads it from their status page."
                )
            steps.append(AutomationStep(gettext("Package generated"), True, detail, newest.created_at))
        else:
            steps.append(
                AutomationStep(
                    gettext("Package generated"),
                    False,
                    gettext("Generate it below, or it is generated when you fulfil the request."),
                )
            )
    if erasure_applies(request):
        erased = request_event_last(request, RequestAction.ERASED)
        if erased is None:
            steps.append(
                AutomationStep(
                    gettext("Consentry's records erased"),
                    False,
                    gettext("Waits on the DPO: check the requester's identity, then erase below."),
                )
            )
        else:
            steps.append(AutomationStep(gettext("Consentry's records erased"), True, erased.note, erased.at))
            confirmed = request_event_last(request, RequestAction.ERASURE_CONFIRMED)
            if erasure_awaited(request):
                detail = (
                    gettext("Waiting for the site's backend to confirm through the management API.")
                    if erasure_hooked(request)
                    else gettext("No webhook endpoint takes the event: confirm by hand below, with a note.")
                )
                steps.append(AutomationStep(gettext("Backend erasure confirmed"), False, detail))
            elif confirmed is not None:
                steps.append(
                    AutomationStep(
                        gettext("Backend erasure confirmed"), True, confirmed.note or "—", confirmed.at
                    )
                )
    if request.type in DECISION_TYPES:
        recorded = request_event_last(request, RequestAction.DECISIONS_RECORDED)
        if recorded is not None:
            steps.append(AutomationStep(gettext("Decisions recorded"), True, recorded.note, recorded.at))
        elif subjects.is_empty:
            steps.append(
                AutomationStep(
                    gettext("Decisions recorded"),
                    False,
                    gettext("The request names no visitor and no account: the site's backend must apply it."),
                )
            )
        else:
            steps.append(
                AutomationStep(
                    gettext("Decisions recorded"),
                    False,
                    gettext("Applied when the request is verified.")
                    if not verified
                    else gettext("Record them below."),
                )
            )
    if request.type == RequestType.LIMIT_SENSITIVE:
        steps.append(
            AutomationStep(
                gettext("Sensitive data limited"),
                False,
                gettext(
                    "Consentry's purposes carry no sensitivity flag: waits on the DPO and the site's backend."
                ),
            )
        )
    if not steps:
        steps.append(
            AutomationStep(
                gettext("Nothing automated"),
                False,
                gettext("Consentry holds nothing this request type changes: it waits on the DPO."),
            )
        )
    return steps


def request_automation_actions(request: DataSubjectRequest) -> list[str]:
    """The automation actions the request allows now (the admin's buttons)."""
    if request.status not in _ACTING:
        return []
    actions = []
    if request.type in PACKAGE_TYPES:
        actions.append("generate_package")
    if erasure_applies(request):
        if request_event_last(request, RequestAction.ERASED) is None:
            actions.append("erase")
        elif erasure_awaited(request) and not erasure_hooked(request):
            actions.append("confirm_erasure")
    if (
        request.type in DECISION_TYPES
        and request_event_last(request, RequestAction.DECISIONS_RECORDED) is None
        and not request_subjects(request).is_empty
    ):
        actions.append("apply_decisions")
    return actions
