import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from consent.ledger.merkle import (
    EMPTY_ROOT,
    Key,
    MemoryNodeSource,
    Node,
    append_leaves,
    consistency_proof,
    consistency_proof_verify,
    frontier_keys,
    frontier_read,
    inclusion_proof,
    inclusion_proof_verify,
    leaf_hash,
    node_hash,
    root,
    root_from_frontier,
    subtree_hash,
)

# --- the RFC, read literally, on a plain list of entries -------------------------------------
# An independent statement of RFC 6962 §2.1 (MTH), §2.1.1 (PATH) and §2.1.2 (PROOF/SUBPROOF)
# that hashes with hashlib directly, so the module is never checked against itself.


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(entries: Sequence[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + rfc_mth(entries[:k]) + rfc_mth(entries[k:])).digest()


def rfc_path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    n = len(entries)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return rfc_path(m, entries[:k]) + [rfc_mth(entries[k:])]
    return rfc_path(m - k, entries[k:]) + [rfc_mth(entries[:k])]


def rfc_proof(m: int, entries: Sequence[bytes]) -> list[bytes]:
    return rfc_subproof(m, entries, True)


def rfc_subproof(m: int, entries: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if b else [rfc_mth(entries)]
    k = _k(n)
    if m <= k:
        return rfc_subproof(m, entries[:k], b) + [rfc_mth(entries[k:])]
    return rfc_subproof(m - k, entries[k:], False) + [rfc_mth(entries[:k])]


class CountingSource:
    """Wraps a source and records every `nodes()` call, to bound what a proof reads."""

    def __init__(self, inner: MemoryNodeSource) -> None:
        self.inner = inner
        self.calls = 0
        self.keys: list[Key] = []

    def nodes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        self.calls += 1
        self.keys.extend(keys)
        return self.inner.nodes(keys)

    def reset(self) -> None:
        self.calls = 0
        self.keys = []


class NoSource:
    def nodes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        raise AssertionError(f"nothing should be read, asked for {keys}")


def h(hex_digest: str) -> bytes:
    return bytes.fromhex(hex_digest)


def all_perfect_keys(tree_size: int) -> list[Key]:
    return [(level, index) for level in range(tree_size.bit_length()) for index in range(tree_size >> level)]


# --- known answers ---------------------------------------------------------------------------
# The reference tree of the Certificate Transparency implementations: eight entries, their
# roots for sizes 1..8, and proofs over them. Quoted from google/certificate-transparency
# cpp/merkletree/merkle_tree_test.cc (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs)
# and transparency-dev/merkle proof/verify_test.go (the same values, plus the 6 -> 7
# consistency proof). Both number leaves from 1 in their path tables; the indices below
# are 0-based.

REFERENCE_ENTRIES = [
    h(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
REFERENCE_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (index, tree_size) -> PATH
REFERENCE_INCLUSION_PROOFS = {
    (0, 1): [],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    ],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
# (old_size, new_size) -> PROOF
REFERENCE_CONSISTENCY_PROOFS = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (6, 7): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


@pytest.fixture(scope="module")
def reference_tree() -> MemoryNodeSource:
    return MemoryNodeSource.from_leaf_hashes([leaf_hash(entry) for entry in REFERENCE_ENTRIES])


def test_leaves_and_nodes_are_hashed_with_the_rfc_6962_domain_prefixes():
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"") == h(REFERENCE_ROOTS[1])
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert node_hash(left, right) != node_hash(right, left)


def test_the_empty_tree_hashes_to_sha256_of_nothing_without_reading_the_store():
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == h(REFERENCE_ROOTS[0])
    assert root(tree_size=0, source=NoSource()) == EMPTY_ROOT
    assert root_from_frontier([]) == EMPTY_ROOT
    assert frontier_keys(0) == []


def test_roots_of_the_reference_tree_match_the_published_vectors_for_every_size(reference_tree):
    appended = append_leaves(tree_size=0, frontier=[], leaf_hashes=[])
    for size, expected in enumerate(REFERENCE_ROOTS):
        assert root(tree_size=size, source=reference_tree).hex() == expected, size
        assert rfc_mth(REFERENCE_ENTRIES[:size]).hex() == expected, size
        assert appended.root.hex() == expected, size
        if size < len(REFERENCE_ENTRIES):
            appended = append_leaves(
                tree_size=appended.tree_size,
                frontier=appended.frontier,
                leaf_hashes=[leaf_hash(REFERENCE_ENTRIES[size])],
            )


def test_inclusion_proofs_of_the_reference_tree_match_the_published_vectors(reference_tree):
    for (index, size), expected in REFERENCE_INCLUSION_PROOFS.items():
        proof = inclusion_proof(index=index, tree_size=size, source=reference_tree)

        assert [p.hex() for p in proof] == expected, (index, size)
        assert inclusion_proof_verify(
            leaf_hash=leaf_hash(REFERENCE_ENTRIES[index]),
            index=index,
            tree_size=size,
            proof=[h(p) for p in expected],
            root=h(REFERENCE_ROOTS[size]),
        )


def test_consistency_proofs_of_the_reference_tree_match_the_published_vectors(reference_tree):
    for (old_size, new_size), expected in REFERENCE_CONSISTENCY_PROOFS.items():
        proof = consistency_proof(old_size=old_size, new_size=new_size, source=reference_tree)

        assert [p.hex() for p in proof] == expected, (old_size, new_size)
        assert consistency_proof_verify(
            old_size=old_size,
            new_size=new_size,
            old_root=h(REFERENCE_ROOTS[old_size]),
            new_root=h(REFERENCE_ROOTS[new_size]),
            proof=[h(p) for p in expected],
        )


# Which stored nodes each proof is made of: transparency-dev/merkle proof/proof_test.go
# (TestInclusion, TestConsistency), where compact.NewNodeID(level, index) names the same
# perfect subtrees as our (level, index) keys. A proof that reads exactly these is built
# from stored nodes only, and reads no more of them than that implementation does.
# (index, tree_size) -> nodes
TRANSPARENCY_DEV_INCLUSION_NODES = {
    (0, 1): [],
    (0, 2): [(0, 1)],
    (1, 2): [(0, 0)],
    (1, 3): [(0, 0), (0, 2)],
    (0, 7): [(0, 1), (1, 1), (0, 6), (1, 2)],
    (1, 7): [(0, 0), (1, 1), (0, 6), (1, 2)],
    (2, 7): [(0, 3), (1, 0), (0, 6), (1, 2)],
    (3, 7): [(0, 2), (1, 0), (0, 6), (1, 2)],
    (4, 7): [(0, 5), (0, 6), (2, 0)],
    (5, 7): [(0, 4), (0, 6), (2, 0)],
    (6, 7): [(1, 2), (2, 0)],
    (2, 4): [(0, 3), (1, 0)],
    (3, 5): [(0, 2), (1, 0), (0, 4)],
    (3, 6): [(0, 2), (1, 0), (1, 2)],
    (4, 6): [(0, 5), (2, 0)],
    (10, 15): [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)],
    (24, 31): [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)],
    (81, 95): [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)],
}
# (old_size, new_size) -> nodes
TRANSPARENCY_DEV_CONSISTENCY_NODES = {
    (1, 2): [(0, 1)],
    (1, 4): [(0, 1), (1, 1)],
    (1, 6): [(0, 1), (1, 1), (1, 2)],
    (2, 3): [(0, 2)],
    (2, 8): [(1, 1), (2, 1)],
    (3, 7): [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)],
    (4, 7): [(0, 6), (1, 2)],
    (5, 7): [(0, 4), (0, 5), (0, 6), (2, 0)],
    (6, 7): [(1, 2), (0, 6), (2, 0)],
    (7, 8): [(0, 6), (0, 7), (1, 2), (2, 0)],
    (1, 1): [],
    (2, 2): [],
    (3, 3): [],
    (4, 4): [],
    (5, 5): [],
    (7, 7): [],
    (8, 8): [],
    (2, 4): [(1, 1)],
    (3, 5): [(0, 2), (0, 3), (1, 0), (0, 4)],
    (3, 6): [(0, 2), (0, 3), (1, 0), (1, 2)],
    (4, 6): [(1, 2)],
    (1, 7): [(0, 1), (1, 1), (0, 6), (1, 2)],
    (10, 15): [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)],
    (24, 31): [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)],
    (81, 95): [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)],
}


def test_proofs_read_exactly_the_stored_nodes_that_transparency_dev_reads_in_one_call():
    source = CountingSource(MemoryNodeSource.from_leaf_hashes([leaf_hash(b"%d" % i) for i in range(95)]))
    for (index, size), expected in TRANSPARENCY_DEV_INCLUSION_NODES.items():
        source.reset()
        inclusion_proof(index=index, tree_size=size, source=source)
        assert sorted(source.keys) == sorted(expected), (index, size)
        assert source.calls == (1 if expected else 0), (index, size)
    for (old_size, new_size), expected in TRANSPARENCY_DEV_CONSISTENCY_NODES.items():
        source.reset()
        consistency_proof(old_size=old_size, new_size=new_size, source=source)
        assert sorted(source.keys) == sorted(expected), (old_size, new_size)
        assert source.calls == (1 if expected else 0), (old_size, new_size)


# Edge cases of transparency-dev/merkle proof/verify_test.go (TestVerifyInclusion,
# TestVerifyInclusionSingleEntry, TestVerifyConsistency). Its "don't care" roots are
# 12-byte strings; ours must be 32 bytes to be considered at all, so they are hashes here.
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
ROOT_1 = hashlib.sha256(b"don't care 1").digest()
ROOT_2 = hashlib.sha256(b"don't care 2").digest()


def test_inclusion_in_an_impossible_position_never_verifies():
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        for leaf, tree_root in [(SOME_HASH, b""), (b"", EMPTY_ROOT), (SOME_HASH, EMPTY_ROOT)]:
            assert not inclusion_proof_verify(
                leaf_hash=leaf, index=index, tree_size=size, proof=[], root=tree_root
            )


def test_a_single_leaf_is_its_own_root_but_a_malformed_hash_is_not():
    digest = leaf_hash(b"data")
    assert inclusion_proof_verify(leaf_hash=digest, index=0, tree_size=1, proof=[], root=digest)
    for leaf, tree_root in [(digest, b""), (b"", digest), (b"", b"")]:
        assert not inclusion_proof_verify(leaf_hash=leaf, index=0, tree_size=1, proof=[], root=tree_root)


@pytest.mark.parametrize(
    ("old_size", "new_size", "old_root", "new_root", "proof", "expected"),
    [
        pytest.param(0, 0, ROOT_1, ROOT_2, [], False, id="empty trees with different roots"),
        pytest.param(1, 1, ROOT_1, ROOT_2, [], False, id="same size with different roots"),
        pytest.param(0, 0, ROOT_1, ROOT_1, [], True, id="empty trees with the same root"),
        pytest.param(0, 1, ROOT_1, ROOT_2, [], True, id="anything extends the empty tree"),
        pytest.param(1, 1, ROOT_2, ROOT_2, [], True, id="same size with the same root"),
        pytest.param(1, 0, ROOT_1, ROOT_2, [], False, id="shrinking to empty"),
        pytest.param(2, 1, ROOT_1, ROOT_2, [], False, id="shrinking"),
        pytest.param(1, 2, ROOT_1, ROOT_2, [], False, id="growing with no proof"),
        pytest.param(0, 0, EMPTY_ROOT, ROOT_2, [], False, id="empty trees, one with a wrong root"),
        pytest.param(1, 1, EMPTY_ROOT, ROOT_2, [], False, id="same size, roots differ"),
        pytest.param(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False, id="empty trees with a proof"),
        pytest.param(0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False, id="from empty with a proof"),
        pytest.param(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False, id="same size with a proof"),
        # Ours, not the reference suite's: a root that is not a SHA-256 hash is not a root.
        pytest.param(1, 1, b"", b"", [], False, id="empty strings as roots"),
        pytest.param(0, 1, b"don't care 1", ROOT_2, [], False, id="a short old root"),
    ],
)
def test_consistency_edge_cases_verify_as_the_reference_suite_says(
    old_size, new_size, old_root, new_root, proof, expected
):
    assert (
        consistency_proof_verify(
            old_size=old_size, new_size=new_size, old_root=old_root, new_root=new_root, proof=proof
        )
        is expected
    )


# --- properties: every size up to 64 against the RFC text ------------------------------------

ENTRIES = [b"consent record %d" % i for i in range(64)]
MAX_SIZE = len(ENTRIES)


@pytest.fixture(scope="module")
def tree() -> MemoryNodeSource:
    return MemoryNodeSource.from_leaf_hashes([leaf_hash(entry) for entry in ENTRIES])


@pytest.fixture(scope="module")
def rfc_roots() -> list[bytes]:
    return [rfc_mth(ENTRIES[:size]) for size in range(MAX_SIZE + 1)]


def test_the_root_is_the_rfc_mth_for_every_size_up_to_64(tree, rfc_roots):
    source = CountingSource(tree)
    for size in range(MAX_SIZE + 1):
        source.reset()
        assert root(tree_size=size, source=source) == rfc_roots[size], size
        assert source.calls == (1 if size else 0)
        assert len(source.keys) == size.bit_count()


def test_the_frontier_tiles_the_tree_with_perfect_subtrees_largest_first():
    for size in range(MAX_SIZE * 4):
        covered = 0
        for level, index in frontier_keys(size):
            assert index * 2**level == covered, size
            covered += 2**level
        assert covered == size
        levels = [level for level, _ in frontier_keys(size)]
        assert levels == sorted(levels, reverse=True) and len(set(levels)) == len(levels)


def test_subtree_hash_is_the_rfc_mth_of_every_range_a_proof_can_use(tree):
    source = CountingSource(tree)
    usable = 0
    for start in range(MAX_SIZE + 1):
        for end in range(start, MAX_SIZE + 1):
            length = end - start
            if length and start % (1 << (length.bit_length() - 1)):
                with pytest.raises(ValueError):
                    subtree_hash(start=start, end=end, source=source)
                continue
            usable += 1
            source.reset()
            assert subtree_hash(start=start, end=end, source=source) == rfc_mth(ENTRIES[start:end])
            assert source.calls <= 1 and len(source.keys) <= length.bit_length()
    assert usable > MAX_SIZE * 4


def test_every_inclusion_proof_up_to_64_leaves_is_the_rfc_path_and_verifies(tree, rfc_roots):
    source = CountingSource(tree)
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            source.reset()
            proof = inclusion_proof(index=index, tree_size=size, source=source)

            assert proof == rfc_path(index, ENTRIES[:size]), (index, size)
            assert source.calls == (1 if proof else 0)
            assert inclusion_proof_verify(
                leaf_hash=leaf_hash(ENTRIES[index]),
                index=index,
                tree_size=size,
                proof=proof,
                root=rfc_roots[size],
            ), (index, size)


def test_every_consistency_proof_up_to_64_leaves_is_the_rfc_proof_and_verifies(tree, rfc_roots):
    source = CountingSource(tree)
    for new_size in range(MAX_SIZE + 1):
        for old_size in range(new_size + 1):
            source.reset()
            proof = consistency_proof(old_size=old_size, new_size=new_size, source=source)

            # RFC 6962 defines PROOF only for 0 < m; an empty tree needs no proof.
            assert proof == (rfc_proof(old_size, ENTRIES[:new_size]) if old_size else []), (
                old_size,
                new_size,
            )
            assert source.calls == (1 if proof else 0)
            assert consistency_proof_verify(
                old_size=old_size,
                new_size=new_size,
                old_root=rfc_roots[old_size],
                new_root=rfc_roots[new_size],
                proof=proof,
            ), (old_size, new_size)


def _flip_bit(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    altered = list(proof)
    element = bytearray(altered[position])
    element[bit // 8] ^= 1 << (bit % 8)
    altered[position] = bytes(element)
    return altered


# The lowest and highest bit of the hash, and one in the middle.
FLIPPED_BITS = (0, 131, 255)


def _tampered_inclusions(
    index: int, size: int, leaf: bytes, proof: list[bytes], tree_root: bytes, other_leaf: bytes
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The corruptions of the CT and transparency-dev verifier tests, and a few more."""
    good = {"leaf_hash": leaf, "index": index, "tree_size": size, "proof": proof, "root": tree_root}
    yield "wrong leaf", {**good, "leaf_hash": other_leaf}
    yield "leaf data instead of its hash", {**good, "leaf_hash": b"WrongLeaf"}
    yield "index - 1", {**good, "index": index - 1}
    yield "index + 1", {**good, "index": index + 1}
    yield "index ^ 2", {**good, "index": index ^ 2}
    yield "size * 2", {**good, "tree_size": size * 2}
    yield "size // 2", {**good, "tree_size": size // 2}
    yield "empty root", {**good, "root": EMPTY_ROOT}
    yield "random root", {**good, "root": SOME_HASH}
    yield "trailing garbage", {**good, "proof": [*proof, b""]}
    yield "trailing root", {**good, "proof": [*proof, tree_root]}
    yield "trailing hash", {**good, "proof": [*proof, SOME_HASH]}
    yield "preceding garbage", {**good, "proof": [b"", *proof]}
    yield "preceding root", {**good, "proof": [tree_root, *proof]}
    if proof:
        yield "truncated", {**good, "proof": proof[:-1]}
        yield "first element removed", {**good, "proof": proof[1:]}
    if len(proof) > 1:
        yield "reversed", {**good, "proof": proof[::-1]}
        yield "inserted component", {**good, "proof": [proof[0], SOME_HASH, *proof[1:]]}
    for position in range(len(proof)):
        for bit in FLIPPED_BITS:
            yield f"proof[{position}] bit {bit}", {**good, "proof": _flip_bit(proof, position, bit)}


def test_no_tampered_inclusion_proof_up_to_64_leaves_verifies(tree, rfc_roots):
    accepted = []
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            proof = inclusion_proof(index=index, tree_size=size, source=tree)
            other_leaf = leaf_hash(ENTRIES[(index + 1) % MAX_SIZE])
            for what, kwargs in _tampered_inclusions(
                index, size, leaf_hash(ENTRIES[index]), proof, rfc_roots[size], other_leaf
            ):
                if inclusion_proof_verify(**kwargs):
                    accepted.append((index, size, what))
    assert accepted == []


def _tampered_consistencies(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes], other_root: bytes
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The corruptions of the CT and transparency-dev verifier tests, and a few more."""
    good = {
        "old_size": old_size,
        "new_size": new_size,
        "old_root": old_root,
        "new_root": new_root,
        "proof": proof,
    }
    yield "old size - 1", {**good, "old_size": old_size - 1}
    yield "old size + 1", {**good, "old_size": old_size + 1}
    yield "old size ^ 2", {**good, "old_size": old_size ^ 2}
    yield "new size * 2", {**good, "new_size": new_size * 2}
    yield "new size // 2", {**good, "new_size": new_size // 2}
    yield "wrong old root", {**good, "old_root": b"WrongRoot"}
    yield "wrong new root", {**good, "new_root": b"WrongRoot"}
    yield "old root of another tree", {**good, "old_root": other_root}
    yield "new root of another tree", {**good, "new_root": other_root}
    yield "swapped roots", {**good, "old_root": new_root, "new_root": old_root}
    yield "empty proof", {**good, "proof": []}
    yield "trailing garbage", {**good, "proof": [*proof, b""]}
    yield "trailing old root", {**good, "proof": [*proof, old_root]}
    yield "trailing new root", {**good, "proof": [*proof, new_root]}
    yield "trailing last element", {**good, "proof": [*proof, proof[-1]]}
    yield "preceding garbage", {**good, "proof": [b"", *proof]}
    yield "preceding old root", {**good, "proof": [old_root, *proof]}
    yield "preceding new root", {**good, "proof": [new_root, *proof]}
    yield "preceding proof[0]", {**good, "proof": [proof[0], *proof]}
    yield "truncated", {**good, "proof": proof[:-1]}
    yield "first element removed", {**good, "proof": proof[1:]}
    for position in range(len(proof)):
        for bit in FLIPPED_BITS:
            yield f"proof[{position}] bit {bit}", {**good, "proof": _flip_bit(proof, position, bit)}


def test_no_tampered_consistency_proof_up_to_64_leaves_verifies(tree, rfc_roots):
    accepted = []
    for new_size in range(2, MAX_SIZE + 1):
        other_root = rfc_mth([b"another site", *ENTRIES[1:new_size]])
        for old_size in range(1, new_size):
            proof = consistency_proof(old_size=old_size, new_size=new_size, source=tree)
            for what, kwargs in _tampered_consistencies(
                old_size, new_size, rfc_roots[old_size], rfc_roots[new_size], proof, other_root
            ):
                if consistency_proof_verify(**kwargs):
                    accepted.append((old_size, new_size, what))
    assert accepted == []


def test_verifiers_answer_false_to_malformed_values_and_raise_only_on_wrong_types(tree, rfc_roots):
    proof = inclusion_proof(index=3, tree_size=10, source=tree)
    good = {
        "leaf_hash": leaf_hash(ENTRIES[3]),
        "index": 3,
        "tree_size": 10,
        "proof": proof,
        "root": rfc_roots[10],
    }
    assert inclusion_proof_verify(**good)
    assert not inclusion_proof_verify(**{**good, "index": -1})
    assert not inclusion_proof_verify(**{**good, "tree_size": -10})
    assert not inclusion_proof_verify(**{**good, "proof": [*proof, *[SOME_HASH] * 1000]})
    assert not inclusion_proof_verify(**{**good, "proof": [p + b"\x00" for p in proof]})
    assert not inclusion_proof_verify(**{**good, "root": rfc_roots[10][:31]})
    with pytest.raises(TypeError):
        inclusion_proof_verify(**{**good, "proof": [p.hex() for p in proof]})
    with pytest.raises(TypeError):
        inclusion_proof_verify(**{**good, "root": rfc_roots[10].hex()})

    proof = consistency_proof(old_size=3, new_size=10, source=tree)
    good = {
        "old_size": 3,
        "new_size": 10,
        "old_root": rfc_roots[3],
        "new_root": rfc_roots[10],
        "proof": proof,
    }
    assert consistency_proof_verify(**good)
    assert not consistency_proof_verify(**{**good, "old_size": -3})
    assert not consistency_proof_verify(**{**good, "proof": [*proof, *[SOME_HASH] * 1000]})
    assert not consistency_proof_verify(**{**good, "proof": [p[:16] for p in proof]})
    with pytest.raises(TypeError):
        consistency_proof_verify(**{**good, "proof": [None, *proof]})


def test_proofs_are_refused_for_positions_outside_the_tree(tree):
    for index, size in [(0, 0), (1, 1), (-1, 5), (64, 64)]:
        with pytest.raises(ValueError):
            inclusion_proof(index=index, tree_size=size, source=tree)
    for old_size, new_size in [(2, 1), (-1, 4)]:
        with pytest.raises(ValueError):
            consistency_proof(old_size=old_size, new_size=new_size, source=tree)
    with pytest.raises(ValueError):
        frontier_keys(-1)


def test_a_proof_of_an_empty_or_unchanged_tree_is_empty_and_reads_nothing():
    assert consistency_proof(old_size=0, new_size=0, source=NoSource()) == []
    assert consistency_proof(old_size=0, new_size=7, source=NoSource()) == []
    assert consistency_proof(old_size=7, new_size=7, source=NoSource()) == []
    assert inclusion_proof(index=0, tree_size=1, source=NoSource()) == []


# --- appending -------------------------------------------------------------------------------

APPEND_SIZE = 300


@pytest.mark.parametrize("batch_sizes", [[1], [2], [3], [7], [64], [1, 2, 3, 7, 64]], ids=str)
def test_appending_in_batches_stores_exactly_the_nodes_and_roots_of_building_at_once(batch_sizes):
    leaves = [leaf_hash(b"entry %d" % i) for i in range(APPEND_SIZE)]
    at_once = MemoryNodeSource.from_leaf_hashes(leaves)
    store = MemoryNodeSource()
    size, batch = 0, 0
    while size < APPEND_SIZE:
        # As the sealing service would: read the frontier from the store, append, write.
        new_leaves = leaves[size : size + batch_sizes[batch % len(batch_sizes)]]
        appended = append_leaves(
            tree_size=size, frontier=frontier_read(tree_size=size, source=store), leaf_hashes=new_leaves
        )
        written = len(store)
        store.add(appended.nodes)

        assert len(store) == written + len(appended.nodes), "a node was created twice"
        assert appended.tree_size == size + len(new_leaves)
        assert appended.frontier == tuple(frontier_read(tree_size=appended.tree_size, source=at_once))
        assert appended.root == root(tree_size=appended.tree_size, source=at_once)
        assert appended.root == rfc_mth([b"entry %d" % i for i in range(appended.tree_size)])
        size, batch = appended.tree_size, batch + 1

    keys = all_perfect_keys(APPEND_SIZE)
    assert len(store) == len(at_once) == len(keys)
    assert store.nodes(keys) == at_once.nodes(keys)


def test_appending_creates_each_leaf_then_the_parents_it_completes():
    leaves = [leaf_hash(b"%d" % i) for i in range(4)]
    first = append_leaves(tree_size=0, frontier=[], leaf_hashes=leaves[:3])
    second = append_leaves(tree_size=3, frontier=first.frontier, leaf_hashes=leaves[3:])

    assert [(n.level, n.index) for n in first.nodes] == [(0, 0), (0, 1), (1, 0), (0, 2)]
    assert [(n.level, n.index) for n in second.nodes] == [(0, 3), (1, 1), (2, 0)]
    assert second.nodes[-1] == Node(2, 0, rfc_mth([b"%d" % i for i in range(4)]))
    assert second.frontier == (second.root,)


def test_appending_nothing_creates_nothing_and_keeps_the_frontier():
    first = append_leaves(tree_size=0, frontier=[], leaf_hashes=[leaf_hash(b"%d" % i) for i in range(5)])
    again = append_leaves(tree_size=first.tree_size, frontier=first.frontier, leaf_hashes=[])

    assert again.nodes == ()
    assert (again.tree_size, again.frontier, again.root) == (first.tree_size, first.frontier, first.root)


def test_appending_refuses_a_frontier_that_does_not_fit_the_size_or_a_hash_of_the_wrong_length():
    frontier = append_leaves(
        tree_size=0, frontier=[], leaf_hashes=[leaf_hash(b"%d" % i) for i in range(5)]
    ).frontier
    with pytest.raises(ValueError):
        append_leaves(tree_size=7, frontier=frontier, leaf_hashes=[leaf_hash(b"x")])
    with pytest.raises(ValueError):
        append_leaves(tree_size=5, frontier=frontier[:1], leaf_hashes=[leaf_hash(b"x")])
    with pytest.raises(ValueError):
        append_leaves(tree_size=5, frontier=frontier, leaf_hashes=[b"consent record, not its hash"])
    with pytest.raises(ValueError):
        append_leaves(tree_size=-1, frontier=[], leaf_hashes=[])


def test_the_memory_source_refuses_to_change_a_stored_node_and_to_invent_a_missing_one():
    store = MemoryNodeSource([Node(0, 0, leaf_hash(b"a"))])
    store.add([Node(0, 0, leaf_hash(b"a"))])
    with pytest.raises(ValueError):
        store.add([Node(0, 0, leaf_hash(b"b"))])
    with pytest.raises(KeyError):
        store.nodes([(0, 1)])
    with pytest.raises(KeyError):
        root(tree_size=2, source=store)


# --- cost on a large tree --------------------------------------------------------------------

LARGE_SIZE = 100_000


@pytest.fixture(scope="module")
def large_tree() -> MemoryNodeSource:
    appended = append_leaves(
        tree_size=0, frontier=[], leaf_hashes=[leaf_hash(i.to_bytes(4, "big")) for i in range(LARGE_SIZE)]
    )
    return MemoryNodeSource(appended.nodes)


def test_proofs_over_100_000_leaves_read_a_logarithmic_number_of_nodes_in_one_call(large_tree):
    source = CountingSource(large_tree)
    roots = {}
    for size in [LARGE_SIZE, LARGE_SIZE - 1, 65_536, 65_537, 12_345, 1]:
        source.reset()
        roots[size] = root(tree_size=size, source=source)
        assert source.calls == 1 and len(source.keys) == size.bit_count()

    for size in [LARGE_SIZE, 65_536, 65_537, 12_345]:
        for index in [0, 1, 2, 4_321, 12_344, 65_535, 65_536, 99_999]:
            if index >= size:
                continue
            source.reset()
            proof = inclusion_proof(index=index, tree_size=size, source=source)

            assert source.calls == 1
            assert len(source.keys) <= 2 * size.bit_length(), (index, size, len(source.keys))
            assert inclusion_proof_verify(
                leaf_hash=leaf_hash(index.to_bytes(4, "big")),
                index=index,
                tree_size=size,
                proof=proof,
                root=roots[size],
            )

    for old_size, new_size in [
        (1, LARGE_SIZE),
        (12_345, 65_537),
        (65_536, LARGE_SIZE),
        (LARGE_SIZE - 1, LARGE_SIZE),
    ]:
        source.reset()
        proof = consistency_proof(old_size=old_size, new_size=new_size, source=source)

        assert source.calls == 1
        assert len(source.keys) <= 3 * new_size.bit_length(), (old_size, new_size, len(source.keys))
        assert consistency_proof_verify(
            old_size=old_size,
            new_size=new_size,
            old_root=roots[old_size],
            new_root=roots[new_size],
            proof=proof,
        )
