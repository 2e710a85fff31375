"""Logins with a limit on failures: the admin's login page (the management API takes tokens,
consent.tokens, which cost no password hash).

Every password check costs a PBKDF2 run (about a third of a second of CPU), so wrong
passwords were both a guessing attack and a way to starve the public endpoints. After
LOGIN_FAILURES_PER_ADDRESS failures from one client address, or LOGIN_FAILURES_PER_USERNAME
for one username, within the window, a login is refused *before* its password is hashed:
the admin's login page says so (a 429, Retry-After), and one
audit row `auth.login_throttled` per refused address or username and window records it.

The counts live on the one limiter (edge.ratelimit): per process, shared through Redis, and
still per process while Redis is down. A username lock can be set off by anyone who knows the
username (the price of stopping a guesser spread over many addresses); it lifts at the end of
the window, and the lock never tells whether the username exists.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from consent.audit.services import audit_record
from edge.client import address_limit_key, client_ip
from edge.ratelimit import rate_limits_exceeded, rate_limits_reached


def _limits(request: Any, username: str) -> list[tuple[str, str]]:
    address = address_limit_key(client_ip(request))
    return [
        (f"login:address:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
        (f"login:username:{username.strip().lower()[:150]}", settings.LOGIN_FAILURES_PER_USERNAME),
    ]


def login_refusal(request: Any, username: str) -> int | None:
    """Seconds until a login for `username` from this request may be tried again, or None.

    On a refusal, records it: `request.login_throttled` (the wait) and, once per refused key
    and window, an audit row. Counts nothing and hashes nothing."""
    if request is None:
        return None
    limits = _limits(request, username)
    wait = rate_limits_reached(limits)
    if wait is None:
        return None
    request.login_throttled = wait
    for key, rate in limits:
        if rate_limits_reached([(key, rate)]) is None:
            continue
        # One row per refused key and window: a flood of refusals is not a flood of rows.
        _, _, period = rate.partition("/")
        if rate_limits_exceeded([(f"audit:{key}", f"1/{period}")]) is None:
            audit_record(
                action="auth.login_throttled",
                target=f"user:{username[:150]}",
                actor_ip=client_ip(request) or None,
                data={"username": username[:150], "by": key.split(":")[1], "path": request.path[:200]},
            )
    return wait


def login_failed(request: Any, username: str) -> None:
    """Count one failed login against the address and the username."""
    if request is not None:
        rate_limits_exceeded(_limits(request, username))


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, refusing before the password check once the failures are used up.

    Every path that calls django.contrib.auth.authenticate() goes through here."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ):  # type: ignore[override]
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD, "")
        if request is not None and username and login_refusal(request, username) is not None:
            raise PermissionDenied  # stops authenticate(): no other backend, no PBKDF2
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and username:
            login_failed(request, username)
        return user


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, saying plainly that logins are locked for a while."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": _(
            "Too many failed logins from your address or for this username. "
            "Logins are locked for %(minutes)s minutes; try again later."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and self.request is not None:
            wait = login_refusal(self.request, username)
            if wait is not None:
                raise ValidationError(
                    self.error_messages["throttled"],
                    code="throttled",
                    params={"minutes": max(1, -(-wait // 60))},
                )
        return super().clean()


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin's login view, answering 429 with Retry-After while logins are locked."""
    response = admin.site.login(request, extra_context)
    wait = getattr(request, "login_throttled", None)
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response
