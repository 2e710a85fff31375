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
from subprocessors.notices.services import webhook_endpoint_create
from subprocessors.notices.webhooks import SIGNATURE_HEADER, signature_verify, webhook_url_validate
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
