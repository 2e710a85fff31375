"""Least privilege on PostgreSQL: an owner role for the schema, an application role for the rest.

- The owner (DATABASE_OWNER_URL) runs `migrate` and owns every table, trigger and function.
- The application (DATABASE_URL: web servers, workers, the sealer) owns nothing. On the
  append-only tables (the ledger and its partitions, Merkle nodes, checkpoints, idempotency
  claims, the audit log, published editions) it may SELECT and INSERT only: no UPDATE,
  DELETE or TRUNCATE, and without ownership no ALTER or DROP of a table or trigger.
  It changes ledger rows only through the SECURITY DEFINER functions of consent.ledger.retention
  (redaction, retention) and creates months through consent.ledger.partitions'.
- Every other table (sites, settings, subscribers, exports, jobs, sessions, Django's own) it
  may SELECT, INSERT, UPDATE and DELETE, never TRUNCATE; sequences USAGE and SELECT.

The grants are applied by `migrate` itself (post_migrate) whenever it runs as another role
than the application's, and by `manage.py consent_db_roles`. Default privileges make a table
a future migration creates insert-only for the application until that step widens it: a
forgotten grant fails closed. SQLite has no roles: see README "What each database guarantees".
"""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from consent.immutability import immutable_models
from consent.ledger.partitions import LEDGER_TABLE, PARTITIONS_ENSURE
from consent.ledger.retention import FUNCTIONS as RETENTION_FUNCTIONS
from consent.requests.retention import FUNCTIONS as REQUEST_FUNCTIONS

INSERT_ONLY = "SELECT, INSERT"
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
# The functions the application calls; each checks its own arguments.
APP_FUNCTIONS = (*RETENTION_FUNCTIONS, *REQUEST_FUNCTIONS, PARTITIONS_ENSURE)


def table_privileges() -> dict[str, str]:
    """What the application's role may do on each of the models' tables."""
    privileges = {}
    for model in apps.get_models(include_auto_created=True):
        privileges[model._meta.db_table] = READ_WRITE
    for model in immutable_models():
        # An immutable table whose erasable columns the application clears itself (a deleted
        # subscriber's id in the notification log) keeps UPDATE: its trigger allows only that.
        # The ledger's are cleared only by consentry_ledger_redact().
        clears = model.mutable_columns and model._meta.db_table != LEDGER_TABLE
        privileges[model._meta.db_table] = "SELECT, INSERT, UPDATE" if clears else INSERT_ONLY
    return privileges


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def db_grants_apply(connection: BaseDatabaseWrapper, *, app_role: str) -> list[str]:
    """Grant `app_role` exactly its privileges on every table, sequence and function the
    connected role owns in the current schema; return the statements run. Idempotent."""
    privileges = table_privileges()
    app = _quote(app_role)
    statements = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema()), quote_ident(current_database())")
        schema, database = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, p.relname FROM pg_class c "
            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
            "AND pg_get_userbyid(c.relowner) = current_user ORDER BY c.relname"
        )
        tables = cursor.fetchall()
        statements += [
            f"GRANT CONNECT ON DATABASE {database} TO {app}",
            f"GRANT USAGE ON SCHEMA {schema} TO {app}",
        ]
        for table, parent in tables:
            # A partition is reached through its parent; by name it is as append-only as the parent.
            # A table no model names (django_migrations) is read-only.
            granted = privileges.get(parent or table, INSERT_ONLY if parent else "SELECT")
            statements += [
                f"REVOKE ALL ON {_quote(table)} FROM {app}",
                f"GRANT {granted} ON {_quote(table)} TO {app}",
            ]
        statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}")
        statements += [f"GRANT EXECUTE ON FUNCTION {signature} TO {app}" for signature in APP_FUNCTIONS]
        default = f"ALTER DEFAULT PRIVILEGES FOR ROLE current_user IN SCHEMA {schema}"
        statements += [
            f"{default} GRANT {INSERT_ONLY} ON TABLES TO {app}",
            f"{default} GRANT USAGE, SELECT ON SEQUENCES TO {app}",
            # Every function the owner makes is one of ours (the SECURITY DEFINER ones check
            # their arguments); a migration that re-creates one must not lock the application out.
            f"{default} GRANT EXECUTE ON FUNCTIONS TO {app}",
        ]
        # One query, so one transaction: a server running meanwhile never sees a table between
        # its REVOKE and its GRANT.
        cursor.execute(";\n".join(statements))
    return statements


def db_roles_create(
    admin: BaseDatabaseWrapper,
    *,
    owner: str,
    owner_password: str | None,
    app: str,
    app_password: str | None,
    database: str,
    createdb: bool = False,
) -> list[str]:
    """Create the two roles if missing (as a role with CREATEROLE); when `admin` is connected
    to `database`, hand what the application's role owns there (a deployment from before the
    split) to the owner. Returns what it did, for the command to show."""
    done = []
    with admin.cursor() as cursor:
        for role, password, extra in (
            (owner, owner_password, " CREATEDB" if createdb else ""),
            (app, app_password, ""),
        ):
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            if verb == "CREATE" or extra:
                cursor.execute(f"{verb} ROLE {_quote(role)} LOGIN{extra}")
                done.append(f"{verb} ROLE {role}{extra}")
            if password:
                cursor.execute(f"ALTER ROLE {_quote(role)} PASSWORD %s", [password])
        cursor.execute("SELECT current_database() = %s", [database])
        if not cursor.fetchone()[0]:
            return done  # another database (e.g. `postgres`, before ours exists): roles only
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = %s::regrole", [_quote(app)])
        if cursor.fetchone()[0]:
            cursor.execute(f"REASSIGN OWNED BY {_quote(app)} TO {_quote(owner)}")
            done.append(f"REASSIGN OWNED BY {app} TO {owner}")
        cursor.execute(
            "SELECT quote_ident(current_database()), pg_get_userbyid(datdba) = %s, "
            "quote_ident(current_schema()) FROM pg_database WHERE datname = current_database()",
            [app],
        )
        database, app_owns_it, schema = cursor.fetchone()
        if app_owns_it:
            cursor.execute(f"ALTER DATABASE {database} OWNER TO {_quote(owner)}")
            done.append(f"ALTER DATABASE {database} OWNER TO {owner}")
        # PostgreSQL 15 lets only the database's owner create in `public`: the owner role must.
        cursor.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {_quote(owner)}")
    return done


def database_create(admin: BaseDatabaseWrapper, *, name: str, owner: str) -> bool:
    """Create database `name` owned by `owner` unless it exists; return whether it was created."""
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            return False
        cursor.execute(f"CREATE DATABASE {_quote(name)} OWNER {_quote(owner)}")
    return True


def database_connection(config: dict[str, Any], *, alias: str) -> BaseDatabaseWrapper:
    """A connection of its own (autocommit) with these credentials, the rest as the default's."""
    from django.db.utils import load_backend

    merged = {**connections["default"].settings_dict, **config}
    return load_backend(merged["ENGINE"]).DatabaseWrapper(merged, alias)


def ledger_owner(connection: BaseDatabaseWrapper) -> tuple[str, str] | None:
    """(connected role, the ledger table's owner) on PostgreSQL once the ledger exists, else None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(%s)",
            [LEDGER_TABLE],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def grants_ensure(using: str = "default", **kwargs: Any) -> None:
    """post_migrate: when `migrate` ran as another role than the application's, grant it its share."""
    app_role = settings.DATABASE_APP_USER
    connection = connections[using]
    roles = ledger_owner(connection)
    if not app_role or roles is None or roles[0] == app_role:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        exists = cursor.fetchone() is not None
    if exists:
        db_grants_apply(connection, app_role=app_role)
