"""Webhooks in the admin: events ticked, the secret shown once, private targets refused, a test event
sent with a button, the delivery log filtered and redelivered, and nothing of another site visible."""

import pytest
from django.test import override_settings
from django.urls import reverse

from consent.models import AuditEntry, WebhookDelivery, WebhookEndpoint
from consent.sites.services import site_create
from consent.webhooks.services import webhook_endpoint_create, webhook_test_send
from tests.consent.test_webhooks import Receiver
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice", is_staff=True)


@pytest.fixture
def site_a(alice):
    return site_create(
        key="alice", name="Alice Shop", origins=["https://alice.example"], owner=alice, by=None
    )


@pytest.fixture
def bobs_endpoint(django_capture_on_commit_callbacks):
    bob = UserFactory(username="bob", is_staff=True)
    site = site_create(key="bob", name="Bob Bakery", origins=["https://bob.example"], owner=bob, by=None)
    receiver = Receiver()
    try:
        endpoint, _ = webhook_endpoint_create(
            site=site, url=receiver.url + "/bob-secret-path", events=["banner.published"], by=None
        )
        with django_capture_on_commit_callbacks(execute=True):
            webhook_test_send(endpoint=endpoint, by=None)
    finally:
        receiver.stop()
    return endpoint


@pytest.fixture
def alice_client(client, alice, site_a):
    client.force_login(alice)
    return client


def test_an_endpoint_is_made_with_its_events_and_its_secret_is_shown_once(alice_client, alice, site_a):
    url = reverse("admin:consent_webhookendpoint_add")
    form = {
        "site": site_a.pk,
        "url": "http://127.0.0.1:8080/hook",
        "description": "CRM",
        "events": ["consent.withdrawn", "optout.signal"],
        "is_active": "on",
    }
    with override_settings(DEBUG=False, TESTING=False):
        refused = alice_client.post(url, {**form, "url": "https://10.1.2.3/hook"})
    assert refused.status_code == 200 and b"private" in refused.content
    assert not WebhookEndpoint.objects.exists()
    created = alice_client.post(url, form)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["consent.withdrawn", "optout.signal"] and endpoint.consent_actions == []
    assert created.status_code == 200 and endpoint.secret.encode() in created.content
    assert "no-store" in created["Cache-Control"]
    change = alice_client.get(reverse("admin:consent_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret.encode() not in change.content
    assert b"Send test event" in change.content
    audit = AuditEntry.objects.get(action="webhook.create")
    assert audit.actor == alice and audit.data["events"] == endpoint.events


def test_the_test_button_sends_a_signed_event_and_the_log_shows_it_and_redelivers_it(
    alice_client, site_a, django_capture_on_commit_callbacks
):
    receiver = Receiver([500])
    try:
        endpoint, secret = webhook_endpoint_create(
            site=site_a, url=receiver.url, events=["policy.published"], by=None
        )
        test_url = reverse("admin:consent_webhookendpoint_test", args=[endpoint.pk])
        assert b"Send test event" in alice_client.get(test_url).content
        with django_capture_on_commit_callbacks(execute=True):
            sent = alice_client.post(test_url, follow=True)
        assert sent.status_code == 200
        [failed] = WebhookDelivery.objects.all()
        assert (failed.status, failed.http_status) == ("failed", 500)
        log = reverse("admin:consent_webhookdelivery_changelist")
        listed = alice_client.get(log, {"status": "failed", "type": "test"})
        assert failed.event.key.encode() in listed.content
        assert failed.event.key.encode() not in alice_client.get(log, {"status": "sent"}).content
        by_endpoint = alice_client.get(log, {"endpoint__id__exact": endpoint.pk})
        assert by_endpoint.status_code == 200 and failed.event.key.encode() in by_endpoint.content
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(log, {"action": "redeliver_selected", "_selected_action": [failed.pk]})
        assert list(WebhookDelivery.objects.order_by("attempt").values_list("status", "is_manual")) == [
            ("failed", False),
            ("sent", True),
        ]
        events = receiver.events(secret)
        assert [event["type"] for event in events] == ["test", "test"]
    finally:
        receiver.stop()


def test_another_sites_endpoints_events_and_deliveries_are_invisible(alice_client, site_a, bobs_endpoint):
    for name in ("webhookendpoint", "webhookdelivery", "webhookevent"):
        page = alice_client.get(reverse(f"admin:consent_{name}_changelist"))
        assert page.status_code == 200
        assert b"bob-secret-path" not in page.content and b"Bob Bakery" not in page.content
    delivery = WebhookDelivery.objects.get()
    for name, pk in (("webhookendpoint", bobs_endpoint.pk), ("webhookdelivery", delivery.pk)):
        page = alice_client.get(reverse(f"admin:consent_{name}_change", args=[pk]), follow=True)
        assert b"bob-secret-path" not in page.content
    test_url = reverse("admin:consent_webhookendpoint_test", args=[bobs_endpoint.pk])
    assert alice_client.post(test_url).status_code == 404
    alice_client.post(
        reverse("admin:consent_webhookdelivery_changelist"),
        {"action": "redeliver_selected", "_selected_action": [delivery.pk]},
    )
    assert WebhookDelivery.objects.count() == 1
