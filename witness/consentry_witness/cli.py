# ruff: noqa: T201 - a command-line tool: it prints its results
"""consentry-witness: check that a log only grew, then cosign its checkpoint (C2SP tlog-cosignature/v1).

Written from the specifications (c2sp.org/signed-note, tlog-checkpoint, tlog-tiles,
tlog-cosignature; RFC 9162 §2.1) on `cryptography` and the standard library only.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DASH = "\u2014 "
TILE = 256


class Refused(Exception):
    """The log is not what a witness may cosign: a fork, a rewrite, a shrink, a bad signature."""


def sha256(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01", left, right)


def key_hash(name: str, algorithm: int, public: bytes) -> bytes:
    return sha256(name.encode(), b"\n", bytes([algorithm]), public)[:4]


def vkey_parse(vkey: str, algorithm: int) -> tuple[str, bytes]:
    try:
        name, hash_hex, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as error:
        raise SystemExit(f"not a verifier key: {vkey!r}") from error
    if len(raw) != 33 or raw[0] != algorithm or key_hash(name, algorithm, raw[1:]).hex() != hash_hex:
        raise SystemExit(f"not a valid algorithm-{algorithm} verifier key: {vkey!r}")
    return name, raw[1:]


def note_open(note: bytes, name: str, public: bytes) -> bytes:
    """The text of a signed note with a valid signature by (name, public); Refused otherwise."""
    split = note.rfind(b"\n\n")
    if split < 0 or not note.endswith(b"\n"):
        raise Refused("the checkpoint is not a signed note")
    text, lines = note[: split + 1], note[split + 2 : -1].decode().split("\n")
    wanted = key_hash(name, 0x01, public)
    for line in lines:
        if not line.startswith(DASH):
            raise Refused(f"not a signature line: {line!r}")
        signer, _, encoded = line[len(DASH) :].rpartition(" ")
        raw = base64.b64decode(encoded)
        if signer == name and raw[:4] == wanted:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text)
            except InvalidSignature as error:
                raise Refused(f"the signature by {name} does not verify") from error
            return text
    raise Refused(f"the checkpoint carries no signature by {name}")


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the log's URL, http(s)
            return response.read()
    except urllib.error.HTTPError as error:
        raise Refused(f"{url}: HTTP {error.code}") from error


def index_path(index: int) -> str:
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


class Tiles:
    """The hashes of the tree of `size` read from the log's tiles (height 8), fetched once each."""

    def __init__(self, log: str, size: int) -> None:
        self.log, self.size, self.cache = log, size, {}

    def _tile(self, level: int, index: int) -> bytes:
        count = self.size >> (8 * level)
        width = min(TILE, count - index * TILE)
        if width <= 0:
            raise Refused(f"asked for tile {level}/{index} beyond the tree")
        key = (level, index, width)
        if key not in self.cache:
            suffix = "" if width == TILE else f".p/{width}"
            data = fetch(f"{self.log}/tile/{level}/{index_path(index)}{suffix}")
            if len(data) != 32 * width:
                raise Refused(f"tile {level}/{index} has {len(data)} bytes, not {32 * width}")
            self.cache[key] = data
        return self.cache[key]

    def hash(self, level: int, index: int) -> bytes:
        """The perfect subtree at Merkle (level, index): read, or hashed up from the tile below."""
        base = level - level % 8
        span = 1 << (level - base)
        row = []
        for i in range(index * span, (index + 1) * span):
            tile = self._tile(base // 8, i // TILE)
            row.append(tile[(i % TILE) * 32 : (i % TILE) * 32 + 32])
        while len(row) > 1:
            row = [node(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        return row[0]

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for an aligned range: its perfect subtrees folded from the right."""
        parts, size = [], end - start
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                parts.append(self.hash(level, start >> level))
                start += 1 << level
        digest = parts[-1]
        for left in reversed(parts[:-1]):
            digest = node(left, digest)
        return digest

    def leaves(self) -> list[bytes]:
        return [self.hash(0, i) for i in range(self.size)]


def consistency_proof(tiles: Tiles, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1, built from the new tree's tiles."""
    ranges, start, end, is_root = [], 0, new, True
    while end != old:
        middle = start + (1 << ((end - start - 1).bit_length() - 1))
        if old <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start, is_root = middle, False
    if not is_root:
        ranges.append((start, end))
    return [tiles.range_hash(a, b) for a, b in reversed(ranges)]


def consistency_verify(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, for 0 < old < new."""
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def promise_check(path: Path, origin: str, log_name: str, log_key: bytes, tiles: Tiles, now: int) -> str:
    """A promise (a signed note "consentry/promise/v1", origin, receipt, base64 leaf, time, delay)
    must be the log's, and its leaf in the tree once its merge delay has passed."""
    text = note_open(path.read_bytes(), log_name, log_key).decode()
    lines = text.split("\n")[:-1]
    if len(lines) != 6 or lines[0] != "consentry/promise/v1" or lines[1] != origin:
        raise Refused(f"{path}: not a promise of {origin}")
    receipt, leaf, at, delay = lines[2], base64.b64decode(lines[3]), lines[4], int(lines[5])
    if leaf in tiles.leaves():
        return f"promise {receipt}: its leaf is in the log"
    due = _epoch(at) + delay
    if now > due:
        raise Refused(f"promise {receipt}: its leaf is not in the log {now - due} s after its merge delay")
    return f"promise {receipt}: not in the log yet, due within {due - now} s"


def _epoch(text: str) -> int:
    from datetime import datetime

    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def cosign(private: Ed25519PrivateKey, name: str, body: bytes, timestamp: int) -> str:
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body
    raw = key_hash(name, 0x04, public) + timestamp.to_bytes(8, "big") + private.sign(message)
    return f"{DASH}{name} {base64.b64encode(raw).decode()}\n"


def witness(args: argparse.Namespace) -> str:
    """One round: open, check against the state, cosign. Returns the cosignature line."""
    log_name, log_key = vkey_parse(args.log_vkey, 0x01)
    text = note_open(fetch(f"{args.log}/checkpoint"), log_name, log_key)
    lines = text.decode().split("\n")
    if len(lines) != 4 or lines[0] != args.origin:
        raise Refused(f"the checkpoint is not one of {args.origin} (or has extension lines)")
    size, root = int(lines[1]), base64.b64decode(lines[2])
    tiles = Tiles(args.log, size)
    if size and tiles.range_hash(0, size) != root:
        raise Refused("the log's tiles do not hash to its signed root: they were rewritten")
    state_path = Path(args.state)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    seen = state.get(args.origin)
    if seen is not None:
        old, old_root = seen["size"], base64.b64decode(seen["root"])
        if size < old:
            raise Refused(f"the log shrank from {old} to {size} entries")
        if size == old and root != old_root:
            raise Refused(f"a different root at size {size}: the log was rewritten (a fork)")
        if 0 < old < size and not consistency_verify(
            old, size, old_root, root, consistency_proof(tiles, old, size)
        ):
            raise Refused(f"size {size} does not extend size {old}: the log was rewritten (a fork)")
    now = int(time.time())
    for promise in args.promise or []:
        print(promise_check(Path(promise), args.origin, log_name, log_key, tiles, now))
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(Path(args.key).read_text().strip()))
    line = cosign(private, args.name, text, now)
    state[args.origin] = {"size": size, "root": lines[2]}
    temporary = state_path.with_name(state_path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(temporary, state_path)
    if args.submit:
        _submit(args, size, line)
    return line


def _submit(args: argparse.Namespace, size: int, line: str) -> None:
    site_key = args.origin.rsplit("/", 1)[1]
    server = args.log.rsplit("/log/", 1)[0]
    url = f"{server}/api/public/v1/sites/{site_key}/checkpoints/{size}/cosignatures"
    request = urllib.request.Request(  # noqa: S310 - the log's own URL
        url, data=json.dumps({"cosignature": line}).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            print(f"submitted: HTTP {response.status}", file=sys.stderr)
    except urllib.error.HTTPError as error:
        raise SystemExit(
            f"the log refused the cosignature: HTTP {error.code} {error.read()[:300]!r}"
        ) from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="consentry-witness", description=__doc__)
    parser.add_argument("--log", help="The log's tiles prefix, e.g. https://host/log/<site_key>.")
    parser.add_argument("--origin", help="The log's origin line, e.g. host/consentry/<site_key>.")
    parser.add_argument("--log-vkey", help="The log's verifier key.")
    parser.add_argument("--key", help="This witness's Ed25519 seed (base64) in a file.")
    parser.add_argument("--name", default="witness.example/w1", help="This witness's key name.")
    parser.add_argument("--state", help="The file keeping the last size and root seen, per origin.")
    parser.add_argument("--promise", action="append", help="An inclusion promise (signed note) to check.")
    parser.add_argument("--submit", action="store_true", help="Hand the cosignature to the log.")
    parser.add_argument("--generate-key", metavar="FILE", help="Write a new seed to FILE, print the vkey.")
    args = parser.parse_args(argv)
    if args.generate_key:
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes_raw()
        Path(args.generate_key).write_text(base64.b64encode(seed).decode() + "\n")
        os.chmod(args.generate_key, 0o600)
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        encoded = base64.b64encode(b"\x04" + public).decode()
        print(f"{args.name}+{key_hash(args.name, 0x04, public).hex()}+{encoded}")
        return 0
    missing = [flag for flag in ("log", "origin", "log_vkey", "key", "state") if not getattr(args, flag)]
    if missing:
        parser.error("missing " + ", ".join("--" + flag.replace("_", "-") for flag in missing))
    args.log = args.log.rstrip("/")
    try:
        print(witness(args), end="")
    except Refused as refusal:
        print(f"REFUSED: {refusal}. Not cosigned; the state file is unchanged.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
