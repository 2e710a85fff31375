"""Reads for sites and the roles users hold on them."""

import csv
import io
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from consent.editions import edition_in_force, editions_upcoming
from consent.jurisdictions import RuleSet
from consent.merkle import (
    MemoryNodeSource,
    consistency_proof,
    consistency_proof_verify,
    inclusion_proof,
    inclusion_proof_verify,
)
from consent.merkle import root as merkle_root
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    Checkpoint,
    ConsentRecord,
    IdempotencyClaim,
    MerkleNode,
    PolicyDocument,
    PolicyVersion,
    Purpose,
    Role,
    Site,
    SiteMembership,
)
from consent.policy_text import DiffBlock, text_diff

# Roles that may change a site's configuration (purposes, texts, origins).
EDITOR_ROLES: frozenset[str] = frozenset({Role.OWNER, Role.DPO})


def site_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Site]:
    """The sites a user may see: all for superusers, their memberships otherwise."""
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(memberships__user=user).distinct()


def site_ids_for_user(
    *, user: AbstractBaseUser | AnonymousUser, roles: frozenset[str] | None = None
) -> set[int]:
    """Ids of the sites on which the user holds one of `roles` (any role when None); not for superusers."""
    memberships = SiteMembership.objects.filter(user=user, user__is_active=True)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return set(memberships.values_list("site_id", flat=True))


def site_role_for_user(*, site: Site, user: AbstractBaseUser | AnonymousUser) -> str | None:
    if not user.is_authenticated:
        return None
    return SiteMembership.objects.filter(site=site, user=user).values_list("role", flat=True).first()


def site_get_by_key(*, key: str) -> Site | None:
    return Site.objects.filter(key=key).first()


def purpose_list(*, site: Site) -> QuerySet[Purpose]:
    """The site's purposes in banner order, with their translations loaded."""
    return Purpose.objects.filter(site=site).prefetch_related("translations").order_by("position", "key")


# --- Policy documents ---------------------------------------------------------------------


def policy_document_list(*, site: Site) -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.filter(site=site).order_by("kind", "slug")


def policy_document_get(*, site: Site, slug: str) -> PolicyDocument | None:
    return PolicyDocument.objects.filter(site=site, slug=slug).first()


def policy_versions(*, document: PolicyDocument) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(document=document)


def policy_version_in_force(*, document: PolicyDocument, at: datetime) -> PolicyVersion | None:
    """The newest edition with effective_at <= at."""
    return edition_in_force(policy_versions(document=document), at)


def policy_versions_upcoming(*, document: PolicyDocument, at: datetime) -> list[PolicyVersion]:
    return list(editions_upcoming(policy_versions(document=document), at))


def policy_version_get(*, document: PolicyDocument, number: int) -> PolicyVersion | None:
    return policy_versions(document=document).filter(number=number).first()


@dataclass(frozen=True)
class PolicyTimeline:
    """A document's editions as a reader needs them at one moment."""

    document: PolicyDocument
    in_force: PolicyVersion | None
    upcoming: tuple[PolicyVersion, ...]
    history: tuple[PolicyVersion, ...]  # every edition, newest first


def policy_timeline(*, document: PolicyDocument, at: datetime) -> PolicyTimeline:
    """In force, upcoming and history from one query."""
    history = tuple(policy_versions(document=document).order_by("-number"))
    effective = [version for version in history if version.effective_at <= at]
    upcoming = tuple(
        sorted((version for version in history if version.effective_at > at), key=lambda v: v.number)
    )
    return PolicyTimeline(
        document=document, in_force=effective[0] if effective else None, upcoming=upcoming, history=history
    )


@dataclass(frozen=True)
class LanguageDiff:
    language: str
    old_title: str
    new_title: str
    blocks: tuple[DiffBlock, ...]


def policy_version_diff(
    *, old: PolicyVersion | None, new: PolicyVersion | PolicyDocument, context: int | None = None
) -> list[LanguageDiff]:
    """Per-language changes from `old` (None: nothing) to `new` (an edition, or a document's working copy).

    `context`: keep that many unchanged lines around each change (None: the whole text).
    """
    if isinstance(new, PolicyDocument):
        new_texts = {text.language: {"title": text.title, "body": text.body} for text in new.texts.all()}
        prevailing = new.prevailing_language
    else:
        new_texts, prevailing = new.texts, new.prevailing_language
    old_texts = old.texts if old is not None else {}
    languages = [prevailing] + sorted((set(new_texts) | set(old_texts)) - {prevailing})
    diffs = []
    for language in languages:
        before, after = old_texts.get(language, {}), new_texts.get(language, {})
        diffs.append(
            LanguageDiff(
                language=language,
                old_title=before.get("title", ""),
                new_title=after.get("title", ""),
                blocks=text_diff(before.get("body", ""), after.get("body", ""), context),
            )
        )
    return diffs


# --- Does a visitor's consent still hold? ---------------------------------------------------


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
            .order_by("effective_at", "pk")
        )
        for version in versions:
            serves = not version.document.jurisdictions or ruleset.code in version.document.jurisdictions
            needs_consent = version.is_material or set(version.change_kinds) & set(
                ruleset.reconsent_change_kinds
            )
            touches = not version.affected_purposes or granted & set(version.affected_purposes)
            if serves and needs_consent and touches:
                reasons.append(f"policy_version:{version.document.slug}:v{version.number}")
    return ConsentFreshness(holds=not reasons, reasons=tuple(reasons), expires_at=expires_at)


# --- The consent write path's view of a site -------------------------------------------------


@dataclass(frozen=True)
class SiteSnapshot:
    """What validating a consent needs about a site, loaded in a handful of queries and cached.

    `policies` maps document slug -> {number: content SHA-256}; `pins` the same for every
    other registered edition kind. Changes in the admin are seen within SNAPSHOT_TTL_SECONDS.
    """

    site: Site
    origins: frozenset[str]
    purposes: tuple[str, ...]
    sale_or_share_purposes: frozenset[str]
    policies: Mapping[str, Mapping[int, str]]
    pins: Mapping[str, Mapping[int, str]]


SNAPSHOT_TTL_SECONDS = 5.0
_snapshots: dict[str, tuple[float, SiteSnapshot | None]] = {}


def site_snapshot(*, key: str) -> SiteSnapshot | None:
    """The site with this public key as the write path sees it, or None; cached per process.

    Per process on purpose: the write path then costs one INSERT and no reads, and a
    few seconds of staleness after an admin edit cannot let a wrong version be pinned,
    because editions, once published, never change.
    """
    now = time.monotonic()
    cached = _snapshots.get(key)
    if cached is not None and now - cached[0] < SNAPSHOT_TTL_SECONDS:
        return cached[1]
    snapshot = _site_snapshot_load(key)
    _snapshots[key] = (now, snapshot)
    return snapshot


def site_snapshot_forget() -> None:
    _snapshots.clear()


def _site_snapshot_load(key: str) -> SiteSnapshot | None:
    from consent.pins import pin_kinds

    site = Site.objects.filter(key=key).first()
    if site is None:
        return None
    purposes = list(
        Purpose.objects.filter(site=site).order_by("position", "key").values_list("key", "is_sale_or_share")
    )
    policies: dict[str, dict[int, str]] = {}
    for slug, number, sha in PolicyVersion.objects.filter(document__site=site).values_list(
        "document__slug", "number", "content_sha256"
    ):
        policies.setdefault(slug, {})[number] = sha
    return SiteSnapshot(
        site=site,
        origins=frozenset(site.origins.values_list("origin", flat=True)),
        purposes=tuple(key for key, _ in purposes),
        sale_or_share_purposes=frozenset(key for key, is_sale in purposes if is_sale),
        policies=policies,
        pins={kind: dict(resolver(site)) for kind, resolver in pin_kinds().items()},
    )


# --- The consent ledger ----------------------------------------------------------------------


class DatabaseNodeSource:
    """A site's stored Merkle nodes, fetched in one query per request (consent.merkle.NodeSource)."""

    def __init__(self, site_id: int) -> None:
        self.site_id = site_id

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        if not keys:
            return {}
        by_level: dict[int, list[int]] = {}
        for level, index in keys:
            by_level.setdefault(level, []).append(index)
        condition = Q()
        for level, indexes in by_level.items():
            condition |= Q(level=level, index__in=indexes)
        rows = MerkleNode.objects.filter(condition, site_id=self.site_id).values_list(
            "level", "index", "hash"
        )
        found = {(level, index): bytes.fromhex(digest) for level, index, digest in rows}
        missing = [key for key in keys if key not in found]
        if missing:
            raise LookupError(f"Merkle nodes missing for site {self.site_id}: {missing[:5]}")
        return found


def consent_current(*, site: Site, visitor_id: str) -> ConsentRecord | None:
    """The visitor's newest decision on the site (the ledger is append-only: newest wins)."""
    return ConsentRecord.objects.filter(site=site, visitor_id=visitor_id).order_by("-id").first()


@dataclass(frozen=True)
class Receipt:
    """A record as its receipt shows it, with its proof once sealed."""

    record: ConsentRecord
    site_key: str
    leaf_index: int | None
    checkpoint: Checkpoint | None
    inclusion_proof: tuple[str, ...]


def idempotency_receipt_get(*, site: Site, key: str | None) -> str | None:
    """The receipt id given to the consent that first used this Idempotency-Key on the site."""
    if not key:
        return None
    claims = IdempotencyClaim.objects.filter(site=site, idempotency_key=key)
    return next(iter(claims.values_list("receipt_id", flat=True)[:1]), None)


RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def receipt_get(*, receipt_id: str, with_proof: bool = True) -> Receipt | None:
    """The record with this receipt id and its proof; None for an unknown or malformed id.

    `with_proof=False` leaves the inclusion proof empty (its nodes are a query of their own):
    the receipt page shows where the record stands and leaves the proof to the JSON endpoint.
    """
    if not RECEIPT_ID.match(receipt_id):
        return None
    record = ConsentRecord.objects.select_related("site").filter(receipt_id=receipt_id).first()
    if record is None:
        return None
    leaf = (
        MerkleNode.objects.filter(site_id=record.site_id, level=0, record_id=record.pk)
        .values_list("index", flat=True)
        .first()
    )
    checkpoint = Checkpoint.objects.filter(site_id=record.site_id).order_by("-tree_size").first()
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
        site_key=record.site.key,
        leaf_index=leaf,
        checkpoint=checkpoint if leaf is not None else None,
        inclusion_proof=proof,
    )


def pinned_policy_titles(
    *, site_id: int, pinned: Mapping[str, Mapping[str, Any]], language: str
) -> dict[str, str]:
    """slug -> title of the pinned edition ({slug: {"number": n, ...}}, as a record pins them),
    in `language` where the edition has it, else in its prevailing language."""
    titles = {}
    for version in PolicyVersion.objects.filter(
        document__site_id=site_id, document__slug__in=list(pinned)
    ).select_related("document"):
        if pinned[version.document.slug]["number"] == version.number:
            text = version.texts.get(language) or version.texts[version.prevailing_language]
            titles[version.document.slug] = text["title"]
    return titles


def checkpoint_list(*, site: Site, limit: int = 100, before_size: int | None = None) -> list[Checkpoint]:
    """Newest first."""
    checkpoints = Checkpoint.objects.filter(site=site).order_by("-tree_size")
    if before_size is not None:
        checkpoints = checkpoints.filter(tree_size__lt=before_size)
    return list(checkpoints[:limit])


def checkpoint_consistency_proof(*, site: Site, old_size: int, new_size: int) -> list[str]:
    return [
        digest.hex()
        for digest in consistency_proof(
            old_size=old_size, new_size=new_size, source=DatabaseNodeSource(site.pk)
        )
    ]


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
    from consent.ledger import (
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


# --- Exports -------------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "receipt_id", "created_at", "action", "ui_layer", "purposes_granted", "purposes_denied", "jurisdiction",
    "rules_version", "resolved_by", "country", "region", "language", "versions", "gpc", "dnt", "page_url",
    "visitor_id", "ip_address", "user_agent", "leaf_sha256",
)  # fmt: skip


def consent_export_queryset(*, site: Site, date_from: date, date_to: date) -> QuerySet[ConsentRecord]:
    """The site's records made on date_from..date_to (inclusive, UTC days), oldest first."""
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return ConsentRecord.objects.filter(site=site, created_at__gte=start, created_at__lt=end).order_by(
        "created_at", "id"
    )


def consent_export_lines(*, records: QuerySet[ConsentRecord], fmt: str) -> Iterator[str]:
    """The export as text lines (CSV with a header, or one JSON object per line), in constant memory."""
    rows = records.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
    if fmt == "jsonl":
        for row in rows:
            item = dict(zip(EXPORT_FIELDS, row, strict=True))
            item["created_at"] = item["created_at"].isoformat()
            yield json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(EXPORT_FIELDS)
    for row in rows:
        yield line(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, list | dict)
            else value.isoformat() if isinstance(value, datetime) else value
            for value in row
        )  # fmt: skip
