"""Rows that must never change at the model level: save() on an existing row and delete() are refused.

The database triggers behind them are consent/immutability.py; tests prove both.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from django.db import models


class ImmutableRowError(Exception):
    """Raised before the database is asked: this row is history and cannot change."""


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableRowError(f"{self.model.__name__} rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRowError(f"{self.model.__name__} rows cannot be deleted.")


class ImmutableModel(models.Model):
    """Abstract base: rows are written once and never changed through the ORM."""

    # Columns an UPDATE may clear to NULL (redaction of personal data); empty: none.
    mutable_columns: ClassVar[Sequence[str]] = ()
    # Whether retention may delete rows (its PostgreSQL functions, or purge_allowed() on SQLite);
    # history tables say no.
    purgeable: ClassVar[bool] = False

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError(f"{type(self).__name__} {self.pk} is immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRowError(f"{type(self).__name__} {self.pk} cannot be deleted.")
