# fmt: off
# ruff: noqa: E401, E701, E702, E731, I001, S101, S310, T201 - a standalone script, short to read whole
"""Verify a Consentry receipt with no Consentry code: python3 verify_receipt.py BASE_URL RECEIPT_ID VKEY"""
import base64, hashlib, json, sys, urllib.request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
base, receipt_id, vkey = sys.argv[1:4]  # the vkey: from the site's checkpoints endpoint, kept by you
r = json.load(urllib.request.urlopen(f"{base}/api/public/v1/receipts/{receipt_id}"))
H = lambda *parts: hashlib.sha256(b"".join(parts)).digest()
name, key_hash, key = vkey.split("+", 2); key = base64.b64decode(key)
assert key[0] == 1 and H(name.encode(), b"\n", key)[:4].hex() == key_hash, "not an Ed25519 vkey"
def note_open(note):  # the text lines of a C2SP signed note, if the vkey signed it
    text, _, signatures = note.partition("\n\n")
    for line in signatures.splitlines():
        raw = base64.b64decode(line.rsplit(" ", 1)[1])
        if line.startswith(f"\u2014 {name} ") and raw[:4].hex() == key_hash:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], (text + "\n").encode())
            return text.split("\n")
    sys.exit("the note carries no signature by this vkey")
# The leaf: SHA-256(0x00 || canonical JSON); the record's keys are ASCII, so sort_keys is RFC 8785.
leaf = H(b"\0", json.dumps(r["record"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
assert leaf.hex() == r["leaf_sha256"], "the record does not hash to its leaf"
assert r["checkpoint"], "not sealed yet: try again in a minute"
fn, sn, h = r["leaf_index"], r["checkpoint"]["tree_size"] - 1, leaf  # the inclusion proof, RFC 9162 2.1.3.2
for p in map(bytes.fromhex, r["inclusion_proof"]):
    assert sn > 0, "the inclusion proof is too long"
    if fn % 2 or fn == sn:
        h = H(b"\1", p, h)
        while fn % 2 == 0 and fn: fn, sn = fn // 2, sn // 2
    else: h = H(b"\1", h, p)
    fn, sn = fn // 2, sn // 2
origin, size, root = note_open(r["checkpoint"]["note"])
assert sn == 0 and h == base64.b64decode(root) and int(size) == r["checkpoint"]["tree_size"], "bad proof"
if r.get("promise"):  # the inclusion promise: a note by the same key naming this receipt and leaf
    lines = note_open(r["promise"] if isinstance(r["promise"], str) else r["promise"]["note"])
    assert lines[0] == "consentry/promise/v1" and lines[2:4] == [receipt_id, base64.b64encode(leaf).decode()]
print(f"OK: receipt {receipt_id} is leaf {r['leaf_index']} of {size} in {origin}, signed by {name}")
