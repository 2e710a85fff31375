"""Every API error has one JSON shape: {"error": {"code", "message", "fields"}}."""

import json

import pytest

from consent.sites.services import site_create
from tests.factories import UserFactory


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize("path", ["/api/", "/api/nothing-here", "/api/public/v1/sites", "/api/v2/sites"])
def test_unknown_api_urls_answer_json_404(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_unknown_pages_outside_the_api_stay_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_invalid_query_names_the_fields(client):
    error = assert_error(
        client.get("/api/public/v1/jurisdictions/lookup?country=USA&on=yesterday"), 400, "invalid"
    )
    assert set(error["fields"]) == {"country", "on"}
    assert error["fields"]["country"] == ["Give an ISO 3166-1 alpha-2 code."]


def test_missing_required_query_is_a_400_not_a_500(client):
    error = assert_error(client.get("/api/public/v1/jurisdictions/lookup"), 400, "invalid")
    assert "country" in error["fields"]


def test_wrong_method_is_a_json_405(client):
    assert_error(client.post("/api/public/v1/jurisdictions", {}), 405, "method_not_allowed")


@pytest.mark.django_db
def test_management_api_without_login_is_a_json_401(client):
    response = client.get("/api/v1/sites")
    assert_error(response, 401, "not_authenticated")
    assert "WWW-Authenticate" in response


@pytest.mark.django_db
def test_unknown_site_is_a_json_404(client):
    assert_error(client.get("/api/public/v1/sites/nope/jurisdiction"), 404, "not_found")


@pytest.mark.django_db
def test_public_api_rate_limit_answers_429_in_the_same_shape(client, settings):
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "api": "3/min"}
    for _ in range(3):
        assert client.get("/api/public/v1/jurisdictions").status_code == 200
    response = client.get("/api/public/v1/jurisdictions")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Another client address has its own allowance.
    assert client.get("/api/public/v1/jurisdictions", REMOTE_ADDR="192.0.2.7").status_code == 200


@pytest.mark.django_db
def test_management_api_hides_other_tenants_sites(client):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    own = site_create(name="Alice Shop", owner=alice, origins=["https://alice.example"], by=None)
    other = site_create(name="Bob Bakery", owner=bob, by=None)
    client.force_login(alice)
    listed = client.get("/api/v1/sites").json()["sites"]
    assert [site["key"] for site in listed] == [own.key]
    assert listed[0]["origins"] == ["https://alice.example"]
    detail = client.get(f"/api/v1/sites/{own.key}").json()
    assert detail["role"] == "owner"
    assert [purpose["key"] for purpose in detail["purposes"]] == ["necessary"]
    assert_error(client.get(f"/api/v1/sites/{other.key}"), 404, "not_found")


def test_a_session_write_to_an_unknown_api_path_is_a_json_404_not_a_csrf_page(db):
    from django.test import Client

    from tests.factories import UserFactory

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="sam", is_staff=True))
    for method in ("delete", "post", "patch"):
        response = getattr(client, method)("/api/v1/sites/demo/origins/null,null", HTTP_IF_MATCH="")
        assert_error(response, 404, "not_found")
    # A DRF view checks the session's CSRF token itself, in the JSON shape.
    refused = client.post(
        "/api/v1/sites/demo/origins", {"origin": "https://x.example"}, content_type="application/json"
    )
    assert_error(refused, 403, "permission_denied")


def test_a_csrf_refusal_under_the_api_is_in_the_json_shape(rf):
    from edge.errors import csrf_failure

    response = csrf_failure(rf.post("/api/v1/sites"), reason="CSRF cookie not set.")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert json.loads(response.content)["error"]["code"] == "csrf_failed"
    page = csrf_failure(rf.post("/admin/login/"), reason="CSRF cookie not set.")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
