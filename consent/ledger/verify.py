"""The ledger's self-check: recompute every leaf, node, root, signature and proof, and name what differs."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from consent.ledger.crypto import (
    LATE_COMMIT_MARGIN,
    checkpoint_signature_valid,
    leaf_hash_hex,
    personal_commitment,
    verifying_keys,
)
from consent.ledger.merkle import (
    MemoryNodeSource,
    consistency_proof,
    consistency_proof_verify,
    inclusion_proof,
    inclusion_proof_verify,
)
from consent.ledger.merkle import root as merkle_root
from consent.models import Checkpoint, ConsentRecord, MerkleNode, Site


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
    proofs: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _StoredLog:
    """The site's Merkle log as stored: every node, and the leaves with the record each seals."""

    nodes: dict[tuple[int, int], str]
    # Leaf index -> (leaf hash, record id, record created_at).
    leaves: dict[int, tuple[str, int | None, datetime | None]]

    def leaf_hash(self, index: int) -> bytes:
        return bytes.fromhex(self.leaves[index][0])


def ledger_verify(*, site: Site) -> LedgerReport:
    """Check every record, node, checkpoint and proof of the site's ledger from first principles.

    Records: their fields must still hash to their stored leaf, their personal data (unless
    redacted) to its commitment, and a sealed record to its leaf in the log. The log: every
    stored node must equal the hash of its children recomputed from the leaves. Checkpoints:
    roots recomputed, signatures checked, consistency proved between neighbours. Proofs:
    every leaf's inclusion proof verified against the newest checkpoint. A sealed leaf whose
    record is gone is fine only if retention could have removed it.
    """
    report = LedgerReport(site_key=site.key)
    log = _stored_log(site)
    checkpoints = list(Checkpoint.objects.filter(site=site).order_by("tree_size"))
    seen_records = _records_check(site, log, checkpoints, report)
    _vanished_records_check(site, log, seen_records, report)
    if sorted(log.leaves) != list(range(len(log.leaves))):
        report.problems.append("the log's leaves are not numbered 0..n-1 without gaps")
        return report
    rebuilt = MemoryNodeSource.from_leaf_hashes([log.leaf_hash(i) for i in range(len(log.leaves))])
    report.problems.extend(_node_problems(log, rebuilt))
    report.checkpoints = len(checkpoints)
    newest = _checkpoints_check(site, checkpoints, len(log.leaves), rebuilt, report)
    if newest is not None:
        _inclusion_proofs_check(log, newest, rebuilt, report)
    return report


def _stored_log(site: Site) -> _StoredLog:
    """Every stored node of the site's log, read once."""
    nodes: dict[tuple[int, int], str] = {}
    leaves: dict[int, tuple[str, int | None, datetime | None]] = {}
    for level, index, digest, record_id, record_created_at in MerkleNode.objects.filter(
        site=site
    ).values_list("level", "index", "hash", "record_id", "record_created_at"):
        nodes[(level, index)] = digest
        if level == 0:
            leaves[index] = (digest, record_id, record_created_at)
    return _StoredLog(nodes=nodes, leaves=leaves)


def _records_check(
    site: Site, log: _StoredLog, checkpoints: list[Checkpoint], report: LedgerReport
) -> set[int]:
    """Count every record and name each one altered, differing from its leaf, or backdated.

    Returns the ids of the records that exist, for the check of leaves whose record is gone.
    """
    leaf_of_record = {record_id: (index, digest) for index, (digest, record_id, _) in log.leaves.items()}
    # A record older than this missed every sealing round that could have seen it.
    sealing_horizon = checkpoints[-1].created_at - LATE_COMMIT_MARGIN if checkpoints else None
    seen_records = set()
    for record in ConsentRecord.objects.filter(site=site).order_by("id").iterator(chunk_size=2000):
        report.records += 1
        seen_records.add(record.pk)
        label = f"record {record.pk} (receipt {record.receipt_id})"
        if leaf_hash_hex(record, site.key) != record.leaf_sha256:
            report.problems.append(f"{label}: its fields no longer match its leaf hash: the row was altered")
        if record.is_redacted:
            report.redacted += 1
        elif not _personal_data_matches_commitment(record):
            report.problems.append(
                f"{label}: its personal data no longer matches its commitment: the row was altered"
            )
        _record_sealing_check(record, label, leaf_of_record.get(record.pk), sealing_horizon, report)
    return seen_records


def _record_sealing_check(
    record: ConsentRecord,
    label: str,
    leaf: tuple[int, str] | None,
    sealing_horizon: datetime | None,
    report: LedgerReport,
) -> None:
    """A sealed record must equal its leaf; an unsealed one must be younger than the sealer's reach."""
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


def _personal_data_matches_commitment(record: ConsentRecord) -> bool:
    return record.personal_sha256 == personal_commitment(
        salt=record.personal_salt,
        visitor_id=record.visitor_id,
        ip_address=record.ip_address,
        user_agent=record.user_agent,
    )


def _vanished_records_check(
    site: Site, log: _StoredLog, seen_records: set[int], report: LedgerReport
) -> None:
    """A sealed leaf without its record: purged if past the site's retention, else deleted (a problem)."""
    retention_cutoff = timezone.now() - timedelta(days=site.consent_retention_days)
    for index, (_, record_id, record_created_at) in sorted(log.leaves.items()):
        if record_id in seen_records:
            continue
        if record_created_at is not None and record_created_at < retention_cutoff:
            report.purged += 1
        else:
            report.problems.append(
                f"leaf {index}: its record {record_id} is missing but not past retention: deleted"
            )


def _node_problems(log: _StoredLog, rebuilt: MemoryNodeSource) -> Iterator[str]:
    """Every stored node must equal the node recomputed from the leaves below it."""
    expected = rebuilt.nodes(list(log.nodes))
    for key, digest in sorted(log.nodes.items()):
        if expected[key].hex() != digest:
            yield f"node level {key[0]} index {key[1]}: does not match the leaves below it"


def _checkpoints_check(
    site: Site, checkpoints: list[Checkpoint], size: int, rebuilt: MemoryNodeSource, report: LedgerReport
) -> Checkpoint | None:
    """Each checkpoint's root and signature, and that each extends the one before it.

    Returns the newest checkpoint the log is large enough for (None if there is none): the
    one every leaf's inclusion proof is checked against.
    """
    keys = verifying_keys()
    previous = None
    for checkpoint in checkpoints:
        label = f"checkpoint size {checkpoint.tree_size}"
        if checkpoint.tree_size > size:
            report.problems.append(f"{label}: larger than the log ({size} leaves)")
            continue
        report.problems.extend(
            f"{label}: {problem}" for problem in _checkpoint_problems(site, checkpoint, rebuilt, keys)
        )
        if previous is not None:
            if not _is_append_only_extension(previous, checkpoint, rebuilt):
                report.problems.append(f"{label}: not an append-only extension of size {previous.tree_size}")
            report.proofs += 1
        previous = checkpoint
    return previous


def _checkpoint_problems(
    site: Site, checkpoint: Checkpoint, rebuilt: MemoryNodeSource, keys: dict[str, bytes]
) -> Iterator[str]:
    """A checkpoint's root must be the log's root at its size, signed by a key we know."""
    if merkle_root(tree_size=checkpoint.tree_size, source=rebuilt).hex() != checkpoint.root_hash:
        yield "its root does not match the log"
    public_raw = keys.get(checkpoint.key_id)
    if public_raw is None:
        yield (
            f"signed with key {checkpoint.key_id}, which is neither the signing key nor "
            "one of LEDGER_RETIRED_PUBLIC_KEYS"
        )
        return
    if not checkpoint_signature_valid(checkpoint, site.key):
        yield "bad signature"


def _is_append_only_extension(older: Checkpoint, newer: Checkpoint, rebuilt: MemoryNodeSource) -> bool:
    """The newer checkpoint's tree keeps the older one's leaves unchanged (RFC 9162 consistency)."""
    return consistency_proof_verify(
        old_size=older.tree_size,
        new_size=newer.tree_size,
        old_root=bytes.fromhex(older.root_hash),
        new_root=bytes.fromhex(newer.root_hash),
        proof=consistency_proof(old_size=older.tree_size, new_size=newer.tree_size, source=rebuilt),
    )


def _inclusion_proofs_check(
    log: _StoredLog, checkpoint: Checkpoint, rebuilt: MemoryNodeSource, report: LedgerReport
) -> None:
    """Every leaf the checkpoint covers must be provably included in its root."""
    root = bytes.fromhex(checkpoint.root_hash)
    for index in range(checkpoint.tree_size):
        if not inclusion_proof_verify(
            leaf_hash=log.leaf_hash(index),
            index=index,
            tree_size=checkpoint.tree_size,
            proof=inclusion_proof(index=index, tree_size=checkpoint.tree_size, source=rebuilt),
            root=root,
        ):
            report.problems.append(
                f"leaf {index}: its inclusion proof does not verify against size {checkpoint.tree_size}"
            )
        report.proofs += 1
