"""A receipt and a checkpoint checked by code that is not Consentry's: the README's script (hashlib
and `cryptography` only) and Go's golang.org/x/mod/sumdb/note and sumdb/tlog, against a live server."""

import base64
import os
import re
import subprocess
import sys

import pytest

from tests.interop.conftest import INTEROP, REPO, go_available, go_run, records_add

SCRIPT = REPO / "docs" / "verify_receipt.py"


def test_the_readme_shows_the_verify_script_that_is_tested_here():
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```python\n(# fmt: off\n.*?)```", readme, re.S)
    assert block is not None and block.group(1) == SCRIPT.read_text()


def test_a_receipt_verifies_with_a_script_that_uses_no_consentry_code(log_server):
    receipts = records_add(log_server, 0, 5)
    log_server.manage("consent_seal")
    status, listing = log_server.get_json("/api/public/v1/sites/demo/checkpoints")
    assert status == 200
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    # Run from an empty directory with -I (isolated): nothing of the repository is importable.
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), log_server.origin, receipts[2], listing["vkey"]],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"OK: receipt {receipts[2]} is leaf ") and "demo" in done.stdout
    # Another key (the same name, a different public key) is refused.
    name = listing["vkey"].split("+", 1)[0]
    other = os.urandom(32)
    from consent.ledger.note import NoteVerifier

    wrong = NoteVerifier(name=name, public_raw=other).vkey
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), log_server.origin, receipts[2], wrong],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "no signature by this vkey" in done.stderr


@pytest.mark.skipif(not go_available(), reason="Go and Debian's golang-golang-x-mod-dev are not installed")
def test_a_checkpoint_and_its_tiles_verify_with_go_sumdb_note_and_tlog(log_server, tmp_path):
    records_add(log_server, 100, 400)
    log_server.manage("consent_seal")
    status, listing = log_server.get_json("/api/public/v1/sites/demo/checkpoints")
    newest, older = listing["checkpoints"][0], listing["checkpoints"][1]
    assert newest["tree_size"] > 256 > older["tree_size"]
    old_root = base64.b64encode(bytes.fromhex(older["root_hash"])).decode()
    done = go_run(
        INTEROP / "verify_checkpoint.go",
        f"{log_server.origin}/log/demo",
        listing["vkey"],
        str(older["tree_size"]),
        old_root,
        gocache=tmp_path / "gocache",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"size {newest['tree_size']}: note.Open, TileHashReader" in done.stdout
    assert f"ProveTree/CheckTree from {older['tree_size']}" in done.stdout
    # A rewritten older root is caught by Go's CheckTree.
    forged = base64.b64encode(bytes(32)).decode()
    done = go_run(
        INTEROP / "verify_checkpoint.go",
        f"{log_server.origin}/log/demo",
        listing["vkey"],
        str(older["tree_size"]),
        forged,
        gocache=tmp_path / "gocache",
    )
    assert done.returncode != 0 and "CheckTree" in done.stderr
