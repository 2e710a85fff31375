"""The ledger's self-check: recompute every leaf, node, root and signature, and name what differs.

It streams: two walks read the site's ledger in index order, in pages that each start where
the last one ended (a row comparison the indexes serve), so memory stays the same for any
size of log, and a month or the part after a checkpoint can be checked on its own.

1. The records walk merges the records, in (created_at, id) order, with the log's leaves in
   the order of the records they seal (both served by an index: consent_site_time_id and
   merkle_leaf_time). A record must still hash to its leaf and its personal data (unless
   redacted) to its commitment; a sealed one must equal its leaf; an unsealed one must be
   younger than the sealer's reach; a leaf without its record is purged (past retention) or
   deleted.
2. The log walk reads the leaves in index order and rebuilds the tree with its frontier
   (merkle.append_leaves): every node the leaves complete must equal the stored node, and
   each checkpoint's root must equal the root recomputed when the walk reaches its size.

Since every checkpoint's root is recomputed from the one sequence of leaves, each
checkpoint is an append-only extension of the one before it (what a consistency proof
would show), and every leaf is included in every checkpoint that covers it (what an
inclusion proof would show): neither proof needs checking leaf by leaf. What the walk does
not rebuild (the part of the tree before a month or checkpoint it starts from) is checked
as a proof is: the stored frontier against the checkpoint's root, and the walked tree
against the newest checkpoint by a consistency proof.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Max, Min
from django.utils import timezone

from consent.keyset import row_compare
from consent.ledger.crypto import (
    LATE_COMMIT_MARGIN,
    checkpoint_signature_valid,
    leaf_hash_hex,
    personal_commitment,
    verifying_keys,
)
from consent.ledger.merkle import (
    append_leaves,
    consistency_proof,
    consistency_proof_verify,
    frontier_read,
    root_from_frontier,
)
from consent.ledger.partitions import month_after
from consent.ledger.selectors import DatabaseNodeSource, ordered_index_scans
from consent.models import Checkpoint, ConsentRecord, MerkleNode, Site

# Rows per page of each walk: large enough that round trips do not matter, small enough
# that the pages held at once (one per tree level) stay a few megabytes.
PAGE = 5000
# Problems of one kind named one by one before the rest are only counted.
MAX_NODE_PROBLEMS = 100


LEDGER_WHOLE = "the whole ledger"


@dataclass
class LedgerReport:
    """What consent_verify found for one site: counts, and one line per problem."""

    site_key: str
    records: int = 0
    sealed: int = 0
    unsealed: int = 0
    redacted: int = 0
    purged: int = 0
    checkpoints: int = 0
    # Consistency between checkpoints: shown by the walk for neighbours it recomputed both
    # roots of, by a consistency proof from the end of a partial walk to the newest.
    proofs: int = 0
    leaves: int = 0
    scope: str = LEDGER_WHOLE
    problems: list[str] = field(default_factory=list)


class VerifyScopeError(ValueError):
    """The part of the ledger asked for does not exist (an unknown checkpoint size)."""


def ledger_verify(
    *, site: Site, month: date | None = None, from_checkpoint: int | None = None
) -> LedgerReport:
    """Check the site's records, log nodes and checkpoints from first principles.

    `month` (any day of it): only the records and leaves of that month, their part of the
    tree, and its consistency with the newest checkpoint. `from_checkpoint` (a tree size):
    the log from that signed checkpoint on, and every record that may be sealed after it.
    Without either: everything. One transaction whose pages are read in index order
    (selectors.ordered_index_scans), whatever the planner's statistics say.
    """
    with ordered_index_scans():
        return _ledger_verify(site=site, month=month, from_checkpoint=from_checkpoint)


def _ledger_verify(*, site: Site, month: date | None, from_checkpoint: int | None) -> LedgerReport:
    report = LedgerReport(site_key=site.key)
    newest = Checkpoint.objects.filter(site=site).order_by("-tree_size").first()
    retention_cutoff = timezone.now() - timedelta(days=site.consent_retention_days)
    if month is not None:
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
        end = datetime.combine(month_after(month), datetime.min.time(), tzinfo=UTC)
        report.scope = f"{start:%Y-%m}"
        _records_walk(site, newest, (start, end), retention_cutoff, report)
        indexes = _leaves_of(site).filter(record_created_at__gte=start, record_created_at__lt=end)
        span = indexes.aggregate(first=Min("index"), last=Max("index"))
        if span["first"] is not None:
            _log_walk(site, report, start=span["first"], stop=span["last"] + 1, newest=newest)
        return report
    if from_checkpoint is not None:
        checkpoint = Checkpoint.objects.filter(site=site, tree_size=from_checkpoint).first()
        if checkpoint is None:
            raise VerifyScopeError(f"no checkpoint of size {from_checkpoint}")
        report.scope = f"from checkpoint {from_checkpoint}"
        # Every record sealed after the checkpoint, and every record the sealer may still
        # seal (younger than its reach when the checkpoint was made).
        first_after = (
            _leaves_of(site).filter(index__gte=from_checkpoint).aggregate(at=Min("record_created_at"))
        )
        since = checkpoint.created_at - LATE_COMMIT_MARGIN
        if first_after["at"] is not None:
            since = min(since, first_after["at"])
        _records_walk(site, newest, (since, None), retention_cutoff, report)
        _log_walk(site, report, start=from_checkpoint, stop=None, newest=newest, start_checkpoint=checkpoint)
        return report
    _records_walk(site, newest, (None, None), retention_cutoff, report)
    _log_walk(site, report, start=0, stop=None, newest=newest)
    return report


def _leaves_of(site: Site):  # type: ignore[no-untyped-def]
    # level=0 as a literal in the SQL, so PostgreSQL can use the partial leaf index.
    return MerkleNode.objects.filter(site=site, level=0)


# --- The records walk --------------------------------------------------------------------


def _records_walk(
    site: Site,
    newest: Checkpoint | None,
    time_range: tuple[datetime | None, datetime | None],
    retention_cutoff: datetime,
    report: LedgerReport,
) -> None:
    """Merge the records and the leaves, both in (created_at, id) order of the records."""
    # A record older than this missed every sealing round that could have seen it.
    sealing_horizon = newest.created_at - LATE_COMMIT_MARGIN if newest else None
    records = _records_in_order(site, time_range)
    leaves = _leaves_in_record_order(site, time_range)
    record, leaf = next(records, None), next(leaves, None)
    while record is not None or leaf is not None:
        record_key = (record.created_at, record.id) if record is not None else None
        leaf_key = (leaf[0], leaf[1]) if leaf is not None else None
        if leaf_key is None or (record_key is not None and record_key < leaf_key):
            _record_check(site, record, None, sealing_horizon, report)  # type: ignore[arg-type]
            record = next(records, None)
        elif record_key is None or leaf_key < record_key:
            _vanished_leaf_check(leaf, retention_cutoff, report)
            leaf = next(leaves, None)
        else:
            _record_check(site, record, (leaf[2], leaf[3]), sealing_horizon, report)  # type: ignore[arg-type]
            record, leaf = next(records, None), next(leaves, None)


# What a record's checks read: its leaf's fields (crypto.leaf_data), the personal values.
_RECORD_FIELDS = [field.attname for field in ConsentRecord._meta.concrete_fields]


def _records_in_order(site: Site, time_range: tuple[datetime | None, datetime | None]) -> Iterator[Any]:
    records = ConsentRecord.objects.filter(site=site).order_by("created_at", "id")
    if time_range[0] is not None:
        records = records.filter(created_at__gte=time_range[0])
    if time_range[1] is not None:
        records = records.filter(created_at__lt=time_range[1])
    after: tuple[datetime, int] | None = None
    while True:
        page = records
        if after is not None:
            # The plain bound beside the row comparison lets PostgreSQL skip earlier months.
            page = page.filter(row_compare("created_at", "id", ">", after), created_at__gte=after[0])
        # Named rows, not model instances: the same values, at a fraction of the cost per row.
        rows = list(page.values_list(*_RECORD_FIELDS, named=True)[:PAGE])
        yield from rows
        if len(rows) < PAGE:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _leaves_in_record_order(
    site: Site, time_range: tuple[datetime | None, datetime | None]
) -> Iterator[tuple[datetime, int, int, str]]:
    """(record created_at, record id, leaf index, leaf hash) of each leaf, in record order."""
    leaves = _leaves_of(site).order_by("record_created_at", "record_id")
    if time_range[0] is not None:
        leaves = leaves.filter(record_created_at__gte=time_range[0])
    if time_range[1] is not None:
        leaves = leaves.filter(record_created_at__lt=time_range[1])
    after: tuple[datetime, int] | None = None
    while True:
        page = leaves
        if after is not None:
            page = page.filter(row_compare("record_created_at", "record_id", ">", after))
        rows = list(page.values_list("record_created_at", "record_id", "index", "hash")[:PAGE])
        yield from rows
        if len(rows) < PAGE:
            return
        after = (rows[-1][0], rows[-1][1])


def _record_check(
    site: Site,
    record: Any,
    leaf: tuple[int, str] | None,
    sealing_horizon: datetime | None,
    report: LedgerReport,
) -> None:
    """Count the record (a row of _RECORD_FIELDS) and name it if altered, differing from its
    leaf, or backdated."""
    report.records += 1
    label = f"record {record.id} (receipt {record.receipt_id})"
    if leaf_hash_hex(record, site.key) != record.leaf_sha256:
        report.problems.append(f"{label}: its fields no longer match its leaf hash: the row was altered")
    if record.personal_salt is None:  # ConsentRecord.is_redacted
        report.redacted += 1
    elif not _personal_data_matches_commitment(record):
        report.problems.append(
            f"{label}: its personal data no longer matches its commitment: the row was altered"
        )
    if leaf is not None:
        report.sealed += 1
        index, digest = leaf
        if digest != record.leaf_sha256:
            report.problems.append(f"{label}: differs from leaf {index} sealed in the log")
        return
    report.unsealed += 1
    if sealing_horizon is not None and record.created_at < sealing_horizon:
        report.problems.append(
            f"{label}: dated {record.created_at.isoformat()}, long before the newest "
            "checkpoint, yet not in the log: the sealer never saw it, so it was written "
            "behind the API (backdated)"
        )


def _personal_data_matches_commitment(record: Any) -> bool:
    return record.personal_sha256 == personal_commitment(
        salt=record.personal_salt,
        visitor_id=record.visitor_id,
        ip_address=record.ip_address,
        user_agent=record.user_agent,
        subject_hmac=record.subject_hmac,
    )


def _vanished_leaf_check(
    leaf: tuple[datetime, int, int, str], retention_cutoff: datetime, report: LedgerReport
) -> None:
    """A sealed leaf without its record: purged if past the site's retention, else deleted (a problem)."""
    record_created_at, record_id, index, _ = leaf
    if record_created_at is not None and record_created_at < retention_cutoff:
        report.purged += 1
    else:
        report.problems.append(
            f"leaf {index}: its record {record_id} is missing but not past retention: deleted"
        )


# --- The log walk ------------------------------------------------------------------------


class _LevelStream:
    """The stored nodes of one level of the tree in index order, read a page at a time."""

    def __init__(self, site_id: int, level: int, start: int, stop: int | None) -> None:
        self.site_id, self.level, self.stop = site_id, level, stop
        self.next_from = start
        self.buffer: deque[tuple[int, str]] = deque()
        self.done = False

    def peek(self) -> tuple[int, str] | None:
        if not self.buffer and not self.done:
            nodes = MerkleNode.objects.filter(
                site_id=self.site_id, level=self.level, index__gte=self.next_from
            )
            if self.stop is not None:
                nodes = nodes.filter(index__lt=self.stop)
            rows = list(nodes.order_by("index").values_list("index", "hash")[:PAGE])
            self.buffer.extend(rows)
            self.done = len(rows) < PAGE
            if rows:
                self.next_from = rows[-1][0] + 1
        return self.buffer[0] if self.buffer else None

    def pop(self) -> tuple[int, str] | None:
        head = self.peek()
        if head is not None:
            self.buffer.popleft()
        return head


class _Checkpoints:
    """The site's checkpoints from a tree size on, in size order, read a page at a time."""

    def __init__(self, site: Site, start: int) -> None:
        self.site, self.next_from = site, start
        self.buffer: deque[Checkpoint] = deque()
        self.done = False

    def peek(self) -> Checkpoint | None:
        if not self.buffer and not self.done:
            rows = list(
                Checkpoint.objects.filter(site=self.site, tree_size__gte=self.next_from).order_by(
                    "tree_size"
                )[:PAGE]
            )
            self.buffer.extend(rows)
            self.done = len(rows) < PAGE
            if rows:
                self.next_from = rows[-1].tree_size + 1
        return self.buffer[0] if self.buffer else None

    def pop(self) -> Checkpoint | None:
        head = self.peek()
        if head is not None:
            self.buffer.popleft()
        return head


def _log_walk(
    site: Site,
    report: LedgerReport,
    *,
    start: int,
    stop: int | None,
    newest: Checkpoint | None,
    start_checkpoint: Checkpoint | None = None,
) -> None:
    """Rebuild the tree over leaves [start, stop) (stop None: to the end) and check it.

    From start 0 the tree is rebuilt from nothing. From a later start the tree before it is
    the stored frontier: checked against `start_checkpoint`'s root when there is one, and
    the rebuilt tree at `stop` against the newest checkpoint by a consistency proof.
    """
    keys = verifying_keys()
    size = start
    frontier: tuple[bytes, ...] = tuple(frontier_read(tree_size=start, source=DatabaseNodeSource(site.pk)))
    checkpoints = _Checkpoints(site, start)
    if start_checkpoint is not None:
        checkpoints.pop()
        report.checkpoints += 1
        _checkpoint_check(site, start_checkpoint, root_from_frontier(frontier), keys, report)
    levels: dict[int, _LevelStream] = {}

    def stream(level: int) -> _LevelStream:
        if level not in levels:
            levels[level] = _LevelStream(
                site.pk, level, start >> level, None if stop is None else stop >> level
            )
        return levels[level]

    leaves = stream(0)
    node_problems = 0
    previous_checked = start_checkpoint is not None
    while stop is None or size < stop:
        # The next chunk: the leaves up to the next checkpoint's size, at most a page.
        upcoming = checkpoints.peek()
        chunk_end = size + PAGE if stop is None else min(size + PAGE, stop)
        if upcoming is not None and upcoming.tree_size <= chunk_end:
            chunk_end = upcoming.tree_size
        hashes = []
        while size + len(hashes) < chunk_end:
            leaf = leaves.peek()
            if leaf is None or leaf[0] != size + len(hashes):
                break
            leaves.pop()
            hashes.append(bytes.fromhex(leaf[1]))
        appended = append_leaves(tree_size=size, frontier=frontier, leaf_hashes=hashes)
        for node in appended.nodes:
            if node.level == 0:
                continue
            problem = _stored_node_problem(stream(node.level), node.index, node.hash)
            if problem and node_problems < MAX_NODE_PROBLEMS:
                report.problems.append(problem)
            node_problems += bool(problem)
        size, frontier = appended.tree_size, appended.frontier
        while (upcoming := checkpoints.peek()) is not None and upcoming.tree_size == size:
            checkpoints.pop()
            report.checkpoints += 1
            _checkpoint_check(site, upcoming, root_from_frontier(frontier), keys, report)
            # Both roots recomputed from the same leaves: the newer extends the older.
            report.proofs += previous_checked
            previous_checked = True
        if size < chunk_end:
            break  # no more leaves, or a gap
    report.leaves = size - start
    if node_problems > MAX_NODE_PROBLEMS:
        report.problems.append(
            f"{node_problems - MAX_NODE_PROBLEMS} more nodes do not match the leaves below them"
        )
    leaf = leaves.peek()
    if leaf is not None and (stop is None or leaf[0] < stop):
        report.problems.append(
            f"the log's leaves are not numbered {start}..n-1 without gaps: leaf {size} is missing"
        )
        return
    if stop is None:
        _leftover_nodes(levels, size, report)
        while (checkpoint := checkpoints.pop()) is not None:
            report.checkpoints += 1
            report.problems.append(
                f"checkpoint size {checkpoint.tree_size}: larger than the log ({size} leaves)"
            )
    elif newest is not None and newest.tree_size >= size:
        _extends_to_newest(site, size, root_from_frontier(frontier), newest, keys, report)


def _stored_node_problem(stream: _LevelStream, index: int, digest: bytes) -> str | None:
    """The stored node at (level, index) must be the one the leaves below it make."""
    while (head := stream.peek()) is not None and head[0] < index:
        stream.pop()
    head = stream.peek()
    if head is None or head[0] != index:
        return f"node level {stream.level} index {index}: missing from the log"
    stream.pop()
    if head[1] != digest.hex():
        return f"node level {stream.level} index {index}: does not match the leaves below it"
    return None


def _leftover_nodes(levels: dict[int, _LevelStream], size: int, report: LedgerReport) -> None:
    """Stored nodes beyond what the leaves make: nothing below them."""
    for level in sorted(levels):
        if level == 0:
            continue
        head = levels[level].peek()
        if head is not None:
            report.problems.append(f"node level {level} index {head[0]}: no leaves below it ({size} leaves)")


def _extends_to_newest(
    site: Site, size: int, root: bytes, newest: Checkpoint, keys: dict[str, bytes], report: LedgerReport
) -> None:
    """The walked tree (size, root) must extend to the newest signed checkpoint (RFC 9162 consistency)."""
    if newest.tree_size > size:
        report.checkpoints += 1
        _checkpoint_check(site, newest, None, keys, report)
    proof = consistency_proof(old_size=size, new_size=newest.tree_size, source=DatabaseNodeSource(site.pk))
    report.proofs += 1
    if not consistency_proof_verify(
        old_size=size,
        new_size=newest.tree_size,
        old_root=root,
        new_root=bytes.fromhex(newest.root_hash),
        proof=proof,
    ):
        report.problems.append(
            f"checkpoint size {newest.tree_size}: not an append-only extension "
            f"of the walked log at size {size}"
        )


def _checkpoint_check(
    site: Site, checkpoint: Checkpoint, root: bytes | None, keys: dict[str, bytes], report: LedgerReport
) -> None:
    """A checkpoint's root must be the recomputed root at its size (None: not recomputed here),
    signed by a key we know."""
    label = f"checkpoint size {checkpoint.tree_size}"
    if root is not None and root.hex() != checkpoint.root_hash:
        report.problems.append(f"{label}: its root does not match the log")
    problem = _checkpoint_signature_problem(site, checkpoint, keys)
    if problem:
        report.problems.append(f"{label}: {problem}")


def _checkpoint_signature_problem(site: Site, checkpoint: Checkpoint, keys: dict[str, bytes]) -> str | None:
    """None if the checkpoint is signed by the signing key or a retired one; else what is wrong."""
    public_raw = keys.get(checkpoint.key_id)
    if public_raw is None:
        return (
            f"signed with key {checkpoint.key_id}, which is neither the signing key nor "
            "one of LEDGER_RETIRED_PUBLIC_KEYS"
        )
    if not checkpoint_signature_valid(checkpoint, site.key):
        return "bad signature"
    return None
