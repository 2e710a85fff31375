"""Signed inclusion promises: what Certificate Transparency calls an SCT, for consent receipts.

The consent POST answers with a promise signed by the site's log key: "this receipt, with this
leaf hash, recorded at this time, will be in the log within this many seconds". It is a C2SP
signed note (consent.ledger.note) whose text is exactly six lines, each ending in a newline:

    consentry/promise/v1
    <log origin: crypto.log_origin(site_key)>
    <receipt id>
    <leaf hash: standard base64 of its 32 bytes>
    <time: crypto.timestamp(record.created_at)>
    <maximum merge delay in seconds, decimal>

signed under the key name `log_origin(site_key)`. Ed25519 is deterministic, so the promise of a
row can be recomputed from the row (the receipt API shows it); nothing is stored for it.

The server cannot know that a deleted row ever existed: the visitor's copy of the promise is
the evidence. `promise_status` says what became of a promise: included in the log, still
within its merge delay, overdue, altered, lawfully purged by retention, or removed.
"""

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _

from consent.ledger.crypto import SigningKey, log_origin, log_verifiers, signing_key, timestamp
from consent.ledger.note import NoteError, NoteSigner, NoteVerifier, note_open, note_sign, note_split
from consent.ledger.selectors import Receipt
from consent.models import Checkpoint, ConsentRecord, MerkleNode, Site

PROMISE_HEADER = "consentry/promise/v1"
_RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
_DELAY = re.compile(r"^(0|[1-9][0-9]{0,8})$")
# A promise is a few hundred bytes; anything much longer is not one.
MAX_PROMISE_BYTES = 4096


class PromiseError(ValueError):
    """Not a promise, or not one signed by a key the reader trusts."""


@dataclass(frozen=True)
class Promise:
    """The fields of a promise's text."""

    origin: str
    receipt_id: str
    leaf_hash: bytes
    promised_at: str  # as signed: crypto.timestamp's form
    merge_delay_seconds: int

    @property
    def site_key(self) -> str:
        """The site a log origin names (`<host>/consentry/<site_key>`)."""
        return self.origin.rpartition("/")[2]

    @property
    def promised_at_datetime(self) -> datetime:
        return datetime.strptime(self.promised_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    @property
    def due_at(self) -> datetime:
        """When the leaf must be in the log at the latest."""
        return self.promised_at_datetime + timedelta(seconds=self.merge_delay_seconds)


def promise_text(promise: Promise) -> bytes:
    """The signed text: six lines, each newline-terminated."""
    lines = (
        PROMISE_HEADER,
        promise.origin,
        promise.receipt_id,
        base64.b64encode(promise.leaf_hash).decode(),
        promise.promised_at,
        str(promise.merge_delay_seconds),
    )
    return "".join(f"{line}\n" for line in lines).encode()


def record_promise(record: ConsentRecord, site_key: str) -> Promise:
    """What the log promises of a record, with the merge delay configured now."""
    return Promise(
        origin=log_origin(site_key),
        receipt_id=record.receipt_id,
        leaf_hash=bytes.fromhex(record.leaf_sha256),
        promised_at=timestamp(record.created_at),
        merge_delay_seconds=settings.LEDGER_MERGE_DELAY_SECONDS,
    )


def promise_sign(record: ConsentRecord, site_key: str) -> bytes:
    """The record's promise as a signed note under the site's log key: one Ed25519 signature.

    Deterministic: the same row, key and merge delay give the same note, byte for byte."""
    return promise_note(record_promise(record, site_key))


def promise_note(promise: Promise) -> bytes:
    """`note_sign(promise_text(promise), log_signer(site_key))`."""
    return note_sign(promise_text(promise), _log_signer(promise.origin, signing_key()))


@lru_cache(maxsize=4096)
def _log_signer(origin: str, key: SigningKey) -> NoteSigner:
    """crypto.log_signer, kept per site and key (a rotation makes a new one): the hot path
    reuses the signer and its key hash instead of deriving the public key per consent."""
    return NoteSigner(name=origin, private=key.private)


def promise_parse(note: bytes | str) -> Promise:
    """The fields of a promise note, its signatures NOT checked (to learn which log to ask)."""
    raw = note.encode() if isinstance(note, str) else note
    if len(raw) > MAX_PROMISE_BYTES:
        raise PromiseError(_("The promise is too long."))
    try:
        text = note_split(raw)[0]
        lines = text.decode().split("\n")[:-1]
    except (NoteError, UnicodeDecodeError) as error:
        raise PromiseError(_("Not a signed note: %(error)s") % {"error": error}) from error
    if len(lines) != 6 or lines[0] != PROMISE_HEADER:
        raise PromiseError(
            _("Not a promise: its text is the six lines of %(header)s.") % {"header": PROMISE_HEADER}
        )
    origin, receipt_id, leaf_b64, promised_at, delay = lines[1:]
    if "/consentry/" not in origin or not origin.rpartition("/")[2]:
        raise PromiseError(_("%(origin)r is not a Consentry log origin.") % {"origin": origin})
    try:
        leaf = base64.b64decode(leaf_b64, validate=True)
    except binascii.Error:
        leaf = b""
    if len(leaf) != 32 or base64.b64encode(leaf).decode() != leaf_b64:
        raise PromiseError(_("The leaf hash is not base64 of 32 bytes."))
    if not _RECEIPT_ID.match(receipt_id):
        raise PromiseError(_("%(receipt)r is not a receipt id.") % {"receipt": receipt_id})
    if not _TIME.match(promised_at) or not _DELAY.match(delay):
        raise PromiseError(_("The time or the merge delay is malformed."))
    promise = Promise(
        origin=origin,
        receipt_id=receipt_id,
        leaf_hash=leaf,
        promised_at=promised_at,
        merge_delay_seconds=int(delay),
    )
    try:
        promise.promised_at_datetime  # noqa: B018 - a date that does not exist is refused here
    except ValueError as error:
        raise PromiseError(_("The time is not a real date.")) from error
    return promise


def promise_check(note: bytes | str, verifiers: list[NoteVerifier]) -> Promise:
    """The promise's fields if the note is a promise signed under its own origin by one of
    `verifiers` (crypto.log_verifiers(site_key)); PromiseError otherwise (tampered, unknown key)."""
    promise = promise_parse(note)
    raw = note.encode() if isinstance(note, str) else note
    try:
        opened = note_open(raw, [verifier for verifier in verifiers if verifier.name == promise.origin])
    except NoteError as error:
        raise PromiseError(
            _("The promise's signature does not verify: %(error)s") % {"error": error}
        ) from error
    assert opened.verified_by  # note_open raises when no known key signed it
    return promise


@dataclass(frozen=True)
class PromiseStatus:
    """What became of a promise. `state`:

    - included: the record is in the log with the promised leaf hash (at `leaf_index`);
    - pending: not in the log yet, and its merge delay has not passed;
    - overdue: the record exists but is still not in the log after the merge delay;
    - altered: the record or its leaf no longer has the promised leaf hash;
    - purged: the record is gone, its leaf sealed and past the site's retention (lawful);
    - removed: the record is gone and retention did not remove it: evidence of removal.
    """

    promise: Promise
    state: str
    leaf_index: int | None = None
    checkpoint: Checkpoint | None = None

    @property
    def kept(self) -> bool:
        return self.state in {"included", "pending", "purged"}


def promise_status(*, promise: Promise, site: Site, now: datetime) -> PromiseStatus:
    """Where the promised record stands in the site's ledger and log (a read: 2-3 queries)."""
    leaf_hex = promise.leaf_hash.hex()
    record = (
        ConsentRecord.objects.filter(site=site, receipt_id=promise.receipt_id)
        .values_list("pk", "leaf_sha256")
        .first()
    )
    leaves = MerkleNode.objects.filter(site=site, level=0)
    if record is None:
        # Only a deleted record's leaf can tell purged from removed; it names the promised time.
        leaf = (
            leaves.filter(hash=leaf_hex, record_created_at=promise.promised_at_datetime)
            .values_list("index", "record_created_at")
            .first()
        )
        retention_cutoff = now - timedelta(days=site.consent_retention_days)
        if leaf is not None and leaf[1] < retention_cutoff:
            return PromiseStatus(promise=promise, state="purged", leaf_index=leaf[0])
        return PromiseStatus(promise=promise, state="removed", leaf_index=leaf[0] if leaf else None)
    record_id, stored_leaf = record
    leaf = leaves.filter(record_id=record_id).values_list("index", "hash").first()
    if stored_leaf != leaf_hex or (leaf is not None and leaf[1] != leaf_hex):
        return PromiseStatus(promise=promise, state="altered", leaf_index=leaf[0] if leaf else None)
    if leaf is None:
        return PromiseStatus(promise=promise, state="pending" if now < promise.due_at else "overdue")
    checkpoint = Checkpoint.objects.filter(site=site, tree_size__gt=leaf[0]).order_by("-tree_size").first()
    return PromiseStatus(promise=promise, state="included", leaf_index=leaf[0], checkpoint=checkpoint)


def receipt_promise_status(*, receipt: Receipt, now: datetime) -> PromiseStatus:
    """The status of a found record's own promise, from what receipt_get read (no query).

    Whether the stored leaf still equals the row is consent_verify's question; here the row
    exists, so its promise is included, pending or overdue.
    """
    promise = record_promise(receipt.record, receipt.site_key)
    if receipt.leaf_index is not None:
        return PromiseStatus(
            promise=promise, state="included", leaf_index=receipt.leaf_index, checkpoint=receipt.checkpoint
        )
    return PromiseStatus(promise=promise, state="pending" if now < promise.due_at else "overdue")


def promise_status_message(status: PromiseStatus) -> str:
    """One sentence a person reads about a promise."""
    promise = status.promise
    values = {
        "time": promise.promised_at,
        "due": timestamp(promise.due_at),
        "index": status.leaf_index,
        "size": status.checkpoint.tree_size if status.checkpoint else None,
    }
    messages = {
        "included": _("Promised at %(time)s, included at index %(index)s in checkpoint %(size)s."),
        "pending": _("Promised at %(time)s, not yet included, due by %(due)s."),
        "overdue": _(
            "Promised at %(time)s, due by %(due)s, and still not in the log: the promise is broken."
        ),
        "altered": _("The record no longer has the leaf hash promised at %(time)s: it was altered."),
        "purged": _(
            "Promised at %(time)s, included at index %(index)s, then deleted by the site's retention."
        ),
        "removed": _(
            "Promised at %(time)s, but the record is not in the ledger: evidence that it was removed."
        ),
    }
    return messages[status.state] % values


@dataclass(frozen=True)
class PromiseCheck:
    """One promise of a file given to consent_verify: its status, or why it is no valid promise."""

    line: int
    status: PromiseStatus | None
    problem: str | None = None

    @property
    def kept(self) -> bool:
        return self.status is not None and self.status.kept


def promises_check(lines: Iterable[str], *, now: datetime) -> Iterator[PromiseCheck]:
    """Check each promise of a JSON-lines file: per line the `promise` object of the consent
    POST's answer (its `note` is read) or the note as a JSON string; blank lines are skipped.

    A promise must be signed under its log origin by one of the site's log keys (current or
    retired); then its status says whether the log kept it.
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            note = value["note"] if isinstance(value, dict) else value
            if not isinstance(note, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            yield PromiseCheck(line=number, status=None, problem=_("not a JSON promise or note"))
            continue
        try:
            claimed = promise_parse(note)
            site = Site.objects.filter(key=claimed.site_key).first()
            if site is None or claimed.origin != log_origin(site.key):
                raise PromiseError(_("%(origin)s is not a log of this server.") % {"origin": claimed.origin})
            promise = promise_check(note, log_verifiers(site.key))
        except PromiseError as error:
            yield PromiseCheck(line=number, status=None, problem=str(error))
            continue
        yield PromiseCheck(line=number, status=promise_status(promise=promise, site=site, now=now))
