"""C2SP signed notes: the format Go's sumdb/note reads, checked against its published test vector."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.ledger.note import NoteError, NoteSigner, note_open, note_sign, verifier_from_vkey

# From golang.org/x/mod/sumdb/note's documentation and tests (note_test.go): the key
# "PeterNeumann" and the note it signed.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SIGNED = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
    b"\n"
    b"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    b"gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_a_note_signed_by_go_opens_with_its_published_verifier_key():
    opened = note_open(GO_SIGNED, [verifier_from_vkey(GO_VKEY)])
    assert opened.text.startswith(b"If you think cryptography")
    assert [verifier.name for verifier in opened.verified_by] == ["PeterNeumann"]


def test_a_changed_text_does_not_open():
    with pytest.raises(NoteError):
        note_open(GO_SIGNED.replace(b"answer", b"Answer"), [verifier_from_vkey(GO_VKEY)])


def test_a_vkey_whose_hash_does_not_match_is_refused():
    with pytest.raises(NoteError):
        verifier_from_vkey(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_sign_then_open_round_trips_and_an_unknown_cosigner_is_kept_unverified():
    log = NoteSigner(name="example.test/log", private=Ed25519PrivateKey.generate())
    other = NoteSigner(name="witness.test", private=Ed25519PrivateKey.generate())
    signed = note_sign(b"example.test/log\n3\nAAAA\n", log, other)
    opened = note_open(signed, [log.verifier])
    assert opened.verified_by == (log.verifier,)
    assert [signature.name for signature in opened.signatures] == ["example.test/log", "witness.test"]
    assert verifier_from_vkey(log.verifier.vkey) == log.verifier
    with pytest.raises(NoteError):
        note_open(signed, [other.verifier.__class__(name="nobody", public_raw=bytes(32))])


@pytest.mark.parametrize("text", [b"no newline", b"a\n\nb\n", b"tab\there\n", b"\xff\n"])
def test_malformed_texts_are_not_signed(text):
    signer = NoteSigner(name="k", private=Ed25519PrivateKey.generate())
    with pytest.raises(NoteError):
        note_sign(text, signer)


def test_the_go_vector_key_hash_is_the_first_four_bytes_of_its_signature():
    encoded = GO_SIGNED.rsplit(b" ", 1)[1].strip()
    assert base64.b64decode(encoded)[:4].hex() == "c74f20a3"
