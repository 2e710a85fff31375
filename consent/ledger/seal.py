"""Sealing: append unsealed records to a site's Merkle log in order and sign a checkpoint over it."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from consent.keyset import db_time
from consent.ledger.crypto import LATE_COMMIT_MARGIN, checkpoint_sign
from consent.ledger.merkle import Node, append_leaves, frontier_read
from consent.ledger.selectors import DatabaseNodeSource, aware, ordered_index_scans
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
        with ordered_index_scans():
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
    `tree_size + i` is `rows[i]`), so retention and verify can find it.

    On PostgreSQL with COPY: the same rows an INSERT would write (its triggers fire too), at a
    fraction of the per-row cost, which for two nodes per record was most of the sealer's time.
    """
    values = [
        (
            site.pk,
            node.level,
            node.index,
            node.hash.hex(),
            rows[node.index - tree_size][0] if node.level == 0 else None,
            rows[node.index - tree_size][1] if node.level == 0 else None,
        )
        for node in nodes
    ]
    if connection.vendor == "postgresql":
        columns = "site_id, level, index, hash, record_id, record_created_at"
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {MerkleNode._meta.db_table} ({columns}) FROM STDIN"  # noqa: S608 (our constants)
            ) as copy,
        ):
            for value in values:
                copy.write_row(value)
        return
    MerkleNode.objects.bulk_create(
        [
            MerkleNode(
                site_id=site_id,
                level=level,
                index=index,
                hash=digest,
                record_id=record_id,
                record_created_at=created_at,
            )
            for site_id, level, index, digest, record_id, created_at in values
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

    Pages through the records in (created_at, id) order with a row comparison that the index
    (site, created_at, id) serves as its index condition, so each page starts where the last
    one ended. Records after the newest sealed one in that order (the high-water mark, read
    from the leaf index) are unsealed by definition and need no check; only those at or
    before it, the late commits the look-back exists for, are checked against the leaves of
    the page's time range. Every query is an index range scan whatever the statistics say:
    on a month's partition filled faster than PostgreSQL re-analyses it, plans chosen by
    statistics took a minute per batch (seen in bench/consent_write.py).
    """
    high_water = _sealed_high_water(site)
    unsealed: list[tuple[int, datetime, str]] = []
    while len(unsealed) < limit:
        checked = high_water is not None and (after is None or after <= high_water)
        page = _records_page(site, since=since, after=after, size=UNSEALED_PAGE if checked else limit)
        if not page:
            break
        sealed = _sealed_among(site, page, high_water) if checked else set()
        for row in page:
            if len(unsealed) == limit:
                break
            after = (row[1], row[0])
            if row[0] not in sealed:
                unsealed.append(row)
    return unsealed, after


def _records_page(
    site: Site, *, since: datetime | None, after: tuple[datetime, int] | None, size: int
) -> list[tuple[int, datetime, str]]:
    """The next `size` records of the site in (created_at, id) order, from `since`, past `after`."""
    table = ConsentRecord._meta.db_table
    where, params = ["site_id = %s"], [site.pk]
    if after is not None:
        # The row comparison is the index condition; the plain bound lets PostgreSQL skip the
        # months before it (partition pruning does not look into row comparisons).
        where.append("(created_at, id) > (%s, %s) AND created_at >= %s")
        params += [db_time(after[0]), after[1], db_time(after[0])]
    elif since is not None:
        where.append("created_at >= %s")
        params.append(db_time(since))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, created_at, leaf_sha256 FROM {table} WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY created_at, id LIMIT %s",
            [*params, size],
        )
        return [(row[0], aware(row[1]), row[2]) for row in cursor.fetchall()]


def _sealed_high_water(site: Site) -> tuple[datetime, int] | None:
    """(created_at, id) of the newest record in the site's log, in that order; None if empty."""
    table = MerkleNode._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT record_created_at, record_id FROM {table} WHERE site_id = %s AND level = 0 "  # noqa: S608
            "ORDER BY record_created_at DESC, record_id DESC LIMIT 1",
            [site.pk],
        )
        row = cursor.fetchone()
    return (aware(row[0]), row[1]) if row and row[0] is not None else None


def _sealed_among(
    site: Site, page: list[tuple[int, datetime, str]], high_water: tuple[datetime, int]
) -> set[int]:
    """The ids of the page's records that are in the log: leaves of the page's time range."""
    table = MerkleNode._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT record_id FROM {table} WHERE site_id = %s AND level = 0 "  # noqa: S608
            "AND record_created_at >= %s AND record_created_at <= %s",
            [site.pk, db_time(page[0][1]), db_time(min(page[-1][1], high_water[0]))],
        )
        return {row[0] for row in cursor.fetchall()}
