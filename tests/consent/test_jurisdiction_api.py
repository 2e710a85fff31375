"""The jurisdiction a visitor gets, asked over HTTP as the banner will ask."""

import pytest

from consent.rules.jurisdictions import RULES_VERSION
from consent.sites.services import site_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return site_create(
        name="Shop",
        default_jurisdiction="RU",
        origins=["https://shop.example"],
        by=None,
    )


def resolve(client, site, **headers):
    response = client.get(f"/api/public/v1/sites/{site.key}/jurisdiction", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_edge_header_germany_gives_eu_opt_in(client, site):
    body = resolve(client, site, HTTP_CF_IPCOUNTRY="DE")
    assert body["jurisdiction"] == "EU"
    assert body["resolved_by"] == "header"
    assert body["country"] == "DE"
    assert body["rules"]["consent_model"] == "opt_in"
    assert body["rules"]["reject_on_first_layer"] is True
    assert body["rules_version"] == RULES_VERSION


def test_california_with_region_header_honours_gpc(client, site):
    body = resolve(client, site, HTTP_CF_IPCOUNTRY="US", HTTP_CF_REGION_CODE="CA")
    assert body["jurisdiction"] == "US-CA"
    assert body["region"] == "CA"
    assert body["rules"]["consent_model"] == "opt_out"
    assert body["rules"]["gpc_effect"] == "opt_out_sale_share"


def test_geoip_resolves_a_russian_address(client, site):
    body = resolve(client, site, REMOTE_ADDR="77.88.55.88")
    assert (body["jurisdiction"], body["country"], body["resolved_by"]) == ("RU", "RU", "geoip")


def test_unresolvable_visitor_gets_the_site_default(client, site):
    body = resolve(client, site, REMOTE_ADDR="10.1.2.3")
    assert (body["jurisdiction"], body["resolved_by"], body["country"]) == ("RU", "site_default", "")


def test_site_overrides_are_applied_to_the_resolved_rules(client, site):
    site.jurisdiction_overrides = {"EU": {"reask_after_consent_days": 180}}
    site.full_clean()
    site.save()
    body = resolve(client, site, HTTP_CF_IPCOUNTRY="AT")
    assert body["rules"]["reask_after_consent_days"] == 180


def test_only_registered_origins_may_read_it_cross_origin(client, site):
    allowed = client.get(f"/api/public/v1/sites/{site.key}/jurisdiction", HTTP_ORIGIN="https://shop.example")
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Credentials" not in allowed
    assert "origin" in allowed["Vary"].lower()
    refused = client.get(f"/api/public/v1/sites/{site.key}/jurisdiction", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in refused


def test_the_public_api_sets_no_session_cookie(client, site):
    response = client.get(f"/api/public/v1/sites/{site.key}/jurisdiction")
    assert not response.cookies


def test_rules_table_lists_every_row_with_its_version(client):
    body = client.get("/api/public/v1/jurisdictions").json()
    assert body["version"] == RULES_VERSION
    rows = body["rulesets"]
    assert {"EU", "EU-FR", "US-CA", "US-UOOM", "US", "RU", "KZ", "DEFAULT"} <= set(rows)
    assert rows["EU-FR"]["reask_after_consent_days"] == 183
    assert rows["RU"]["request_deadline"] == {"amount": 10, "unit": "ru_working_days"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=FR", "EU-FR"),
        ("country=us&region=us-ca", "US-CA"),
        ("country=US&region=CO&on=2024-06-30", "US"),
        ("country=US&region=CO&on=2024-07-01", "US-UOOM"),
        ("country=KZ", "KZ"),
        ("country=BR", "DEFAULT"),
    ],
)
def test_lookup_by_place_and_date(client, query, expected):
    response = client.get(f"/api/public/v1/jurisdictions/lookup?{query}")
    assert response.status_code == 200, response.content
    assert response.json()["jurisdiction"] == expected
