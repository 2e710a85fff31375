"""Webhooks: a real local receiver, signatures, retries with a delivery log, URL rules."""

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from subprocessors.lists.services import subprocessor_list_publish
from subprocessors.models import NotificationChannel, NotificationLog, WebhookEndpoint
from subprocessors.notices import webhooks
from subprocessors.notices.services import webhook_endpoint_create
from subprocessors.notices.webhooks import (
    SIGNATURE_HEADER,
    signature_verify,
    webhook_post,
    webhook_url_validate,
)
from tests.subprocessors.conftest import HOTJAR, vendor_make

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


def publish_addition(site, owner, capture):
    vendor_make(site, HOTJAR)
    with capture(execute=True):
        return subprocessor_list_publish(
            site=site, effective_at=timezone.now() + timedelta(days=31), change_note="", by=owner, ip=None
        )


def test_publishing_posts_a_signed_notice_to_the_webhook(
    site, owner, published, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = webhook_endpoint_create(site=site, url=receiver.url, by=owner)
    assert secret.startswith("whsec_")
    version = publish_addition(site, owner, django_capture_on_commit_callbacks)

    [(headers, body)] = receiver.requests
    assert signature_verify(secret=secret, header=headers[SIGNATURE_HEADER], body=body)
    assert not signature_verify(secret="wrong", header=headers[SIGNATURE_HEADER], body=body)
    assert not signature_verify(secret=secret, header=headers[SIGNATURE_HEADER], body=body + b" ")
    payload = json.loads(body)
    assert payload["type"] == "subprocessor_list.published"
    assert payload["version"]["number"] == 2
    assert payload["version"]["effective_at"] == version.effective_at.isoformat()
    assert [entry["key"] for entry in payload["diff"]["added"]] == ["hotjar"]
    [log] = NotificationLog.objects.filter(channel=NotificationChannel.WEBHOOK)
    assert (log.status, log.http_status, log.attempt, log.recipient) == ("sent", 200, 1, receiver.url)


def test_a_failing_webhook_is_retried_and_every_attempt_is_logged(
    site, owner, published, django_capture_on_commit_callbacks
):
    with Receiver([500, 200]) as server:
        webhook_endpoint_create(site=site, url=server.url, by=owner)
        publish_addition(site, owner, django_capture_on_commit_callbacks)
    assert len(server.requests) == 2
    logs = list(NotificationLog.objects.filter(channel=NotificationChannel.WEBHOOK).order_by("attempt"))
    assert [(log.attempt, log.status, log.http_status) for log in logs] == [
        (1, "failed", 500),
        (2, "sent", 200),
    ]
    assert logs[0].content_sha256 == logs[1].content_sha256


@override_settings(WEBHOOK_MAX_ATTEMPTS=3)
def test_a_webhook_that_never_answers_gives_up_after_the_last_attempt(
    site, owner, published, django_capture_on_commit_callbacks
):
    with Receiver([503, 503, 503, 503]) as server:
        webhook_endpoint_create(site=site, url=server.url, by=owner)
        publish_addition(site, owner, django_capture_on_commit_callbacks)
    assert len(server.requests) == 3
    statuses = list(NotificationLog.objects.order_by("attempt").values_list("status", flat=True))
    assert statuses == ["failed", "failed", "gave_up"]


def test_backoff_grows_exponentially():
    from subprocessors.notices.services import webhook_backoff

    assert [webhook_backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 120, 480]


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


def test_the_admin_shows_the_secret_once_and_refuses_private_targets(client, site, owner):
    client.force_login(owner)
    url = reverse("admin:subprocessors_webhookendpoint_add")
    with override_settings(DEBUG=False, TESTING=False):
        refused = client.post(url, {"site": site.pk, "url": "https://10.1.2.3/hook", "is_active": "on"})
    assert refused.status_code == 200 and b"private" in refused.content
    response = client.post(
        url, {"site": site.pk, "url": "http://127.0.0.1:8080/hook", "is_active": "on"}, follow=True
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.encode() in response.content
    change = client.get(reverse("admin:subprocessors_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret.encode() not in change.content


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
