"""Cosignatures from witnesses over HTTP: only configured keys, only valid signatures, nothing
written otherwise; served with the checkpoint; shown in the admin. And the witness package's
own Merkle code agrees with the ledger's."""

import time
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from consent.ledger.cosign import CosignatureVerifier, cosignature_line
from consent.ledger.merkle import MemoryNodeSource, consistency_proof
from consent.ledger.merkle import root as merkle_root
from consent.models import AuditEntry, Checkpoint, ConsentRecord, Cosignature
from tests.consent.test_ledger import body, post, site  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

WITNESS = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NAME = "witness.example/w1"


def vkey(private, name=NAME):
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return CosignatureVerifier(name=name, public_raw=raw).vkey


@pytest.fixture
def sealed(client, site, settings):  # noqa: F811
    settings.LEDGER_WITNESS_KEYS = [vkey(WITNESS)]
    for n in range(3):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    return Checkpoint.objects.get(site=site, tree_size=3)


def submit(client, line, size=3):
    return client.post(
        f"/api/public/v1/sites/shop/checkpoints/{size}/cosignatures",
        {"cosignature": line},
        content_type="application/json",
    )


def body_of(checkpoint):
    return checkpoint.note.split("\n\n")[0].encode() + b"\n"


def test_a_configured_witness_cosignature_is_stored_once_and_served_with_the_checkpoint(client, sealed):
    now = int(time.time())
    line = cosignature_line(name=NAME, private=WITNESS, body=body_of(sealed), timestamp=now)
    response = submit(client, line)
    assert response.status_code == 201, response.content
    assert response.json()["witness"] == NAME and response.json()["created"] is True
    assert submit(client, line).status_code == 200  # the same witness again: kept, not doubled
    assert Cosignature.objects.count() == 1
    assert AuditEntry.objects.filter(action="ledger.cosignature_add").count() == 1
    assert client.get("/log/shop/checkpoint").content.decode() == sealed.note + line
    listing = client.get("/api/public/v1/sites/shop/checkpoints").json()
    assert listing["checkpoints"][0]["cosignatures"][0]["witness"] == NAME
    assert listing["checkpoints"][0]["note"].endswith(line)
    # A receipt in it shows the cosignature too (on PostgreSQL read with the receipt's own statement).
    receipt_id = ConsentRecord.objects.order_by("id").values_list("receipt_id", flat=True)[1]
    receipt = client.get(f"/api/public/v1/receipts/{receipt_id}").json()
    assert [item["witness"] for item in receipt["checkpoint"]["cosignatures"]] == [NAME]
    assert receipt["checkpoint"]["note"] == sealed.note + line


@pytest.mark.parametrize(
    "case",
    ["unknown key", "wrong body", "future", "garbage", "not a line", "tampered"],
)
def test_a_cosignature_that_does_not_verify_is_a_400_and_writes_nothing(client, sealed, case):
    now = int(time.time())
    good = cosignature_line(name=NAME, private=WITNESS, body=body_of(sealed), timestamp=now)
    line = {
        "unknown key": cosignature_line(
            name=NAME, private=Ed25519PrivateKey.generate(), body=body_of(sealed), timestamp=now
        ),
        "wrong body": cosignature_line(
            name=NAME, private=WITNESS, body=b"other/log\n3\nAAAA\n", timestamp=now
        ),
        "future": cosignature_line(name=NAME, private=WITNESS, body=body_of(sealed), timestamp=now + 3600),
        "garbage": "\u2014 witness.example/w1 !!!",
        "not a line": "hello",
        "tampered": good[:-6] + ("A" if good[-6] != "A" else "B") + good[-5:],
    }[case]
    response = submit(client, line)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"]
    assert not Cosignature.objects.exists() and not AuditEntry.objects.filter(action="ledger.cosignature_add")


def test_a_cosignature_of_an_unknown_checkpoint_or_site_is_a_404(client, sealed):
    line = cosignature_line(name=NAME, private=WITNESS, body=body_of(sealed), timestamp=int(time.time()))
    assert submit(client, line, size=99).status_code == 404
    assert (
        client.post(
            "/api/public/v1/sites/nosuch/checkpoints/3/cosignatures",
            {"cosignature": line},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert submit(client, "").status_code == 400
    assert not Cosignature.objects.exists()


def test_the_admin_checkpoint_list_says_who_witnessed_it(admin_client, sealed):
    line = cosignature_line(name=NAME, private=WITNESS, body=body_of(sealed), timestamp=int(time.time()))
    assert submit(admin_client, line).status_code == 201
    page = admin_client.get("/admin/consent/checkpoint/").content.decode()
    assert f"witnessed by {NAME} at " in page


def test_the_witness_packages_merkle_code_agrees_with_the_ledgers(tmp_path):
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "witness"))
    try:
        from consentry_witness import cli
    finally:
        sys.path.pop(0)
    leaves = [bytes([i % 256, i // 256]) * 16 for i in range(700)]
    source = MemoryNodeSource.from_leaf_hashes(leaves)

    class MemoryTiles(cli.Tiles):
        def _tile(self, level, index):
            count = self.size >> (8 * level)
            width = min(256, count - index * 256)
            nodes = source.nodes([(8 * level, index * 256 + i) for i in range(width)])
            return b"".join(nodes[(8 * level, index * 256 + i)] for i in range(width))

    for new in (1, 2, 255, 256, 257, 300, 511, 512, 513, 700):
        tiles = MemoryTiles("memory", new)
        new_root = merkle_root(tree_size=new, source=source)
        assert tiles.range_hash(0, new) == new_root
        for old in {1, 2, 3, 128, 255, 256, 257, new - 1} - {0}:
            if not 0 < old < new:
                continue
            proof = cli.consistency_proof(tiles, old, new)
            assert proof == consistency_proof(old_size=old, new_size=new, source=source)
            old_root = merkle_root(tree_size=old, source=source)
            assert cli.consistency_verify(old, new, old_root, new_root, proof)
            assert not cli.consistency_verify(old, new, b"\xff" * 32, new_root, proof)
    assert [cli.index_path(n) for n in (0, 1000, 1234067)] == ["000", "x001/000", "x001/x234/067"]


def test_a_malformed_witness_key_is_a_system_check_error_and_trusts_no_one(client, sealed, settings):
    from django.core import checks

    settings.LEDGER_WITNESS_KEYS = ["not-a-vkey", vkey(WITNESS)]
    errors = [m for m in checks.run_checks() if m.id == "consentry.E024"]
    assert len(errors) == 1 and "not-a-vkey" in errors[0].msg
    line = cosignature_line(name=NAME, private=WITNESS, body=body_of(sealed), timestamp=int(time.time()))
    assert submit(client, line).status_code == 201  # the valid key still counts
