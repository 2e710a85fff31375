"""CORS on every public endpoint, through django-cors-headers (edge/cors.py, consent/sites/cors.py).

Registered origins only: the paths that act for one site's visitors (the consent POST, current
consent, config, jurisdiction, the loader). Any origin (`*`): the read-only public documents.
Preflights, successes and errors (400/404/429/503/500) carry the same headers.
"""

import json
from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client

from consent.models import ConsentRecord
from consent.sites.services import purpose_create, site_create

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example"
FOREIGN = "https://evil.example"
VISITOR = "v-7f3a9c2e4b1d8a6f0c5e"

# (method, path) of every endpoint that only the site's registered origins may read.
REGISTERED_ONLY = [
    ("POST", "/api/public/v1/sites/shop/consents"),
    ("GET", f"/api/public/v1/sites/shop/consents/current?visitor_id={VISITOR}"),
    ("GET", "/api/public/v1/sites/shop/config"),
    ("GET", "/api/public/v1/sites/shop/jurisdiction"),
    ("GET", "/c/shop.js"),
]
# Read-only public documents: any origin may read them, answered with `*`.
ANY_ORIGIN = [
    "/api/public/v1/receipts/rcpt-does-not-exist",
    "/api/public/v1/sites/shop/checkpoints",
    "/api/public/v1/sites/shop/policies",
    "/api/public/v1/sites/shop/subprocessors",
    "/api/public/v1/sites/shop/subprocessors/versions",
    "/api/public/v1/jurisdictions",
    "/api/public/v1/jurisdictions/lookup?country=DE",
    "/s/shop/subprocessors/feed.atom",
]


@pytest.fixture
def site():
    site = site_create(key="shop", name="Shop", languages=["en"], origins=[ORIGIN], by=None)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    return site


def preflight(client, path, *, origin, method="GET", headers="content-type,idempotency-key"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def consent_post(client, data=None, *, origin=ORIGIN, **headers):
    payload = {
        "visitor_id": VISITOR,
        "action": "accept_all",
        "granted": ["analytics"],
        "denied": [],
        "language": "en",
        "ui_layer": "first_layer",
    }
    if origin:
        headers["HTTP_ORIGIN"] = origin
    return client.post(
        "/api/public/v1/sites/shop/consents",
        json.dumps(payload if data is None else data),
        content_type="application/json",
        **headers,
    )


def assert_allowed(response, origin):
    assert response["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in response["Vary"].lower()
    exposed = response["Access-Control-Expose-Headers"].lower()
    assert "retry-after" in exposed and "etag" in exposed


def assert_preflight_allowed(response, origin, method):
    assert response.status_code in (200, 204)
    assert response["Access-Control-Allow-Origin"] == origin
    assert method in response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "idempotency-key" in allowed
    assert response["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(("method", "path"), REGISTERED_ONLY)
def test_registered_origins_get_their_preflight_answered(client, site, method, path):
    assert_preflight_allowed(preflight(client, path, origin=ORIGIN, method=method), ORIGIN, method)
    refused = preflight(client, path, origin=FOREIGN, method=method)
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Headers" not in refused


@pytest.mark.parametrize("path", ANY_ORIGIN)
def test_public_documents_answer_every_origins_preflight_with_a_star(client, site, path):
    assert_preflight_allowed(preflight(client, path, origin=FOREIGN), "*", "GET")


@pytest.mark.parametrize(
    ("method", "path"), [(method, path) for method, path in REGISTERED_ONLY if method == "GET"]
)
def test_registered_only_reads_carry_cors_for_the_sites_origins_alone(client, site, method, path):
    consent_post(client)  # so that the visitor has a current consent
    allowed = client.get(path, HTTP_ORIGIN=ORIGIN)
    assert allowed.status_code == 200, allowed.content
    assert_allowed(allowed, ORIGIN)
    foreign = client.get(path, HTTP_ORIGIN=FOREIGN)
    assert "Access-Control-Allow-Origin" not in foreign
    assert "origin" in foreign["Vary"].lower()
    without = client.get(path)
    assert "Access-Control-Allow-Origin" not in without
    assert "origin" in without["Vary"].lower()  # a shared cache keys the copy on the Origin


def test_an_origin_registered_for_another_site_is_not_allowed_here(client, site):
    site_create(key="other", name="Other", languages=["en"], origins=["https://other.example"], by=None)
    response = client.get("/api/public/v1/sites/shop/config", HTTP_ORIGIN="https://other.example")
    assert "Access-Control-Allow-Origin" not in response


def test_origins_are_compared_as_the_browser_sends_them_case_insensitively(client, site):
    response = client.get("/api/public/v1/sites/shop/config", HTTP_ORIGIN="https://SHOP.example")
    assert response["Access-Control-Allow-Origin"] == "https://SHOP.example"


@pytest.mark.parametrize("path", ANY_ORIGIN)
def test_public_documents_may_be_read_by_any_origin(site, path):
    # Whatever they answer: the checkpoints of a site never sealed are still a 500 here (a
    # separate fix), and even that is JSON the page can read.
    response = Client(raise_request_exception=False).get(path, HTTP_ORIGIN=FOREIGN)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_the_consent_post_carries_cors_on_success_and_on_every_error(client, site, settings):
    settings.CONSENT_RATE_PER_IP = "3/day"  # a day: no window can end mid-test
    created = consent_post(client, HTTP_IDEMPOTENCY_KEY="choice-1")
    assert created.status_code == 201
    assert_allowed(created, ORIGIN)
    replay = consent_post(client, HTTP_IDEMPOTENCY_KEY="choice-1")
    assert replay.status_code == 409
    assert_allowed(replay, ORIGIN)
    bad = consent_post(client, {"visitor_id": VISITOR, "action": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["code"]
    assert_allowed(bad, ORIGIN)
    unknown_site = client.post(
        "/api/public/v1/sites/nope/consents", "{}", content_type="application/json", HTTP_ORIGIN=ORIGIN
    )
    assert unknown_site.status_code == 404  # a site that does not exist has no origins to allow
    limited = consent_post(client)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert_allowed(limited, ORIGIN)


def test_a_foreign_origins_consent_is_refused_before_anything_is_written(client, site):
    refused = consent_post(client, origin=FOREIGN)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused
    without = consent_post(client, origin=None)
    assert without.status_code == 403 and without.json()["error"]["code"] == "origin_required"
    assert not ConsentRecord.objects.exists()


def test_a_database_fault_is_a_503_the_banner_can_read(client, site):
    consent_post(client)  # the site is in the snapshot now
    with mock.patch("consent.ledger.api.consent_record_create", side_effect=DatabaseError("down")):
        response = consent_post(client)
    assert response.status_code == 503 and response["Retry-After"]
    assert_allowed(response, ORIGIN)


def test_a_site_that_cannot_be_read_still_lets_the_banner_read_the_503(client, site):
    with mock.patch("consent.sites.selectors._site_snapshot_load", side_effect=DatabaseError("down")):
        config = client.get("/api/public/v1/sites/shop/config", HTTP_ORIGIN=ORIGIN)
        posted = consent_post(client)
        flight = preflight(client, "/api/public/v1/sites/shop/consents", origin=ORIGIN, method="POST")
    for response in (config, posted):
        assert response.status_code == 503 and response["Retry-After"]
        assert_allowed(response, ORIGIN)
    assert_preflight_allowed(flight, ORIGIN, "POST")
    assert not ConsentRecord.objects.exists()


def test_drf_errors_on_registered_only_endpoints_carry_cors(client, site):
    missing = client.get(
        f"/api/public/v1/sites/shop/consents/current?visitor_id={VISITOR}", HTTP_ORIGIN=ORIGIN
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert_allowed(missing, ORIGIN)
    invalid = client.get("/api/public/v1/sites/shop/consents/current?visitor_id=x", HTTP_ORIGIN=ORIGIN)
    assert invalid.status_code == 400 and invalid.json()["error"]["fields"]["visitor_id"]
    assert_allowed(invalid, ORIGIN)


def test_a_throttled_public_read_exposes_retry_after(client, site, settings):
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "api": "1/day"}
    path = "/api/public/v1/sites/shop/jurisdiction"
    assert client.get(path, HTTP_ORIGIN=ORIGIN).status_code == 200
    throttled = client.get(path, HTTP_ORIGIN=ORIGIN)
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert throttled.json()["error"]["code"] == "throttled"
    assert_allowed(throttled, ORIGIN)
    document = client.get("/api/public/v1/sites/shop/policies", HTTP_ORIGIN=FOREIGN)
    assert document.status_code == 429 and document["Access-Control-Allow-Origin"] == "*"


def test_a_server_error_is_json_with_cors(site):
    client = Client(raise_request_exception=False)
    with mock.patch("consent.sites.api.jurisdiction_resolve", side_effect=RuntimeError("bug")):
        response = client.get("/api/public/v1/sites/shop/jurisdiction", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert_allowed(response, ORIGIN)


def test_pages_outside_the_public_paths_answer_no_cors(client, site):
    for path in ("/s/shop/subprocessors/", "/r/", "/healthz", "/admin/login/"):
        response = client.get(path, HTTP_ORIGIN=ORIGIN)
        assert "Access-Control-Allow-Origin" not in response, path
        flight = preflight(client, path, origin=ORIGIN)
        assert "Access-Control-Allow-Origin" not in flight, path
