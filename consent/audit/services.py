"""The audit log's one writer: every state change a person makes records who, when, from where and what."""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext

from consent.models import AuditEntry, Site

# What every audit row written in the current context adds to its data: set around a request
# made with an API token, so each change made through it names the token (`data.token`),
# whichever service writes the row.
_audit_context: ContextVar[Mapping[str, object]] = ContextVar("audit_context", default=MappingProxyType({}))


@contextmanager
def audit_context(**data: object) -> Iterator[None]:
    """Within this block, every audit row also records `data` (nested blocks add to it)."""
    reset = _audit_context.set({**_audit_context.get(), **data})
    try:
        yield
    finally:
        _audit_context.reset(reset)


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
        data={**_audit_context.get(), **(data or {})},
    )


def audit_value(value: Any) -> Any:
    """`value` as the audit log stores it: JSON types only, rows by primary key, dates as ISO text."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): audit_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [audit_value(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def audit_snapshot(*, obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row as the audit log stores them (foreign keys by id)."""
    snapshot = {}
    for name in fields:
        field = obj._meta.get_field(name)
        snapshot[name] = audit_value(getattr(obj, getattr(field, "attname", name)))
    return snapshot


def audit_changes(*, before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for each field whose value differs, in a stable order."""
    return {
        name: [before.get(name), after[name]] for name in sorted(after) if before.get(name) != after[name]
    }


def fields_assign(*, obj: Model, fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Set `fields` on `obj`; a field outside `allowed` is refused (keys and owners never move)."""
    allowed = frozenset(allowed)
    refused = sorted(set(fields) - allowed)
    if refused:
        raise ValidationError(
            gettext("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(refused)}
        )
    for name, value in fields.items():
        setattr(obj, name, value)


M = TypeVar("M", bound=Model)


def audited_create(
    *,
    obj: M,
    fields: Sequence[str],
    site: Site,
    by: AbstractUser | None,
    ip: str | None,
    action: str,
    target: Callable[[M], str],
) -> M:
    """Validate and save a new row with one audit entry holding its `fields`. Call it inside the
    service's transaction, after the service's own role check."""
    obj.full_clean()
    obj.save()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action=action,
        target=target(obj),
        data=audit_snapshot(obj=obj, fields=fields),
    )
    return obj


def audited_delete(
    *,
    obj: M,
    fields: Sequence[str],
    site: Site,
    by: AbstractUser | None,
    ip: str | None,
    action: str,
    target: Callable[[M], str],
) -> None:
    """Delete a row, its `fields` kept in the audit entry that records it (same transaction)."""
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action=action,
        target=target(obj),
        data=audit_snapshot(obj=obj, fields=fields),
    )
    obj.delete()


def audited_change(
    *,
    obj: M,
    fields: Mapping[str, Any],
    allowed: Sequence[str],
    site: Site,
    by: AbstractUser | None,
    ip: str | None,
    action: str,
    target: Callable[[M], str],
    snapshot: Callable[[M], dict[str, Any]] | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Set `fields` on `obj`, validate it, and save it with one audit entry of what changed.

    The entry holds `{"changes": {field: [before, after]}}` (plus `data`) and is written only
    when something changed; an unchanged save writes nothing. `snapshot` says how the row is
    recorded (default: the `allowed` fields; a policy text records its body as a hash).
    Returns the changes. Call it inside the service's transaction, the row locked.
    """
    record = snapshot or (lambda row: audit_snapshot(obj=row, fields=allowed))
    before = record(obj)
    fields_assign(obj=obj, fields=fields, allowed=allowed)
    obj.full_clean()
    changes = audit_changes(before=before, after=record(obj))
    if changes:
        obj.save()
        audit_record(
            site=site,
            actor=by,
            actor_ip=ip,
            action=action,
            target=target(obj),
            data={**(data or {}), "changes": changes},
        )
    return changes
