"""The write path: one consent decision becomes one immutable ledger row, in one INSERT."""

import secrets
from datetime import datetime
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from consent.editions import canonical_json, sha256_hex
from consent.ledger.crypto import ip_for_storage, leaf_hash_hex, personal_commitment, salt_new
from consent.ledger.validation import ConsentInput
from consent.models import ConsentRecord
from consent.rules.geo import Resolution
from consent.rules.jurisdictions import RuleSet, ruleset_as_dict
from consent.sites.selectors import SiteSnapshot


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
    subject_hmac: str | None = None,
    collection_method: str | None = None,
) -> ConsentRecord:
    """Append one decision to the ledger: one INSERT, no lock on anything shared.

    The leaf hash is computed here, so the row is complete and provable the moment it
    commits; the sealing job later only appends it to the site's Merkle log. A decision the
    site's own systems recorded (consent.subjects.services) names its account by
    `subject_hmac` and says its `collection_method`; the banner's give neither.
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
        subject_hmac=subject_hmac,
        collection_method=collection_method,
        personal_sha256=personal_commitment(
            salt=salt,
            visitor_id=visitor_id,
            ip_address=ip_address,
            user_agent=stored_agent,
            subject_hmac=subject_hmac,
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
