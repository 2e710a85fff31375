"""Writes with business rules for sites, memberships and purposes."""

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from consent.editions import canonical_json, edition_publish, sha256_hex, text_normalise
from consent.geo import Resolution
from consent.immutability import purge_allowed
from consent.jurisdictions import RULESETS, RuleSet, ruleset_as_dict
from consent.ledger import (
    LATE_COMMIT_MARGIN,
    checkpoint_note,
    ip_for_storage,
    leaf_hash_hex,
    note_sign,
    personal_commitment,
    salt_new,
    signing_key,
)
from consent.merkle import append_leaves, frontier_read
from consent.models import (
    NECESSARY_PURPOSE_KEY,
    AuditEntry,
    ChangeKind,
    Checkpoint,
    ConsentExport,
    ConsentRecord,
    DocumentKind,
    ExportFormat,
    ExportStatus,
    IdempotencyClaim,
    MerkleNode,
    PolicyDocument,
    PolicyText,
    PolicyVersion,
    Purpose,
    PurposeTranslation,
    Role,
    Site,
    SiteMembership,
    SiteOrigin,
)
from consent.partitions import partition_drop, partitions_list
from consent.policy_text import markdown_render
from consent.selectors import DatabaseNodeSource, SiteSnapshot, consent_export_lines, consent_export_queryset
from consent.validation import ConsentInput

# Shipped wording for the one purpose every site has; site owners may edit it afterwards.
NECESSARY_TEXTS: Mapping[str, tuple[str, str]] = {
    "en": (
        "Strictly necessary",
        "Needed for the site to work and to remember your privacy choices. Always on.",
    ),
    "ru": (
        "Строго необходимые",
        "Нужны для работы сайта и чтобы запомнить ваш выбор о конфиденциальности. Всегда включены.",
    ),
}


@transaction.atomic
def site_create(
    *,
    name: str,
    default_language: str = "en",
    languages: Iterable[str] = (),
    default_jurisdiction: str = "EU",
    origins: Iterable[str] = (),
    owner: AbstractUser | None = None,
    key: str | None = None,
) -> Site:
    """Create a site with its locked `necessary` purpose, its origins and (optionally) its owner."""
    site = Site(
        name=name,
        default_language=default_language,
        languages=list(languages),
        default_jurisdiction=default_jurisdiction,
    )
    if key is not None:
        site.key = key
    site.full_clean()
    site.save()
    necessary_purpose_ensure(site=site)
    for origin in origins:
        site_origin_add(site=site, origin=origin)
    if owner is not None:
        SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    return site


def necessary_purpose_ensure(*, site: Site) -> Purpose:
    """Give the site its `necessary` purpose (idempotent), worded in each of its languages we ship."""
    purpose, _ = Purpose.objects.get_or_create(
        site=site, key=NECESSARY_PURPOSE_KEY, defaults={"is_necessary": True, "position": 0}
    )
    for language in site.enabled_languages:
        name, description = NECESSARY_TEXTS.get(language, NECESSARY_TEXTS["en"])
        PurposeTranslation.objects.get_or_create(
            purpose=purpose, language=language, defaults={"name": name, "description": description}
        )
    return purpose


def site_origin_add(*, site: Site, origin: str) -> SiteOrigin:
    site_origin = SiteOrigin(site=site, origin=origin)
    site_origin.full_clean()
    site_origin.save()
    return site_origin


@transaction.atomic
def site_member_set(*, site: Site, email: str, role: Role | str) -> SiteMembership:
    """Give the user with this email `role` on the site, creating a staff account if none exists.

    A new account has no usable password: its owner sets one through "Forgotten your
    password?" on the admin login page, so nobody ever handles another person's password.
    """
    email = email.strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": "Enter the member's email address."})
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    if user is None:
        user = User(username=email, email=email, is_staff=True)
        user.set_unusable_password()
        user.save()
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    membership, _ = SiteMembership.objects.update_or_create(site=site, user=user, defaults={"role": role})
    return membership


@transaction.atomic
def purpose_create(
    *,
    site: Site,
    key: str,
    texts: Mapping[str, tuple[str, str]],
    is_sale_or_share: bool = False,
    position: int = 100,
) -> Purpose:
    """Create a purpose with its name and description in each given language (code -> (name, description))."""
    if key == NECESSARY_PURPOSE_KEY:
        raise ValidationError({"key": "Every site already has the necessary purpose."})
    purpose = Purpose(site=site, key=key, is_sale_or_share=is_sale_or_share, position=position)
    purpose.full_clean()
    purpose.save()
    for language, (name, description) in texts.items():
        translation = PurposeTranslation(
            purpose=purpose, language=language, name=name, description=description
        )
        translation.full_clean()
        translation.save()
    return purpose


def audit_record(
    *,
    action: str,
    target: str,
    site: Site | None = None,
    actor: AbstractUser | None = None,
    actor_ip: str | None = None,
    data: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Append one audit entry. Call it inside the transaction of the change it records."""
    return AuditEntry.objects.create(
        site=site,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_ip=actor_ip or None,
        action=action,
        target=target,
        data=dict(data or {}),
    )


# Wording that gives consent. Since 2025-09-01 a Russian consent must be a document of its
# own, never part of a policy (RU-4), so policies for Russia may not contain it.
CONSENT_GIVING_PHRASES = re.compile(
    r"даю\s+(сво[её]\s+)?согласие|выражаю\s+(сво[её]\s+)?согласие|"
    r"\bI\s+(hereby\s+)?(give\s+(my\s+)?)?consent\b|\bI\s+agree\s+to\s+the\s+processing\b",
    re.IGNORECASE,
)

# Who may publish legal documents: the site's DPO (and superusers, who administer the platform).
PUBLISHER_ROLES = frozenset({Role.DPO})


def policy_document_create(
    *,
    site: Site,
    kind: DocumentKind | str,
    slug: str | None = None,
    jurisdictions: Iterable[str] = (),
    prevailing_language: str | None = None,
    languages: Iterable[str] | None = None,
) -> PolicyDocument:
    """Create a document; Russian documents prevail in Russian, others in the site's default language."""
    jurisdictions = list(jurisdictions)
    if prevailing_language is None:
        prevailing_language = (
            "ru" if "RU" in jurisdictions or kind == DocumentKind.PD_CONSENT else site.default_language
        )
    document = PolicyDocument(
        site=site,
        kind=kind,
        slug=slug or str(kind).replace("_", "-"),
        jurisdictions=jurisdictions,
        prevailing_language=prevailing_language,
        languages=list(languages) if languages is not None else site.enabled_languages,
    )
    document.full_clean()
    document.save()
    return document


def policy_text_set(*, document: PolicyDocument, language: str, title: str, body: str) -> PolicyText:
    """Write the working copy of a document in one language (drafts are freely editable)."""
    text = PolicyText.objects.filter(document=document, language=language).first() or PolicyText(
        document=document, language=language
    )
    text.title, text.body = title, body
    text.full_clean()
    text.save()
    return text


def policy_required_languages(*, document: PolicyDocument) -> list[str]:
    """Languages every version needs: the prevailing one, the document's, and its jurisdictions'."""
    required = [document.prevailing_language, *document.languages]
    for code in document.jurisdictions:
        required.extend(RULESETS[code].required_languages)
    return list(dict.fromkeys(required))


def policy_reconsent_kinds(*, document: PolicyDocument) -> set[str]:
    """Change kinds that make consents stale under any jurisdiction the document serves."""
    codes = document.jurisdictions or list(RULESETS)
    return {kind for code in codes for kind in RULESETS[code].reconsent_change_kinds}


def site_role_require(*, site: Site, user: AbstractUser, roles: Iterable[str], refusal: str) -> None:
    """Raise PermissionDenied(refusal) unless `user` is a superuser or holds one of `roles` on `site`."""
    if user.is_superuser:
        return
    if not SiteMembership.objects.filter(site=site, user=user, role__in=list(roles)).exists():
        raise PermissionDenied(refusal)


@transaction.atomic
def policy_version_publish(
    *,
    document: PolicyDocument,
    effective_at: datetime,
    by: AbstractUser,
    summary: str = "",
    is_material: bool = False,
    change_kinds: Iterable[str] = (),
    affected_purposes: Iterable[str] = (),
    ip: str | None = None,
    now: datetime | None = None,
) -> PolicyVersion:
    """Freeze the working copy as the next edition.

    Refused (ValidationError, nothing written) when a required language is missing, nothing
    changed, a policy for Russia contains consent wording, or a material change would take
    effect before the site's notice period has passed. A change of a kind that needs fresh
    consent under a jurisdiction the document serves is material whatever the flag says.
    """
    now = now or timezone.now()
    # Lock the document: two DPOs publishing at once must not take the same number.
    document = PolicyDocument.objects.select_for_update().select_related("site").get(pk=document.pk)
    site = document.site
    site_role_require(
        site=site,
        user=by,
        roles=PUBLISHER_ROLES,
        refusal="Only the site's data protection officer can publish its documents.",
    )

    change_kinds = list(dict.fromkeys(change_kinds))
    affected_purposes = sorted(set(affected_purposes))
    errors: dict[str, list[str]] = {}
    unknown_kinds = [kind for kind in change_kinds if kind not in ChangeKind.values]
    if unknown_kinds:
        errors["change_kinds"] = [f"Unknown change kinds: {', '.join(unknown_kinds)}."]
    site_purposes = set(Purpose.objects.filter(site=site, is_necessary=False).values_list("key", flat=True))
    unknown_purposes = [key for key in affected_purposes if key not in site_purposes]
    if unknown_purposes:
        errors["affected_purposes"] = [f"Not purposes of this site: {', '.join(unknown_purposes)}."]

    texts = {text.language: text for text in PolicyText.objects.filter(document=document)}
    missing = [code for code in policy_required_languages(document=document) if code not in texts]
    if missing:
        errors["languages"] = [
            f"The text is missing in: {', '.join(missing)}. Every required language is needed."
        ]
    empty = sorted(code for code, text in texts.items() if not text_normalise(text.body).strip())
    if empty:
        errors.setdefault("languages", []).append(f"The text is empty in: {', '.join(empty)}.")

    if "RU" in document.jurisdictions and document.kind != DocumentKind.PD_CONSENT:
        offending = sorted(code for code, text in texts.items() if CONSENT_GIVING_PHRASES.search(text.body))
        if offending:
            errors.setdefault("body", []).append(
                "A document for Russia cannot contain consent wording (e.g. 'даю согласие'): since "
                "1 September 2025 consent is a separate document. Move it to a 152-FZ consent document. "
                f"Found in: {', '.join(offending)}."
            )

    is_material = is_material or bool(set(change_kinds) & policy_reconsent_kinds(document=document))
    if is_material:
        earliest = now + timedelta(days=site.notice_period_days)
        if effective_at < earliest.replace(microsecond=0):
            errors.setdefault("effective_at", []).append(
                f"A material change needs {site.notice_period_days} days' notice: it can take effect on "
                f"{earliest:%Y-%m-%d %H:%M} UTC at the earliest."
            )
    if errors:
        raise ValidationError(errors)

    frozen = {
        code: {"title": text_normalise(text.title).strip(), "body": text_normalise(text.body)}
        for code, text in sorted(texts.items())
    }
    content_sha256 = sha256_hex(
        canonical_json({"prevailing_language": document.prevailing_language, "texts": frozen})
    )
    version = edition_publish(
        editions=PolicyVersion.objects.filter(document=document),
        content_sha256=content_sha256,
        published_at=now,
        effective_at=effective_at,
        published_by=by,
        change_note=summary,
        document=document,
        prevailing_language=document.prevailing_language,
        texts={code: {**text, "html": markdown_render(text["body"])} for code, text in frozen.items()},
        is_material=is_material,
        change_kinds=change_kinds,
        affected_purposes=affected_purposes,
        published_from_ip=ip or None,
    )
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="policy_version.publish",
        target=f"{document} v{version.number}",
        data={
            "document": document.slug,
            "number": version.number,
            "content_sha256": content_sha256,
            "effective_at": effective_at.isoformat(),
            "is_material": is_material,
            "change_kinds": change_kinds,
            "affected_purposes": affected_purposes,
            "languages": sorted(frozen),
        },
    )
    return version


# --- The consent ledger ----------------------------------------------------------------------


@cache
def _rules_sha256(ruleset: RuleSet) -> str:
    return sha256_hex(canonical_json(ruleset_as_dict(ruleset)))


def consent_record_create(
    *,
    snapshot: SiteSnapshot,
    data: ConsentInput,
    resolution: Resolution,
    ip: str,
    user_agent: str,
    now: datetime | None = None,
) -> ConsentRecord:
    """Append one decision to the ledger: one INSERT, no lock on anything shared.

    The leaf hash is computed here, so the row is complete and provable the moment it
    commits; the sealing job later only appends it to the site's Merkle log.
    """
    site = snapshot.site
    salt = salt_new()
    visitor_id = data.visitor_id
    ip_address = ip_for_storage(ip, site.ip_storage)
    stored_agent = user_agent[:512] if site.store_user_agent and user_agent else None
    record = ConsentRecord(
        site=site,
        receipt_id=secrets.token_urlsafe(16),
        created_at=now or timezone.now(),
        action=data.action,
        ui_layer=data.ui_layer,
        purposes_granted=list(data.granted),
        purposes_denied=list(data.denied),
        jurisdiction=resolution.ruleset.code,
        rules_version=resolution.ruleset.version,
        rules_sha256=_rules_sha256(resolution.ruleset),
        resolved_by=resolution.method,
        country=resolution.country,
        region=resolution.region,
        language=data.language,
        versions=data.versions,
        gpc=data.gpc,
        dnt=data.dnt,
        page_url=data.page_url,
        idempotency_key=data.idempotency_key,
        visitor_id=visitor_id,
        ip_address=ip_address,
        user_agent=stored_agent,
        personal_salt=salt,
        personal_sha256=personal_commitment(
            salt=salt, visitor_id=visitor_id, ip_address=ip_address, user_agent=stored_agent
        ),
    )
    record.leaf_sha256 = leaf_hash_hex(record, site.key)
    # The connection itself, not the `connection` proxy: each attribute read through the
    # proxy is a context-local lookup, and the INSERT below reads a dozen.
    database = connections[DEFAULT_DB_ALIAS]
    if database.in_atomic_block:
        # Inside a caller's transaction, a savepoint keeps a refused replay (idempotency trigger)
        # from breaking it. Outside one, the single INSERT is its own transaction already.
        with transaction.atomic():
            _ledger_insert(record, database)
    else:
        _ledger_insert(record, database)
    return record


def _ledger_insert(record: ConsentRecord, database: BaseDatabaseWrapper) -> None:
    """INSERT a new record with a statement compiled once per process, not once per consent.

    The same SQL and values as record.save(force_insert=True): every field converts its own
    value for the database, as the ORM does. What is skipped is rebuilding the statement from
    the model's 26 fields on every request, which the profile showed as a third of the write
    path's Python time (bench/profile_consent.py). The ledger has no save signals to miss.
    """
    sql, fields, passed_as_is = _ledger_insert_statement(database.vendor)
    params = [
        getattr(record, field.attname)
        if field.attname in passed_as_is
        else field.get_db_prep_save(field.pre_save(record, True), database)
        for field in fields
    ]
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        record.pk = cursor.fetchone()[0]
    record._state.adding = False
    record._state.db = database.alias


@cache
def _ledger_insert_statement(vendor: str) -> tuple[str, tuple[models.Field, ...], frozenset[str]]:
    """The INSERT, its fields in order, and the fields whose values go in unconverted: plain
    text and booleans, which the ORM would hand to the driver unchanged too (a str or None,
    a bool) and which are most of the row."""
    fields = tuple(field for field in ConsentRecord._meta.concrete_fields if not field.primary_key)
    passed_as_is = frozenset(
        field.attname for field in fields if type(field) in (models.CharField, models.BooleanField)
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table, pk = quote(ConsentRecord._meta.db_table), quote(ConsentRecord._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {pk}"  # noqa: S608
    return sql, fields, passed_as_is


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
                    for node in appended.nodes
                ],
                batch_size=2000,
            )
            created_at = now or timezone.now()
            root_hex = appended.root.hex()
            note = checkpoint_note(
                site_key=site.key, tree_size=appended.tree_size, root_hex=root_hex, created_at=created_at
            )
            checkpoint = Checkpoint.objects.create(
                site=site,
                tree_size=appended.tree_size,
                root_hash=root_hex,
                created_at=created_at,
                key_id=signing_key().key_id,
                signature=note_sign(note),
            )
        if len(rows) < batch_size:
            break
    return checkpoint


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


def consent_visitor_redact(
    *, site: Site, visitor_id: str, by: AbstractUser | None = None, ip: str | None = None, reason: str = ""
) -> int:
    """Erase one visitor's personal data from the site's ledger; return how many records changed.

    The values and their salt are cleared; the salted commitment stays, so every leaf,
    checkpoint and proof still verifies. This is the only change the database allows.
    """
    with transaction.atomic():
        # A plain QuerySet on purpose: ImmutableQuerySet refuses update(), and this is the one
        # update the ledger's triggers let through (clearing erasable columns to NULL).
        count = (
            QuerySet(ConsentRecord)
            .filter(site=site, visitor_id=visitor_id)
            .update(visitor_id=None, ip_address=None, user_agent=None, personal_salt=None)
        )
        audit_record(
            site=site,
            actor=by,
            actor_ip=ip,
            action="consent.redact",
            target=f"{count} consent records",
            # The audit log must not keep what was erased: only a hash that can confirm a request.
            data={"visitor_sha256": sha256_hex(visitor_id.encode()), "records": count, "reason": reason},
        )
    return count


def consent_retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Delete consent records past each site's retention, and drop whole months on PostgreSQL.

    A month older than every site's retention is dropped as a partition (instant, no
    row deletes); rows of sites with a shorter retention are deleted inside purge_allowed().
    Merkle nodes stay: they hold no personal data and keep later proofs verifiable.
    Every step leaves an audit entry. Returns records deleted per site key.
    """
    now = now or timezone.now()
    deleted: dict[str, int] = {}
    longest = Site.objects.aggregate(days=Max("consent_retention_days"))["days"]
    if longest is not None and connection.vendor == "postgresql":
        horizon = (now - timedelta(days=longest)).date()
        for name, month in partitions_list():
            next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
            if next_month <= horizon:
                with transaction.atomic():
                    partition_drop(name)
                    audit_record(
                        action="consent.retention.partition_drop", target=name, data={"month": str(month)}
                    )
    for site in Site.objects.all():
        cutoff = now - timedelta(days=site.consent_retention_days)
        with transaction.atomic(), purge_allowed(connection, ConsentRecord):
            count, _ = QuerySet(ConsentRecord).filter(site=site, created_at__lt=cutoff).delete()
            # Their keys go with them: a key is refused as a replay only while its record exists.
            IdempotencyClaim.objects.filter(site=site, created_at__lt=cutoff).delete()
            if count:
                audit_record(
                    site=site,
                    action="consent.retention",
                    target=f"{count} consent records before {cutoff:%Y-%m-%d}",
                    data={
                        "records": count,
                        "cutoff": cutoff.isoformat(),
                        "retention_days": site.consent_retention_days,
                    },
                )
        deleted[site.key] = count
    return deleted


# --- Exports ---------------------------------------------------------------------------------------

EXPORT_DIRECTORY = "consent-exports"


def consent_export_request(
    *, site: Site, by: AbstractUser, date_from: date, date_to: date, fmt: str, ip: str | None = None
) -> ConsentExport:
    """Queue an export of the site's records; the task writes the file and counts its progress."""
    if date_to < date_from:
        raise ValidationError({"date_to": "The end date is before the start date."})
    if fmt not in ExportFormat.values:
        raise ValidationError({"format": f"Choose one of: {', '.join(ExportFormat.values)}."})
    with transaction.atomic():
        export = ConsentExport.objects.create(
            site=site, requested_by=by, date_from=date_from, date_to=date_to, format=fmt
        )
        audit_record(
            site=site,
            actor=by,
            actor_ip=ip,
            action="consent.export",
            target=f"consent records {date_from}..{date_to}",
            data={"export": export.pk, "format": fmt},
        )

        def enqueue() -> None:
            from consent.tasks import consent_export_task

            consent_export_task.enqueue(export.pk)

        transaction.on_commit(enqueue)
    return export


def consent_export_write(*, export: ConsentExport) -> ConsentExport:
    """Write the export file, updating the progress every few thousand rows (read by the admin)."""
    records = consent_export_queryset(site=export.site, date_from=export.date_from, date_to=export.date_to)
    ConsentExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, rows_total=records.count())
    directory = Path(settings.MEDIA_ROOT) / EXPORT_DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{export.site.key}-{export.date_from}-{export.date_to}-{export.pk}.{export.format}"
    done = 0
    try:
        with (directory / name).open("w", encoding="utf-8", newline="") as handle:
            for number, line in enumerate(consent_export_lines(records=records, fmt=export.format)):
                handle.write(line)
                done = number + (0 if export.format == ExportFormat.CSV else 1)
                if done % 2000 == 0:
                    ConsentExport.objects.filter(pk=export.pk).update(rows_done=done)
    except OSError as error:
        ConsentExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=str(error))
    else:
        ConsentExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE, rows_done=done, file_name=name, finished_at=timezone.now()
        )
    export.refresh_from_db()
    return export
