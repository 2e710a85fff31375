"""The ledger's Merkle tree: RFC 6962 §2.1, restated as RFC 9162 §2.1, with SHA-256.

A leaf hashes as SHA-256(0x00 || entry), an interior node as SHA-256(0x01 || left || right),
and the tree of no leaves as SHA-256(""). A tree of n > 1 leaves splits at k, the largest
power of two strictly below n: the first k leaves on the left, the rest on the right.

What is stored, per site, is every *perfect* subtree: the node at (level, index) covers
leaves [index * 2**level, (index + 1) * 2**level), and level 0 holds the leaf hashes. A
node exists once all its leaves do and never changes afterwards, so the store is
append-only like the ledger it commits to. Every tree head, inclusion proof and
consistency proof of any past size is computed from these nodes alone, through a
`NodeSource`, reading O(log n) of them in a single batched `nodes()` call; no function
here holds or walks all the leaves.

Sealing appends leaves with `append_leaves`, which needs only the frontier (the perfect
subtrees that make up [0, tree_size), see `frontier_keys`) and returns the nodes to write.

The `*_verify` functions need no store: they are what an auditor runs on a receipt, and
they answer False, never raise, on a proof that is malformed, short, long or for another
tree.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

HASH_SIZE = 32


EMPTY_ROOT = hashlib.sha256(b"").digest()


Key = tuple[int, int]


"""(level, index) of a perfect subtree."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one ledger entry as a leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class Node(NamedTuple):
    """One perfect subtree: covers leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int
    hash: bytes


class NodeSource(Protocol):
    """Where the perfect subtree hashes of one tree are read from (a table, a dict)."""

    def nodes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        """Hashes of the perfect subtrees at (level, index); every requested key exists."""
        ...


class MemoryNodeSource:
    """A `NodeSource` held in a dict: for tests, and for an auditor rebuilding a tree from an export."""

    def __init__(self, nodes: Iterable[tuple[int, int, bytes]] = ()) -> None:
        self._nodes: dict[Key, bytes] = {}
        self.add(nodes)

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Sequence[bytes]) -> "MemoryNodeSource":
        """Every perfect subtree of the tree with these leaves, built level by level."""
        for digest in leaf_hashes:
            _check_hash(digest, "leaf hash")
        source = cls()
        level, row = 0, list(leaf_hashes)
        while row:
            source.add(Node(level, index, digest) for index, digest in enumerate(row))
            # A node without a right sibling has no parent yet: its subtree is not perfect.
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
            level += 1
        return source

    def add(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        """Store nodes; storing one again is allowed only with the same hash, since nodes never change."""
        for level, index, digest in nodes:
            known = self._nodes.setdefault((level, index), digest)
            if known != digest:
                raise ValueError(f"node ({level}, {index}) already has a different hash")

    def nodes(self, keys: Sequence[Key]) -> dict[Key, bytes]:
        """The requested hashes; KeyError if one is missing, which means the caller asked beyond the tree."""
        return {key: self._nodes[key] for key in keys}

    def __len__(self) -> int:
        return len(self._nodes)


def frontier_keys(tree_size: int) -> list[Key]:
    """The perfect subtrees that exactly tile [0, tree_size), largest (leftmost) first.

    One per set bit of tree_size, so at most tree_size.bit_length() keys; none for 0.
    """
    if tree_size < 0:
        raise ValueError("tree_size must not be negative")
    return _tiling(0, tree_size)


def frontier_read(*, tree_size: int, source: NodeSource) -> list[bytes]:
    """The hashes at `frontier_keys(tree_size)`, in that order, read with one `nodes()` call (none for 0)."""
    keys = frontier_keys(tree_size)
    found = source.nodes(keys) if keys else {}
    return [found[key] for key in keys]


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """MTH of the tree whose frontier this is (largest subtree first); SHA-256("") when empty."""
    if not frontier:
        return EMPTY_ROOT
    # MTH splits off the largest perfect subtree on the left and recurses on the rest,
    # so the root folds the frontier from the right.
    digest = frontier[-1]
    for left in reversed(frontier[:-1]):
        digest = node_hash(left, digest)
    return digest


@dataclass(frozen=True)
class Appended:
    """The result of appending leaves: the new size, its frontier, and every node it created."""

    tree_size: int
    frontier: tuple[bytes, ...]
    nodes: tuple[Node, ...]

    @property
    def root(self) -> bytes:
        return root_from_frontier(self.frontier)


def append_leaves(*, tree_size: int, frontier: Sequence[bytes], leaf_hashes: Iterable[bytes]) -> Appended:
    """Append leaf hashes to the tree of `tree_size` leaves whose frontier is given.

    Returns every perfect subtree that the new leaves complete, each exactly once, in the
    order they were made (a leaf, then the parents it completes): the leaves themselves at
    level 0 and no node that existed before. Writing them all makes the store hold every
    perfect subtree of the new tree. Appending in any batch sizes creates the same nodes.

    The frontier is trusted, not checked against the store: read it (`frontier_read`) and
    write the result under the same lock on the site's tree, or two sealings could both
    extend the same size.
    """
    if tree_size < 0:
        raise ValueError("tree_size must not be negative")
    levels = [level for level, _ in frontier_keys(tree_size)]
    if len(frontier) != len(levels):
        raise ValueError(f"{tree_size} leaves have {len(levels)} frontier hashes, not {len(frontier)}")
    for digest in frontier:
        _check_hash(digest, "frontier hash")
    # The frontier as a stack, smallest subtree on top: a new leaf merges with the top
    # while they are the same height, exactly like carrying in binary addition.
    stack = list(zip(levels, frontier, strict=True))
    created: list[Node] = []
    size = tree_size
    for digest in leaf_hashes:
        _check_hash(digest, "leaf hash")
        level, index = 0, size
        created.append(Node(0, index, digest))
        while stack and stack[-1][0] == level:
            digest = node_hash(stack.pop()[1], digest)
            level, index = level + 1, index >> 1
            created.append(Node(level, index, digest))
        stack.append((level, digest))
        size += 1
    return Appended(tree_size=size, frontier=tuple(digest for _, digest in stack), nodes=tuple(created))


def root(*, tree_size: int, source: NodeSource) -> bytes:
    """MTH(D[0:tree_size]), the RFC 6962 tree head hash of the first tree_size leaves.

    Reads popcount(tree_size) nodes in one `nodes()` call; none, and SHA-256(""), for 0.
    """
    return root_from_frontier(frontier_read(tree_size=tree_size, source=source))


def subtree_hash(*, start: int, end: int, source: NodeSource) -> bytes:
    """MTH(D[start:end]) for any range that RFC 6962 proofs and tree heads use.

    Those are the ranges whose start is a multiple of the largest power of two not above
    their length (every subtree the MTH recursion visits is one); others raise ValueError,
    because their MTH is not made of stored nodes. Reads at most
    (end - start).bit_length() nodes in one `nodes()` call; none for an empty range,
    whose hash is SHA-256("").
    """
    if not 0 <= start <= end:
        raise ValueError("need 0 <= start <= end")
    _check_aligned(start, end)
    keys = _tiling(start, end)
    found = source.nodes(keys) if keys else {}
    return root_from_frontier([found[key] for key in keys])


def inclusion_proof(*, index: int, tree_size: int, source: NodeSource) -> list[bytes]:
    """PATH(index, D[0:tree_size]) of RFC 6962 §2.1.1 (the inclusion proof of RFC 9162 §2.1.3.1).

    Siblings from the leaf up to the root. Reads at most 2 * tree_size.bit_length() nodes
    in one `nodes()` call; none when the proof is empty (a tree of one leaf).
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of {tree_size} leaves")
    return _hashes_of_ranges(_inclusion_ranges(index, tree_size), source)


def consistency_proof(*, old_size: int, new_size: int, source: NodeSource) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 6962 §2.1.2 (RFC 9162 §2.1.4.1).

    Empty when old_size is 0 or equals new_size: there is nothing to prove. Reads at most
    3 * new_size.bit_length() nodes in one `nodes()` call; none when the proof is empty.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError("need 0 <= old_size <= new_size")
    if old_size == 0:
        return []
    return _hashes_of_ranges(_consistency_ranges(old_size, new_size), source)


def _split(size: int) -> int:
    """The largest power of two strictly below size (size >= 2): where MTH splits."""
    return 1 << ((size - 1).bit_length() - 1)


def _tiling(start: int, end: int) -> list[Key]:
    """The perfect subtrees tiling [start, end), largest first; `start` must be aligned."""
    keys = []
    size = end - start
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def _check_aligned(start: int, end: int) -> None:
    if end > start and start % (1 << ((end - start).bit_length() - 1)):
        raise ValueError(f"D[{start}:{end}] is not a subtree that RFC 6962 proofs use")


def _inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH make up PATH(index, D[0:tree_size]), in proof order."""
    ranges = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    # The recursion appends each sibling after the deeper path, so the walk down is reversed.
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH make up SUBPROOF(old_size, D[0:new_size], true), in proof order."""
    ranges = []
    start, end, is_old_root = 0, new_size, True
    while end != old_size:
        middle = start + _split(end - start)
        if old_size <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start, is_old_root = middle, False
    # SUBPROOF(m, D[m], false): the old tree's subtree is not its root, so the verifier
    # cannot know its hash and the proof carries it.
    if not is_old_root:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def _hashes_of_ranges(ranges: list[tuple[int, int]], source: NodeSource) -> list[bytes]:
    tilings = [_tiling(start, end) for start, end in ranges]
    keys = [key for tiling in tilings for key in tiling]
    # One round trip for the whole proof: a database-backed source turns it into one query.
    found = source.nodes(keys) if keys else {}
    return [root_from_frontier([found[key] for key in tiling]) for tiling in tilings]


def _check_hash(digest: bytes, what: str) -> None:
    if len(digest) != HASH_SIZE:
        raise ValueError(f"a {what} is {HASH_SIZE} bytes, not {len(digest)}")


def inclusion_proof_verify(
    *, leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True only if `proof` shows the leaf hash at `index` in the tree of `tree_size` with `root`.

    The algorithm of RFC 9162 §2.1.3.2, step for step. False, never an exception, for an
    index outside the tree, a proof with missing, extra or altered hashes, or hashes that
    are not 32 bytes long; only arguments of the wrong type raise.
    """
    if not 0 <= index < tree_size:
        return False
    if not _are_hashes(leaf_hash, root, *proof):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A right-edge node with no right sibling is promoted unchanged (RFC 6962's
            # tree has no empty nodes), so skip the levels it spans.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def consistency_proof_verify(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True only if `proof` shows the tree (new_size, new_root) extends the tree (old_size, old_root).

    The algorithm of RFC 9162 §2.1.4.2, step for step, for 0 < old_size < new_size. Equal
    sizes prove consistency with an empty proof and equal roots; old_size 0 with an empty
    proof is always consistent (every tree extends the empty one). False, never an
    exception, for sizes out of order, a proof with missing, extra or altered hashes, or
    hashes that are not 32 bytes long; only arguments of the wrong type raise.
    """
    if not 0 <= old_size <= new_size:
        return False
    if not _are_hashes(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is perfect, so its root is a node of the new tree: the proof
        # leaves it out and the verifier starts from it.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def _are_hashes(*values: bytes) -> bool:
    for value in values:
        if not isinstance(value, bytes | bytearray):
            raise TypeError(f"expected bytes, got {type(value).__name__}")
        if len(value) != HASH_SIZE:
            return False
    return True
