"""A site's log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the reads behind /log/<key>/.

Tiles are height 8: the tile at level L, index N holds the hashes of the perfect subtrees at
Merkle level 8·L numbered 256·N to 256·N + W - 1 (32 bytes each, in order), W = 256 for a full
tile, 1..255 for a partial one (path suffix `.p/<W>`). The store keeps every perfect subtree
(consent.ledger.merkle), so every tile, full or partial, is a range read of one level.
Entry bundles (`tile/entries/<N>`) hold the leaves' entries: each one a 2-byte big-endian
length and the record's canonical JSON as its leaf commits to it (crypto.leaf_data: no
personal data, only its commitment), so SHA-256(0x00 || entry) is the leaf hash.

Index N is written in groups of three digits, every group but the last prefixed with "x":
1234067 is "x001/x234/067". Everything here reads the database; log_directory_write writes files.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from consent.editions import canonical_json
from consent.ledger.crypto import leaf_data
from consent.ledger.witnesses import checkpoint_note_cosigned
from consent.models import Checkpoint, ConsentRecord, MerkleNode, Site

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
# The Merkle level of a tile's hashes is 8·L, and levels stop well below 64.
MAX_TILE_LEVEL = 7


class TileNotFound(LookupError):
    """No such tile: beyond the tree, not a canonical path, or (entries) a record purged."""


class EntriesGone(TileNotFound):
    """An entry bundle one of whose records retention has removed: its leaf hash stays, its entry not."""


@dataclass(frozen=True)
class TileRef:
    level: int  # the tile level L (0..MAX_TILE_LEVEL), or -1 for an entry bundle
    index: int
    width: int  # 1..256; 256 is a full tile

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level < 0

    @property
    def path(self) -> str:
        """The tile's path under the log's prefix, e.g. "tile/0/x001/234.p/5" or "tile/entries/000"."""
        level = "entries" if self.is_entries else str(self.level)
        suffix = "" if self.is_full else f".p/{self.width}"
        return f"tile/{level}/{index_path(self.index)}{suffix}"


def index_path(index: int) -> str:
    """N as tlog-tiles writes it: three-digit groups, all but the last prefixed with "x"."""
    if index < 0:
        raise ValueError("a tile index is not negative")
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])


INDEX_PATH = re.compile(r"^((?:x\d{3}/)*)(\d{3})(?:\.p/(\d{1,3}))?$")


def tile_ref_parse(level: str, rest: str) -> TileRef:
    """The tile a path names (level "0".."7" or "entries"); TileNotFound unless canonical."""
    match = INDEX_PATH.match(rest)
    if match is None:
        raise TileNotFound(rest)
    groups = [group[1:] for group in match.group(1).split("/") if group] + [match.group(2)]
    index = int("".join(groups))
    width_text = match.group(3)
    width = int(width_text) if width_text is not None else TILE_WIDTH
    if level == "entries":
        tile_level = -1
    elif level.isdigit() and level == str(int(level)) and int(level) <= MAX_TILE_LEVEL:
        tile_level = int(level)
    else:
        raise TileNotFound(level)
    if width_text is not None and (width_text.startswith("0") or width >= TILE_WIDTH):
        raise TileNotFound(rest)
    ref = TileRef(level=tile_level, index=index, width=width)
    if ref.path.split("/", 2)[2] != rest:  # one path per tile: no leading x000 groups
        raise TileNotFound(rest)
    return ref


def log_size(site: Site) -> int:
    """The size of the newest checkpoint: the tree the tiles describe."""
    size = Checkpoint.objects.filter(site=site).order_by("-tree_size").values_list("tree_size", flat=True)
    return next(iter(size[:1]), 0)


def tile_widths(*, tree_size: int, level: int) -> tuple[int, int]:
    """(number of full tiles, width of the last partial one or 0) at a tile level for a tree size."""
    hashes = tree_size >> (TILE_HEIGHT * max(level, 0))
    return hashes // TILE_WIDTH, hashes % TILE_WIDTH


def tile_exists(ref: TileRef, tree_size: int) -> bool:
    """Whether the tree of `tree_size` has this tile: a full one it has completed, or a partial
    one of any width up to what it has (a verifier of an older checkpoint asks for that one)."""
    full, partial = tile_widths(tree_size=tree_size, level=ref.level)
    if ref.index < full:
        return ref.is_full
    return ref.index == full and not ref.is_full and ref.width <= partial


def tile_read(*, site: Site, ref: TileRef, tree_size: int) -> bytes:
    """The tile's bytes: W hashes of 32 bytes, or the entry bundle. TileNotFound beyond the tree."""
    if not tile_exists(ref, tree_size):
        raise TileNotFound(ref.path)
    start = ref.index * TILE_WIDTH
    level = 0 if ref.is_entries else TILE_HEIGHT * ref.level
    nodes = list(
        MerkleNode.objects.filter(site=site, level=level, index__gte=start, index__lt=start + ref.width)
        .order_by("index")
        .values_list("index", "hash", "record_id")
    )
    if [index for index, _, _ in nodes] != list(range(start, start + ref.width)):
        raise TileNotFound(ref.path)  # the store lacks a node it should have: say so, not 500
    if not ref.is_entries:
        return b"".join(bytes.fromhex(digest) for _, digest, _ in nodes)
    return _entries_bundle(site, [record_id for _, _, record_id in nodes])


def _entries_bundle(site: Site, record_ids: list[int | None]) -> bytes:
    records = {
        record.pk: record
        for record in ConsentRecord.objects.filter(site=site, pk__in=[i for i in record_ids if i])
    }
    out = bytearray()
    for record_id in record_ids:
        record = records.get(record_id) if record_id is not None else None
        if record is None:
            raise EntriesGone(f"record {record_id} is no longer kept (retention)")
        entry = canonical_json(leaf_data(record, site.key))
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def tile_refs(*, tree_size: int) -> list[TileRef]:
    """Every tile and entry bundle of the tree of `tree_size`: the full ones and the last partial ones."""
    refs = []
    for level in [-1, *range(MAX_TILE_LEVEL + 1)]:
        full, partial = tile_widths(tree_size=tree_size, level=level)
        refs += [TileRef(level=level, index=index, width=TILE_WIDTH) for index in range(full)]
        if partial:
            refs.append(TileRef(level=level, index=full, width=partial))
    return refs


@dataclass
class TilesWritten:
    written: int = 0
    kept: int = 0  # full tiles already in the directory: they never change
    gone: list[str] | None = None  # entry bundles not written: a record was removed by retention


def log_directory_write(*, site: Site, directory: Path) -> TilesWritten:
    """Write the site's log as tlog-tiles files under `directory` (what /log/<key>/ serves).

    Incremental: a full tile already there is kept (it cannot change); partial tiles are
    written afresh. The checkpoint is written last and atomically (rename), so a reader of
    the directory never sees a checkpoint whose tiles are not there yet. Reads the checkpoint
    first: the tiles are those of the tree it signs, even if the sealer moves on meanwhile.
    """
    result = TilesWritten(gone=[])
    checkpoint = Checkpoint.objects.filter(site=site).exclude(note="").order_by("-tree_size").first()
    if checkpoint is None:
        return result
    for ref in tile_refs(tree_size=checkpoint.tree_size):
        target = directory / ref.path
        if ref.is_full and target.exists() and target.stat().st_size > 0:
            result.kept += 1
            continue
        try:
            data = tile_read(site=site, ref=ref, tree_size=checkpoint.tree_size)
        except EntriesGone:
            result.gone.append(ref.path)  # type: ignore[union-attr]
            continue
        _atomic_write(target, data)
        result.written += 1
    _atomic_write(directory / "checkpoint", checkpoint_note_cosigned(checkpoint).encode())
    result.written += 1
    return result


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
