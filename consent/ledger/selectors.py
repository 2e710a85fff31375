"""Reads of the ledger: a visitor's current consent and its freshness, receipts with proofs, checkpoints."""

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from consent.ledger.merkle import MemoryNodeSource, consistency_proof, inclusion_proof
from consent.ledger.prepared import PreparedSql
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    Checkpoint,
    CollectionMethod,
    ConsentRecord,
    Cosignature,
    IdempotencyClaim,
    MerkleNode,
    PolicyVersion,
    Site,
    UiLayer,
)
from consent.rules.jurisdictions import RuleSet
from edge.memo import BoundedTTLCache


@dataclass(frozen=True)
class ConsentFreshness:
    """Whether a past decision still holds at `at`, and if not, why (stable reason codes)."""

    holds: bool
    reasons: tuple[str, ...]
    # When the decision stops holding if nothing else changes (the re-ask date); None: never.
    expires_at: datetime | None


def consent_expires_at(
    *, ruleset: RuleSet, decided_at: datetime, purposes_granted: Iterable[str]
) -> datetime | None:
    """When a decision made now must be asked again at the latest: the re-ask interval after a
    consent (any optional purpose granted) or after a refusal; None when the rules set none."""
    granted = any(key != NECESSARY_PURPOSE_KEY for key in purposes_granted)
    interval = ruleset.reask_after_consent_days if granted else ruleset.reask_after_refusal_days
    return decided_at + timedelta(days=interval) if interval is not None else None


def consent_freshness(
    *,
    site: Site,
    ruleset: RuleSet,
    decided_at: datetime,
    purposes_granted: Iterable[str],
    at: datetime,
) -> ConsentFreshness:
    """Whether a visitor's last decision on `site`, made at `decided_at` under `ruleset`, still holds.

    It stops holding when the jurisdiction's re-ask interval has passed (after a consent, or
    after a refusal), or when a policy version of a document serving this jurisdiction took
    effect after the decision and changed what the consent covered: a material version, or
    one whose change kinds need fresh consent under this jurisdiction, touching a purpose the
    visitor granted. A refusal is never made stale by a policy change (it asked for nothing).
    """
    granted = {key for key in purposes_granted if key != NECESSARY_PURPOSE_KEY}
    reasons: list[str] = []
    expires_at = consent_expires_at(ruleset=ruleset, decided_at=decided_at, purposes_granted=granted)
    if expires_at is not None and at >= expires_at:
        reasons.append("reask_interval")

    if granted and at > decided_at:
        versions = (
            PolicyVersion.objects.filter(
                document__site=site, effective_at__gt=decided_at, effective_at__lte=at
            )
            .select_related("document")
            # What deciding needs, not the versions' texts (whole documents).
            .only(
                "number",
                "is_material",
                "change_kinds",
                "affected_purposes",
                "document__slug",
                "document__jurisdictions",
            )
            .order_by("effective_at", "pk")
        )
        for version in versions:
            touches = not version.affected_purposes or granted & set(version.affected_purposes)
            if touches and policy_version_asks_consent_again(version=version, ruleset=ruleset):
                reasons.append(f"policy_version:{version.document.slug}:v{version.number}")
    return ConsentFreshness(holds=not reasons, reasons=tuple(reasons), expires_at=expires_at)


def policy_version_asks_consent_again(*, version: PolicyVersion, ruleset: RuleSet) -> bool:
    """Whether consents given under `ruleset` before `version` took effect must be asked again.

    The version's document serves the jurisdiction (a document naming none serves all), and
    the version is material or has a change kind that needs fresh consent there. Which of
    the purposes it touches is the caller's question (`version.document` is read).
    """
    serves = not version.document.jurisdictions or ruleset.code in version.document.jurisdictions
    return serves and bool(
        version.is_material or set(version.change_kinds) & set(ruleset.reconsent_change_kinds)
    )


class DatabaseNodeSource:
    """A site's stored Merkle nodes, fetched in one query per request (consent.merkle.NodeSource)."""

    def __init__(self, site_id: int) -> None:
        self.site_id = site_id

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """One statement for all the keys, each one probe of the unique (site, level, index)
        index. Written as SQL: building the same condition as an OR of Q objects cost more
        than running it (about half of a receipt's time). On PostgreSQL the keys go as two
        arrays, so the statement and its plan are the same for 2 keys or 3,000."""
        if not keys:
            return {}
        wanted = sorted(set(keys))
        table = MerkleNode._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    _NODES_SQL.text(),
                    [[key[0] for key in wanted], [key[1] for key in wanted], self.site_id],
                )
            else:
                pairs = ", ".join(["(%s, %s)"] * len(wanted))
                cursor.execute(
                    f"SELECT level, {_INDEX}, hash FROM {table} "  # noqa: S608 (constants)
                    f"WHERE site_id = %s AND (level, {_INDEX}) IN ({pairs})",
                    [self.site_id, *(number for key in wanted for number in key)],
                )
            found = {(level, index): bytes.fromhex(digest) for level, index, digest in cursor.fetchall()}
        missing = [key for key in keys if key not in found]
        if missing:
            raise LookupError(f"Merkle nodes missing for site {self.site_id}: {missing[:5]}")
        return found


class _KeysWanted:
    """A NodeSource that only notes which nodes a proof reads (and answers zeros), so the
    nodes of many proofs can be fetched in one statement."""

    def __init__(self) -> None:
        self.keys: set[tuple[int, int]] = set()

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.keys.update(keys)
        return {key: bytes(32) for key in keys}


_INDEX = connection.ops.quote_name("index")

# PostgreSQL's form of DatabaseNodeSource.nodes (the keys as two arrays), prepared.
_NODES_SQL = PreparedSql(
    "consentry_merkle_nodes",
    f"SELECT n.level, n.{_INDEX}, n.hash FROM unnest(%s::int[], %s::bigint[]) AS k(level, i) "  # noqa: S608
    f"JOIN {MerkleNode._meta.db_table} n ON n.site_id = %s AND n.level = k.level AND n.{_INDEX} = k.i",
    ("int[]", "bigint[]", "bigint"),
)


@contextmanager
def ordered_index_scans() -> Iterator[None]:
    """A transaction in which PostgreSQL must read keyset pages in index order.

    Sorting (and bitmap scans, which lose the order) are priced out for the transaction, so
    `ORDER BY created_at, id LIMIT n` after a row comparison is the ordered index scan that
    stops after n rows, whatever the statistics say. Without it, on a partition filled
    faster than autovacuum analyses it, the planner believed each month held 11 rows and
    read every row after the cursor to sort them (5 s per page of the sealer at 1M).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off")
        yield


def aware(value: datetime) -> datetime:
    """A datetime read with a raw cursor as the ORM would give it (SQLite returns naive UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def consent_current(*, site: Site, visitor_id: str) -> ConsentRecord | None:
    """The visitor's newest decision on the site (the ledger is append-only: newest wins), as the
    banner took it: a decision the site's own systems recorded with this browser's id (a sign-up
    form, whose purposes may be a few) is the account's, not the banner's choice to restore; an
    opt-out or withdrawal the visitor asked for by a data-subject request is theirs, and counts.

    As SQL for the reason _RECEIPT_SQL is: the ORM compiled this one-probe lookup of the
    (site, visitor_id, -id) index for longer than the database answered it."""
    return next(iter(ConsentRecord.objects.raw(_CONSENT_CURRENT_SQL.text(), [site.pk, visitor_id])), None)


# Prepared (consent.ledger.prepared): planned over every month's partition, it spent longer
# planning than running.
_CONSENT_CURRENT_SQL = PreparedSql(
    "consentry_consent_current",
    f"""
    SELECT * FROM {ConsentRecord._meta.db_table} WHERE site_id = %s AND visitor_id = %s
      AND (ui_layer <> '{UiLayer.BACKEND.value}'
           OR collection_method = '{CollectionMethod.DATA_SUBJECT_REQUEST.value}')
    ORDER BY id DESC LIMIT 1
""",  # noqa: S608 (table name, a constant)
    ("bigint", "text"),
)


@dataclass(frozen=True)
class Receipt:
    """A record as its receipt shows it, with its proof once sealed."""

    record: ConsentRecord
    site_key: str
    site_name: str
    leaf_index: int | None
    checkpoint: Checkpoint | None
    cosignatures: tuple[Cosignature, ...]  # the checkpoint's, oldest first
    inclusion_proof: tuple[str, ...]


def idempotency_receipt_get(*, site: Site, key: str | None) -> str | None:
    """The receipt id given to the consent that first used this Idempotency-Key on the site."""
    if not key:
        return None
    claims = IdempotencyClaim.objects.filter(site=site, idempotency_key=key)
    return next(iter(claims.values_list("receipt_id", flat=True)[:1]), None)


# The record, its site's key and name, and its leaf index (None until sealed) in one statement:
# a receipt is the ledger's busiest read, and compiling the same lookups as three ORM queries
# cost more CPU than PostgreSQL spent answering them. The leaf is found by the record's time
# and id (the leaf index (site, record_created_at, record_id) answers it with one probe).
# Prepared (consent.ledger.prepared): a receipt id names no month, so every partition's
# receipt index is probed, and planning that took longer than the probes.
_RECEIPT_SQL = PreparedSql(
    "consentry_receipt",
    f"""
    SELECT r.*, s.key AS site_key, s.name AS site_name,
        (SELECT n.{_INDEX} FROM {MerkleNode._meta.db_table} n
         WHERE n.site_id = r.site_id AND n.level = 0 AND n.record_created_at = r.created_at
           AND n.record_id = r.id
         LIMIT 1) AS leaf_index
    FROM {ConsentRecord._meta.db_table} r JOIN {Site._meta.db_table} s ON s.id = r.site_id
    WHERE r.receipt_id = %s
    LIMIT 1
""",  # noqa: S608 (table names and constants only)
    ("text",),
)

# On PostgreSQL, the same statement also brings the site's newest checkpoint (the first entry
# of the unique (site, tree_size) index read backwards; max() was planned as a scan of the
# site's checkpoints) and whether it has cosignatures:
# two round trips fewer per receipt (the cosignatures are read only when there are some).
_CHECKPOINT_COLUMNS = [field.column for field in Checkpoint._meta.concrete_fields]
_CHECKPOINT_ATTNAMES = [field.attname for field in Checkpoint._meta.concrete_fields]
_RECEIPT_WITH_CHECKPOINT_SQL = PreparedSql(
    "consentry_receipt_checkpoint",
    f"""
    SELECT r.*, s.key AS site_key, s.name AS site_name,
        (SELECT n.{_INDEX} FROM {MerkleNode._meta.db_table} n
         WHERE n.site_id = r.site_id AND n.level = 0 AND n.record_created_at = r.created_at
           AND n.record_id = r.id
         LIMIT 1) AS leaf_index,
        {", ".join(f"c.{column} AS cp_{column}" for column in _CHECKPOINT_COLUMNS)},
        EXISTS (SELECT 1 FROM {Cosignature._meta.db_table} k WHERE k.checkpoint_id = c.id) AS cp_cosigned
    FROM {ConsentRecord._meta.db_table} r JOIN {Site._meta.db_table} s ON s.id = r.site_id
    LEFT JOIN LATERAL (
        SELECT * FROM {Checkpoint._meta.db_table} WHERE site_id = r.site_id ORDER BY tree_size DESC LIMIT 1
    ) c ON true
    WHERE r.receipt_id = %s
    LIMIT 1
""",  # noqa: S608 (table names and constants only)
    ("text",),
)

_NEWEST_CHECKPOINT_SQL = PreparedSql(
    "consentry_newest_checkpoint",
    f"""
    SELECT * FROM {Checkpoint._meta.db_table} WHERE site_id = %s ORDER BY tree_size DESC LIMIT 1
""",  # noqa: S608 (table name)
    ("bigint",),
)
_COSIGNATURES_SQL = PreparedSql(
    "consentry_checkpoint_cosignatures",
    f"""
    SELECT * FROM {Cosignature._meta.db_table} WHERE checkpoint_id = %s ORDER BY witnessed_at, id
""",  # noqa: S608 (table name)
    ("bigint",),
)

RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def receipt_get(*, receipt_id: str, with_proof: bool = True) -> Receipt | None:
    """The record with this receipt id and its proof; None for an unknown or malformed id.

    `with_proof=False` leaves the inclusion proof empty (its nodes are a query of their own):
    the receipt page shows where the record stands and leaves the proof to the JSON endpoint.
    """
    if not RECEIPT_ID.match(receipt_id):
        return None
    together = connection.vendor == "postgresql"  # no converters needed for the checkpoint's columns
    statement = _RECEIPT_WITH_CHECKPOINT_SQL if together else _RECEIPT_SQL
    record = next(iter(ConsentRecord.objects.raw(statement.text(), [receipt_id])), None)
    if record is None:
        return None
    leaf = record.leaf_index
    checkpoint: Checkpoint | None
    if together:
        checkpoint = None
        if record.cp_id is not None:
            checkpoint = Checkpoint.from_db(
                connection.alias,
                _CHECKPOINT_ATTNAMES,
                [getattr(record, f"cp_{column}") for column in _CHECKPOINT_COLUMNS],
            )
    else:
        checkpoint = next(iter(Checkpoint.objects.raw(_NEWEST_CHECKPOINT_SQL.text(), [record.site_id])), None)
    cosignatures: tuple[Cosignature, ...] = ()
    if checkpoint is not None and leaf is not None and (not together or record.cp_cosigned):
        cosignatures = tuple(Cosignature.objects.raw(_COSIGNATURES_SQL.text(), [checkpoint.pk]))
    proof: tuple[str, ...] = ()
    if with_proof and leaf is not None and checkpoint is not None:
        proof = tuple(
            digest.hex()
            for digest in inclusion_proof(
                index=leaf, tree_size=checkpoint.tree_size, source=DatabaseNodeSource(record.site_id)
            )
        )
    return Receipt(
        record=record,
        site_key=record.site_key,
        site_name=record.site_name,
        leaf_index=leaf,
        checkpoint=checkpoint if leaf is not None else None,
        cosignatures=cosignatures,
        inclusion_proof=proof,
    )


def checkpoint_list(*, site: Site, limit: int = 100, before_size: int | None = None) -> list[Checkpoint]:
    """Newest first (their cosignatures: checkpoint_cosignatures)."""
    checkpoints = Checkpoint.objects.filter(site=site).order_by("-tree_size")
    if before_size is not None:
        checkpoints = checkpoints.filter(tree_size__lt=before_size)
    return list(checkpoints[:limit])


def checkpoint_cosignatures(*, checkpoints: Sequence[Checkpoint]) -> dict[int, list[Cosignature]]:
    """Each checkpoint's cosignatures (oldest first) by checkpoint id, in one query. Grouped here
    rather than by prefetch_related, whose related managers cost more than the query for 100."""
    found: dict[int, list[Cosignature]] = {checkpoint.pk: [] for checkpoint in checkpoints}
    for cosignature in Cosignature.objects.filter(checkpoint_id__in=list(found)).order_by(
        "witnessed_at", "id"
    ):
        found[cosignature.checkpoint_id].append(cosignature)
    return found


# A consistency proof between two checkpoints never changes: it is fixed by the two tree sizes
# and the newer root (a log only grows). Each process keeps the ones it computed, so the
# checkpoints list, which asks for the same hundred on every call, reads no node and hashes
# nothing for them. Keyed by the roots as well as the sizes, never by the site alone: a
# rewritten log has other roots, hence other keys.
_consistency_proofs: BoundedTTLCache[tuple[int, str, int, str], tuple[str, ...]] = BoundedTTLCache(
    maxsize=4096, ttl=24 * 3600
)


def checkpoint_consistency_proofs(
    *, site: Site, pairs: Sequence[tuple[Checkpoint, Checkpoint]]
) -> list[list[str]]:
    """The consistency proof of each (older, newer) pair of the site's checkpoints; the nodes of
    those not computed before in this process read in one statement."""
    keys = [(old.tree_size, old.root_hash, new.tree_size, new.root_hash) for old, new in pairs]
    known = {key: _consistency_proofs.get(key) for key in keys}
    missing = [key for key, proof in known.items() if proof is None]
    if missing:
        wanted = _KeysWanted()
        for old_size, _old_root, new_size, _new_root in missing:
            consistency_proof(old_size=old_size, new_size=new_size, source=wanted)
        source = MemoryNodeSource(
            (level, index, digest)
            for (level, index), digest in DatabaseNodeSource(site.pk).nodes(sorted(wanted.keys)).items()
        )
        for key in missing:
            proof = tuple(
                digest.hex() for digest in consistency_proof(old_size=key[0], new_size=key[2], source=source)
            )
            _consistency_proofs.set(key, proof)
            known[key] = proof
    return [list(known[key]) for key in keys]  # type: ignore[arg-type]


def checkpoint_consistency_proof(*, site: Site, old_size: int, new_size: int) -> list[str]:
    return [
        digest.hex()
        for digest in consistency_proof(
            old_size=old_size, new_size=new_size, source=DatabaseNodeSource(site.pk)
        )
    ]


def consent_record_by_receipt(*, site: Site, receipt_id: str) -> ConsentRecord | None:
    """The site's record with this receipt id (the 409 of a replay gives its promise again)."""
    return ConsentRecord.objects.filter(site=site, receipt_id=receipt_id).first()
