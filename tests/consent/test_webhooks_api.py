"""Webhooks through the management API with a token: register (secret once), change with If-Match,
a test event to a real receiver, the delivery log, redelivery, scopes and bad input."""

import pytest
from django.test import override_settings

from consent.models import AuditEntry, Role, SiteMembership, WebhookDelivery, WebhookEndpoint, WebhookEvent
from consent.sites.services import site_create
from consent.tokens.services import token_create
from tests.config.test_api_errors import assert_error
from tests.consent.test_management_api import ALL, Api
from tests.consent.test_webhooks import Receiver
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return site_create(key="shop", name="Shop", origins=["https://shop.example"], by=None)


@pytest.fixture
def owner(shop):
    user = UserFactory(username="olga", is_staff=True)
    SiteMembership.objects.create(site=shop, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def api(client, owner, shop):
    """A client with an owner's all-scopes token of the shop."""
    _, raw = token_create(site=shop, name="deploy", scopes=ALL, by=owner)
    return Api(client, raw)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def register(api, url, **fields):
    return api.send("post", "shop/webhooks", {"url": url, "events": ["consent.withdrawn"], **fields})


def test_an_endpoint_is_registered_with_its_secret_once_and_changed_with_if_match(api, receiver):
    created = register(api, receiver.url, consent_actions=["withdraw"], description="CRM")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and "no-store" in created["Cache-Control"]
    assert body["events"] == ["consent.withdrawn"] and body["consent_actions"] == ["withdraw"]
    key = body["key"]
    read = api.get(f"shop/webhooks/{key}")
    assert "secret" not in read.json() and read["ETag"] == created["ETag"]
    assert [row["key"] for row in api.get("shop/webhooks").json()["results"]] == [key]
    change = {"events": ["optout.signal", "consent.recorded"], "is_active": False}
    assert api.send("patch", f"shop/webhooks/{key}", change).status_code == 428
    changed = api.send("patch", f"shop/webhooks/{key}", change, HTTP_IF_MATCH=read["ETag"])
    assert changed.status_code == 200, changed.content
    assert changed.json()["events"] == ["consent.recorded", "optout.signal"]
    stale = api.send("patch", f"shop/webhooks/{key}", {"is_active": True}, HTTP_IF_MATCH=read["ETag"])
    assert stale.status_code == 412
    assert AuditEntry.objects.filter(action="webhook.change").get().data["token"]
    assert api.send("delete", f"shop/webhooks/{key}", HTTP_IF_MATCH=changed["ETag"]).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_bad_endpoints_are_refused_with_every_problem_named_and_nothing_written(api):
    unknown = register(api, "https://hooks.example.com/in", events=["consent.everything"])
    assert_error(unknown, 400, "invalid")
    assert "events" in unknown.json()["error"]["fields"]
    assert_error(register(api, "https://hooks.example.com/in", events=[]), 400, "invalid")
    with override_settings(DEBUG=False, TESTING=False):
        private = register(api, "https://169.254.169.254/latest/meta-data")
    assert_error(private, 400, "invalid")
    assert "url" in private.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_a_test_event_reaches_the_receiver_and_the_log_lists_it_and_it_can_be_sent_again(
    api, receiver, django_capture_on_commit_callbacks
):
    body = register(api, receiver.url).json()
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.send("post", f"shop/webhooks/{body['key']}/test")
    assert sent.status_code == 202, sent.content
    event_id = sent.json()["event"]
    [event] = receiver.events(body["secret"])
    assert (event["id"], event["type"], event["data"]["endpoint"]) == (event_id, "test", body["key"])
    log = api.get(f"shop/webhooks/{body['key']}/deliveries?status=sent&type=test").json()["results"]
    assert [(row["event"], row["attempt"], row["status"], row["http_status"]) for row in log] == [
        (event_id, 1, "sent", 200)
    ]
    assert api.get(f"shop/webhooks/{body['key']}/deliveries?status=failed").json()["results"] == []
    with django_capture_on_commit_callbacks(execute=True):
        again = api.send("post", f"shop/webhooks/{body['key']}/redeliveries", {"event": event_id})
    assert again.status_code == 202
    assert len(receiver.events(body["secret"])) == 2
    assert WebhookDelivery.objects.filter(is_manual=True).count() == 1
    unknown = api.send("post", f"shop/webhooks/{body['key']}/redeliveries", {"event": "evt_nope"})
    assert_error(unknown, 404, "not_found")


def test_a_read_token_lists_but_cannot_change_or_send(client, api, shop, owner, receiver):
    key = register(api, receiver.url).json()["key"]
    _, raw = token_create(site=shop, name="reader", scopes=["read"], by=owner)
    reader = Api(client, raw)
    assert reader.get("shop/webhooks").status_code == 200
    assert reader.get(f"shop/webhooks/{key}/deliveries").status_code == 200
    assert_error(register(reader, receiver.url), 403, "scope_missing")
    assert_error(reader.send("post", f"shop/webhooks/{key}/test"), 403, "scope_missing")
    assert WebhookEndpoint.objects.count() == 1 and not WebhookEvent.objects.exists()


def test_deleting_an_endpoint_keeps_its_delivery_log_with_the_url(
    api, receiver, django_capture_on_commit_callbacks
):
    body = register(api, receiver.url).json()
    with django_capture_on_commit_callbacks(execute=True):
        api.send("post", f"shop/webhooks/{body['key']}/test")
    etag = api.get(f"shop/webhooks/{body['key']}")["ETag"]
    assert api.send("delete", f"shop/webhooks/{body['key']}", HTTP_IF_MATCH=etag).status_code == 204
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.endpoint is None and delivery.url == receiver.url and delivery.status == "sent"
    assert WebhookEvent.objects.get().endpoint is None
    assert AuditEntry.objects.filter(action="webhook.delete").exists()
