"""The consent ledger's cryptography: canonical records, commitments, leaf hashes, signatures.

A record's leaf is the RFC 6962 leaf hash of its canonical JSON (consent.editions.canonical_json)
with personal data replaced by a salted commitment, so redaction never changes a leaf.
Checkpoints are C2SP tlog-checkpoint signed notes (https://c2sp.org/tlog-checkpoint): the
body "<origin>\n<size>\n<base64 root>\n" with no extension lines (Sigsum's witnesses refuse
them; the checkpoint's time stays in its row), signed as a C2SP signed note under the log's
name, so Go's sumdb/note, a witness or anyone with the verifier key (vkey) can check them.
Checkpoints made before that format carry an Ed25519 signature over an older text
(checkpoint_note_legacy) and keep verifying. Each checkpoint names its signer by key id, so
the signing key can be rotated: the old public key moves to LEDGER_RETIRED_PUBLIC_KEYS and
its checkpoints keep verifying.
"""

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from consent.editions import canonical_json
from consent.ledger.merkle import leaf_hash
from consent.ledger.note import NoteError, NoteSigner, NoteVerifier, note_open, note_split
from consent.ledger.note import note_sign as signed_note_sign
from consent.models import Checkpoint, ConsentRecord, IpStorage

LEAF_FORMAT_VERSION = 1


# How long after its created_at a record may still commit and be sealed. The sealer rescans
# this much before its newest checkpoint; a record older than that and still unsealed was not
# written by the API (backdated behind its back), and consent_verify says so.
LATE_COMMIT_MARGIN = timedelta(hours=1)


def personal_commitment(
    *,
    salt: str,
    visitor_id: str | None,
    ip_address: str | None,
    user_agent: str | None,
    subject_hmac: str | None = None,
) -> str:
    """SHA-256 over the salt and the personal values: binds them without revealing them.

    The subject's HMAC is committed to only when the record has one (a decision the site
    recorded itself), so every record without one keeps exactly its earlier commitment."""
    values = {"ip": ip_address, "ua": user_agent, "visitor": visitor_id}
    if subject_hmac is not None:
        values["subject"] = subject_hmac
    return hashlib.sha256(bytes.fromhex(salt) + canonical_json(values)).hexdigest()


def subject_hmac(*, secret: str, subject: str) -> str:
    """The one form in which the ledger keeps a site's account id: HMAC-SHA256 (hex) under the
    site's own secret (Site.subject_secret), so the same account has the same reference on one
    site, unrelated ones across sites, and the raw id is never stored."""
    return hmac.new(bytes.fromhex(secret), subject.encode(), hashlib.sha256).hexdigest()


def salt_new() -> str:
    return secrets.token_hex(16)


def timestamp(value: datetime) -> str:
    """The one textual form of a time in leaves and notes: UTC, microseconds, 'Z'."""
    # Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at a fraction of its cost (hot path).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def leaf_data(record: ConsentRecord, site_key: str) -> dict[str, Any]:
    """Everything a record proves, in canonical form; personal data only as its commitment.
    A decision recorded by the site's systems adds how it was collected (`collection`)."""
    data: dict[str, Any] = {
        "v": LEAF_FORMAT_VERSION,
        "site": site_key,
        "receipt": record.receipt_id,
        "at": timestamp(record.created_at),
        "action": record.action,
        "layer": record.ui_layer,
        "granted": sorted(record.purposes_granted),
        "denied": sorted(record.purposes_denied),
        "jurisdiction": record.jurisdiction,
        "rules_version": record.rules_version,
        "rules_sha256": record.rules_sha256,
        "resolved_by": record.resolved_by,
        "country": record.country,
        "region": record.region,
        "language": record.language,
        "versions": record.versions,
        "gpc": record.gpc,
        "dnt": record.dnt,
        "page": record.page_url,
        "personal": record.personal_sha256,
    }
    if record.collection_method:  # only on a decision the site recorded itself: banner leaves unchanged
        data["collection"] = record.collection_method
    return data


def leaf_hash_hex(record: ConsentRecord, site_key: str) -> str:
    return leaf_hash(canonical_json(leaf_data(record, site_key))).hex()


def ip_for_storage(ip: str, mode: str) -> str | None:
    """The part of the client address a site keeps: /24 (IPv4) or /48 (IPv6) by default."""
    if not ip or mode == IpStorage.NONE:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if mode == IpStorage.FULL:
        return str(address)
    if address.version == 4:
        return str(ipaddress.IPv4Address(int(address) & IPV4_KEEP_24))
    return str(ipaddress.IPv6Address(int(address) & IPV6_KEEP_48))


IPV4_KEEP_24 = 0xFFFFFF00


IPV6_KEEP_48 = ((1 << 48) - 1) << 80


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public_raw: bytes

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    @property
    def public_base64(self) -> str:
        return base64.b64encode(self.public_raw).decode()


def signing_key_from_seed(seed_base64: str) -> SigningKey:
    try:
        seed = base64.b64decode(seed_base64, validate=True)
    except binascii.Error as error:
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY is not valid base64.") from error
    if len(seed) != 32:
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be 32 bytes (an Ed25519 seed), base64-encoded.")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return SigningKey(
        private=private, public_raw=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


@cache
def _signing_key(seed_base64: str) -> SigningKey:
    return signing_key_from_seed(seed_base64)


def signing_key() -> SigningKey:
    if not settings.LEDGER_SIGNING_KEY:
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY is not set: checkpoints cannot be signed.")
    return _signing_key(settings.LEDGER_SIGNING_KEY)


def key_id_of(public_raw: bytes) -> str:
    """First 8 bytes (hex) of SHA-256 of an Ed25519 public key: how a checkpoint names its signer."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_key_from_base64(text: str) -> bytes:
    """A raw 32-byte Ed25519 public key from its base64 form (as the checkpoints endpoint shows it)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as error:
        raise ImproperlyConfigured(f"{text!r} is not valid base64.") from error
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{text!r} is not an Ed25519 public key (32 bytes, base64).")
    return raw


def verifying_keys() -> dict[str, bytes]:
    """Every public key whose checkpoints this ledger trusts, by key id: the current signing key
    and the retired ones (LEDGER_RETIRED_PUBLIC_KEYS). Rotating the signing key keeps the old
    one here, so the checkpoints it signed still verify; nothing is re-signed."""
    return dict(_verifying_keys(signing_key(), tuple(settings.LEDGER_RETIRED_PUBLIC_KEYS)))


@cache
def _verifying_keys(current: SigningKey, retired: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    keys = {key_id_of(raw): raw for raw in map(public_key_from_base64, retired)}
    keys[current.key_id] = current.public_raw
    return tuple(keys.items())


def checkpoint_note_legacy(*, site_key: str, tree_size: int, root_hex: str, created_at: datetime) -> bytes:
    """The text checkpoints were signed over before the C2SP format (a raw Ed25519 signature):
    "consentry/<key>", size, root (base64), time. Kept only to verify those old checkpoints."""
    root_b64 = base64.b64encode(bytes.fromhex(root_hex)).decode()
    return f"consentry/{site_key}\n{tree_size}\n{root_b64}\n{timestamp(created_at)}\n".encode()


def note_sign(note: bytes) -> str:
    return base64.b64encode(signing_key().private.sign(note)).decode()


def note_verify(note: bytes, signature_base64: str, public_raw: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(base64.b64decode(signature_base64), note)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def log_origin(site_key: str) -> str:
    """A site's log as C2SP names it: the origin line of its checkpoints and its key name."""
    return f"{settings.LEDGER_LOG_HOST}/consentry/{site_key}"


def log_signer(site_key: str) -> NoteSigner:
    """The current signing key under the site's log name: signs its checkpoints and promises."""
    return NoteSigner(name=log_origin(site_key), private=signing_key().private)


def log_verifiers(site_key: str) -> list[NoteVerifier]:
    """Every key the site's signed notes may carry (current and retired), under the log's name."""
    name = log_origin(site_key)
    return [NoteVerifier(name=name, public_raw=raw) for raw in verifying_keys().values()]


def checkpoint_body(*, origin: str, tree_size: int, root_hex: str) -> bytes:
    """A C2SP tlog-checkpoint's body: origin, decimal size, base64 root, each line LF-terminated."""
    root_b64 = base64.b64encode(bytes.fromhex(root_hex)).decode()
    return f"{origin}\n{tree_size}\n{root_b64}\n".encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    note: str  # the whole signed note: body, blank line, the log's signature line
    signature: str  # base64 of the Ed25519 signature alone (what the row's `signature` keeps)
    key_id: str


def checkpoint_sign(*, site_key: str, tree_size: int, root_hex: str) -> SignedCheckpoint:
    """Sign the site's log at `tree_size` as a C2SP checkpoint with the current signing key."""
    signer = log_signer(site_key)
    body = checkpoint_body(origin=signer.name, tree_size=tree_size, root_hex=root_hex)
    note = signed_note_sign(body, signer)
    _, signatures = note_split(note)
    return SignedCheckpoint(
        note=note.decode(),
        signature=base64.b64encode(signatures[0].signature).decode(),
        key_id=signing_key().key_id,
    )


def checkpoint_signature_valid(checkpoint: Checkpoint, site_key: str) -> bool:
    """Whether the checkpoint's signature holds under the key it names (current or retired).

    A C2SP checkpoint: its note's body states exactly the row's size and root under an origin
    naming this site's log, and carries a valid signature by that key under the origin's name
    (the name is the note's own: a later change of LEDGER_LOG_HOST does not void old notes).
    A checkpoint from before the C2SP format: its raw signature over the legacy text.
    """
    public_raw = verifying_keys().get(checkpoint.key_id)
    if public_raw is None:
        return False
    if not checkpoint.note:
        legacy = checkpoint_note_legacy(
            site_key=site_key,
            tree_size=checkpoint.tree_size,
            root_hex=checkpoint.root_hash,
            created_at=checkpoint.created_at,
        )
        return note_verify(legacy, checkpoint.signature, public_raw)
    note = checkpoint.note.encode()
    origin = note.split(b"\n", 1)[0].decode(errors="replace")
    try:
        text, _ = note_split(note)
        expected = checkpoint_body(
            origin=origin, tree_size=checkpoint.tree_size, root_hex=checkpoint.root_hash
        )
        if text != expected or not origin.endswith(f"/consentry/{site_key}"):
            return False
        note_open(note, [NoteVerifier(name=origin, public_raw=public_raw)])
    except (NoteError, ValueError):
        return False
    return True


def log_vkey(site_key: str) -> str:
    """The verifier key of the site's log under its current signing key (C2SP signed-note vkey)."""
    return log_signer(site_key).verifier.vkey
