"""The ledger's self-check: recompute every leaf, node, root, signature and proof, and name what differs."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

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


def ledger_verify(*, site: Site) -> LedgerReport:
    """Check every record, node, checkpoint and proof of the site's ledger from first principles.

    Records: their fields must still hash to their stored leaf, their personal data (unless
    redacted) to its commitment, and a sealed record to its leaf in the log. The log: every
    stored node must equal the hash of its children recomputed from the leaves. Checkpoints:
    roots recomputed, signatures checked, consistency proved between neighbours. Proofs:
    every leaf's inclusion proof verified against the newest checkpoint. A sealed leaf whose
    record is gone is fine only if retention could have removed it.
    """
    from consent.ledger.crypto import (
        LATE_COMMIT_MARGIN,
        checkpoint_note,
        leaf_hash_hex,
        note_verify,
        personal_commitment,
        verifying_keys,
    )

    report = LedgerReport(site_key=site.key)
    leaves: dict[int, tuple[str, int | None, datetime | None]] = {}
    stored_nodes: dict[tuple[int, int], str] = {}
    for level, index, digest, record_id, record_created_at in MerkleNode.objects.filter(
        site=site
    ).values_list("level", "index", "hash", "record_id", "record_created_at"):
        stored_nodes[(level, index)] = digest
        if level == 0:
            leaves[index] = (digest, record_id, record_created_at)
    leaf_of_record = {record_id: (index, digest) for index, (digest, record_id, _) in leaves.items()}

    checkpoints = list(Checkpoint.objects.filter(site=site).order_by("tree_size"))
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
        elif record.personal_sha256 != personal_commitment(
            salt=record.personal_salt,
            visitor_id=record.visitor_id,
            ip_address=record.ip_address,
            user_agent=record.user_agent,
        ):
            report.problems.append(
                f"{label}: its personal data no longer matches its commitment: the row was altered"
            )
        if record.pk in leaf_of_record:
            report.sealed += 1
            index, digest = leaf_of_record[record.pk]
            if digest != record.leaf_sha256:
                report.problems.append(f"{label}: differs from leaf {index} sealed in the log")
        else:
            report.unsealed += 1
            if sealing_horizon is not None and record.created_at < sealing_horizon:
                report.problems.append(
                    f"{label}: dated {record.created_at.isoformat()}, long before the newest "
                    "checkpoint, yet not in the log: the sealer never saw it, so it was written "
                    "behind the API (backdated)"
                )

    retention_cutoff = timezone.now() - timedelta(days=site.consent_retention_days)
    for index, (_, record_id, record_created_at) in sorted(leaves.items()):
        if record_id not in seen_records:
            if record_created_at is not None and record_created_at < retention_cutoff:
                report.purged += 1
            else:
                report.problems.append(
                    f"leaf {index}: its record {record_id} is missing but not past retention: deleted"
                )

    size = len(leaves)
    if sorted(leaves) != list(range(size)):
        report.problems.append("the log's leaves are not numbered 0..n-1 without gaps")
        return report
    rebuilt = MemoryNodeSource.from_leaf_hashes([bytes.fromhex(leaves[i][0]) for i in range(size)])
    expected = rebuilt.nodes(list(stored_nodes))
    for key, digest in sorted(stored_nodes.items()):
        if expected[key].hex() != digest:
            report.problems.append(f"node level {key[0]} index {key[1]}: does not match the leaves below it")

    report.checkpoints = len(checkpoints)
    keys = verifying_keys()
    previous = None
    for checkpoint in checkpoints:
        label = f"checkpoint size {checkpoint.tree_size}"
        if checkpoint.tree_size > size:
            report.problems.append(f"{label}: larger than the log ({size} leaves)")
            continue
        recomputed = merkle_root(tree_size=checkpoint.tree_size, source=rebuilt).hex()
        if recomputed != checkpoint.root_hash:
            report.problems.append(f"{label}: its root does not match the log")
        note = checkpoint_note(
            site_key=site.key,
            tree_size=checkpoint.tree_size,
            root_hex=checkpoint.root_hash,
            created_at=checkpoint.created_at,
        )
        public_raw = keys.get(checkpoint.key_id)
        if public_raw is None:
            report.problems.append(
                f"{label}: signed with key {checkpoint.key_id}, which is neither the signing key nor "
                "one of LEDGER_RETIRED_PUBLIC_KEYS"
            )
        elif not note_verify(note, checkpoint.signature, public_raw):
            report.problems.append(f"{label}: bad signature")
        if previous is not None:
            proof = consistency_proof(
                old_size=previous.tree_size, new_size=checkpoint.tree_size, source=rebuilt
            )
            if not consistency_proof_verify(
                old_size=previous.tree_size,
                new_size=checkpoint.tree_size,
                old_root=bytes.fromhex(previous.root_hash),
                new_root=bytes.fromhex(checkpoint.root_hash),
                proof=proof,
            ):
                report.problems.append(f"{label}: not an append-only extension of size {previous.tree_size}")
            report.proofs += 1
        previous = checkpoint
    if previous is not None:
        latest_root = bytes.fromhex(previous.root_hash)
        for index in range(previous.tree_size):
            proof = inclusion_proof(index=index, tree_size=previous.tree_size, source=rebuilt)
            if not inclusion_proof_verify(
                leaf_hash=bytes.fromhex(leaves[index][0]),
                index=index,
                tree_size=previous.tree_size,
                proof=proof,
                root=latest_root,
            ):
                report.problems.append(
                    f"leaf {index}: its inclusion proof does not verify against size {previous.tree_size}"
                )
            report.proofs += 1
    return report
