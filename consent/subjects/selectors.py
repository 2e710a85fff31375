"""Reads of an account's (subject's) consents and of a visitor's: the state per purpose, the
opt-out signals, the records behind them.

The account's state, per purpose, is the newest decision naming that purpose across the
subject's own records (recorded by the site's systems) and the records of every visitor
linked to it now (the banner's), by the server's time. One rule comes on top, because an
opt-out of sale or sharing must reach the consumer's profile once it is known (CA-1):
an **opt-out signal** from any of them (a `do_not_sell_opt_out` or `gpc_opt_out` decision, or
a decision sent with Global Privacy Control where the record's jurisdiction honours it as an
opt-out) keeps every purpose that sells or shares (Purpose.is_sale_or_share) denied for the
account until the subject itself records, through the management API, a newer decision
granting it. A banner click on a linked browser does not lift it. Each purpose says which
record decided it (its receipt), and the signals are listed.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from consent.ledger.crypto import subject_hmac
from consent.models import OPT_OUT_ACTIONS, ConsentRecord, Site, SubjectLink
from consent.rules.jurisdictions import RULESETS, GpcEffect

# What the state reads of each record (not the versions, the page or the personal values).
_STATE_FIELDS = (
    "id",
    "receipt_id",
    "created_at",
    "action",
    "ui_layer",
    "purposes_granted",
    "purposes_denied",
    "gpc",
    "jurisdiction",
    "visitor_id",
    "subject_hmac",
)


@dataclass(frozen=True)
class PurposeState:
    granted: bool
    decided_by: str  # the receipt id of the record that decided it
    at: datetime
    by_optout_signal: bool  # denied by an opt-out signal rather than by the record naming it


@dataclass(frozen=True)
class OptOutSignal:
    receipt_id: str
    at: datetime
    kind: str  # "gpc", or the opt-out action
    jurisdiction: str
    visitor_id: str | None
    source: str  # "banner" or "backend"


@dataclass(frozen=True)
class ConsentState:
    purposes: dict[str, PurposeState]
    optout_signals: tuple[OptOutSignal, ...]  # newest first


def subject_ref(*, site: Site, subject: str) -> str:
    """The subject as the ledger names it: its HMAC under the site's secret."""
    return subject_hmac(secret=site.subject_secret, subject=subject)


def optout_signal_kind(record: ConsentRecord) -> str | None:
    """What opt-out signal a record carries, if any (see the module's docstring)."""
    if record.action in OPT_OUT_ACTIONS:
        return record.action
    if record.gpc:
        ruleset = RULESETS.get(record.jurisdiction)
        if ruleset is not None and ruleset.gpc_effect != GpcEffect.NONE:
            return "gpc"
    return None


def subject_links(*, site: Site, subject_hmac: str) -> list[SubjectLink]:
    return list(SubjectLink.objects.filter(site=site, subject_hmac=subject_hmac).order_by("created_at", "id"))


def subject_link_get(*, site: Site, subject_hmac: str, visitor_id: str) -> SubjectLink | None:
    return SubjectLink.objects.filter(site=site, subject_hmac=subject_hmac, visitor_id=visitor_id).first()


def subject_link_count(*, site: Site, subject_hmac: str) -> int:
    return SubjectLink.objects.filter(site=site, subject_hmac=subject_hmac).count()


def visitor_is_linked(*, site: Site, visitor_id: str) -> bool:
    return SubjectLink.objects.filter(site=site, visitor_id=visitor_id).exists()


def subject_records(
    *, site: Site, subject_hmac: str, visitor_ids: Sequence[str] = ()
) -> QuerySet[ConsentRecord]:
    """The subject's own records and those of the visitors given (its links)."""
    match = Q(subject_hmac=subject_hmac)
    if visitor_ids:
        match |= Q(visitor_id__in=list(visitor_ids))
    return ConsentRecord.objects.filter(match, site=site)


def visitor_records(*, site: Site, visitor_id: str) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(site=site, visitor_id=visitor_id)


def subject_consent_state(
    *, site: Site, subject_hmac: str, visitor_ids: Sequence[str], sale_or_share: Iterable[str]
) -> ConsentState:
    """The account's state (the module's rule), from one read of its records and its links'."""
    records = subject_records(site=site, subject_hmac=subject_hmac, visitor_ids=visitor_ids)
    return consent_state_of(
        records.only(*_STATE_FIELDS).order_by("-created_at", "-id"),
        sale_or_share=frozenset(sale_or_share),
        subject_hmac=subject_hmac,
    )


def visitor_consent_state(*, site: Site, visitor_id: str) -> ConsentState:
    """A browser's own state: the newest decision per purpose among its records, and its signals."""
    records = visitor_records(site=site, visitor_id=visitor_id)
    return consent_state_of(
        records.only(*_STATE_FIELDS).order_by("-created_at", "-id"),
        sale_or_share=frozenset(),
        subject_hmac=None,
    )


def consent_state_of(
    newest_first: Iterable[ConsentRecord], *, sale_or_share: frozenset[str], subject_hmac: str | None
) -> ConsentState:
    """The state per purpose of records given newest first. With `subject_hmac`, the opt-out
    signals hold the `sale_or_share` purposes denied until a newer grant by the subject's own
    record (the module's rule); without, the newest decision is the state."""
    purposes: dict[str, PurposeState] = {}
    signals: list[OptOutSignal] = []
    # The newest grant of each purpose by the subject's own records, to weigh against signals.
    own_grants: dict[str, tuple[datetime, int]] = {}
    newest_signal: tuple[datetime, int] | None = None
    for record in newest_first:
        for key in record.purposes_granted:
            purposes.setdefault(key, PurposeState(True, record.receipt_id, record.created_at, False))
            if subject_hmac is not None and record.subject_hmac == subject_hmac:
                own_grants.setdefault(key, (record.created_at, record.pk))
        for key in record.purposes_denied:
            purposes.setdefault(key, PurposeState(False, record.receipt_id, record.created_at, False))
        kind = optout_signal_kind(record)
        if kind is not None:
            newest_signal = newest_signal or (record.created_at, record.pk)
            signals.append(
                OptOutSignal(
                    receipt_id=record.receipt_id,
                    at=record.created_at,
                    kind=kind,
                    jurisdiction=record.jurisdiction,
                    visitor_id=record.visitor_id,
                    source=record.source,
                )
            )
    if subject_hmac is not None and newest_signal is not None:
        newest = signals[0]
        for key in sale_or_share:
            current = purposes.get(key)
            if current is not None and not current.granted:
                continue  # denied anyway, by its own newest decision
            lifted = key in own_grants and own_grants[key] > newest_signal
            if not lifted:
                purposes[key] = PurposeState(False, newest.receipt_id, newest.at, True)
    return ConsentState(purposes=dict(sorted(purposes.items())), optout_signals=tuple(signals))
