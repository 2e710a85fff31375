"""Rows that must never change: published editions, the audit log and the consent ledger.

Three levels, so a bug or a console session cannot rewrite history:
1. the model refuses save() on an existing row and delete(), and its manager's
   update()/delete() raise;
2. database triggers (SQLite and PostgreSQL) refuse UPDATE and DELETE on the table, except
   an UPDATE that only clears (sets to NULL) the columns a table names as erasable (ledger
   redaction), and, for tables that allow it, a DELETE by retention: on PostgreSQL only from
   inside the retention functions (consent.ledger.retention), on SQLite inside `purge_allowed()`;
3. the admin and the APIs are read-only for these rows.

On PostgreSQL with two roles (consent.dbroles) the application's role also lacks the
privileges: it may SELECT and INSERT these tables, never UPDATE, DELETE, TRUNCATE or ALTER
them, and it owns nothing, so it cannot drop or disable a trigger either.

Triggers are created by each table's migration and re-ensured after every `migrate`
(post_migrate), because SQLite rebuilds a table to alter it and the rebuild drops its
triggers.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

from consent.models.immutable import ImmutableModel, ImmutableRowError


def _columns(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [column.name for column in connection.introspection.get_table_description(cursor, table)]


def _quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


# The SECURITY DEFINER functions whose DELETEs the PostgreSQL triggers let through: they
# check their own arguments and write their audit row (consent.ledger.retention,
# consent.requests.retention). A trigger
# recognises them on the call stack; no session setting can switch deleting on.
PURGE_FUNCTIONS = (
    "consentry_ledger_retention(bigint)",
    "consentry_ledger_month_drop(date)",
    # Data-subject requests' history, 24 months after closing (consent.requests.retention).
    "consentry_requests_retention(bigint)",
)


def definer_options(cursor: Any) -> str:
    """The clauses of a SECURITY DEFINER function: it runs with its owner's rights, so it must
    not find tables or functions through a search path the caller could change."""
    cursor.execute("SELECT quote_ident(current_schema())")
    return f"SECURITY DEFINER SET search_path = {cursor.fetchone()[0]}, pg_temp"


def function_private(cursor: Any, signature: str) -> None:
    """PostgreSQL lets PUBLIC execute a new function: only the roles granted it may (consent.dbroles)."""
    cursor.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


def triggers_install(
    connection: BaseDatabaseWrapper, table: str, mutable_columns: Iterable[str] = (), purgeable: bool = False
) -> None:
    """Create (or re-create) the triggers that keep `table` append-only. Idempotent."""
    mutable = sorted(set(mutable_columns))
    guarded = [column for column in _columns(connection, table) if column not in mutable]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            _sqlite_triggers_install(cursor, connection, table, guarded=guarded, mutable=mutable)
        elif connection.vendor == "postgresql":
            _postgresql_triggers_install(cursor, connection, table, mutable=mutable, purgeable=purgeable)
        else:
            raise NotImplementedError(f"No append-only triggers for the {connection.vendor} backend.")


def _sqlite_triggers_install(
    cursor: Any, connection: BaseDatabaseWrapper, table: str, *, guarded: list[str], mutable: list[str]
) -> None:
    """Refuse every DELETE, and every UPDATE that changes a guarded column or changes a mutable
    one to anything but NULL."""
    quoted_table = _quote(connection, table)
    message = f"{table} is append-only"
    cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_update"')
    cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_delete"')
    q = {column: _quote(connection, column) for column in guarded + mutable}
    forbidden = [f"NEW.{q[c]} IS NOT OLD.{q[c]}" for c in guarded]
    forbidden += [f"(NEW.{q[c]} IS NOT NULL AND NEW.{q[c]} IS NOT OLD.{q[c]})" for c in mutable]
    cursor.execute(
        f'CREATE TRIGGER "{table}_no_update" BEFORE UPDATE ON {quoted_table} '
        f"FOR EACH ROW WHEN {' OR '.join(forbidden)} BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )
    # SQLite has no session settings: purge_allowed() drops this trigger inside its transaction.
    cursor.execute(
        f'CREATE TRIGGER "{table}_no_delete" BEFORE DELETE ON {quoted_table} '
        f"FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def _postgresql_triggers_install(
    cursor: Any, connection: BaseDatabaseWrapper, table: str, *, mutable: list[str], purgeable: bool
) -> None:
    """One function refusing UPDATE (unless it only clears mutable columns), DELETE (unless a
    retention function deletes from a purgeable table) and TRUNCATE, on the table and its partitions."""
    quoted_table = _quote(connection, table)
    message = f"{table} is append-only"
    allowed = "ARRAY[" + ", ".join(f"'{column}'" for column in mutable) + "]::text[]"
    only_cleared = "".join(
        f" AND (to_jsonb(NEW) -> '{c}' = 'null'::jsonb OR to_jsonb(NEW) -> '{c}' = to_jsonb(OLD) -> '{c}')"
        for c in mutable
    )
    # A frame of the call stack reads "PL/pgSQL function <name>(<args>) line <n> at <what>".
    frames = "|".join(re.escape(name) for name in PURGE_FUNCTIONS)
    from_retention = f"stack ~ '(^|\\n)PL/pgSQL function ({frames}) line [0-9]+ at '"
    purge = (
        f"IF TG_OP = 'DELETE' THEN GET DIAGNOSTICS stack = PG_CONTEXT; "
        f"IF {from_retention} THEN RETURN OLD; END IF; END IF;"
        if purgeable
        else ""
    )
    cursor.execute(
        f"""
        CREATE OR REPLACE FUNCTION "{table}_append_only"() RETURNS trigger AS $$
        DECLARE stack text;
        BEGIN
            {purge}
            IF TG_OP = 'UPDATE'
               AND (to_jsonb(NEW) - {allowed}) IS NOT DISTINCT FROM (to_jsonb(OLD) - {allowed})
               {only_cleared} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';
        END;
        $$ LANGUAGE plpgsql
        """
    )
    cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON {quoted_table}')
    cursor.execute(
        f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON {quoted_table} '
        f'FOR EACH ROW EXECUTE FUNCTION "{table}_append_only"()'
    )
    truncate_trigger_install(cursor, table=table, on=quoted_table)
    # A partitioned table's row triggers reach its partitions, its statement triggers
    # do not: TRUNCATE of one month by name needs the partition's own (new months get
    # theirs from consent.ledger.partitions).
    cursor.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
        [quoted_table],
    )
    for (partition,) in cursor.fetchall():
        truncate_trigger_install(cursor, table=table, on=partition)


def truncate_trigger_install(cursor: Any, *, table: str, on: str) -> None:
    """PostgreSQL: refuse TRUNCATE of `on` (the table or one of its partitions, quoted) with the
    table's append-only function. TRUNCATE skips row triggers, so it needs a statement trigger."""
    cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_truncate" ON {on}')
    cursor.execute(
        f'CREATE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON {on} '
        f'FOR EACH STATEMENT EXECUTE FUNCTION "{table}_append_only"()'
    )


@contextmanager
def purge_allowed(connection: BaseDatabaseWrapper, model: type["ImmutableModel"]) -> Iterator[None]:
    """SQLite: let retention delete rows of a purgeable table for the current transaction only.

    SQLite has no roles and no functions: any process that can open the file can change it, so
    this is a guard against mistakes, not against an attacker. PostgreSQL deletes only through
    the retention functions (PURGE_FUNCTIONS)."""
    if not model.purgeable:
        raise ImmutableRowError(f"{model.__name__} rows are never purged.")
    if connection.vendor != "sqlite":
        raise RuntimeError(
            "purge_allowed() is SQLite's: PostgreSQL purges through consentry_ledger_retention()."
        )
    if not connection.in_atomic_block:
        raise RuntimeError("purge_allowed() must run inside transaction.atomic().")
    table = model._meta.db_table
    # DDL is transactional in SQLite and the IMMEDIATE transaction holds the write lock,
    # so no other writer ever sees the table without its trigger.
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_delete"')
    yield
    triggers_install(connection, table, model.mutable_columns, model.purgeable)


def triggers_remove(connection: BaseDatabaseWrapper, table: str) -> None:
    """Drop the triggers (used by migrations going backwards, and by tamper tests)."""
    quoted_table = _quote(connection, table)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_update"')
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_delete"')
        elif connection.vendor == "postgresql":
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON {quoted_table}')
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_truncate" ON {quoted_table}')
            # CASCADE: the partitions' own TRUNCATE triggers go with the function.
            cursor.execute(f'DROP FUNCTION IF EXISTS "{table}_append_only"() CASCADE')


def triggers_present(connection: BaseDatabaseWrapper, table: str) -> bool:
    if connection.vendor == "sqlite":
        names = [f"{table}_no_update", f"{table}_no_delete"]
        query = (
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN (%s, %s)"
        )
    else:
        names = [f"{table}_append_only", f"{table}_no_truncate"]
        query = "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname IN (%s, %s)"
        table = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(query, [table, *names])
        return cursor.fetchone()[0] == len(names)


def immutable_models() -> list[type[ImmutableModel]]:
    return [model for model in apps.get_models() if issubclass(model, ImmutableModel)]


def triggers_ensure_all(using: str = "default", **kwargs: Any) -> None:
    """post_migrate: make sure every immutable table has its triggers (see module docstring)."""
    from django.db import connections

    connection = connections[using]
    existing = set(connection.introspection.table_names())
    for model in immutable_models():
        table = model._meta.db_table
        if table in existing:
            triggers_install(connection, table, model.mutable_columns, model.purgeable)


def triggers_migration(
    model_name: str, app_label: str, mutable_columns: Sequence[str] = (), purgeable: bool = False
) -> Any:
    """A reversible migration operation that installs a table's triggers."""
    from django.db import migrations

    def forwards(migration_apps: Any, schema_editor: Any) -> None:
        table = migration_apps.get_model(app_label, model_name)._meta.db_table
        triggers_install(schema_editor.connection, table, mutable_columns, purgeable)

    def backwards(migration_apps: Any, schema_editor: Any) -> None:
        table = migration_apps.get_model(app_label, model_name)._meta.db_table
        triggers_remove(schema_editor.connection, table)

    return migrations.RunPython(forwards, backwards, elidable=False)
