"""Server-side prepared statements for the ledger's busiest reads, on PostgreSQL.

The receipt and current-consent lookups read the partitioned ledger: their statements are
one probe of one index per month, but PostgreSQL planned them over every partition on each
call (about 1 ms of planning for 0.1-0.2 ms of execution at 1M records, more with more
months, and none of it prunable: neither a receipt id nor a visitor id names a month).
Prepared once per database connection, the statement's generic plan is reused and planning
goes. The statement still runs through Django's cursor (``EXECUTE name(...)``), so query
logging, ``assertNumQueries`` and execute wrappers see it as before.

A prepared statement lives as long as the database session, not the transaction (a rollback
keeps it), so this needs a session per connection: not a transaction-pooling pgbouncer. On
any other backend the SQL runs as written.
"""

import re
import weakref
from typing import Any

from django.db import connection

# Per psycopg connection (a reconnect is a new session): the names prepared in it.
_prepared: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class PreparedSql:
    """One statement, written with ``%s`` placeholders, prepared as `name` with `types`."""

    def __init__(self, name: str, sql: str, types: tuple[str, ...]) -> None:
        if not _NAME.match(name):
            raise ValueError(f"not a statement name: {name!r}")
        if sql.count("%s") != len(types):
            raise ValueError(f"{name}: {len(types)} types for {sql.count('%s')} placeholders")
        self.name = name
        self.sql = sql
        self.types = types
        numbered = sql
        for number in range(1, len(types) + 1):
            numbered = numbered.replace("%s", f"${number}", 1)
        self._prepare = f"PREPARE {name} ({', '.join(types)}) AS {numbered}"
        self._execute = f"EXECUTE {name} ({', '.join(['%s'] * len(types))})" if types else f"EXECUTE {name}"

    def text(self) -> str:
        """The SQL to run now on the default connection (prepares it there the first time)."""
        if connection.vendor != "postgresql":
            return self.sql
        connection.ensure_connection()
        raw = connection.connection
        names = _prepared.setdefault(raw, set())
        if self.name not in names:
            with connection.cursor() as cursor:
                cursor.execute(self._prepare)
            names.add(self.name)
        return self._execute
