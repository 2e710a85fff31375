"""Replayed consents are refused by the database, in the INSERT that would record them.

The banner sends an Idempotency-Key with every decision and retries until it gets an answer,
so the same decision can arrive twice: from a retry after a lost response, or from two
servers at once. A key is accepted once per site. Where that is checked matters for speed
and for truth:
- a unique index on the ledger itself would do, but PostgreSQL cannot hold one on the
  monthly-partitioned table without the month in it;
- a read before the write costs a round trip and still races between servers;
- a shared cache (Redis) costs round trips and forgets keys.

So an AFTER INSERT trigger on the ledger copies each key into `IdempotencyClaim`, whose
primary key is (site, key). Record and claim commit or fail together in one statement: a
replay raises IntegrityError (also the second of two racing servers, which waits for the
first), and the claim holds the receipt id the 409 answer returns.

Like the append-only triggers, this one is created by a migration and re-ensured after
every `migrate`, because SQLite drops a table's triggers when it rebuilds the table.
"""

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

LEDGER_TABLE = "consent_consentrecord"


CLAIM_TABLE = "consent_idempotencyclaim"


TRIGGER = f"{LEDGER_TABLE}_claim_idempotency"


# Constants only: no value from outside ever reaches this text.
_CLAIM_INSERT = (
    f'INSERT INTO "{CLAIM_TABLE}" ("site_id", "idempotency_key", "receipt_id", "created_at") '  # noqa: S608
    "VALUES (NEW.site_id, NEW.idempotency_key, NEW.receipt_id, NEW.created_at);"
)


def claim_trigger_install(connection: BaseDatabaseWrapper) -> None:
    """Create (or re-create) the trigger. Idempotent."""
    claim_trigger_remove(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # A conflict inside a trigger aborts the whole INSERT (SQLite's default ABORT).
            cursor.execute(
                f'CREATE TRIGGER "{TRIGGER}" AFTER INSERT ON "{LEDGER_TABLE}" '
                f"FOR EACH ROW WHEN NEW.idempotency_key IS NOT NULL BEGIN {_CLAIM_INSERT} END"
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                f'CREATE FUNCTION "{TRIGGER}"() RETURNS trigger AS $$ '
                f"BEGIN {_CLAIM_INSERT} RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
            # On the partitioned parent: PostgreSQL clones it to every partition, present and future.
            cursor.execute(
                f'CREATE TRIGGER "{TRIGGER}" AFTER INSERT ON "{LEDGER_TABLE}" '
                f'FOR EACH ROW WHEN (NEW.idempotency_key IS NOT NULL) EXECUTE FUNCTION "{TRIGGER}"()'
            )
        else:
            raise NotImplementedError(f"No idempotency trigger for the {connection.vendor} backend.")


def claim_trigger_remove(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'DROP TRIGGER IF EXISTS "{TRIGGER}"')
        elif connection.vendor == "postgresql":
            cursor.execute(f'DROP TRIGGER IF EXISTS "{TRIGGER}" ON "{LEDGER_TABLE}"')
            cursor.execute(f'DROP FUNCTION IF EXISTS "{TRIGGER}"()')


def claim_trigger_present(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGER]
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
                [f'"{LEDGER_TABLE}"', TRIGGER],
            )
        return cursor.fetchone()[0] == 1


def claim_trigger_ensure(using: str = "default", **kwargs: Any) -> None:
    """post_migrate: re-create the trigger once both tables exist (see module docstring)."""
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    if {LEDGER_TABLE, CLAIM_TABLE} <= tables:
        claim_trigger_install(connection)


def claim_trigger_migration() -> Any:
    """The reversible migration operation that installs the trigger."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        claim_trigger_install(schema_editor.connection)

    def backwards(apps: Any, schema_editor: Any) -> None:
        claim_trigger_remove(schema_editor.connection)

    return migrations.RunPython(forwards, backwards, elidable=False)
