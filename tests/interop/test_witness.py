"""Two instances: a Consentry server as the log and the witness CLI (witness/, no Consentry code) as
a separate process. The witness cosigns a log that grew, and refuses one shrunk or rewritten
under the same key, keeping its state."""

import base64
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.ledger.note import NoteSigner, note_sign
from tests.e2e.conftest import app_server_running, free_port
from tests.interop.conftest import REPO, records_add

HOST = "consent.example"
ORIGIN = f"{HOST}/consentry/demo"


def run_witness(*args):
    """The witness CLI in a separate, isolated interpreter that sees only witness/ (not Consentry)."""
    path = str(REPO / "witness")
    code = (
        f"import sys; sys.path.insert(0, {path!r}); from consentry_witness.cli import main; sys.exit(main())"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-I", "-c", code, *args],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_witness_cosigns_a_growing_log_and_refuses_a_shrunk_or_rewritten_one(tmp_path):
    seed = base64.b64encode(secrets.token_bytes(32)).decode()
    key_file, state = tmp_path / "witness.key", tmp_path / "state.json"
    made = run_witness("--generate-key", str(key_file), "--name", "witness.example/w1")
    assert made.returncode == 0, made.stderr
    witness_vkey = made.stdout.strip()
    same_log = {"LEDGER_SIGNING_KEY": seed, "LEDGER_LOG_HOST": HOST, "LEDGER_WITNESS_KEYS": witness_vkey}
    log_private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed))
    log_vkey = NoteSigner(name=ORIGIN, private=log_private).verifier.vkey

    def witness_round(server, *extra):
        return run_witness(
            "--log", f"{server.origin}/log/demo", "--origin", ORIGIN, "--log-vkey", log_vkey,
            "--key", str(key_file), "--name", "witness.example/w1", "--state", str(state), *extra,
        )  # fmt: skip

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with app_server_running(
        port=free_port(), workdir=tmp_path / "a", customer_origin="http://localhost:9", **same_log
    ) as log:
        receipts = records_add(log, 0, 5)
        log.manage("consent_seal")
        first = witness_round(log, "--submit")
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("\u2014 witness.example/w1 ")
        assert json.loads(state.read_text())[ORIGIN]["size"] == 5
        # The log keeps the cosignature and serves it with the checkpoint and in receipts.
        with urllib.request.urlopen(f"{log.origin}/log/demo/checkpoint") as response:
            assert response.read().decode().endswith(first.stdout)
        _, receipt = log.get_json(f"/api/public/v1/receipts/{receipts[0]}")
        assert [c["witness"] for c in receipt["checkpoint"]["cosignatures"]] == ["witness.example/w1"]
        with urllib.request.urlopen(f"{log.origin}/r/{receipts[0]}/") as response:
            assert "witnessed by witness.example/w1" in response.read().decode()
        # A cosignature from a key not configured: a 4xx, nothing stored.
        stranger = tmp_path / "stranger.key"
        run_witness("--generate-key", str(stranger), "--name", "stranger.example/w")
        request = urllib.request.Request(
            f"{log.origin}/api/public/v1/sites/demo/checkpoints/5/cosignatures",
            data=json.dumps(
                {"cosignature": first.stdout.replace("witness.example/w1", "stranger.example/w")}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 400 and json.loads(refused.value.read())["error"]
        _, listing = log.get_json("/api/public/v1/sites/demo/checkpoints")
        assert len(listing["checkpoints"][0]["cosignatures"]) == 1

        # The log grows past a tile: consistent, cosigned again; a promise it kept checks out.
        records_add(log, 5, 300)
        log.manage("consent_seal")
        signer = NoteSigner(name=ORIGIN, private=log_private)
        kept = note_sign(
            f"consentry/promise/v1\n{ORIGIN}\n{receipts[1]}\n"
            f"{base64.b64encode(bytes.fromhex(log.get_json(f'/api/public/v1/receipts/{receipts[1]}')[1]['leaf_sha256'])).decode()}\n"
            f"{datetime.now(UTC).isoformat()}\n300\n".encode(),
            signer,
        )
        (tmp_path / "kept.promise").write_bytes(kept)
        second = witness_round(log, "--promise", str(tmp_path / "kept.promise"))
        assert second.returncode == 0, second.stderr
        assert f"promise {receipts[1]}: its leaf is in the log" in second.stdout
        assert json.loads(state.read_text())[ORIGIN]["size"] == 300
        # A promise whose leaf never arrived, past its merge delay: refused.
        late = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        broken = note_sign(
            f"consentry/promise/v1\n{ORIGIN}\nRemovedReceipt0001\n{base64.b64encode(bytes(32)).decode()}\n{late}\n300\n".encode(),
            signer,
        )
        (tmp_path / "broken.promise").write_bytes(broken)
        refused_promise = witness_round(log, "--promise", str(tmp_path / "broken.promise"))
        assert refused_promise.returncode == 2 and "not in the log" in refused_promise.stderr
    witnessed = json.loads(state.read_text())[ORIGIN]

    # A second instance: the same key and name, another database, another history.
    with app_server_running(
        port=free_port(), workdir=tmp_path / "b", customer_origin="http://localhost:9", **same_log
    ) as fork:
        records_add(fork, 0, 3)
        fork.manage("consent_seal")
        shrunk = witness_round(fork)
        assert shrunk.returncode == 2 and "shrank from 300 to 3" in shrunk.stderr
        records_add(fork, 3, 310)
        fork.manage("consent_seal")
        rewritten = witness_round(fork)
        assert rewritten.returncode == 2, rewritten.stdout
        assert "does not extend size 300: the log was rewritten" in rewritten.stderr
        assert "the state file is unchanged" in rewritten.stderr
    assert json.loads(state.read_text())[ORIGIN] == witnessed
