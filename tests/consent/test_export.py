"""DPOs export consent records: streamed over the API, or as a file with progress in the admin."""

import csv
import io
import json

import pytest
from django.urls import reverse

from consent.models import AuditEntry, ConsentExport, Role, SiteMembership
from consent.sites.services import purpose_create, site_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example"


@pytest.fixture
def site():
    site = site_create(key="shop", name="Shop", origins=[ORIGIN], by=None)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    return site


@pytest.fixture
def dpo(site):
    user = UserFactory(username="dora")
    SiteMembership.objects.create(site=site, user=user, role=Role.DPO)
    return user


@pytest.fixture
def records(client, site):
    for n in range(5):
        response = client.post(
            "/api/public/v1/sites/shop/consents",
            json.dumps(
                {
                    "visitor_id": f"visitor-{n:012d}",
                    "action": "accept_all",
                    "granted": ["analytics"],
                    "language": "en",
                    "ui_layer": "first_layer",
                }
            ),  # fmt: skip
            content_type="application/json",
            HTTP_ORIGIN=ORIGIN,
        )
        assert response.status_code == 201


def test_the_api_streams_csv_and_jsonl_to_the_sites_dpo(client, site, dpo, records):
    client.force_login(dpo)
    url = "/api/v1/sites/shop/consents/export?from=2000-01-01&to=2100-01-01"
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 5
    assert rows[0]["action"] == "accept_all" and json.loads(rows[0]["purposes_granted"]) == [
        "analytics",
        "necessary",
    ]
    assert "shop-consents-2000-01-01-2100-01-01.csv" in response["Content-Disposition"]
    lines = b"".join(client.get(url + "&format=jsonl").streaming_content).decode().splitlines()
    assert [json.loads(line)["visitor_id"] for line in lines] == [f"visitor-{n:012d}" for n in range(5)]
    assert AuditEntry.objects.filter(action="consent.export").count() == 2


def test_the_export_api_refuses_bad_ranges_viewers_and_other_tenants(client, site, dpo, records):
    client.force_login(dpo)
    bad = client.get("/api/v1/sites/shop/consents/export?from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 400 and "to" in bad.json()["error"]["fields"]
    missing = client.get("/api/v1/sites/shop/consents/export?to=2026-01-01")
    assert missing.status_code == 400 and "from" in missing.json()["error"]["fields"]
    assert (
        client.get("/api/v1/sites/shop/consents/export?from=2026-01-01&to=2026-01-02&format=xml").status_code
        == 400
    )
    viewer = UserFactory(username="vic")
    SiteMembership.objects.create(site=site, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    assert client.get("/api/v1/sites/shop/consents/export?from=2000-01-01&to=2100-01-01").status_code == 403
    stranger = UserFactory(username="eve")
    site_create(name="Eve's", owner=stranger, by=None)
    client.force_login(stranger)
    assert client.get("/api/v1/sites/shop/consents/export?from=2000-01-01&to=2100-01-01").status_code == 404
    client.logout()
    assert client.get("/api/v1/sites/shop/consents/export?from=2000-01-01&to=2100-01-01").status_code == 401


def test_the_admin_export_shows_progress_and_offers_the_file(
    client, site, dpo, records, django_capture_on_commit_callbacks
):
    client.force_login(dpo)
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued when the request commits
        response = client.post(
            reverse("admin:consent_consentexport_add"),
            {"site": site.pk, "date_from": "2000-01-01", "date_to": "2100-01-01", "format": "csv"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    export = ConsentExport.objects.get()
    assert export.status == "done" and export.rows_total == 5 and export.rows_done == 5
    page = client.get(reverse("admin:consent_consentexport_change", args=[export.pk])).content.decode()
    assert '<progress value="100" max="100">' in page and "5 of 5 rows" in page
    download = client.get(reverse("admin:consent_consentexport_download", args=[export.pk]))
    content = b"".join(download.streaming_content).decode()
    assert content.count("\n") == 6 and "visitor-000000000004" in content
    stranger = UserFactory(username="eve")
    client.force_login(stranger)
    assert client.get(reverse("admin:consent_consentexport_download", args=[export.pk])).status_code in (
        302,
        403,
        404,
    )
