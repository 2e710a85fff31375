"""The event catalogue: what each webhook event means and what its `data` holds (pure functions).

Every POST's body is `{"id", "type", "created_at", "site", "data"}`; `data` is built here for the
consent app's events, and by the apps above for theirs (cookies: banner.published,
subprocessors: subprocessors.published). The OpenAPI schema documents each one
(consent/webhooks/openapi.py).
"""

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from consent.models import (
    OPT_OUT_ACTIONS,
    ConsentAction,
    ConsentRecord,
    DataSubjectRequest,
    PolicyVersion,
    WebhookEventType,
)

# Which event types a person may subscribe an endpoint to (the test event is sent on request only).
SUBSCRIBABLE_TYPES = [choice for choice in WebhookEventType if choice != WebhookEventType.TEST]

EVENT_DESCRIPTIONS: dict[str, Any] = {
    WebhookEventType.CONSENT_RECORDED: _(
        "Decisions recorded in the ledger, in batches of up to 100 records (a few seconds each), "
        "filtered by the endpoint's consent actions."
    ),
    WebhookEventType.CONSENT_WITHDRAWN: _(
        "A visitor or the site's backend withdrew consent (one event per record)."
    ),
    WebhookEventType.OPTOUT_SIGNAL: _(
        "A Global Privacy Control signal or a Do Not Sell or Share opt-out (one event per record)."
    ),
    WebhookEventType.POLICY_PUBLISHED: _("A policy version was published."),
    WebhookEventType.POLICY_EFFECTIVE: _("A policy version published for a later date has taken effect."),
    WebhookEventType.BANNER_PUBLISHED: _("A banner version was published."),
    WebhookEventType.SUBPROCESSORS_PUBLISHED: _("A sub-processor list version was published."),
    WebhookEventType.REQUEST_CREATED: _(
        "A data-subject request was filed (on the public page or API); its requester is not named."
    ),
    WebhookEventType.REQUEST_DUE_SOON: _(
        "An open data-subject request is due within REQUEST_DUE_SOON_DAYS days "
        "(once per request and due date)."
    ),
    WebhookEventType.REQUEST_OVERDUE: _(
        "An open data-subject request passed its due date unanswered (once per request and due date)."
    ),
    WebhookEventType.REQUEST_CLOSED: _("A data-subject request was closed."),
    WebhookEventType.REQUEST_ERASURE_REQUESTED: _(
        "A DPO erased what Consentry holds for a deletion or destruction request: delete the "
        "site's own data about this account and these visitors, then confirm with POST "
        "/api/v1/sites/{key}/requests/{id}/erasure-confirmation (the request waits for it)."
    ),
    WebhookEventType.TEST: _("Sent from the admin or the API to check an endpoint."),
}


def record_data(record: ConsentRecord) -> dict[str, Any]:
    """One ledger record as a receiver sees it: no IP, no user agent (the visitor id is the
    site's own random id, null once redacted)."""
    return {
        "receipt_id": record.receipt_id,
        "recorded_at": record.created_at.isoformat(),
        "action": record.action,
        "purposes": {"granted": list(record.purposes_granted), "denied": list(record.purposes_denied)},
        "jurisdiction": record.jurisdiction,
        "visitor_id": record.visitor_id,
        "gpc": record.gpc,
        "versions": record.versions,
        # Who collected it: the banner, or the site's own systems through the management API (a
        # sign-up form...); the account id is never sent: the ledger holds only its keyed hash.
        "source": record.source,
        "collection_method": record.collection_method,
    }


def record_is_opt_out(record: ConsentRecord) -> bool:
    return record.gpc or record.action in OPT_OUT_ACTIONS


def optout_data(record: ConsentRecord) -> dict[str, Any]:
    signal = "do_not_sell" if record.action == ConsentAction.DO_NOT_SELL_OPT_OUT else "gpc"
    return {"signal": signal, "record": record_data(record)}


def policy_version_data(version: PolicyVersion) -> dict[str, Any]:
    document = version.document
    return {
        "document": document.slug,
        "kind": document.kind,
        "number": version.number,
        "published_at": version.published_at.isoformat(),
        "effective_at": version.effective_at.isoformat(),
        "is_material": version.is_material,
        "change_kinds": list(version.change_kinds),
        "summary": version.change_note,
        "content_sha256": version.content_sha256,
        "url": settings.PUBLIC_BASE_URL
        + reverse("policy-version", args=[document.site.key, document.slug, version.number]),
    }


def records_for_endpoint(data: dict[str, Any], consent_actions: list[str]) -> dict[str, Any]:
    """A consent.recorded event's data narrowed to the actions an endpoint asked for (none: all)."""
    if not consent_actions:
        return data
    wanted = set(consent_actions)
    return {**data, "records": [record for record in data["records"] if record["action"] in wanted]}


def request_data(request: DataSubjectRequest) -> dict[str, Any]:
    """A data-subject request as a receiver sees it: never the requester's email or visitor ids
    (the site's backend reads those through the management API if it must act)."""
    return {
        "id": request.public_id,
        "type": request.type,
        "status": request.status,
        "jurisdiction": request.jurisdiction,
        "filed_at": request.filed_at.isoformat(),
        "acknowledge_by": request.acknowledge_by.isoformat() if request.acknowledge_by else None,
        "due_at": request.due_at.isoformat() if request.due_at else None,
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
    }


def erasure_data(request: DataSubjectRequest, *, visitor_ids: list[str]) -> dict[str, Any]:
    """What the site's backend needs to delete its own data for a request: the account as the
    ledger names it (the keyed hash of the site's account id, null when the request names none)
    and the browsers' visitor ids, never the requester's email."""
    return {
        "id": request.public_id,
        "type": request.type,
        "jurisdiction": request.jurisdiction,
        "subject_ref": request.subject_hmac or None,
        "visitor_ids": visitor_ids,
        "due_at": request.due_at.isoformat() if request.due_at else None,
    }
