"""Least privilege on PostgreSQL: the application's role cannot change the ledger by any SQL.

Retention and redaction still work, through the SECURITY DEFINER functions that check their
own arguments; a month with no partition never fails a consent. CI's PostgreSQL pass runs the
whole suite as the application's role (DATABASE_URL) with DATABASE_OWNER_URL set; on SQLite,
or on PostgreSQL with one role, the role tests skip (and fail in CI's PostgreSQL pass).
"""

import os
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from consent.ledger.partitions import LEDGER_TABLE, partition_name, partitions_ensure, partitions_list
from consent.ledger.retention import REDACT, consent_receipts_redact, retention_horizon
from consent.ledger.verify import ledger_verify
from consent.models import AuditEntry, ConsentRecord, IdempotencyClaim, MerkleNode
from tests.conftest import db_login, db_roles_configured
from tests.consent.test_ledger import body, post, record_at
from tests.consent.test_ledger import site as site  # a fixture

pytestmark = pytest.mark.django_db

APPEND_ONLY = [
    "consent_merklenode",
    "consent_checkpoint",
    "consent_idempotencyclaim",
    "consent_auditentry",
]


TWO_ROLES = connection.vendor == "postgresql" and db_roles_configured()
# A mark, not a fixture: the skip must come before a transactional test's database is set up.
two_roles = pytest.mark.skipif(
    not TWO_ROLES,
    reason="needs PostgreSQL with DATABASE_OWNER_URL (the tables' owner) beside DATABASE_URL (the app)",
)


def test_ci_runs_the_postgresql_pass_as_the_application_role():
    if connection.vendor != "postgresql" or os.environ.get("CI") != "true":
        pytest.skip("CI's PostgreSQL pass only")
    assert TWO_ROLES, "CI's PostgreSQL pass must run as the application's role with DATABASE_OWNER_URL set."


def _fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _refused(sql):
    """Run `sql` as the application's role and show PostgreSQL refused it for want of a privilege."""
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert refused.value.__cause__.sqlstate == "42501", f"{sql}: {refused.value}"  # insufficient_privilege


def _statements(table):
    """Every way we know to change, empty or unguard `table` with plain SQL."""
    (column,) = _fetch(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1", [table]
    )[0]
    triggers = [
        name for (name,) in _fetch("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [table])
    ]
    assert triggers, f"{table} has no trigger"
    return [
        f'UPDATE {table} SET "{column}" = "{column}"',
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
        f"TRUNCATE {table} CASCADE",
        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        *[f'ALTER TABLE {table} DISABLE TRIGGER "{name}"' for name in triggers],
        *[f'DROP TRIGGER "{name}" ON {table}' for name in triggers],
        f"CREATE TRIGGER forged BEFORE INSERT ON {table} FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        f"CREATE RULE forged AS ON UPDATE TO {table} DO INSTEAD NOTHING",
        f"ALTER TABLE {table} ADD COLUMN forged integer",
        f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP NOT NULL',
        f"ALTER TABLE {table} RENAME TO forged",
        f"ALTER TABLE {table} OWNER TO CURRENT_USER",
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"DROP TABLE {table}",
        f"DROP TABLE {table} CASCADE",
    ]


@two_roles
def test_the_application_role_cannot_change_the_ledger_by_any_sql(client, site, settings):
    # The suite runs as the application's role; the owner made the tables.
    assert _fetch("SELECT current_user, session_user")[0] == (settings.DATABASE_APP_USER,) * 2
    owner = _fetch("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass", [LEDGER_TABLE])
    assert owner == [(settings.DATABASE_OWNER["USER"],)]
    receipt = post(client, body(), HTTP_IDEMPOTENCY_KEY="choice-0001").json()["receipt_id"]
    post(client, body(visitor_id="another-visitor-000001"))
    call_command("consent_seal", stdout=StringIO())
    partitions = [
        name
        for (name,) in _fetch(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass ORDER BY 1",
            [LEDGER_TABLE],
        )
    ]
    assert f"{LEDGER_TABLE}_default" in partitions and len(partitions) >= 5  # DEFAULT and the months
    tables = [LEDGER_TABLE, *partitions, *APPEND_ONLY]
    counts = {table: _fetch(f"SELECT count(*) FROM {table}")[0][0] for table in tables}  # noqa: S608
    assert all(counts[table] for table in [LEDGER_TABLE, *APPEND_ONLY])

    tried = []
    for table in tables:
        tried += _statements(table)
    tried += [f"ALTER TABLE {LEDGER_TABLE} DETACH PARTITION {name}" for name in partitions]
    tried += [
        # The classic ways around triggers, and replacing what the triggers and functions run.
        "SET session_replication_role = replica",
        f'CREATE OR REPLACE FUNCTION "{LEDGER_TABLE}_append_only"() RETURNS trigger '
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        f'DROP FUNCTION "{LEDGER_TABLE}_append_only"() CASCADE',
        "CREATE OR REPLACE FUNCTION consentry_ledger_retention(p_site_id bigint) "
        "RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint $$",
        f"ALTER FUNCTION {REDACT} OWNER TO CURRENT_USER",
        "CREATE FUNCTION forged() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$",
    ]
    for sql in tried:
        _refused(sql)
    assert len(tried) > 150
    with connection.cursor() as cursor:  # PostgreSQL only warns "no privileges were granted"
        cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {LEDGER_TABLE} TO CURRENT_USER")

    for table in tables:
        assert _fetch(f"SELECT count(*) FROM {table}")[0][0] == counts[table]  # noqa: S608
        (can,) = _fetch(
            "SELECT has_table_privilege(%s, 'UPDATE') OR has_table_privilege(%s, 'DELETE') "
            "OR has_table_privilege(%s, 'TRUNCATE') OR has_table_privilege(%s, 'TRIGGER') "
            "OR pg_get_userbyid(relowner) = current_user FROM pg_class WHERE oid = %s::regclass",
            [table] * 5,
        )[0]
        assert not can, table
    assert ConsentRecord.objects.get(receipt_id=receipt).visitor_id is not None
    out = StringIO()
    call_command("consent_verify", stdout=out)
    assert "The ledger verifies." in out.getvalue()


@two_roles
def test_the_functions_refuse_what_they_are_not_for(site):
    this_month = timezone.now().date().replace(day=1)
    refusals = [
        ("SELECT consentry_ledger_month_drop(%s)", [this_month]),  # not past retention
        ("SELECT consentry_ledger_month_drop(%s)", [datetime(2001, 1, 2, tzinfo=UTC).date()]),  # not a month
        ("SELECT consentry_ledger_partitions_ensure(%s)", [13]),  # never more than a year ahead
        ("SELECT consentry_ledger_redact(%s, NULL, NULL, NULL, NULL, '')", [site.pk]),  # whom?
        ("SELECT consentry_ledger_redact(%s, 'v', ARRAY['r'], NULL, NULL, '')", [site.pk]),  # one of the two
        ("SELECT consentry_ledger_retention(%s)", [site.pk + 1000]),  # no such site
    ]
    for sql, params in refusals:
        with pytest.raises(DatabaseError, match="month|months ahead|redact by|no site"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    assert not AuditEntry.objects.filter(action__startswith="consent.re").exists()


def test_redaction_by_receipt_ids_clears_only_the_erasable_columns_and_leaves_its_audit_row(client, site):
    first, second = (
        post(client, body(visitor_id=f"visitor-{n:012d}")).json()["receipt_id"] for n in range(2)
    )
    call_command("consent_seal", stdout=StringIO())
    before = ConsentRecord.objects.get(receipt_id=first)
    assert (
        consent_receipts_redact(site=site, receipt_ids=[first], by=None, ip="192.0.2.1", reason="asked") == 1
    )
    after = ConsentRecord.objects.get(receipt_id=first)
    assert (after.visitor_id, after.ip_address, after.user_agent, after.personal_salt) == (
        None,
        None,
        None,
        None,
    )
    kept = [
        f.attname
        for f in ConsentRecord._meta.concrete_fields
        if f.attname not in ConsentRecord.mutable_columns
    ]
    assert all(getattr(after, name) == getattr(before, name) for name in kept)
    assert ConsentRecord.objects.get(receipt_id=second).visitor_id == "visitor-000000000001"
    (entry,) = AuditEntry.objects.filter(action="consent.redact")
    assert entry.data == {"receipt_ids": [first], "records": 1, "reason": "asked"}
    assert entry.actor_ip == "192.0.2.1" and entry.site == site
    # Again, from the command: nothing left to erase, and that is recorded too.
    out = StringIO()
    # `--receipt=<id>`: a receipt id may start with "-" (URL-safe base64), which argparse would
    # take for an option if it came as a separate word.
    call_command("consent_redact", "--site=shop", f"--receipt={first}", stdout=out)
    assert "Redacted 0 record(s)." in out.getvalue()
    assert AuditEntry.objects.filter(action="consent.redact").count() == 2
    report = ledger_verify(site=site)
    assert report.problems == [] and report.redacted == 1


def test_retention_deletes_whole_months_only(client, site):
    horizon = retention_horizon(days=site.consent_retention_days, now=timezone.now())
    gone = record_at(
        horizon - timedelta(minutes=1), visitor_id="visitor-month-past-01", idempotency_key="old-choice-1"
    )
    kept = record_at(
        horizon + timedelta(minutes=1), visitor_id="visitor-month-kept-01", idempotency_key="old-choice-2"
    )
    # Itself past retention by days, but its month is not wholly past: kept until it is.
    assert kept.created_at < timezone.now() - timedelta(days=site.consent_retention_days)
    call_command("consent_retention", stdout=StringIO())
    assert list(ConsentRecord.objects.values_list("receipt_id", flat=True)) == [kept.receipt_id]
    assert list(IdempotencyClaim.objects.values_list("idempotency_key", flat=True)) == ["old-choice-2"]
    entry = AuditEntry.objects.get(action="consent.retention")
    assert entry.data["records"] == 1 and entry.data["cutoff"] == horizon.isoformat()
    assert not ConsentRecord.objects.filter(pk=gone.pk).exists()


@two_roles
def test_retention_drops_a_month_past_every_sites_retention_as_a_partition(
    ledger_owner_connection, client, site
):
    old_month = partition_name(datetime(2020, 1, 1, tzinfo=UTC).date())
    with ledger_owner_connection.cursor() as cursor:  # a month the ledger has held since 2020
        cursor.execute(
            f"CREATE TABLE {old_month} PARTITION OF {LEDGER_TABLE} "
            "FOR VALUES FROM ('2020-01-01 00:00+00') TO ('2020-02-01 00:00+00')"
        )
    old = record_at(
        datetime(2020, 1, 15, tzinfo=UTC), visitor_id="visitor-in-2020-0001", idempotency_key="choice-in-2020"
    )
    assert _fetch(f"SELECT tableoid::regclass::text FROM {LEDGER_TABLE} WHERE id = %s", [old.pk]) == [
        (old_month,)
    ]  # noqa: S608
    recent = post(client, body()).json()["receipt_id"]
    call_command("consent_seal", stdout=StringIO())
    out = StringIO()
    call_command("consent_retention", stdout=out)
    assert old_month not in [name for name, _ in partitions_list()]
    assert AuditEntry.objects.filter(action="consent.retention.partition_drop", target=old_month).count() == 1
    assert list(ConsentRecord.objects.values_list("receipt_id", flat=True)) == [recent]
    assert not IdempotencyClaim.objects.filter(idempotency_key="choice-in-2020").exists()
    assert MerkleNode.objects.filter(record_id=old.pk).exists()  # the log keeps its leaf
    report = ledger_verify(site=site)
    assert report.problems == [] and report.purged == 1


@two_roles
def test_a_consent_is_recorded_when_its_month_has_no_partition(ledger_owner_connection, client, site):
    # The sealer (which creates months ahead) has not run for months, or a month was dropped:
    # the application's role cannot create tables, and need not, the DEFAULT partition takes the row.
    this_month = partition_name(timezone.now().date())
    with ledger_owner_connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {LEDGER_TABLE} DETACH PARTITION {this_month}")
        cursor.execute(f"DROP TABLE {this_month}")
    answer = post(client, body())
    assert answer.status_code == 201
    row = _fetch(
        f"SELECT tableoid::regclass::text FROM {LEDGER_TABLE} WHERE receipt_id = %s",
        [answer.json()["receipt_id"]],
    )  # noqa: S608
    assert row == [(f"{LEDGER_TABLE}_default",)]
    # The sealer's round creates the months it can (none here) and leaves that one to DEFAULT.
    assert this_month not in partitions_ensure()
    call_command("consent_seal", stdout=StringIO())
    assert ledger_verify(site=site).problems == []


@two_roles
def test_the_system_check_warns_when_the_application_connects_as_the_tables_owner(
    ledger_transactional_db, settings
):
    def warnings():
        return [m.id for m in checks.run_checks(databases=["default"]) if m.id == "consentry.W030"]

    assert warnings() == []  # the application's role
    db_login(owner=True)
    assert warnings() == []  # `migrate`, connected as DATABASE_OWNER_URL on purpose
    settings.DATABASE_OWNER = {}  # one role for everything
    assert warnings() == ["consentry.W030"]


@two_roles
def test_consent_db_roles_grants_again_and_refuses_without_two_roles(settings):
    settings.DATABASE_OWNER = {**settings.DATABASE_OWNER, "NAME": connection.settings_dict["NAME"]}
    out = StringIO()
    call_command("consent_db_roles", stdout=out)
    assert "grants applied" in out.getvalue()
    settings.DATABASE_OWNER = {}
    with pytest.raises(CommandError, match="DATABASE_OWNER_URL"):
        call_command("consent_db_roles", stdout=StringIO())
