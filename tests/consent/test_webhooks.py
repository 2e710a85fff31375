"""Webhooks for every event: a real receiver on 127.0.0.1, signatures checked as a receiver would,
consent events read from the ledger by the dispatcher, retries from the outbox, exactly once."""

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from consent.models import (
    ConsentRecord,
    WebhookCursor,
    WebhookDelivery,
    WebhookEvent,
    WebhookPending,
)
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.sites.services import site_create
from consent.webhooks.delivery import signature_verify
from consent.webhooks.dispatch import webhooks_dispatch_round
from consent.webhooks.services import webhook_endpoint_create, webhook_redeliver, webhook_test_send
from tests.consent.test_ledger import ORIGIN, body, post
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    """The ledger tests' shop: two purposes, a DPO, a privacy policy in force."""
    from consent.models import Role, SiteMembership
    from consent.sites.services import purpose_create

    shop = site_create(
        key="shop", name="Shop", languages=["en", "ru"], origins=[ORIGIN], default_jurisdiction="EU", by=None
    )
    purpose_create(site=shop, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    purpose_create(
        site=shop, key="marketing", texts={"en": ("Marketing", "Ads.")}, is_sale_or_share=True, by=None
    )
    dpo = UserFactory(username="dora")
    SiteMembership.objects.create(site=shop, user=dpo, role=Role.DPO)
    document = policy_document_create(site=shop, kind="privacy_policy", languages=["en"], by=None)
    policy_text_set(document=document, language="en", title="Privacy", body="We are careful.", by=None)
    policy_version_publish(document=document, effective_at=timezone.now(), by=dpo)
    return shop


class Receiver:
    """A local HTTP server that records POSTs and answers with the queued status codes (then 200).

    `stop()` and `start()` take it down and bring it back on the same port."""

    def __init__(self, statuses: list[int] | None = None, port: int = 0) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.port = port
        self.server: ThreadingHTTPServer | None = None
        self.start()
        self.url = f"http://127.0.0.1:{self.port}/hooks/consentry"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                data = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), data))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def events(self, secret: str) -> list[dict]:
        """Every body received, each checked as a receiver must: the signature over the raw body."""
        bodies = []
        for headers, data in self.requests:
            assert signature_verify(secret=secret, header=headers["Consentry-Signature"], body=data)
            event = json.loads(data)
            assert headers["Consentry-Event-Id"] == event["id"]
            assert headers["Consentry-Event-Type"] == event["type"]
            bodies.append(event)
        return bodies


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    if server.server is not None:
        server.stop()


def hook(site, receiver, events, **options):
    endpoint, secret = webhook_endpoint_create(site=site, url=receiver.url, events=events, by=None, **options)
    return endpoint, secret


def later(**delta):
    return timezone.now() + timedelta(**delta)


WITHDRAW = {"action": "withdraw", "granted": [], "denied": ["analytics", "marketing"]}
GPC = {"action": "gpc_opt_out", "granted": ["analytics"], "denied": ["marketing"], "gpc": True}


def test_consents_posted_by_visitors_arrive_as_one_signed_batch_after_the_settle_lag(
    client, site, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = hook(site, receiver, ["consent.recorded"])
    receipts = [post(client, body(visitor_id=f"visitor-{n:016d}")).json()["receipt_id"] for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round()  # within the settle lag: nothing yet
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=10))
    [event] = receiver.events(secret)
    assert event["type"] == "consent.recorded" and event["site"] == "shop"
    assert event["id"].startswith("evt_")
    records = event["data"]["records"]
    assert [record["receipt_id"] for record in records] == receipts
    first = records[0]
    assert first["action"] == "custom" and first["visitor_id"] == "visitor-0000000000000000"
    assert first["purposes"]["denied"] == ["marketing"] and "analytics" in first["purposes"]["granted"]
    assert first["jurisdiction"] and "gpc" in first and "versions" in first
    assert "ip_address" not in first and "user_agent" not in first
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.status, delivery.http_status, delivery.attempt, delivery.endpoint) == (
        "sent",
        200,
        1,
        endpoint,
    )
    assert not WebhookPending.objects.exists()
    # Another round, much later: nothing is announced twice.
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(days=2))
    assert len(receiver.requests) == 1 and WebhookEvent.objects.count() == 1


def test_batches_hold_at_most_a_hundred_records(client, site, receiver, django_capture_on_commit_callbacks):
    _, secret = hook(site, receiver, ["consent.recorded"])
    from tests.consent.test_ledger import record_at

    for n in range(130):
        record_at(timezone.now(), visitor_id=f"batch-visitor-{n:08d}")
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=10))
    sizes = [len(event["data"]["records"]) for event in receiver.events(secret)]
    assert sizes == [100, 30]


def test_a_withdrawal_and_a_gpc_opt_out_are_events_of_their_own_and_endpoints_choose_actions(
    client, site, receiver, django_capture_on_commit_callbacks
):
    _, secret = hook(site, receiver, ["consent.withdrawn", "optout.signal"])
    other = Receiver()
    try:
        _, other_secret = hook(site, other, ["consent.recorded"], consent_actions=["withdraw"])
        post(client, body())  # a custom choice: neither endpoint wants it on its own
        withdrawn = post(client, body(**WITHDRAW)).json()["receipt_id"]
        opted_out = post(client, body(**GPC), HTTP_SEC_GPC="1")
        assert opted_out.status_code == 201, opted_out.content
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_dispatch_round(now=later(seconds=10))
        events = {event["type"]: event for event in receiver.events(secret)}
        assert set(events) == {"consent.withdrawn", "optout.signal"}
        assert events["consent.withdrawn"]["data"]["record"]["receipt_id"] == withdrawn
        assert events["optout.signal"]["data"]["signal"] == "gpc"
        assert events["optout.signal"]["data"]["record"]["receipt_id"] == opted_out.json()["receipt_id"]
        # The batch went to the endpoint that asked for withdrawals only, with only those.
        [batch] = other.events(other_secret)
        assert [record["receipt_id"] for record in batch["data"]["records"]] == [withdrawn]
    finally:
        other.stop()


def test_sites_without_a_consent_endpoint_get_no_events_and_their_cursor_just_moves(
    client, site, receiver, django_capture_on_commit_callbacks
):
    hook(site, receiver, ["banner.published"])  # not a consent event
    post(client, body())
    WebhookCursor.objects.create(site=site, record_created_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=10))
    assert not WebhookEvent.objects.exists()
    cursor = WebhookCursor.objects.get(site=site)
    assert cursor.record_created_at > ConsentRecord.objects.get().created_at
    # An endpoint added now starts from now: the older record is not sent to it.
    _, secret = hook(site, receiver, ["consent.recorded"])
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=20))
    assert receiver.requests == []


def policy_setup(site):
    from consent.models import Role, SiteMembership

    dpo = SiteMembership.objects.filter(site=site, role=Role.DPO).get().user
    document = policy_document_create(site=site, kind="cookie_policy", languages=["en"], by=None)
    policy_text_set(document=document, language="en", title="Cookies", body="We use a few.", by=None)
    return document, dpo


def test_a_policy_version_is_announced_when_published_and_again_when_it_takes_effect(
    site, receiver, django_capture_on_commit_callbacks
):
    _, secret = hook(site, receiver, ["policy.published", "policy.effective"])
    document, dpo = policy_setup(site)
    effective = timezone.now() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        version = policy_version_publish(document=document, effective_at=effective, by=dpo)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(days=1))  # not yet in effect
    [published] = receiver.events(secret)
    assert published["type"] == "policy.published"
    assert (published["data"]["document"], published["data"]["number"]) == (document.slug, version.number)
    assert published["data"]["effective_at"] == effective.isoformat()
    for days in (3, 4, 5):  # every round after the effective time: one announcement
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_dispatch_round(now=later(days=days, minutes=1))
    [_, effective_event] = receiver.events(secret)
    assert effective_event["type"] == "policy.effective"
    assert effective_event["data"]["number"] == version.number
    assert (
        WebhookEvent.objects.filter(dedupe_key=f"policy.effective:{document.slug}:{version.number}").count()
        == 1
    )


def test_the_banner_and_the_sub_processor_list_announce_their_publications(
    site, receiver, django_capture_on_commit_callbacks
):
    from cookies.banner.services import banner_version_publish
    from subprocessors.lists.services import subprocessor_list_publish, vendor_create

    _, secret = hook(site, receiver, ["banner.published", "subprocessors.published"])
    with django_capture_on_commit_callbacks(execute=True):
        banner = banner_version_publish(site=site, by=None, change_note="First banner.")
    vendor_create(
        site=site, key="matomo", name="Matomo Cloud", legal_entity="InnoCraft", address="Wellington",
        contact="https://matomo.org", purpose="Web analytics.", locations=["DE"], category="analytics",
        by=None,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        listed = subprocessor_list_publish(
            site=site, effective_at=timezone.now(), change_note="First list.", by=None, ip=None
        )
    banner_event, list_event = receiver.events(secret)
    assert banner_event["type"] == "banner.published"
    assert banner_event["data"]["number"] == banner.number
    assert banner_event["data"]["content_sha256"] == banner.content_sha256
    assert list_event["type"] == "subprocessors.published"
    assert list_event["data"]["version"]["number"] == listed.number
    assert [entry["key"] for entry in list_event["data"]["diff"]["added"]] == ["matomo"]
    assert list_event["data"]["url"].endswith("/s/shop/subprocessors/")


def test_a_receiver_that_is_down_gets_every_event_once_after_it_comes_back(
    client, site, receiver, django_capture_on_commit_callbacks
):
    _, secret = hook(site, receiver, ["consent.recorded", "consent.withdrawn", "policy.effective"])
    document, dpo = policy_setup(site)
    with django_capture_on_commit_callbacks(execute=True):
        policy_version_publish(document=document, effective_at=timezone.now() + timedelta(seconds=2), by=dpo)
    post(client, body())
    post(client, body(**WITHDRAW))
    receiver.stop()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=10))
    assert WebhookEvent.objects.count() == 3
    failed = WebhookDelivery.objects.all()
    assert {(row.attempt, row.status, row.error) for row in failed} == {(1, "failed", "connection refused")}
    # Still down at the first retry (a minute later).
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(minutes=2))
    assert WebhookDelivery.objects.filter(attempt=2, status="failed").count() == 3
    receiver.start()
    # Not due yet (the second retry waits 5 minutes): nothing is sent early.
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(minutes=3))
    assert receiver.requests == []
    for minutes in (10, 60, 60 * 24, 60 * 24 * 3):
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_dispatch_round(now=later(minutes=minutes))
    events = receiver.events(secret)
    assert sorted(event["type"] for event in events) == [
        "consent.recorded",
        "consent.withdrawn",
        "policy.effective",
    ]
    assert len({event["id"] for event in events}) == 3
    assert WebhookDelivery.objects.filter(status="sent", attempt=3).count() == 3
    assert not WebhookPending.objects.exists()


def test_events_wait_in_the_outbox_while_the_worker_is_down(
    site, receiver, django_capture_on_commit_callbacks
):
    from cookies.banner.services import banner_version_publish

    _, secret = hook(site, receiver, ["banner.published"])
    # The queued task is lost (a worker down, a queue emptied): the commit's callbacks never run.
    with django_capture_on_commit_callbacks(execute=False):
        banner_version_publish(site=site, by=None)
    assert receiver.requests == [] and WebhookPending.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(minutes=1))  # it may still be in the queue: not yet
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(minutes=6))
    [event] = receiver.events(secret)
    assert event["type"] == "banner.published"


@override_settings(WEBHOOK_MAX_ATTEMPTS=3)
def test_a_receiver_that_keeps_failing_is_given_up_on_after_the_last_attempt(
    site, django_capture_on_commit_callbacks
):
    from cookies.banner.services import banner_version_publish

    failing = Receiver([500] * 10)
    try:
        hook(site, failing, ["banner.published"])
        with django_capture_on_commit_callbacks(execute=True):
            banner_version_publish(site=site, by=None)
        for minutes in (2, 10, 60, 600, 6000):
            with django_capture_on_commit_callbacks(execute=True):
                webhooks_dispatch_round(now=later(minutes=minutes))
    finally:
        failing.stop()
    rows = list(WebhookDelivery.objects.order_by("attempt").values_list("attempt", "status", "http_status"))
    assert rows == [(1, "failed", 500), (2, "failed", 500), (3, "gave_up", 500)]
    assert len(failing.requests) == 3 and not WebhookPending.objects.exists()


def test_a_test_event_and_a_redelivery_by_hand_are_sent_and_logged(
    site, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = hook(site, receiver, ["banner.published"])
    with django_capture_on_commit_callbacks(execute=True):
        event = webhook_test_send(endpoint=endpoint, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_redeliver(event=event, endpoint=endpoint, by=None)
    first, again = receiver.events(secret)
    assert first["type"] == "test" and first["id"] == again["id"] == event.key
    assert first == again  # the same event, the same body: receivers dedupe by its id
    rows = list(WebhookDelivery.objects.order_by("attempt").values_list("attempt", "status", "is_manual"))
    assert rows == [(1, "sent", False), (2, "sent", True)]


def test_only_endpoints_that_subscribe_to_an_event_and_are_active_get_it(
    site, receiver, django_capture_on_commit_callbacks
):
    from cookies.banner.services import banner_version_publish

    hook(site, receiver, ["policy.published"])
    other = Receiver()
    try:
        hook(site, other, ["banner.published"], is_active=False)
        with django_capture_on_commit_callbacks(execute=True):
            banner_version_publish(site=site, by=None)
        assert receiver.requests == [] and other.requests == []
        assert not WebhookEvent.objects.exists()  # nobody wanted it: nothing in the outbox
    finally:
        other.stop()


def test_another_sites_records_never_reach_this_sites_endpoint(
    client, site, receiver, django_capture_on_commit_callbacks
):
    other = site_create(key="other", name="Other", origins=["https://other.example"], by=None)
    _, secret = hook(other, receiver, ["consent.recorded"])
    post(client, body())
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=10))
    assert receiver.requests == []


def test_a_record_that_commits_after_the_cursor_passed_its_time_is_announced_by_the_late_scan(
    client, site, receiver, django_capture_on_commit_callbacks
):
    from tests.consent.test_ledger import record_at

    endpoint, secret = hook(site, receiver, ["consent.recorded", "consent.withdrawn"])
    post(client, body())
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=10))
    # Made (created_at) before the first, committed only now: behind the cursor.
    first = ConsentRecord.objects.get()
    made_at = endpoint.created_at + (first.created_at - endpoint.created_at) / 2
    late = record_at(made_at, visitor_id="late-visitor-00000001")
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=20))
    assert len(receiver.requests) == 1
    for _ in range(2):  # the scan once a minute: announced once
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_dispatch_round(now=later(seconds=30), late=True)
    on_time, caught_up = receiver.events(secret)
    assert [record["receipt_id"] for record in on_time["data"]["records"]] == [first.receipt_id]
    assert [record["receipt_id"] for record in caught_up["data"]["records"]] == [late.receipt_id]


def test_the_dispatch_command_runs_a_round_and_says_what_it_did(
    client, site, receiver, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    from cookies.banner.services import banner_version_publish

    _, secret = hook(site, receiver, ["banner.published"])
    with django_capture_on_commit_callbacks(execute=False):
        banner_version_publish(site=site, by=None)  # its task lost
    WebhookPending.objects.update(queued_until=None)  # and its lease run out
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("webhooks_dispatch", stdout=out)
    assert "1 deliveries queued" in out.getvalue()
    [event] = receiver.events(secret)
    assert event["type"] == "banner.published"


def test_the_example_receiver_in_the_docs_accepts_our_events_once_and_refuses_forgeries(
    site, django_capture_on_commit_callbacks
):
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    from django.conf import settings

    from cookies.banner.services import banner_version_publish

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    endpoint, secret = webhook_endpoint_create(
        site=site, url=f"http://127.0.0.1:{port}/", events=["banner.published"], by=None
    )
    script = Path(settings.BASE_DIR, "docs", "examples", "webhook_receiver.py")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, str(script), str(port)],
        env={"WEBHOOK_SECRET": secret, "PATH": ""},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):  # until it listens
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        with django_capture_on_commit_callbacks(execute=True):
            banner_version_publish(site=site, by=None)
        event = WebhookEvent.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            webhook_redeliver(event=event, endpoint=endpoint, by=None)  # the same event again
        forged = urllib.request.Request(
            f"http://127.0.0.1:{port}/",
            data=b'{"id": "evt_forged", "type": "test", "site": "shop"}',
            headers={"Consentry-Signature": f"t={int(time.time())},v1={'0' * 64}"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=5)  # noqa: S310
        assert refused.value.code == 400
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=5)
    assert list(WebhookDelivery.objects.order_by("attempt").values_list("status", "http_status")) == [
        ("sent", 204),
        ("sent", 204),
    ]
    assert output.splitlines() == [f"banner.published {event.key} shop"]  # handled once


def test_settled_events_lose_their_data_after_the_retention_period_and_keep_their_log(
    site, receiver, django_capture_on_commit_callbacks
):
    from django.db import DatabaseError, transaction

    from consent.webhooks.services import webhook_events_expire

    endpoint, _ = hook(site, receiver, ["banner.published"])
    with django_capture_on_commit_callbacks(execute=True):
        sent = webhook_test_send(endpoint=endpoint, by=None)
    receiver.stop()
    with django_capture_on_commit_callbacks(execute=True):
        waiting = webhook_test_send(endpoint=endpoint, by=None)  # failed, a retry pending
    assert webhook_events_expire(now=later(days=29)) == 0
    # Past the period every event loses its data, also one still waiting for its endpoint (a
    # paused one would wait forever): that delivery ends with a "gave up" row saying why.
    assert webhook_events_expire(now=later(days=31)) == 2
    sent.refresh_from_db()
    waiting.refresh_from_db()
    assert sent.payload is None and waiting.payload is None
    assert WebhookDelivery.objects.filter(event=sent, status="sent").exists()
    assert WebhookDelivery.objects.filter(event=waiting, status="gave_up", error="data expired").exists()
    assert not WebhookPending.objects.filter(event=waiting).exists()
    with pytest.raises(ValidationError):
        webhook_redeliver(event=sent, endpoint=endpoint, by=None)
    # Clearing is all the table allows: its data cannot be rewritten, even bypassing the ORM guard.
    with pytest.raises(DatabaseError), transaction.atomic():
        WebhookEvent._base_manager.filter(pk=waiting.pk).update(payload={"forged": True})


def test_redacting_a_visitor_clears_the_outbox_events_that_copy_its_records_at_once(
    site, receiver, client, django_capture_on_commit_callbacks
):
    from consent.ledger.retention import consent_visitor_redact

    endpoint, _ = hook(site, receiver, ["consent.recorded", "consent.withdrawn"])
    receiver.stop()  # the receiver is down: the events wait in the outbox
    assert post(client, body(visitor_id="v-erase-me-0000000000001", action="withdraw", granted=["necessary"],
                             denied=["analytics", "marketing"])).status_code == 201  # fmt: skip
    assert post(client, body(visitor_id="v-keep-me-00000000000001")).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_dispatch_round(now=later(seconds=30))
    events = {event.type: event for event in WebhookEvent.objects.filter(site=site)}
    assert set(events) == {"consent.recorded", "consent.withdrawn"}
    assert consent_visitor_redact(site=site, visitor_id="v-erase-me-0000000000001", by=None) == 1
    for event in WebhookEvent.objects.filter(site=site):
        # The batch copies the erased record too: all of its data goes, its deliveries end.
        assert event.payload is None, event.type
    assert not WebhookPending.objects.filter(endpoint=endpoint).exists()
    assert set(
        WebhookDelivery.objects.filter(endpoint=endpoint, status="gave_up").values_list("error", flat=True)
    ) == {"data erased"}


def test_a_redelivery_by_hand_that_fails_is_retried_and_a_paused_endpoint_gets_no_test(
    site, django_capture_on_commit_callbacks
):
    from consent.webhooks.services import webhook_endpoint_update

    flaky = Receiver([200, 503])
    try:
        endpoint, secret = hook(site, flaky, ["banner.published"])
        with django_capture_on_commit_callbacks(execute=True):
            event = webhook_test_send(endpoint=endpoint, by=None)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_redeliver(event=event, endpoint=endpoint, by=None)  # answered 503
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_dispatch_round(now=later(minutes=10))  # attempt 2 failed: the next in 5 minutes
        assert list(WebhookDelivery.objects.order_by("attempt").values_list("status", "is_manual")) == [
            ("sent", False),
            ("failed", True),
            ("sent", False),
        ]
        paused = webhook_endpoint_update(endpoint=endpoint, is_active=False, by=None)
        with pytest.raises(ValidationError):
            webhook_test_send(endpoint=paused, by=None)
    finally:
        flaky.stop()


def test_a_redelivery_asked_while_that_attempt_is_being_sent_is_refused_not_lost(
    site, receiver, django_capture_on_commit_callbacks
):
    endpoint, _ = hook(site, receiver, ["banner.published"])
    receiver.stop()
    with django_capture_on_commit_callbacks(execute=True):
        event = webhook_test_send(endpoint=endpoint, by=None)  # failed: a retry is pending
    # A worker has claimed the retry and is posting it.
    WebhookPending.objects.filter(event=event).update(sending_until=timezone.now() + timedelta(seconds=30))
    with pytest.raises(ValidationError, match="being sent"):
        webhook_redeliver(event=event, endpoint=endpoint, by=None)
    assert WebhookPending.objects.filter(event=event).count() == 1
