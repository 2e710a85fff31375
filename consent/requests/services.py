"""Every change to a data-subject request: filing, verification, internal notes (retention: retention.py).

Each writes its `RequestEvent` and its audit row in the same transaction. Audit rows name a request
by its public id and type, never by the requester's email: the audit log outlives the request.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

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
from consent.ledger.validation import VISITOR_ID
from consent.models import (
    AGENT_DOCUMENT_TYPES,
    DataSubjectRequest,
    RequestAction,
    RequestEvent,
    RequestStatus,
    RequestType,
    Site,
)
from consent.requests.clocks import Deadline, calendar_for, clock_start, deadline_for
from consent.requests.emails import filed_email, verified_email
from consent.requests.selectors import RequestJurisdiction
from consent.requests.types import OPT_OUT_TYPES, WITHDRAWAL_TYPES, request_types_for
from consent.rules.jurisdictions import Period, RuleSet, ruleset_as_dict, ruleset_get
from consent.rules.overrides import ruleset_with_overrides
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tenancy.services import site_actor_require

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


def _deadline(ruleset: RuleSet, period: Period, start: date, country: str) -> Deadline:
    try:
        calendar = calendar_for(ruleset=ruleset, period=period, establishment_country=country or None)
    except ValueError:
        # The site setting is only checked for its shape (two capital letters): a country the
        # holiday package does not know counts weekends only, never later than the law's date,
        # rather than fail a filing the site cannot see.
        logger.warning("No holiday calendar for establishment country %r: weekends only", country)
        calendar = calendar_for(ruleset=ruleset, period=period, establishment_country=None)
    return deadline_for(start=start, period=period, calendar=calendar)


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
_EMAILS = {EMAIL_FILED: filed_email, EMAIL_VERIFIED: verified_email}


def _email_queue(request: DataSubjectRequest, kind: str) -> None:
    # By the worker, after commit: a request rolled back emails nobody, and a mail server that is
    # down fails the task (kept, retried by the operator), never the requester's filing.
    job_enqueue_on_commit("consent.request_email_send", request.pk, kind)


def request_email_send(*, request: DataSubjectRequest, kind: str) -> None:
    """Email the requester the message of step `kind` ("filed", "verified"), in their language."""
    subject, body = _EMAILS[kind](request)
    EmailMessage(subject=subject, body=body, to=[request.email]).send()


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
        _email_queue(request, EMAIL_VERIFIED)
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
