"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys: sign, open, verifier keys.

The format Go's golang.org/x/mod/sumdb/note, sigsum and every witness read: the note's text
(UTF-8, each line ending in a newline), a blank line, then one line per signature:
an em dash, a space, the key name, a space, and base64 of the 4-byte key hash followed by the
64-byte Ed25519 signature over the text. The key hash is the first 4 bytes of
SHA-256(key name || "\\n" || 0x01 || public key); 0x01 names the Ed25519 algorithm.

Pure Python on `cryptography` only, no Django: checkpoints, inclusion promises and the
witness all use it.
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM_ED25519 = 0x01
SIGNATURE_LINE_PREFIX = "\u2014 "  # an em dash and a space
MAX_NOTE_BYTES = 1_000_000
# Regular expressions rather than a Python loop per character: every consent POST signs a note.
_WHITESPACE = re.compile(r"\s")  # the characters str.isspace() accepts
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note that is malformed, or carries no valid signature by a key the reader trusts."""


def key_hash(name: str, public_raw: bytes, algorithm: int = ALGORITHM_ED25519) -> bytes:
    """The 4 bytes that name a key in a signature line."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_raw).digest()[:4]


def key_name_check(name: str) -> None:
    if not name or "+" in name or _WHITESPACE.search(name):
        raise NoteError(f"{name!r} is not a key name (non-empty, no spaces, no '+').")


@dataclass(frozen=True)
class NoteVerifier:
    """A public key under a name: what a reader trusts a signature from."""

    name: str
    public_raw: bytes
    algorithm: int = ALGORITHM_ED25519

    @cached_property
    def hash(self) -> bytes:
        return key_hash(self.name, self.public_raw, self.algorithm)

    @property
    def vkey(self) -> str:
        """The verifier key text: `<name>+<hash as 8 hex digits>+<base64(algorithm || key)>`."""
        encoded = base64.b64encode(bytes([self.algorithm]) + self.public_raw).decode()
        return f"{self.name}+{self.hash.hex()}+{encoded}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_raw).verify(signature, text)
        except (InvalidSignature, ValueError):
            return False
        return True


def vkey_split(vkey: str, algorithm: int, refusal: str) -> tuple[str, bytes]:
    """The name and 32-byte key of `<name>+<hash>+<base64(algorithm || key)>`, its hash checked."""
    try:
        name, hash_hex, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        expected = bytes.fromhex(hash_hex)
    except (ValueError, binascii.Error) as error:
        raise NoteError(f"{vkey!r} is not a verifier key.") from error
    key_name_check(name)
    if len(raw) != 33 or raw[0] != algorithm:
        raise NoteError(refusal)
    if key_hash(name, raw[1:], algorithm) != expected:
        raise NoteError("The verifier key's hash does not match its key.")
    return name, raw[1:]


def verifier_from_vkey(vkey: str) -> NoteVerifier:
    """Parse `<name>+<hash>+<base64 key>` and check that the hash matches the key."""
    name, public_raw = vkey_split(vkey, ALGORITHM_ED25519, "Only Ed25519 verifier keys are supported.")
    return NoteVerifier(name=name, public_raw=public_raw)


@dataclass(frozen=True)
class NoteSigner:
    name: str
    private: Ed25519PrivateKey

    # Cached: deriving the public key costs about what a signature does, and the consent POST
    # signs a promise on every request with the same signer.
    @cached_property
    def verifier(self) -> NoteVerifier:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return NoteVerifier(name=self.name, public_raw=raw)

    def signature_line(self, text: bytes) -> str:
        signature = self.private.sign(text)
        encoded = base64.b64encode(self.verifier.hash + signature).decode()
        return f"{SIGNATURE_LINE_PREFIX}{self.name} {encoded}\n"


def text_check(text: bytes) -> None:
    """A note's text: UTF-8, newline-terminated, no other control characters, no blank line."""
    if not text.endswith(b"\n"):
        raise NoteError("A note's text ends with a newline.")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NoteError("A note's text is UTF-8.") from error
    if _CONTROL_BUT_NEWLINE.search(decoded):
        raise NoteError("A note's text has no control characters but newlines.")
    if "\n\n" in decoded:
        raise NoteError("A note's text has no blank line (it would end the text).")


def note_sign(text: bytes, *signers: NoteSigner) -> bytes:
    """The signed note: the text, a blank line, one signature line per signer."""
    text_check(text)
    for signer in signers:
        key_name_check(signer.name)
    return text + b"\n" + "".join(signer.signature_line(text) for signer in signers).encode()


@dataclass(frozen=True)
class Signature:
    name: str
    hash: bytes
    signature: bytes  # what follows the key hash: 64 bytes for Ed25519 (more for cosignatures)


@dataclass(frozen=True)
class OpenedNote:
    text: bytes
    signatures: tuple[Signature, ...]
    verified_by: tuple[NoteVerifier, ...]


def note_split(note: bytes) -> tuple[bytes, tuple[Signature, ...]]:
    """The text and every signature line of a signed note, unverified."""
    if len(note) > MAX_NOTE_BYTES:
        raise NoteError("The note is too long.")
    split = note.rfind(b"\n\n")
    if split < 0:
        raise NoteError("A signed note has a blank line between its text and its signatures.")
    text, lines = note[: split + 1], note[split + 2 :]
    text_check(text)
    if not lines.endswith(b"\n"):
        raise NoteError("A signed note ends with a newline.")
    signatures = []
    for line in lines[:-1].decode("utf-8", errors="strict").split("\n"):
        if not line.startswith(SIGNATURE_LINE_PREFIX):
            raise NoteError(f"{line!r} is not a signature line.")
        name, _, encoded = line[len(SIGNATURE_LINE_PREFIX) :].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise NoteError(f"{line!r} has no base64 signature.") from error
        key_name_check(name)
        if len(raw) < 5:
            raise NoteError(f"{line!r} has too short a signature.")
        signatures.append(Signature(name=name, hash=raw[:4], signature=raw[4:]))
    if not signatures:
        raise NoteError("The note has no signatures.")
    return text, tuple(signatures)


def note_open(note: bytes, verifiers: list[NoteVerifier]) -> OpenedNote:
    """The note's text and the verifiers whose signatures on it are valid; NoteError if none is.

    A signature by an unknown key is kept unverified (another party's cosignature, say); a
    signature that names a known key but does not verify makes the whole note invalid,
    as Go's note.Open does.
    """
    text, signatures = note_split(note)
    known = {(verifier.name, verifier.hash): verifier for verifier in verifiers}
    verified = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.hash))
        if verifier is None:
            continue
        if not verifier.verify(text, signature.signature):
            raise NoteError(f"The signature by {signature.name} does not verify.")
        verified.append(verifier)
    if not verified:
        raise NoteError("The note has no signature by a known key.")
    return OpenedNote(text=text, signatures=signatures, verified_by=tuple(verified))
