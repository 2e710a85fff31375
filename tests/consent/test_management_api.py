"""The management API's site resources through a token: settings, origins, purposes, subscribers;
ETag/If-Match, Idempotency-Key, cursor pages, scopes, tenants, and the token in every audit row."""

import json

import pytest

from consent.models import AuditEntry, Purpose, Role, SiteMembership, SiteOrigin
from consent.sites.services import site_create
from consent.tokens.services import token_create
from subprocessors.models import Subscriber, SubscriberStatus
from tests.config.test_api_errors import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ALL = ["read", "write", "publish", "consents:read", "consents:write", "export"]


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


class Api:
    def __init__(self, client, raw):
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path, **headers):
        return self.client.get(f"/api/v1/sites/{path}", **self.headers, **headers)

    def send(self, method, path, body=None, **headers):
        return getattr(self.client, method)(
            f"/api/v1/sites/{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            **self.headers,
            **headers,
        )


def test_origins_registered_and_removed_with_if_match_and_the_token_in_the_audit_rows(api, shop):
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    listed = api.get("shop/origins").json()["origins"]
    assert [origin["origin"] for origin in listed] == ["https://shop.example"]
    added = api.send("post", "shop/origins", {"origin": "https://Blog.Shop.example"})
    assert added.status_code == 201, added.content
    assert added.json()["origin"] == "https://blog.shop.example"
    duplicate = api.send("post", "shop/origins", {"origin": "https://blog.shop.example"})
    assert_error(duplicate, 400, "invalid")
    origin_id = added.json()["id"]
    assert_error(api.send("delete", f"shop/origins/{origin_id}"), 428, "precondition_required")
    assert_error(
        api.send("delete", f"shop/origins/{origin_id}", HTTP_IF_MATCH='"0000"'), 412, "precondition_failed"
    )
    etag = api.get(f"shop/origins/{origin_id}")["ETag"]
    assert api.send("delete", f"shop/origins/{origin_id}", HTTP_IF_MATCH=etag).status_code == 204
    assert not SiteOrigin.objects.filter(pk=origin_id).exists()
    rows = AuditEntry.objects.filter(id__gt=before).order_by("id")
    assert [(row.action, row.data.get("token")) for row in rows] == [
        ("site_origin.add", rows[0].data["token"]),
        ("site_origin.remove", rows[0].data["token"]),
    ]
    assert rows[0].data["token"].startswith("cst_") and rows[0].actor.username == "olga"


def test_two_editors_cannot_overwrite_each_other(api, shop):
    first = api.get("shop/settings")
    etag = first["ETag"]
    assert first.json()["name"] == "Shop"
    renamed = api.send("patch", "shop/settings", {"name": "The Shop"}, HTTP_IF_MATCH=etag)
    assert renamed.status_code == 200 and renamed.json()["name"] == "The Shop"
    assert renamed["ETag"] != etag
    # The second editor read before the first one's change: refused, nothing written.
    late = api.send("patch", "shop/settings", {"name": "Shop 2"}, HTTP_IF_MATCH=etag)
    assert_error(late, 412, "precondition_failed")
    shop.refresh_from_db()
    assert shop.name == "The Shop"
    assert_error(
        api.send("patch", "shop/settings", {"key": "new"}, HTTP_IF_MATCH=renamed["ETag"]), 400, "invalid"
    )
    bad = api.send(
        "patch", "shop/settings", {"consent_retention_days": "many"}, HTTP_IF_MATCH=renamed["ETag"]
    )
    assert_error(bad, 400, "invalid")
    change = AuditEntry.objects.get(action="site.settings_change")
    assert change.data["changes"]["name"] == ["Shop", "The Shop"] and change.data["token"].startswith("cst_")


def test_a_dpos_token_meets_the_owner_only_rule_of_the_admin(client, shop):
    dpo = UserFactory(username="dora", is_staff=True)
    SiteMembership.objects.create(site=shop, user=dpo, role=Role.DPO)
    _, raw = token_create(site=shop, name="dpo", scopes=["read", "write"], by=dpo)
    api = Api(client, raw)
    etag = api.get("shop/settings")["ETag"]
    refused = api.send("patch", "shop/settings", {"name": "Mine"}, HTTP_IF_MATCH=etag)
    error = assert_error(refused, 403, "permission_denied")
    assert error["message"] == "Only the site's owners can change this."


def test_purposes_created_once_per_idempotency_key_and_edited_with_their_texts(api, shop):
    body = {"key": "analytics", "texts": {"en": {"name": "Analytics", "description": "Counts visits."}}}
    first = api.send("post", "shop/purposes", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    again = api.send("post", "shop/purposes", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    # The replay carries the first answer's ETag, so a client that retried can still PATCH what it made.
    assert first["ETag"] and again["ETag"] == first["ETag"] == api.get("shop/purposes/analytics")["ETag"]
    assert Purpose.objects.filter(site=shop, key="analytics").count() == 1
    other = {**body, "key": "marketing"}
    assert_error(
        api.send("post", "shop/purposes", other, HTTP_IDEMPOTENCY_KEY="k-1"), 422, "idempotency_key_reused"
    )
    # A refused POST keeps nothing: the same key works once the request is right.
    assert_error(
        api.send("post", "shop/purposes", {"key": "Bad Key!", "texts": {}}, HTTP_IDEMPOTENCY_KEY="k-2"),
        400,
        "invalid",
    )
    assert api.send("post", "shop/purposes", other, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201

    etag = api.get("shop/purposes/analytics")["ETag"]
    changed = api.send(
        "patch",
        "shop/purposes/analytics",
        {"position": 5, "texts": {"ru": {"name": "Аналитика", "description": "Считает визиты."}, "en": None}},
        HTTP_IF_MATCH=etag,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["position"] == 5 and set(changed.json()["texts"]) == {"ru"}
    assert_error(
        api.send("delete", "shop/purposes/analytics", HTTP_IF_MATCH=etag), 412, "precondition_failed"
    )
    assert api.send("delete", "shop/purposes/analytics", HTTP_IF_MATCH=changed["ETag"]).status_code == 204
    necessary = api.get("shop/purposes/necessary")
    refused = api.send("delete", "shop/purposes/necessary", HTTP_IF_MATCH=necessary["ETag"])
    assert_error(refused, 400, "invalid")


def test_a_read_token_writes_nothing_and_another_sites_token_finds_nothing(client, shop, owner):
    other = site_create(key="other", name="Other", origins=["https://other.example"], by=None)
    _, reader = token_create(site=shop, name="ro", scopes=["read"], by=owner)
    _, foreign = token_create(site=other, name="theirs", scopes=ALL, by=None)
    read_only, stranger = Api(client, reader), Api(client, foreign)
    assert_error(
        read_only.send("post", "shop/origins", {"origin": "https://x.example"}), 403, "scope_missing"
    )
    assert_error(
        read_only.send("patch", "shop/settings", {"name": "x"}, HTTP_IF_MATCH="*"), 403, "scope_missing"
    )
    origin_id = shop.origins.get().pk
    for method, path, body in [
        ("get", "shop/settings", None),
        ("patch", "shop/settings", {"name": "x"}),
        ("get", "shop/origins", None),
        ("post", "shop/origins", {"origin": "https://x.example"}),
        ("get", f"shop/origins/{origin_id}", None),
        ("delete", f"shop/origins/{origin_id}", None),
        ("get", "shop/purposes", None),
        ("post", "shop/purposes", {"key": "x", "texts": {"en": {"name": "X", "description": "X."}}}),
        ("get", "shop/purposes/necessary", None),
        ("patch", "shop/purposes/necessary", {"position": 1}),
        ("delete", "shop/purposes/necessary", None),
        ("get", "shop/subscribers", None),
    ]:
        answer = (
            stranger.get(path) if method == "get" else stranger.send(method, path, body, HTTP_IF_MATCH="*")
        )
        assert_error(answer, 404, "not_found")
    assert shop.origins.count() == 1 and shop.name == "Shop"
    assert (
        not AuditEntry.objects.filter(site=shop, action__startswith=("site", "purpose"))
        .exclude(action="site.create")
        .exists()
    )


def test_subscribers_come_in_cursor_pages_filtered_by_time_and_status(api, shop):
    for n in range(5):
        Subscriber.objects.create(
            site=shop,
            email=f"s{n}@example.org",
            language="en",
            status=SubscriberStatus.CONFIRMED if n % 2 else "pending",
        )
    first = api.get("shop/subscribers?limit=2").json()
    assert [row["email"] for row in first["results"]] == ["s0@example.org", "s1@example.org"]
    second = api.get(f"shop/subscribers?limit=2&cursor={first['next_cursor']}").json()
    third = api.get(f"shop/subscribers?limit=2&cursor={second['next_cursor']}").json()
    assert [row["email"] for row in second["results"] + third["results"]] == [
        f"s{n}@example.org" for n in (2, 3, 4)
    ]
    assert third["next_cursor"] is None
    confirmed = api.get("shop/subscribers?status=confirmed").json()["results"]
    assert [row["email"] for row in confirmed] == ["s1@example.org", "s3@example.org"]
    assert api.get("shop/subscribers?since=2100-01-01T00:00:00Z").json() == {
        "results": [],
        "next_cursor": None,
    }
    odd_times = [
        "until=0200-02-08T16:44:45%2B21:36",
        "since=0001-01-01T00:00:00%2B01:00",
        "since=2026-13-01T00:00Z",
    ]
    for query in ["limit=0", "limit=x", "cursor=nonsense", "since=yesterday", "status=gone", *odd_times]:
        assert_error(api.get(f"shop/subscribers?{query}"), 400, "invalid")


def test_a_fault_in_a_token_request_leaves_no_token_for_the_next_audit_row(client, api, shop, monkeypatch):
    from django.test import Client

    from consent.audit.services import audit_record
    from consent.sites import api as sites_api

    def fault(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sites_api, "site_origin_add", fault)
    api.client = Client(raise_request_exception=False)
    answer = api.send("post", "shop/origins", {"origin": "https://x.example"})
    assert answer.status_code == 500
    # The same thread's next audit row (a person's, not the token's) names no token.
    entry = audit_record(action="test.after_fault", target="nothing", site=shop)
    assert "token" not in entry.data
