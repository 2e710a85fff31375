"""Background work queued by name, after the transaction that asked for it commits.

Tasks call services (a task is a thin wrapper that re-reads rows and calls one service);
services that need work done later must not import the task modules back, or the two would
form an import cycle. So a task module registers each task under a stable name with
`job_register`, and a service asks for it with `job_enqueue_on_commit(name, ...)`. The apps'
`ready()` imports their task modules, so every name is registered before any request runs.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

T = TypeVar("T")

_registry: dict[str, Any] = {}


def job_register(name: str) -> Callable[[T], T]:
    """Class the decorated django-tasks Task as the job `name` (e.g. "consent.export")."""

    def register(task: T) -> T:
        if name in _registry and _registry[name] is not task:
            raise RuntimeError(f"Job {name!r} is registered twice.")
        _registry[name] = task
        return task

    return register


def job_enqueue_on_commit(name: str, *args: Any) -> None:
    """Queue the job once the current transaction commits; never for work that was rolled back.

    Outside a transaction it is queued at once (Django runs on_commit callbacks immediately).
    """
    task = _registry[name]  # a KeyError here is a programming error: the name is not registered
    transaction.on_commit(lambda: task.enqueue(*args))


def job_enqueue(name: str, *args: Any) -> None:
    """Queue the job now: for callers that already run on committed state (a task itself)."""
    _registry[name].enqueue(*args)
