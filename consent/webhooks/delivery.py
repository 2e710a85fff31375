"""Webhook plumbing: which URLs may be called, how a body is signed, one HTTP attempt.

Every event of every app goes out through here (consent.webhooks.services).

Signature header (Stripe-style, so receivers can reuse known code):
    Consentry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
Receivers recompute the HMAC over the timestamp, a dot and the raw body, compare in constant
time and reject timestamps older than a few minutes (replays).
"""

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

SIGNATURE_HEADER = "Consentry-Signature"
EVENT_ID_HEADER = "Consentry-Event-Id"
EVENT_TYPE_HEADER = "Consentry-Event-Type"


# One attempt: connecting, the TLS handshake, sending and the status line each get at most this long.
TIMEOUT_SECONDS = 5


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _local_targets_allowed() -> bool:
    # Local receivers are for development and the test suite only (make run, pytest).
    return bool(settings.DEBUG or getattr(settings, "TESTING", False))


def _address_is_public(address: _IPAddress) -> bool:
    """Globally routable unicast only: is_global also refuses 100.64.0.0/10 (shared address space, where
    cloud metadata services live), 192.0.0.0/24, benchmarking and documentation ranges, which is_private
    misses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def webhook_url_validate(url: str) -> str:
    """Refuse URLs a webhook must not call: plain HTTP, credentials, private addresses (SSRF)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        _ = parts.port  # a port out of range raises here, not at delivery time
    except ValueError:
        host = ""  # e.g. an unclosed IPv6 bracket
    if not host:
        raise ValidationError(
            {"url": gettext("Enter a full URL such as https://hooks.example.com/consentry.")}
        )
    if parts.username or parts.password:
        raise ValidationError(
            {"url": gettext("Put no credentials in the URL; verify our signature instead.")}
        )
    is_local = host in LOOPBACK_NAMES
    if is_local and _local_targets_allowed():
        if parts.scheme not in ("http", "https"):
            raise ValidationError({"url": gettext("Use an http(s) URL.")})
        return url.strip()
    if parts.scheme != "https":
        raise ValidationError({"url": gettext("Webhook URLs must use https.")})
    if is_local or host.endswith((".local", ".internal", ".localhost")):
        raise ValidationError({"url": gettext("Webhooks cannot target local or internal hosts.")})
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _address_is_public(literal):
        raise ValidationError(
            {"url": gettext("Webhooks cannot target private, loopback or reserved addresses.")}
        )
    return url.strip()


def host_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order (tests replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class TargetRefused(Exception):
    """The webhook's host is not called; the message is the category stored in the delivery log."""


def webhook_target_resolve(url: str) -> str:
    """At delivery time, the one address to connect to: the host is resolved once, here, and every
    address it resolves to must be public (DNS may have changed since the URL was registered). The
    connection then goes to this address, never to a second resolution (DNS rebinding)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    local = host in LOOPBACK_NAMES and _local_targets_allowed()
    try:
        addresses = host_resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise TargetRefused("DNS lookup failed") from error
    if not addresses:
        raise TargetRefused("DNS lookup failed")
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError as error:
            raise TargetRefused("address not allowed") from error
        if not (_address_is_public(address) or (local and address.is_loopback)):
            raise TargetRefused("address not allowed")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a fixed address; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address; SNI, the certificate check and the Host header use the URL's host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


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


def _failure_category(error: BaseException) -> str:
    """What went wrong, as a category only: the text of the error (addresses, ports, the peer's words)
    would let an owner map a network through the delivery log."""
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return "TLS error"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected):
        return "connection reset"
    if isinstance(error, http.client.HTTPException):
        return "invalid HTTP response"
    return "connection failed"


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    """POST once; any 2xx is success, anything else (a redirect too: never followed) or no answer is a
    failure to retry. The error stored is a category ("timeout", "HTTP 500", ...), never a message."""
    try:
        address = webhook_target_resolve(url)
    except TargetRefused as refused:
        return Attempt(ok=False, http_status=None, error=str(refused))
    parts = urlsplit(url)
    host = parts.hostname or ""
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(
        host,
        parts.port or (443 if parts.scheme == "https" else 80),
        address=address,
        timeout=TIMEOUT_SECONDS,
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return Attempt(ok=False, http_status=None, error=_failure_category(error))
    finally:
        connection.close()
    ok = 200 <= status < 300
    return Attempt(ok=ok, http_status=status, error="" if ok else f"HTTP {status}")
