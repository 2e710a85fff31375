"""Webhook plumbing: which URLs may be called, how a body is signed, one HTTP attempt.

Signature header (Stripe-style, so receivers can reuse known code):
    Consentry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
Receivers recompute the HMAC over the timestamp, a dot and the raw body, compare in constant
time and reject timestamps older than a few minutes (replays).
"""

import hashlib
import hmac
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SIGNATURE_HEADER = "Consentry-Signature"


TIMEOUT_SECONDS = 10


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _local_targets_allowed() -> bool:
    # Local receivers are for development and the test suite only (make run, pytest).
    return bool(settings.DEBUG or getattr(settings, "TESTING", False))


def _address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def webhook_url_validate(url: str) -> str:
    """Refuse URLs a webhook must not call: plain HTTP, credentials, private addresses (SSRF)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError({"url": "Enter a full URL such as https://hooks.example.com/consentry."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Put no credentials in the URL; verify our signature instead."})
    is_local = host in LOOPBACK_NAMES
    if is_local and _local_targets_allowed():
        if parts.scheme not in ("http", "https"):
            raise ValidationError({"url": "Use an http(s) URL."})
        return url.strip()
    if parts.scheme != "https":
        raise ValidationError({"url": "Webhook URLs must use https."})
    if is_local or host.endswith((".local", ".internal", ".localhost")):
        raise ValidationError({"url": "Webhooks cannot target local or internal hosts."})
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _address_is_public(literal):
        raise ValidationError({"url": "Webhooks cannot target private, loopback or reserved addresses."})
    return url.strip()


def webhook_target_check(url: str) -> None:
    """At delivery time: every address the host resolves to must be public (DNS may have changed)."""
    host = urlsplit(url).hostname or ""
    if host.lower() in LOOPBACK_NAMES and _local_targets_allowed():
        return
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as error:
        raise ValueError(f"cannot resolve {host}: {error}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not _address_is_public(address):
            raise ValueError(f"{host} resolves to a non-public address ({address}); not called")


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_verify(*, secret: str, header: str, body: bytes) -> bool:
    """What a receiver does (and what the tests use)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        expected = signature_header(secret=secret, timestamp=int(fields["t"]), body=body)
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(expected, header)


@dataclass(frozen=True)
class Attempt:
    ok: bool
    http_status: int | None
    error: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead a vetted URL to an internal address: treat it as a failure.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    """POST once; any 2xx is success, anything else (or no answer) a failure to retry."""
    try:
        webhook_target_check(url)
    except ValueError as error:
        return Attempt(ok=False, http_status=None, error=str(error))
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return Attempt(ok=False, http_status=error.code, error=f"HTTP {error.code}")
    except (urllib.error.URLError, OSError) as error:
        return Attempt(ok=False, http_status=None, error=str(getattr(error, "reason", error))[:500])
    return Attempt(ok=200 <= status < 300, http_status=status, error="" if status < 300 else f"HTTP {status}")
