"""C2SP tlog-cosignature/v1 (https://c2sp.org/tlog-cosignature) with Ed25519: what a witness adds.

A cosignature is one more signature line on a checkpoint's note. Its key hash is
SHA-256(name || "\\n" || 0x04 || public key)[:4] (0x04 names cosignature/v1), and what follows
the key hash is an 8-byte big-endian POSIX timestamp and the Ed25519 signature over
"cosignature/v1\\ntime <timestamp>\\n" followed by the checkpoint's body. A witness key is
given as a verifier key (vkey) whose algorithm byte is 0x04.

Pure Python on `cryptography` and consent.ledger.note, no Django.
"""

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consent.ledger.note import SIGNATURE_LINE_PREFIX, NoteError, key_hash, vkey_split

ALGORITHM_COSIGNATURE_V1 = 0x04


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header line, the time line, the checkpoint's body."""
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's public key under its name."""

    name: str
    public_raw: bytes

    @property
    def hash(self) -> bytes:
        return key_hash(self.name, self.public_raw, ALGORITHM_COSIGNATURE_V1)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALGORITHM_COSIGNATURE_V1]) + self.public_raw).decode()
        return f"{self.name}+{self.hash.hex()}+{encoded}"


def cosigner_from_vkey(vkey: str) -> CosignatureVerifier:
    """Parse a witness's vkey `<name>+<hash>+<base64(0x04 || key)>` and check its hash."""
    name, public_raw = vkey_split(
        vkey, ALGORITHM_COSIGNATURE_V1, "A witness key is an Ed25519 cosignature/v1 key (algorithm 0x04)."
    )
    return CosignatureVerifier(name=name, public_raw=public_raw)


def cosignature_line(*, name: str, private: Ed25519PrivateKey, body: bytes, timestamp: int) -> str:
    """A cosignature/v1 signature line over a checkpoint's body (what a witness returns)."""
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = private.sign(cosigned_message(body, timestamp))
    payload = key_hash(name, raw, ALGORITHM_COSIGNATURE_V1) + timestamp.to_bytes(8, "big") + signature
    return f"{SIGNATURE_LINE_PREFIX}{name} {base64.b64encode(payload).decode()}\n"


def cosignature_verify(
    line: str, body: bytes, verifiers: list[CosignatureVerifier]
) -> tuple[CosignatureVerifier, int]:
    """The witness and timestamp of a valid cosignature line over `body`; NoteError otherwise."""
    line = line.rstrip("\n")
    if "\n" in line or not line.startswith(SIGNATURE_LINE_PREFIX):
        raise NoteError(
            "A cosignature is one signature line: an em dash, a space, the name, a space, base64."
        )
    name, _, encoded = line[len(SIGNATURE_LINE_PREFIX) :].rpartition(" ")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise NoteError("The cosignature is not base64.") from error
    if len(raw) != 4 + 8 + 64:
        raise NoteError("A cosignature/v1 is a key hash, an 8-byte time and a 64-byte Ed25519 signature.")
    key, timestamp, signature = raw[:4], int.from_bytes(raw[4:12], "big"), raw[12:]
    if timestamp >= 1 << 63:
        raise NoteError("The cosignature's time is out of range.")
    for verifier in verifiers:
        if verifier.name == name and verifier.hash == key:
            try:
                Ed25519PublicKey.from_public_bytes(verifier.public_raw).verify(
                    signature, cosigned_message(body, timestamp)
                )
            except (InvalidSignature, ValueError) as error:
                raise NoteError(f"The cosignature by {name} does not verify.") from error
            return verifier, timestamp
    raise NoteError(f"{name} is not a witness this log trusts (LEDGER_WITNESS_KEYS).")
