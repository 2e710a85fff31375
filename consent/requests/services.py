"""Every change to a data-subject request: filing, verification, the DPO's actions (acknowledge,
ask for more information, extend, fulfil, refuse, close, assign, notes), and the periodic watch of
due dates (webhooks and reminders); retention is in retention.py.

Each writes its `RequestEvent` and its audit row in the same transaction. Audit rows name a request
by its public id and type, never by the requester's email: the audit log outlives the request.
"""

import dataclasses
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from consent.audit.services import audit_record
from consent.editions import canonical_json, sha256_hex
from consent.jobs import job_enqueue_on_commit
from consent.languages import VISITOR_LANGUAGES
from consent.ledger.crypto import subject_hmac
from consent.ledger.validation import VISITOR_ID
from consent.models import (
    AGENT_DOCUMENT_TYPES,
    FINAL_STATUS_LIST,
    FINAL_STATUSES,
    DataSubjectRequest,
    RequestAction,
    RequestEvent,
    RequestReminder,
    RequestStatus,
    RequestType,
    Role,
    Site,
    SiteMembership,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from consent.requests.automation import request_verified_apply
from consent.requests.calendars import WorkingCalendar
from consent.requests.clocks import (
    Deadline,
    calendar_for,
    clock_start,
    days_left_text,
    days_until,
    deadline_extend,
    deadline_for,
)
from consent.requests.emails import (
    agent_copy_email,
    filed_email,
    reminder_email,
    reply_received_email,
    step_email,
    verified_email,
)
from consent.requests.holdings import fulfil_refusal
from consent.requests.package import request_package_ensure
from consent.requests.selectors import RequestJurisdiction
from consent.requests.types import OPT_OUT_TYPES, WITHDRAWAL_TYPES, request_types_for
from consent.rules.jurisdictions import DayType, Period, RuleSet, ruleset_as_dict, ruleset_get
from consent.rules.overrides import ruleset_with_overrides
from consent.subjects.validation import subject_refusal, subject_valid
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require
from consent.webhooks.events import request_data
from consent.webhooks.services import webhook_event_emit

logger = logging.getLogger(__name__)

# The establishment country when the site has not set one: its default jurisdiction's, where that
# names a single country (the EU row covers thirty: weekends only until the site says which).
_JURISDICTION_COUNTRY = {"EU-FR": "FR", "US-CA": "US", "US-UOOM": "US", "US": "US", "RU": "RU", "KZ": "KZ"}

MAX_VISITOR_IDS = 20

# A signed permission is a page or two. Under the reference deployment's body limit
# (deploy/nginx-consentry.conf, client_max_body_size 1m) with room for the form's other fields.
AGENT_DOCUMENT_MAX_BYTES = 1000 * 1000


@dataclass(frozen=True)
class AgentFiling:
    """An authorised agent filing for the consumer: who they are and the consumer's signed permission."""

    name: str
    email: str
    document: UploadedFile


def _agent_errors(agent: AgentFiling) -> tuple[dict[str, list[str]], str]:
    """The agent's problems by field, and the document's SHA-256 when it is acceptable."""
    errors: dict[str, list[str]] = {}
    if not agent.name.strip() or len(agent.name) > 200:
        errors["agent_name"] = [gettext("Give the agent's name.")]
    try:
        validate_email(agent.email.strip())
    except ValidationError:
        errors["agent_email"] = [gettext("Enter a valid email address.")]
    document, digest = agent.document, ""
    if document.size is None or document.size > AGENT_DOCUMENT_MAX_BYTES:
        errors["agent_document"] = [gettext("The document may be 1 MB at most.")]
        return errors, digest
    document.seek(0)
    content = document.read()
    document.seek(0)
    if not any(content.startswith(magic) for magic in AGENT_DOCUMENT_TYPES):
        errors["agent_document"] = [gettext("Send the signed permission as a PDF, PNG or JPEG file.")]
    else:
        digest = hashlib.sha256(content).hexdigest()
    return errors, digest


def request_now() -> datetime:
    """The clock every filing and verification reads (one seam for tests over HTTP)."""
    return timezone.now()


def establishment_country_of(site: Site) -> str:
    """The country whose public holidays move the site's EU deadlines ("" for weekends only)."""
    return site.establishment_country or _JURISDICTION_COUNTRY.get(site.default_jurisdiction, "")


def rules_sha256(ruleset: RuleSet) -> str:
    """The hash a request pins, as a consent record pins it (consent/ledger/services.py)."""
    return sha256_hex(canonical_json(ruleset_as_dict(ruleset)))


def _period_for(ruleset: RuleSet, request_type: str) -> Period | None:
    if request_type in OPT_OUT_TYPES and ruleset.opt_out_deadline is not None:
        return ruleset.opt_out_deadline
    if request_type in WITHDRAWAL_TYPES and ruleset.withdrawal_deadline is not None:
        return ruleset.withdrawal_deadline
    return ruleset.request_deadline


def _calendar(ruleset: RuleSet, period: Period, country: str) -> WorkingCalendar:
    try:
        return calendar_for(ruleset=ruleset, period=period, establishment_country=country or None)
    except ValueError:
        # The site setting is only checked for its shape (two capital letters): a country the
        # holiday package does not know counts weekends only, never later than the law's date,
        # rather than fail a filing the site cannot see.
        logger.warning("No holiday calendar for establishment country %r: weekends only", country)
        return calendar_for(ruleset=ruleset, period=period, establishment_country=None)


def _deadline(ruleset: RuleSet, period: Period, start: date, country: str) -> Deadline:
    return deadline_for(start=start, period=period, calendar=_calendar(ruleset, period, country))


def _clock_set(request: DataSubjectRequest, ruleset: RuleSet) -> None:
    """Set the request's acknowledgement and answer dates from `ruleset`, in the requester's language."""
    received_on = timezone.localtime(request.filed_at).date()
    verified_on = timezone.localtime(request.verified_at).date() if request.verified_at else None
    start = clock_start(ruleset=ruleset, received_on=received_on, verified_on=verified_on)
    country = request.establishment_country
    with translation.override(request.language):
        acknowledge = ruleset.request_acknowledge if request.type not in OPT_OUT_TYPES else None
        if acknowledge is not None:
            deadline = _deadline(ruleset, acknowledge, start, country)
            request.acknowledge_by, request.acknowledge_explanation = deadline.due_on, deadline.explanation
        period = _period_for(ruleset, request.type)
        if period is not None:
            deadline = _deadline(ruleset, period, start, country)
            request.due_at, request.due_explanation = deadline.due_on, deadline.explanation
            request.is_due_provisional = deadline.is_provisional


def request_pinned_ruleset(request: DataSubjectRequest) -> RuleSet | None:
    """The rules a request was filed under, when the table still gives the same ones (same version
    and hash), else None: its dates then stay as they were computed."""
    try:
        base = ruleset_get(request.jurisdiction)
        overrides = (request.site.jurisdiction_overrides or {}).get(base.code) or {}
        ruleset = ruleset_with_overrides(base, overrides) if overrides else base
    except ValueError:
        return None
    if ruleset.version != request.rules_version or rules_sha256(ruleset) != request.rules_sha256:
        return None
    return ruleset


def _event(
    request: DataSubjectRequest,
    *,
    action: str,
    at: datetime,
    to_status: str = "",
    by: AbstractUser | None = None,
    note: str = "",
    from_status: str | None = None,
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        at=at,
        action=action,
        actor=by if by is not None and by.is_authenticated else None,
        from_status=request.status if from_status is None else from_status,
        to_status=to_status,
        note=note,
    )


def _audit_data(request: DataSubjectRequest) -> dict[str, object]:
    return {
        "public_id": request.public_id,
        "type": request.type,
        "status": request.status,
        "jurisdiction": request.jurisdiction,
        "rules_version": request.rules_version,
        "acknowledge_by": request.acknowledge_by.isoformat() if request.acknowledge_by else None,
        "due_at": request.due_at.isoformat() if request.due_at else None,
    }


def _target(request: DataSubjectRequest) -> str:
    return f"{request.type} request {request.public_id[:8]}"


# What the requester is emailed at each step (request_email_send's `kind`).
EMAIL_FILED = "filed"
EMAIL_VERIFIED = "verified"
# The authorised agent's copy of their filing (to the agent's address, with the status link only).
EMAIL_AGENT_FILED = "agent_filed"
# To the site's DPOs: the requester replied to their request for more information.
EMAIL_REPLY_RECEIVED = "reply_received"
_EMAILS = {
    EMAIL_FILED: filed_email,
    EMAIL_VERIFIED: verified_email,
    EMAIL_AGENT_FILED: agent_copy_email,
    EMAIL_REPLY_RECEIVED: reply_received_email,
}
# The DPO's steps the requester is told of (step_email), by the RequestAction's value.
_STEP_EMAILS = frozenset(
    {
        RequestAction.ACKNOWLEDGED,
        RequestAction.INFO_REQUESTED,
        RequestAction.EXTENDED,
        RequestAction.FULFILLED,
        RequestAction.REFUSED,
    }
)


def _email_queue(request: DataSubjectRequest, kind: str) -> None:
    # By the worker, after commit: a request rolled back emails nobody, and a mail server that is
    # down fails the task (kept, retried by the operator), never the requester's filing.
    job_enqueue_on_commit("consent.request_email_send", request.pk, kind)


def request_email_send(*, request: DataSubjectRequest, kind: str) -> None:
    """Email the requester the message of step `kind` ("filed", "verified", or the DPO's step:
    "acknowledged", "info_requested", "extended", "fulfilled", "refused"), in their language."""
    if kind in _STEP_EMAILS:
        subject, body = step_email(request, kind)
    else:
        subject, body = _EMAILS[kind](request)
    if kind == EMAIL_REPLY_RECEIVED:
        to = _dpo_emails(request.site)
    else:
        to = [request.agent_email if kind == EMAIL_AGENT_FILED else request.email]
    if to:
        EmailMessage(subject=subject, body=body, to=to).send()


def _filing_errors(
    *, ruleset: RuleSet, type: str, email: str, language: str, visitor_ids: Sequence[str]
) -> dict[str, list[str]]:
    """What is wrong with a filing's fields, by field (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    offered = request_types_for(ruleset.code)
    if type not in RequestType.values:
        errors["type"] = [gettext("Choose one of the request types.")]
    elif type not in offered:
        errors["type"] = [
            gettext("This request type is not offered under %(law)s.") % {"law": gettext(ruleset.name)}
        ]
    try:
        validate_email(email)
        if len(email) > 254:
            raise ValidationError("")
    except ValidationError:
        errors["email"] = [gettext("Enter a valid email address.")]
    if language not in VISITOR_LANGUAGES:
        errors["language"] = [gettext("Unsupported language code.")]
    if len(visitor_ids) > MAX_VISITOR_IDS or not all(
        isinstance(v, str) and VISITOR_ID.match(v) for v in visitor_ids
    ):
        errors["visitor_id"] = [gettext("Give the visitor id from the banner's cookie.")]
    return errors


def request_file(
    *,
    site: Site,
    type: str,
    email: str,
    language: str,
    jurisdiction: RequestJurisdiction,
    residence_country: str = "",
    residence_region: str = "",
    visitor_ids: Sequence[str] = (),
    agent: AgentFiling | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """File a request from the public page or API: pin its rules, compute its clock, and email a
    verification link to the requester. Bad input is a ValidationError naming each field, with
    nothing written."""
    now = now or request_now()
    email = email.strip()
    ruleset = jurisdiction.ruleset
    errors = _filing_errors(
        ruleset=ruleset, type=type, email=email, language=language, visitor_ids=visitor_ids
    )
    digest = ""
    if agent is not None:
        agent_errors, digest = _agent_errors(agent)
        errors.update(agent_errors)
    if errors:
        raise ValidationError(errors)
    request = DataSubjectRequest()
    try:
        _request_create(
            request,
            site=site,
            type=type,
            email=email,
            language=language,
            ruleset=ruleset,
            jurisdiction=jurisdiction,
            residence_country=residence_country,
            residence_region=residence_region,
            visitor_ids=visitor_ids,
            agent=agent,
            digest=digest,
            now=now,
        )
    except BaseException:
        # The document reaches storage before its row: a filing that did not commit keeps none.
        if request.agent_document:
            request.agent_document.delete(save=False)
        raise
    return request


def _request_create(
    request: DataSubjectRequest,
    *,
    site: Site,
    type: str,
    email: str,
    language: str,
    ruleset: RuleSet,
    jurisdiction: RequestJurisdiction,
    residence_country: str,
    residence_region: str,
    visitor_ids: Sequence[str],
    agent: AgentFiling | None,
    digest: str,
    now: datetime,
) -> None:
    with transaction.atomic():
        fields = dict(
            site=site,
            type=type,
            status=RequestStatus.AWAITING_VERIFICATION,
            email=email,
            language=language,
            residence_country=residence_country,
            residence_region=residence_region,
            visitor_ids=list(dict.fromkeys(visitor_ids)),
            jurisdiction=ruleset.code,
            rules_version=ruleset.version,
            rules_sha256=rules_sha256(ruleset),
            resolved_by=jurisdiction.resolved_by,
            establishment_country=establishment_country_of(site),
            filed_at=now,
        )
        for name, value in fields.items():
            setattr(request, name, value)
        _clock_set(request, ruleset)
        if agent is not None:
            request.agent_name, request.agent_email = agent.name.strip(), agent.email.strip()
            request.agent_document_sha256 = digest
            request.agent_document.save(agent.document.name or "document", agent.document, save=False)
        request.save()
        _event(request, action=RequestAction.FILED, at=now, from_status="", to_status=RequestStatus.RECEIVED)
        _event(
            request,
            action=RequestAction.VERIFICATION_SENT,
            at=now,
            from_status=RequestStatus.RECEIVED,
            to_status=RequestStatus.AWAITING_VERIFICATION,
        )
        audit_record(
            site=site,
            action="data_subject_request.file",
            target=_target(request),
            data={
                **_audit_data(request),
                "resolved_by": request.resolved_by,
                "agent_document_sha256": request.agent_document_sha256 or None,
            },
        )
        _email_queue(request, EMAIL_FILED)
        if agent is not None:
            _email_queue(request, EMAIL_AGENT_FILED)
        webhook_event_emit(
            site=site,
            type=WebhookEventType.REQUEST_CREATED,
            data=request_data(request),
            dedupe_key=f"request.created:{request.public_id}",
        )


def request_verify(*, request: DataSubjectRequest, now: datetime | None = None) -> DataSubjectRequest:
    """The requester opened their verification link: the address is theirs. Where the rules let
    verification start the clock, the dates are counted again from today. A request no longer
    awaiting verification is returned unchanged (a second click does nothing)."""
    now = now or request_now()
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().select_related("site").get(pk=request.pk)
        if request.status != RequestStatus.AWAITING_VERIFICATION:
            return request
        request.verified_at = now
        ruleset = request_pinned_ruleset(request)
        if ruleset is not None and ruleset.verification_pauses_clock:
            _clock_set(request, ruleset)
        _event(request, action=RequestAction.VERIFIED, at=now, to_status=RequestStatus.VERIFIED)
        request.status = RequestStatus.VERIFIED
        request.save()
        audit_record(
            site=request.site,
            action="data_subject_request.verify",
            target=_target(request),
            data=_audit_data(request),
        )
        # Automation (consent/requests/automation.py): an opt-out or withdrawal applies at once.
        request_verified_apply(request=request, now=now)
        _email_queue(request, EMAIL_VERIFIED)
    return request


def request_agent_confirm(*, request: DataSubjectRequest, now: datetime | None = None) -> DataSubjectRequest:
    """The consumer confirmed, from the link emailed to them, that they authorised the agent who
    filed (11 CCR §7063(a)(2)): their address is verified and the request is worked on. A request
    no longer waiting for them is returned unchanged."""
    now = now or request_now()
    with transaction.atomic():
        locked = DataSubjectRequest.objects.select_for_update().select_related("site").get(pk=request.pk)
        if not locked.is_awaiting_consumer:
            return locked
        _event(
            locked,
            action=RequestAction.AGENT_CONFIRMED,
            at=now,
            to_status=locked.status,
            note=locked.agent_name,
        )
        audit_record(
            site=locked.site,
            action="data_subject_request.agent_confirm",
            target=_target(locked),
            data={
                "public_id": locked.public_id,
                "agent_document_sha256": locked.agent_document_sha256 or None,
            },
        )
        return request_verify(request=locked, now=now)


def request_agent_deny(*, request: DataSubjectRequest, now: datetime | None = None) -> DataSubjectRequest:
    """The consumer said they did not authorise the agent who filed: the request is closed with
    that event, and nothing is done on it. A request no longer waiting for them is unchanged."""
    now = now or request_now()
    with transaction.atomic():
        locked = DataSubjectRequest.objects.select_for_update().select_related("site").get(pk=request.pk)
        if not locked.is_awaiting_consumer:
            return locked
        _event(
            locked,
            action=RequestAction.AGENT_DENIED,
            at=now,
            to_status=RequestStatus.CLOSED,
            note=locked.agent_name,
        )
        locked.status = RequestStatus.CLOSED
        locked.closed_at = now
        locked.save()
        audit_record(
            site=locked.site,
            action="data_subject_request.agent_deny",
            target=_target(locked),
            data=_audit_data(locked),
        )
        webhook_event_emit(
            site=locked.site,
            type=WebhookEventType.REQUEST_CLOSED,
            data=request_data(locked),
            dedupe_key=f"request.closed:{locked.public_id}",
        )
    return locked


# Replies a requester may send on one request (the status page's form): enough for any exchange
# with the DPO, a bound for a link that leaked.
REPLY_MAX_PER_REQUEST = 20
REPLY_MAX_CHARACTERS = 20000
# The statuses a reply returns the request to: the one it was in when the DPO asked.
_REPLY_BACK_TO = frozenset({RequestStatus.VERIFIED, RequestStatus.ACKNOWLEDGED, RequestStatus.EXTENDED})


def _attachment_errors(attachment: UploadedFile) -> tuple[dict[str, list[str]], str]:
    """The reply attachment's problems, and its SHA-256 when acceptable (the agent document's checks)."""
    if attachment.size is None or attachment.size > AGENT_DOCUMENT_MAX_BYTES:
        return {"attachment": [gettext("The file may be 1 MB at most.")]}, ""
    attachment.seek(0)
    content = attachment.read()
    attachment.seek(0)
    if not any(content.startswith(magic) for magic in AGENT_DOCUMENT_TYPES):
        return {"attachment": [gettext("Send the file as a PDF, PNG or JPEG file.")]}, ""
    return {}, hashlib.sha256(content).hexdigest()


def request_reply(
    *,
    request: DataSubjectRequest,
    text: str,
    attachment: UploadedFile | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> RequestEvent:
    """The requester answers the DPO's request for more information (from their status page): a
    `replied` event with their text and optional file, the request back in the status it had when
    the DPO asked, and the site's DPOs emailed. Refused unless more information was requested, or
    after REPLY_MAX_PER_REQUEST replies; bad input is a ValidationError, with nothing written."""
    now = now or request_now()
    text = text.strip()
    errors: dict[str, list[str]] = {}
    if not text:
        errors["text"] = [gettext("Write your answer.")]
    elif len(text) > REPLY_MAX_CHARACTERS:
        errors["text"] = [gettext("Keep the text under 20,000 characters.")]
    digest = ""
    if attachment is not None:
        attachment_errors, digest = _attachment_errors(attachment)
        errors.update(attachment_errors)
    if errors:
        raise ValidationError(errors)
    event = RequestEvent(action=RequestAction.REPLIED, at=now, note=text, attachment_sha256=digest)
    try:
        with transaction.atomic():
            locked = DataSubjectRequest.objects.select_for_update().select_related("site").get(pk=request.pk)
            if locked.status != RequestStatus.INFO_REQUESTED:
                raise ValidationError(
                    gettext("No information is asked of you on this request now."), code="status"
                )
            if locked.events.filter(action=RequestAction.REPLIED).count() >= REPLY_MAX_PER_REQUEST:
                raise ValidationError(
                    gettext("This request has had %(count)d replies, the most it takes: write to the site.")
                    % {"count": REPLY_MAX_PER_REQUEST},
                    code="too_many",
                )
            asked = (
                locked.events.filter(action=RequestAction.INFO_REQUESTED, from_status__in=_REPLY_BACK_TO)
                .order_by("-at", "-pk")
                .first()
            )
            back_to = asked.from_status if asked is not None else RequestStatus.VERIFIED
            event.request = locked
            event.from_status, event.to_status = locked.status, back_to
            if attachment is not None:
                event.attachment.save(attachment.name or "attachment", attachment, save=False)
            event.save()
            locked.status = back_to
            locked.save()
            audit_record(
                site=locked.site,
                actor_ip=ip,
                action="data_subject_request.replied",
                target=_target(locked),
                data={**_audit_data(locked), "event": event.pk, "attachment_sha256": digest or None},
            )
            _email_queue(locked, EMAIL_REPLY_RECEIVED)
    except BaseException:
        # The file reaches storage before its row: a reply that did not commit keeps none.
        if event.attachment:
            event.attachment.delete(save=False)
        raise
    return event


def request_file_verified(
    *,
    site: Site,
    type: str,
    subject: str,
    email: str,
    language: str,
    jurisdiction: RequestJurisdiction,
    token_name: str,
    residence_country: str = "",
    residence_region: str = "",
    visitor_ids: Sequence[str] = (),
    now: datetime | None = None,
) -> DataSubjectRequest:
    """File a request a site's backend makes for one of its logged-in accounts (the management
    API): the site has identified the requester, so the request is verified at once (no
    verification email; the requester is emailed that it is confirmed, with the status link) and
    its clock counts from filing. `subject` is the site's account id, kept only as its HMAC.
    Bad input is a ValidationError naming each field, with nothing written."""
    now = now or request_now()
    email = email.strip()
    ruleset = jurisdiction.ruleset
    errors = _filing_errors(
        ruleset=ruleset, type=type, email=email, language=language, visitor_ids=visitor_ids
    )
    if not subject_valid(subject):
        errors["subject"] = [subject_refusal()]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = DataSubjectRequest(
            site=site,
            type=type,
            status=RequestStatus.VERIFIED,
            email=email,
            language=language,
            residence_country=residence_country,
            residence_region=residence_region,
            visitor_ids=list(dict.fromkeys(visitor_ids)),
            subject_hmac=subject_hmac(secret=site.subject_secret, subject=subject),
            jurisdiction=ruleset.code,
            rules_version=ruleset.version,
            rules_sha256=rules_sha256(ruleset),
            resolved_by=jurisdiction.resolved_by,
            establishment_country=establishment_country_of(site),
            filed_at=now,
            verified_at=now,
        )
        _clock_set(request, ruleset)
        request.save()
        _event(request, action=RequestAction.FILED, at=now, from_status="", to_status=RequestStatus.RECEIVED)
        with translation.override(request.language):
            note = gettext("Verified by the site's backend (token %(name)s).") % {"name": token_name}
        _event(
            request,
            action=RequestAction.VERIFIED,
            at=now,
            from_status=RequestStatus.RECEIVED,
            to_status=RequestStatus.VERIFIED,
            note=note,
        )
        audit_record(
            site=site,
            action="data_subject_request.file",
            target=_target(request),
            data={**_audit_data(request), "resolved_by": request.resolved_by, "verified_by": "site_backend"},
        )
        # Verified at filing: an opt-out or withdrawal applies now, as on a verification link.
        request_verified_apply(request=request, now=now)
        _email_queue(request, EMAIL_VERIFIED)
        webhook_event_emit(
            site=site,
            type=WebhookEventType.REQUEST_CREATED,
            data=request_data(request),
            dedupe_key=f"request.created:{request.public_id}",
        )
    return request


def request_note_add(
    *, request: DataSubjectRequest, note: str, by: AbstractUser | None, ip: str | None = None
) -> RequestEvent:
    """An internal note on a request (never shown to the requester), by a DPO or owner of its site."""
    site_actor_require(
        site=request.site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only a DPO or owner of the site adds notes."),
    )
    note = note.strip()
    if not note:
        raise ValidationError({"note": [gettext("Write the note.")]})
    with transaction.atomic():
        event = _event(
            request, action=RequestAction.NOTE, at=request_now(), by=by, note=note, to_status=request.status
        )
        audit_record(
            site=request.site,
            actor=by,
            actor_ip=ip,
            action="data_subject_request.note",
            target=_target(request),
            data={"public_id": request.public_id, "event": event.pk},
        )
    return event


# --- The DPO's actions ---------------------------------------------------------------------------

# Where each action may start from (the request's status); anything else is refused with a reason.
_VERIFIED_OPEN = frozenset(
    {
        RequestStatus.VERIFIED,
        RequestStatus.ACKNOWLEDGED,
        RequestStatus.INFO_REQUESTED,
        RequestStatus.EXTENDED,
    }
)
ACTION_FROM: dict[str, frozenset[str]] = {
    RequestAction.ACKNOWLEDGED: frozenset({RequestStatus.VERIFIED, RequestStatus.INFO_REQUESTED}),
    RequestAction.INFO_REQUESTED: _VERIFIED_OPEN,
    RequestAction.EXTENDED: frozenset(
        {RequestStatus.VERIFIED, RequestStatus.ACKNOWLEDGED, RequestStatus.INFO_REQUESTED}
    ),
    RequestAction.FULFILLED: _VERIFIED_OPEN,
    # An address never verified may be refused (the requester could not be identified).
    RequestAction.REFUSED: _VERIFIED_OPEN | {RequestStatus.RECEIVED, RequestStatus.AWAITING_VERIFICATION},
    RequestAction.CLOSED: frozenset(RequestStatus.values) - {RequestStatus.CLOSED},
    RequestAction.ASSIGNED: frozenset(RequestStatus.values) - {RequestStatus.CLOSED},
}


# What a DPO may do on an agent's request the consumer has not confirmed (besides internal notes).
_WHILE_AWAITING_CONSUMER = frozenset({RequestAction.REFUSED, RequestAction.CLOSED})


def request_actions_allowed(request: DataSubjectRequest) -> list[str]:
    """The actions the request's status allows now (the law may still refuse an extension)."""
    return [
        action
        for action, statuses in ACTION_FROM.items()
        if request.status in statuses
        and (not request.is_awaiting_consumer or action in _WHILE_AWAITING_CONSUMER)
    ]


def _refuse_unless_allowed(request: DataSubjectRequest, action: str) -> None:
    if request.status == RequestStatus.CLOSED:
        raise ValidationError(
            gettext("This request is closed: nothing more can be done on it."), code="closed"
        )
    if request.is_awaiting_consumer and action not in _WHILE_AWAITING_CONSUMER:
        raise ValidationError(
            gettext(
                "Waiting for the consumer's confirmation: the consumer has not yet confirmed that they "
                "authorised the agent %(agent)s. Until then the request can only be refused or closed."
            )
            % {"agent": request.agent_name},
            code="awaiting_consumer",
        )
    if request.status not in ACTION_FROM[action]:
        if request.status in (RequestStatus.RECEIVED, RequestStatus.AWAITING_VERIFICATION):
            message = gettext("The requester has not verified their email address yet.")
        else:
            message = gettext("This cannot be done on a request that is %(status)s.") % {
                "status": RequestStatus(request.status).label
            }
        raise ValidationError(message, code="status")


def _text_required(text: str, message: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"text": [message]})
    if len(text) > 20000:
        raise ValidationError({"text": [gettext("Keep the text under 20,000 characters.")]})
    return text


def _locked(request: DataSubjectRequest, by: AbstractUser | None) -> DataSubjectRequest:
    site_actor_require(
        site=request.site,
        by=by,
        roles=EDITOR_ROLES,
        refusal=gettext("Only a DPO or owner of the site acts on its requests."),
    )
    # Locked: two DPOs acting at once act one after the other, each on the status the other left.
    return DataSubjectRequest.objects.select_for_update().select_related("site").get(pk=request.pk)


def _step(
    request: DataSubjectRequest,
    *,
    action: str,
    to_status: str,
    by: AbstractUser | None,
    ip: str | None,
    now: datetime,
    note: str = "",
    data: dict[str, object] | None = None,
) -> None:
    """Write the step's event, the new status, the audit row and the requester's email."""
    _event(request, action=action, at=now, by=by, note=note, to_status=to_status)
    request.status = to_status
    request.save()
    audit_record(
        site=request.site,
        actor=by,
        actor_ip=ip,
        action=f"data_subject_request.{action}",
        target=_target(request),
        data={**_audit_data(request), **(data or {})},
    )
    if action in _STEP_EMAILS:
        _email_queue(request, action)


def _act(
    request: DataSubjectRequest,
    *,
    action: str,
    to_status: str,
    by: AbstractUser | None,
    ip: str | None,
    now: datetime | None,
    note: str = "",
    response_text: str | None = None,
) -> DataSubjectRequest:
    """One of the DPO's plain steps: the request locked and its status checked for `action`, the
    answer kept when there is one, then the step written (_step). Call inside a transaction."""
    request = _locked_check(request, by, action)
    if response_text is not None:
        request.response_text = response_text
    _step(request, action=action, to_status=to_status, by=by, ip=ip, now=now or request_now(), note=note)
    return request


@transaction.atomic
def request_acknowledge(
    *,
    request: DataSubjectRequest,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Tell the requester their verified request is being handled (CCPA's 10 business days)."""
    action, status = RequestAction.ACKNOWLEDGED, RequestStatus.ACKNOWLEDGED
    return _act(request, action=action, to_status=status, by=by, ip=ip, now=now)


def _locked_check(request: DataSubjectRequest, by: AbstractUser | None, action: str) -> DataSubjectRequest:
    locked = _locked(request, by)
    _refuse_unless_allowed(locked, action)
    return locked


@transaction.atomic
def request_info_ask(
    *,
    request: DataSubjectRequest,
    text: str,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Ask the requester for what is missing to answer (the email carries `text`). The clock keeps running."""
    text = _text_required(text, gettext("Write what the requester should send."))
    action, status = RequestAction.INFO_REQUESTED, RequestStatus.INFO_REQUESTED
    return _act(request, action=action, to_status=status, by=by, ip=ip, now=now, note=text)


def _first_deadline(request: DataSubjectRequest, ruleset: RuleSet) -> tuple[Deadline, Period]:
    """The request's first answer deadline, counted again from its pinned rules (for its count's end)."""
    period = _period_for(ruleset, request.type)
    if period is None or request.due_at is None:
        raise ValidationError(gettext("This request has no deadline to extend."), code="none")
    received_on = timezone.localtime(request.filed_at).date()
    verified_on = timezone.localtime(request.verified_at).date() if request.verified_at else None
    start = clock_start(ruleset=ruleset, received_on=received_on, verified_on=verified_on)
    with translation.override(request.language):
        deadline = _deadline(ruleset, period, start, request.establishment_country)
    return deadline, period


@transaction.atomic
def request_extend(
    *,
    request: DataSubjectRequest,
    reason: str,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Extend the answer deadline once, as the law allows, and send the requester the notice with
    `reason` now (GDPR Art. 12(3), 11 CCR §7021(b), 152-FZ Art. 20(3)); refused after the first
    deadline, a second time, or where the law has no extension."""
    now = now or request_now()
    request = _locked_check(request, by, RequestAction.EXTENDED)
    if request.extended_at is not None:
        raise ValidationError(gettext("This request was already extended once."), code="second")
    ruleset = request_pinned_ruleset(request)
    if ruleset is None:
        raise ValidationError(
            gettext(
                "The rules this request was filed under have changed: extend it by hand, with the notice."
            ),
            code="rules_changed",
        )
    first, _period = _first_deadline(request, ruleset)
    # The stored date is the one the requester was told; the count must still agree with it.
    if first.due_on != request.due_at:
        first = dataclasses.replace(first, due_on=request.due_at, count_ended_on=request.due_at)
    extension = ruleset.request_extension
    reason = reason.strip()
    with translation.override(request.language):
        calendar = (
            _calendar(ruleset, extension, request.establishment_country) if extension else WorkingCalendar()
        )
        # The notice goes out in this step: it is sent `now`, before the deadline or refused with it.
        extended = deadline_extend(
            deadline=first,
            extension=extension,
            calendar=calendar,
            now=timezone.localtime(now).date(),
            notice_sent_at=timezone.localtime(now).date(),
            reason=reason,
        )
    if len(reason) > 20000:
        raise ValidationError({"text": [gettext("Keep the text under 20,000 characters.")]})
    first_due = request.due_at
    request.due_at, request.due_explanation = extended.due_on, extended.explanation
    request.is_due_provisional = extended.is_provisional
    request.extended_at = request.extension_notice_sent_at = now
    request.extension_reason = reason
    _step(
        request,
        action=RequestAction.EXTENDED,
        to_status=RequestStatus.EXTENDED,
        by=by,
        ip=ip,
        now=now,
        note=reason,
        data={"first_due_at": first_due.isoformat()},
    )
    return request


@transaction.atomic
def request_fulfil(
    *,
    request: DataSubjectRequest,
    text: str,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Answer the request: `text` is the response the requester is emailed."""
    text = _text_required(text, gettext("Write the answer the requester receives."))
    now = now or request_now()
    request = _locked_check(request, by, RequestAction.FULFILLED)
    # Automation (consent/requests/automation.py, package.py): an erasure must be confirmed first;
    # an access or portability answer carries its package.
    refusal = fulfil_refusal(request)
    if refusal is not None:
        raise ValidationError(refusal, code="erasure")
    request_package_ensure(request=request, by=by, ip=ip, now=now)
    request.response_text = text
    _step(request, action=RequestAction.FULFILLED, to_status=RequestStatus.FULFILLED, by=by, ip=ip, now=now)
    return request


@transaction.atomic
def request_refuse(
    *,
    request: DataSubjectRequest,
    text: str,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Refuse the request with its reasons; the email adds the jurisdiction's right to complain
    (consent/requests/answers.py)."""
    text = _text_required(text, gettext("Give the reasons for the refusal."))
    action, status = RequestAction.REFUSED, RequestStatus.REFUSED
    return _act(request, action=action, to_status=status, by=by, ip=ip, now=now, response_text=text)


@transaction.atomic
def request_close(
    *,
    request: DataSubjectRequest,
    note: str = "",
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Close the case (answered, or nothing more is owed: a duplicate, withdrawn by the requester);
    its 24 months of retention start now. Announced by a request.closed webhook."""
    now = now or request_now()
    request = _locked_check(request, by, RequestAction.CLOSED)
    request.closed_at = now
    _step(
        request,
        action=RequestAction.CLOSED,
        to_status=RequestStatus.CLOSED,
        by=by,
        ip=ip,
        now=now,
        note=note.strip(),
    )
    webhook_event_emit(
        site=request.site,
        type=WebhookEventType.REQUEST_CLOSED,
        data=request_data(request),
        dedupe_key=f"request.closed:{request.public_id}",
    )
    return request


def request_assignees(request: DataSubjectRequest) -> list[AbstractUser]:
    """Who a request may be assigned to: its site's owners and DPOs."""
    memberships = SiteMembership.objects.filter(site=request.site, role__in=EDITOR_ROLES).select_related(
        "user"
    )
    return sorted((membership.user for membership in memberships), key=lambda user: user.get_username())


@transaction.atomic
def request_assign(
    *,
    request: DataSubjectRequest,
    assignee: AbstractUser | None,
    by: AbstractUser | None,
    ip: str | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Give the request to one of its site's owners or DPOs (None: to nobody)."""
    now = now or request_now()
    request = _locked_check(request, by, RequestAction.ASSIGNED)
    if assignee is not None and assignee.pk not in {user.pk for user in request_assignees(request)}:
        raise ValidationError({"assignee": [gettext("Assign it to an owner or DPO of the site.")]})
    if (assignee.pk if assignee else None) == request.assignee_id:
        return request
    request.assignee = assignee
    name = assignee.get_username() if assignee is not None else ""
    _step(
        request,
        action=RequestAction.ASSIGNED,
        to_status=request.status,
        by=by,
        ip=ip,
        now=now,
        note=name,
        data={"assignee": name or None},
    )
    return request


# --- The clock as the queue shows it, and the periodic watch --------------------------------------


@dataclass(frozen=True)
class RequestClock:
    """How long is left to answer, in the deadline's own kind of day."""

    due_on: date
    days_left: int
    #: "3 working days left", "1 business day left", "12 calendar days left", for a person.
    left: str
    #: The kind of day `days_left` counts, for a program: a DayType value ("calendar_days" when
    #: the deadline is counted in calendar days or months, and once it has passed).
    day_type: str
    explanation: str
    is_overdue: bool
    is_due_soon: bool


def request_clock(request: DataSubjectRequest, *, today: date | None = None) -> RequestClock | None:
    """The request's clock today (None when it has no due date)."""
    if request.due_at is None:
        return None
    today = today or timezone.localdate()
    ruleset = request_pinned_ruleset(request)
    period = _period_for(ruleset, request.type) if ruleset is not None else None
    if request.extended_at is not None and ruleset is not None and ruleset.request_extension is not None:
        period = ruleset.request_extension
    unit = None
    calendar = None
    if (
        period is not None
        and ruleset is not None
        and period.unit in (DayType.BUSINESS_DAYS, DayType.RU_WORKING_DAYS)
    ):
        unit = period.unit
        calendar = _calendar(ruleset, period, request.establishment_country)
    left = days_until(today=today, due_on=request.due_at, calendar=calendar)
    return RequestClock(
        due_on=request.due_at,
        days_left=left,
        left=days_left_text(left, unit if left >= 0 else None),
        day_type=unit if unit is not None and left >= 0 else DayType.CALENDAR_DAYS,
        explanation=request.due_explanation,
        is_overdue=today > request.due_at,
        is_due_soon=today <= request.due_at <= today + timedelta(days=settings.REQUEST_DUE_SOON_DAYS),
    )


def _dpo_emails(site: Site) -> list[str]:
    """The site's DPOs' addresses; its owners' when it has no DPO with one."""
    for roles in ((Role.DPO,), (Role.OWNER,)):
        emails = sorted(
            {
                email
                for email in SiteMembership.objects.filter(site=site, role__in=roles).values_list(
                    "user__email", flat=True
                )
                if email
            }
        )
        if emails:
            return emails
    return []


# A reminder claimed by the watch but not sent this long after (the worker was down, or the mail
# server refused it) is queued again by the next round.
REMINDER_REQUEUE_AFTER = timedelta(minutes=15)


def request_reminder_send(*, request: DataSubjectRequest, days: int, now: datetime | None = None) -> bool:
    """Email the site's DPOs that `request` is due in `days` days or fewer (the worker's job), and
    only once it was sent, mark its reminder sent and write the REMINDED event. The reminder's row
    is locked for the send: a second worker with the same job waits, then finds it sent and does
    nothing. A send that fails writes nothing (the watch queues it again). Returns whether it sent."""
    with transaction.atomic():
        reminder = (
            RequestReminder.objects.select_for_update()
            .filter(request=request, due_at=request.due_at, days=days, sent_at__isnull=True)
            .first()
        )
        if reminder is None or request.status in FINAL_STATUSES:
            return False  # sent already, or the due date moved (its own reminders follow), or answered
        recipients = _dpo_emails(request.site)
        reminder.sent_at = now or request_now()
        reminder.save(update_fields=["sent_at"])  # also with nobody to email: not queued again
        if not recipients:
            return False
        subject, body = reminder_email(request, days)
        EmailMessage(subject=subject, body=body, to=recipients).send()
        _event(
            request,
            action=RequestAction.REMINDED,
            at=reminder.sent_at,
            note=f"{days} days before {request.due_at.isoformat()}",
            to_status=request.status,
        )
    return True


def _reminder_threshold_due(
    request: DataSubjectRequest, days: int, claimed: dict[tuple[int, date], list[int]]
) -> int | None:
    """The reminder threshold to send now, if any: the smallest crossed one, unless that or a
    smaller one was claimed for this due date already (a watch that was down sends one, not
    several). `claimed`: the thresholds claimed per (request id, due date), read for the round."""
    crossed = [threshold for threshold in settings.REQUEST_REMINDER_DAYS if 0 <= days <= threshold]
    if not crossed:
        return None
    target = min(crossed)
    sent = claimed.get((request.pk, request.due_at), [])  # type: ignore[arg-type]
    if sent and min(sent) <= target:
        return None
    return target


# An open request overdue for longer than this is not announced any more (the watch was down
# longer, or webhooks were switched on after it): bounded work per round, as for policy.effective.
OVERDUE_LOOK_BACK = timedelta(days=30)


def _watch_key(request: DataSubjectRequest, days: int) -> tuple[str, str] | None:
    """The webhook event `request` is owed today with its dedupe key, if any."""
    assert request.due_at is not None
    if days < 0:
        event_type, prefix = WebhookEventType.REQUEST_OVERDUE, "request.overdue"
    elif days <= settings.REQUEST_DUE_SOON_DAYS:
        event_type, prefix = WebhookEventType.REQUEST_DUE_SOON, "request.due_soon"
    else:
        return None
    return event_type, f"{prefix}:{request.public_id}:{request.due_at.isoformat()}"


def requests_deadlines_watch(*, now: datetime | None = None) -> int:
    """One round of the deadline watch (the webhook dispatcher's once-a-minute round): announce open
    requests due soon or overdue (`request.due_soon`, `request.overdue`, once per request and due
    date) and email the DPOs their reminders (REQUEST_REMINDER_DAYS, once each). Returns the events
    and reminders written."""
    now = now or request_now()
    today = timezone.localtime(now).date()
    horizon = today + timedelta(days=max(settings.REQUEST_DUE_SOON_DAYS, *settings.REQUEST_REMINDER_DAYS, 0))
    hooked = set(WebhookEndpoint.objects.filter(is_active=True).values_list("site_id", flat=True))
    candidates = list(
        DataSubjectRequest.objects.exclude(status__in=FINAL_STATUS_LIST)  # dsr_open_due_filed
        .filter(due_at__isnull=False, due_at__lte=horizon, due_at__gte=today - OVERDUE_LOOK_BACK)
        .order_by("due_at", "pk")
    )
    # What was announced already, in one read: most candidates need nothing each round.
    keys = {
        candidate.pk: _watch_key(candidate, (candidate.due_at - today).days)
        for candidate in candidates
        if candidate.site_id in hooked
    }
    wanted = [key[1] for key in keys.values() if key is not None]
    announced = set(WebhookEvent.objects.filter(dedupe_key__in=wanted).values_list("dedupe_key", flat=True))
    # The reminders claimed already, in one read for the round (not one per candidate).
    claimed: dict[tuple[int, date], list[int]] = {}
    stale: dict[tuple[int, date], list[int]] = {}
    for request_id, due_at, threshold, queued_at, sent_at in RequestReminder.objects.filter(
        request__in=[candidate.pk for candidate in candidates]
    ).values_list("request_id", "due_at", "days", "queued_at", "sent_at"):
        claimed.setdefault((request_id, due_at), []).append(threshold)
        if sent_at is None and queued_at <= now - REMINDER_REQUEUE_AFTER:
            stale.setdefault((request_id, due_at), []).append(threshold)
    written = 0
    for candidate in candidates:
        days = (candidate.due_at - today).days
        key = keys.get(candidate.pk)
        owes_event = key is not None and key[1] not in announced
        threshold = _reminder_threshold_due(candidate, days, claimed)
        for unsent in stale.get((candidate.pk, candidate.due_at), []):
            # Claimed, never sent: queued again (the job sends it at most once).
            RequestReminder.objects.filter(request=candidate, due_at=candidate.due_at, days=unsent).update(
                queued_at=now
            )
            job_enqueue_on_commit("consent.request_reminder_send", candidate.pk, unsent)
        if not owes_event and threshold is None:
            continue
        with transaction.atomic():
            request = (
                DataSubjectRequest.objects.select_for_update().select_related("site").get(pk=candidate.pk)
            )
            if request.status in FINAL_STATUSES or request.due_at != candidate.due_at:
                continue
            if owes_event and key is not None:
                emitted = webhook_event_emit(
                    site=request.site, type=key[0], data=request_data(request), dedupe_key=key[1]
                )
                written += emitted is not None
            if threshold is not None:
                # The unique constraint is the dedupe: a second watcher's claim of the same
                # reminder inserts nothing and queues nothing.
                _, created = RequestReminder.objects.get_or_create(
                    request=request, due_at=request.due_at, days=threshold, defaults={"queued_at": now}
                )
                if created:
                    job_enqueue_on_commit("consent.request_reminder_send", request.pk, threshold)
                    written += 1
    return written


# --- Reports ---------------------------------------------------------------------------------------


def request_report_export_record(
    *, site: Site, year: int, by: AbstractUser | None, ip: str | None = None
) -> None:
    """Audit a download of the site's yearly request report (who took which site's figures)."""
    with transaction.atomic():
        audit_record(
            site=site,
            actor=by,
            actor_ip=ip,
            action="data_subject_request.report_export",
            target=f"request report {year}",
            data={"year": year, "format": "csv"},
        )
