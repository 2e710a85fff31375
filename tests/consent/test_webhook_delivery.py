"""Webhook delivery plumbing against a real local receiver: URL rules (SSRF), the address pinned,
no redirects, errors as categories. The events themselves: tests/consent/test_webhooks.py."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from consent.webhooks import delivery as webhooks
from consent.webhooks.delivery import signature_header, signature_verify, webhook_post, webhook_url_validate

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records POSTs and answers with the queued status codes."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/consentry"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver([200]) as server:
        yield server


def test_a_signature_covers_the_timestamp_and_the_raw_body():
    header = signature_header(secret="whsec_x", timestamp=1700000000, body=b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert signature_verify(secret="whsec_x", header=header, body=b'{"a":1}')
    assert not signature_verify(secret="wrong", header=header, body=b'{"a":1}')
    assert not signature_verify(secret="whsec_x", header=header, body=b'{"a":1} ')
    assert not signature_verify(
        secret="whsec_x", header=header.replace("t=1700000000", "t=1700000001"), body=b'{"a":1}'
    )
    assert not signature_verify(secret="whsec_x", header="garbage", body=b"{}")


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://10.0.0.5/x",
        "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://100.100.100.200/latest/meta-data",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
        "https://198.18.0.1/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://[::1]/x",
        "https://user:pass@hooks.example.com/x",
        "https://metadata.internal/x",
        "ftp://hooks.example.com/x",
        "not a url",
        "https://[::1/x",
        "https://hooks.example.com:99999/x",
    ],
)
def test_webhook_urls_must_be_https_and_public_in_production(url):
    with override_settings(DEBUG=False, TESTING=False), pytest.raises(ValidationError):
        webhook_url_validate(url)


def test_local_http_webhooks_are_allowed_only_in_development_and_tests():
    assert webhook_url_validate("http://127.0.0.1:9999/x") == "http://127.0.0.1:9999/x"
    with override_settings(DEBUG=False, TESTING=False), pytest.raises(ValidationError):
        webhook_url_validate("http://127.0.0.1:9999/x")
    assert webhook_url_validate("https://hooks.example.com/x") == "https://hooks.example.com/x"


class Resolver:
    """A stand-in DNS: answers each lookup with the next list of addresses (the last one repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_delivery_connects_to_the_first_resolved_address_and_never_resolves_again(monkeypatch, receiver):
    # DNS rebinding: the first answer is public, every later one points at a local service.
    resolver = Resolver(["93.184.215.14"], ["127.0.0.1"])
    monkeypatch.setattr(webhooks, "host_resolve", resolver)
    port = receiver.server.server_address[1]
    connected: list[tuple[str, int]] = []
    real_create_connection = webhooks.socket.create_connection

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        # The public address stands for the receiver, which listens locally in this test.
        assert address == ("93.184.215.14", port)
        return real_create_connection(("127.0.0.1", port), *args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "create_connection", create_connection)
    with override_settings(DEBUG=False, TESTING=False):
        attempt = webhook_post(url=f"http://hooks.example.com:{port}/in?x=1", body=b"{}", headers={})
    assert attempt.ok and attempt.http_status == 200
    assert resolver.calls == [("hooks.example.com", port)]
    assert connected == [("93.184.215.14", port)]
    [(headers, _body)] = receiver.requests
    assert headers["Host"] == f"hooks.example.com:{port}"


@pytest.mark.parametrize(
    "answer",
    [["127.0.0.1"], ["100.100.100.200"], ["10.0.0.5"], ["93.184.215.14", "169.254.169.254"], ["::1"], []],
)
def test_delivery_refuses_a_host_that_resolves_to_a_non_global_address(monkeypatch, answer):
    monkeypatch.setattr(webhooks, "host_resolve", Resolver(answer))

    def never(*args, **kwargs):
        raise AssertionError("no connection may be opened")

    monkeypatch.setattr(webhooks.socket, "create_connection", never)
    with override_settings(DEBUG=False, TESTING=False):
        attempt = webhook_post(url="https://hooks.example.com/in", body=b"{}", headers={})
    assert not attempt.ok and attempt.http_status is None
    assert attempt.error == ("address not allowed" if answer else "DNS lookup failed")


def test_redirects_are_not_followed_and_errors_are_categories_without_detail(monkeypatch):
    with Receiver([302, 500]) as server:
        redirected = webhook_post(url=server.url, body=b"{}", headers={})
        failed = webhook_post(url=server.url, body=b"{}", headers={})
    assert (redirected.ok, redirected.http_status, redirected.error) == (False, 302, "HTTP 302")
    assert (failed.error, len(server.requests)) == ("HTTP 500", 2)
    # A closed port: the category, not "[Errno 111] Connection refused" with the address and port.
    closed = Receiver([])
    url = closed.url
    closed.server.server_close()
    assert webhook_post(url=url, body=b"{}", headers={}).error == "connection refused"


def test_a_tls_failure_and_a_silent_server_are_reported_as_categories(monkeypatch):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    try:
        # Accepts the connection and never answers: the TLS handshake, then the plain request, time out.
        assert webhook_post(url=f"https://localhost:{port}/", body=b"{}", headers={}).error == "timeout"
        assert webhook_post(url=f"http://127.0.0.1:{port}/", body=b"{}", headers={}).error == "timeout"
    finally:
        listener.close()
    with Receiver([]) as plain:
        port = plain.server.server_address[1]
        # An HTTP server where TLS is expected: the handshake fails.
        assert webhook_post(url=f"https://127.0.0.1:{port}/", body=b"{}", headers={}).error == "TLS error"
