"""The audit log's one writer: every state change a person makes records who, when, from where and what."""

from collections.abc import Mapping

from django.contrib.auth.models import AbstractUser

from consent.models import AuditEntry, Site


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
