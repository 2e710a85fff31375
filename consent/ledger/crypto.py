"""The consent ledger's cryptography: canonical records, commitments, leaf hashes, signatures.

A record's leaf is the RFC 6962 leaf hash of its canonical JSON (consent.editions.canonical_json)
with personal data replaced by a salted commitment, so redaction never changes a leaf.
Checkpoints are signed with Ed25519 over a small text note (in the style of C2SP
signed notes) that anyone can check with the public key from the checkpoints endpoint.
Each checkpoint names its signer by key id, so the signing key can be rotated: the old
public key moves to LEDGER_RETIRED_PUBLIC_KEYS and its checkpoints keep verifying.
"""

import base64
import binascii
import hashlib
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
from consent.ledger.note import NoteSigner, NoteVerifier
from consent.models import ConsentRecord, IpStorage

LEAF_FORMAT_VERSION = 1


# How long after its created_at a record may still commit and be sealed. The sealer rescans
# this much before its newest checkpoint; a record older than that and still unsealed was not
# written by the API (backdated behind its back), and consent_verify says so.
LATE_COMMIT_MARGIN = timedelta(hours=1)


def personal_commitment(
    *, salt: str, visitor_id: str | None, ip_address: str | None, user_agent: str | None
) -> str:
    """SHA-256 over the salt and the personal values: binds them without revealing them."""
    payload = canonical_json({"ip": ip_address, "ua": user_agent, "visitor": visitor_id})
    return hashlib.sha256(bytes.fromhex(salt) + payload).hexdigest()


def salt_new() -> str:
    return secrets.token_hex(16)


def timestamp(value: datetime) -> str:
    """The one textual form of a time in leaves and notes: UTC, microseconds, 'Z'."""
    # Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at a fraction of its cost (hot path).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def leaf_data(record: ConsentRecord, site_key: str) -> dict[str, Any]:
    """Everything a record proves, in canonical form; personal data only as its commitment."""
    return {
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


def checkpoint_note(*, site_key: str, tree_size: int, root_hex: str, created_at: datetime) -> bytes:
    """The signed text: origin line, size, root (base64), time. One line each, LF-terminated."""
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
