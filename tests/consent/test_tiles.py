"""The log as C2SP tlog-tiles: /log/<key>/checkpoint and tiles over HTTP, and consent_tiles_write."""

import base64
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from consent.ledger.merkle import MemoryNodeSource, node_hash
from consent.ledger.merkle import root as merkle_root
from consent.ledger.note import note_open, verifier_from_vkey
from consent.ledger.tiles import index_path
from tests.consent.test_ledger import record_at, site  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def entries(bundle):
    """The entries of a tlog-tiles entry bundle: 2-byte big-endian length, then the data."""
    out, at = [], 0
    while at < len(bundle):
        length = int.from_bytes(bundle[at : at + 2], "big")
        out.append(bundle[at + 2 : at + 2 + length])
        at += 2 + length
    return out


def hashes(tile):
    return [tile[i : i + 32] for i in range(0, len(tile), 32)]


@pytest.fixture
def sealed_300(site):  # noqa: F811
    now = timezone.now()
    for n in range(300):
        record_at(now, visitor_id=f"visitor-{n:012d}")
    call_command("consent_seal", stdout=StringIO())
    return site


def test_the_log_serves_a_c2sp_checkpoint_and_tiles_that_rebuild_its_root(client, sealed_300):
    listing = client.get("/api/public/v1/sites/shop/checkpoints").json()
    response = client.get("/log/shop/checkpoint", HTTP_ORIGIN="https://anywhere.example")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=10"
    note = response.content
    assert note.decode() == listing["checkpoints"][0]["note"]
    origin, size, root_b64 = note_open(note, [verifier_from_vkey(listing["vkey"])]).text.decode().splitlines()
    assert (origin, size) == ("127.0.0.1:8000/consentry/shop", "300")

    full = client.get("/log/shop/tile/0/000")
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full["Content-Type"] == "application/octet-stream" and len(full.content) == 256 * 32
    partial = client.get("/log/shop/tile/0/001.p/44")
    assert partial["Cache-Control"] == "public, max-age=10" and len(partial.content) == 44 * 32
    leaves = hashes(full.content) + hashes(partial.content)
    # The entries hash to the leaves, and carry no personal data, only its commitment.
    bundle = entries(client.get("/log/shop/tile/entries/000").content) + entries(
        client.get("/log/shop/tile/entries/001.p/44").content
    )
    assert [hashlib.sha256(b"\x00" + entry).digest() for entry in bundle] == leaves
    assert b"visitor-" not in b"".join(bundle) and b'"personal":"' in bundle[0]
    assert merkle_root(tree_size=300, source=MemoryNodeSource.from_leaf_hashes(leaves)) == base64.b64decode(
        root_b64
    )
    # Level 1 holds the level-8 subtree hashes: one so far, the hash of the first 256 leaves.
    level_one = client.get("/log/shop/tile/1/000.p/1").content
    row = leaves[:256]
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    assert level_one == row[0]
    # An older, narrower partial tile is served too (a witness holding an older checkpoint).
    assert client.get("/log/shop/tile/0/001.p/3").content == partial.content[: 3 * 32]


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/001",  # not full yet
        "tile/0/001.p/45",  # wider than the tree
        "tile/0/002.p/1",
        "tile/1/000",
        "tile/2/000.p/1",  # no level-16 node in a tree of 300
        "tile/0/x000/000",  # not the canonical path of tile 0
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/9/000",
        "tile/entries/001",
        "tile/entries/%C2%84",  # no route at all: still the JSON 404
        "tile",
    ],
)
def test_a_tile_beyond_the_tree_or_off_the_format_is_a_json_404(client, sealed_300, path):
    response = client.get(f"/log/shop/{path}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_log_without_a_c2sp_checkpoint_or_site_is_a_json_404(client, site):  # noqa: F811
    assert client.get("/log/shop/checkpoint").status_code == 404
    assert client.get("/log/nosuchsite/checkpoint").json()["error"]["code"] == "not_found"
    assert client.get("/log/nosuchsite/tile/0/000").status_code == 404


def test_tile_indexes_are_written_in_groups_of_three_digits():
    assert [index_path(n) for n in (0, 7, 999, 1000, 1234067)] == [
        "000",
        "007",
        "999",
        "x001/000",
        "x001/x234/067",
    ]


def test_tiles_write_puts_the_same_files_in_a_directory_and_keeps_full_tiles(client, sealed_300, tmp_path):
    out = StringIO()
    call_command("consent_tiles_write", "shop", str(tmp_path), stdout=out)
    assert "files written" in out.getvalue()
    for path in ["checkpoint", "tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1", "tile/entries/001.p/44"]:
        assert (tmp_path / path).read_bytes() == client.get(f"/log/shop/{path}").content
    full_tile = tmp_path / "tile/0/000"
    mtime = full_tile.stat().st_mtime_ns
    now = timezone.now()
    for n in range(300, 520):
        record_at(now, visitor_id=f"visitor-{n:012d}")
    call_command("consent_seal", stdout=StringIO())
    out = StringIO()
    call_command("consent_tiles_write", "shop", str(tmp_path), stdout=out)
    assert "2 full tiles kept" in out.getvalue()  # tile 0 and entry bundle 0
    assert full_tile.stat().st_mtime_ns == mtime
    assert (tmp_path / "tile/0/001").read_bytes() == client.get("/log/shop/tile/0/001").content
    assert (tmp_path / "checkpoint").read_bytes().split(b"\n")[1] == b"520"
    with pytest.raises(CommandError):
        call_command("consent_tiles_write", "nosuchsite", str(tmp_path))
