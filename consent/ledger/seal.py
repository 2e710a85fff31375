"""Sealing: append unsealed records to a site's Merkle log in order and sign a checkpoint over it."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from consent.ledger.crypto import LATE_COMMIT_MARGIN, checkpoint_sign
from consent.ledger.merkle import Node, append_leaves, frontier_read
from consent.ledger.selectors import DatabaseNodeSource
from consent.models import Checkpoint, ConsentRecord, MerkleNode, Site


def ledger_seal(
    *,
    site: Site,
    batch_size: int = 5000,
    now: datetime | None = None,
    look_back: timedelta = LATE_COMMIT_MARGIN,
) -> Checkpoint | None:
    """Append the site's unsealed records to its Merkle log and sign a checkpoint; None if none.

    Records dated up to `look_back` before the newest checkpoint are looked at again, for
    those that committed late; the periodic job looks back briefly every round and the whole
    LATE_COMMIT_MARGIN once an hour, so a busy site's last hour is not rescanned every time.
    One transaction per batch keeps the write lock short on SQLite. Only the sealer takes
    the site's log lock; consent writes never wait for it (on PostgreSQL the lock is
    FOR NO KEY UPDATE, which inserts referencing the site do not conflict with).
    """
    checkpoint = None
    since: datetime | None = None
    # Where this call has read up to, in (created_at, id) order: every record before it was
    # sealed already or by an earlier batch here, so later batches do not page over them again.
    after: tuple[datetime, int] | None = None
    while True:
        with transaction.atomic():
            Site.objects.select_for_update(no_key=True).filter(pk=site.pk).values_list(
                "pk", flat=True
            ).first()
            latest = Checkpoint.objects.filter(site=site).order_by("-tree_size").first()
            tree_size = latest.tree_size if latest else 0
            if after is None and latest is not None:
                since = latest.created_at - look_back
            rows, after = _unsealed_records(site=site, since=since, after=after, limit=batch_size)
            if not rows:
                break
            frontier = frontier_read(tree_size=tree_size, source=DatabaseNodeSource(site.pk))
            appended = append_leaves(
                tree_size=tree_size, frontier=frontier, leaf_hashes=[bytes.fromhex(row[2]) for row in rows]
            )
            _nodes_store(site, appended.nodes, rows, tree_size)
            checkpoint = _checkpoint_sign(
                site, appended.tree_size, appended.root.hex(), now or timezone.now()
            )
        if len(rows) < batch_size:
            break
    return checkpoint


def _nodes_store(
    site: Site, nodes: Sequence[Node], rows: list[tuple[int, datetime, str]], tree_size: int
) -> None:
    """Store the appended nodes; each new leaf names the record it seals (the leaf at index
    `tree_size + i` is `rows[i]`), so retention and verify can find it."""
    MerkleNode.objects.bulk_create(
        [
            MerkleNode(
                site=site,
                level=node.level,
                index=node.index,
                hash=node.hash.hex(),
                record_id=rows[node.index - tree_size][0] if node.level == 0 else None,
                record_created_at=rows[node.index - tree_size][1] if node.level == 0 else None,
            )
            for node in nodes
        ],
        batch_size=2000,
    )


def _checkpoint_sign(site: Site, tree_size: int, root_hex: str, created_at: datetime) -> Checkpoint:
    """A checkpoint over the log at `tree_size`: a C2SP signed note by the current signing key."""
    signed = checkpoint_sign(site_key=site.key, tree_size=tree_size, root_hex=root_hex)
    return Checkpoint.objects.create(
        site=site,
        tree_size=tree_size,
        root_hash=root_hex,
        created_at=created_at,
        key_id=signed.key_id,
        signature=signed.signature,
        note=signed.note,
    )


UNSEALED_PAGE = 2000


def _unsealed_records(
    *, site: Site, since: datetime | None, after: tuple[datetime, int] | None, limit: int
) -> tuple[list[tuple[int, datetime, str]], tuple[datetime, int] | None]:
    """(id, created_at, leaf) of up to `limit` records not yet in the site's log, oldest first,
    from `since` and past the cursor `after`; and the cursor after the last record looked at.

    Pages through the records in (created_at, id) order and asks the log which of each page
    are sealed, by record id. Not one anti-join: on a month's partition filled faster than
    PostgreSQL re-analyses it, the planner believed a few rows and chose a nested loop that
    took a minute per batch of 5,000 (seen in bench/consent_write.py). Two index reads per
    page cost the same whatever the statistics say.
    """
    records = ConsentRecord.objects.filter(site=site).order_by("created_at", "id")
    if since is not None:
        records = records.filter(created_at__gte=since)
    unsealed: list[tuple[int, datetime, str]] = []
    while len(unsealed) < limit:
        page_query = records
        if after is not None:
            page_query = page_query.filter(
                Q(created_at__gt=after[0]) | Q(created_at=after[0], id__gt=after[1])
            )
        page = list(page_query.values_list("id", "created_at", "leaf_sha256")[:UNSEALED_PAGE])
        if not page:
            break
        sealed = set(
            MerkleNode.objects.filter(site=site, level=0, record_id__in=[row[0] for row in page]).values_list(
                "record_id", flat=True
            )
        )
        for row in page:
            if len(unsealed) == limit:
                break
            after = (row[1], row[0])
            if row[0] not in sealed:
                unsealed.append(row)
    return unsealed, after
