"""Keyset paging over (time, id) in raw SQL: the one row comparison an index on
(site, time, id) serves as its index condition (an OR of the two columns would be a filter),
with the time bound as the ORM binds it (SQLite: naive UTC text, which sorts as time does).
The sealer, consent_verify and the webhook dispatcher page the ledger with it."""

from datetime import datetime

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

_OPERATORS = frozenset({">", ">=", "<", "<="})


def db_time(value: datetime) -> object:
    """A datetime as the ORM passes it in SQL (SQLite: naive UTC text, which sorts as time does)."""
    return connection.ops.adapt_datetimefield_value(value)


def row_compare(first: str, second: str, operator: str, bound: tuple[datetime, int]) -> RawSQL:
    """`(first, second) <operator> bound` as one row comparison, for QuerySet.filter()."""
    if operator not in _OPERATORS:
        raise ValueError(operator)
    return RawSQL(  # noqa: S611 (column names are our constants; the values are parameters)
        f"({first}, {second}) {operator} (%s, %s)", [db_time(bound[0]), bound[1]], output_field=BooleanField()
    )
