"""The OpenAPI contract: served as JSON and YAML, a docs page with local assets, every JSON endpoint in it."""

import json

import pytest
import yaml
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_schema_is_served_as_yaml_and_as_json(client):
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200 and as_yaml["Content-Type"].startswith("application/vnd.oai.openapi;")
    assert yaml.safe_load(as_yaml.content)["openapi"].startswith("3.")
    assert client.get("/api/schema/?format=yaml").content == as_yaml.content
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200 and as_json["Content-Type"].startswith(
        "application/vnd.oai.openapi+json"
    )
    assert json.loads(as_json.content)["info"]["title"] == "Consentry API"


def test_the_docs_page_loads_its_assets_from_our_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page


def test_every_json_endpoint_is_in_the_contract_with_the_error_shape():
    from django.test import Client

    schema = json.loads(Client().get("/api/schema/?format=json").content)
    operations = {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert len(operations) == 92
    # The management API: updates need If-Match, creations take an Idempotency-Key.
    update = operations["patch", "/api/v1/sites/{site_key}/purposes/{purpose_key}"]
    assert {"401", "403", "404", "412", "428", "429"} <= set(update["responses"])
    create = operations["post", "/api/v1/sites/{site_key}/purposes"]
    assert {"409", "422"} <= set(create["responses"])
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    # The log in C2SP formats: its checkpoint and tiles (plain views), and where witnesses cosign.
    assert ("get", "/log/{site_key}/tile/{level}/{rest}") in operations
    assert ("post", "/api/public/v1/sites/{site_key}/checkpoints/{tree_size}/cosignatures") in operations
    assert ("post", "/api/public/v1/promises/check") in operations
    assert ("post", "/api/public/v1/sites/{site_key}/consents") in operations
    assert ("get", "/api/public/v1/sites/{site_key}/config") in operations
    # Consents from the site's own systems, its accounts and their links to banner visitors.
    assert ("post", "/api/v1/sites/{site_key}/consents") in operations
    assert ("post", "/api/v1/sites/{site_key}/subjects/{subject}/link") in operations
    assert ("delete", "/api/v1/sites/{site_key}/subjects/{subject}/links/{visitor_id}") in operations
    assert ("get", "/api/v1/sites/{site_key}/subjects/{subject}/consents") in operations
    assert ("get", "/api/v1/sites/{site_key}/visitors/{visitor_id}/consents") in operations
    # The site's backend confirms a data-subject request's erasure (consent/requests/automation.py).
    erasure = operations["post", "/api/v1/sites/{site_key}/requests/{public_id}/erasure-confirmation"]
    assert {"201", "400", "403", "404", "409"} <= set(erasure["responses"])
    # Data-subject requests filed and read by the site's own systems.
    filing = operations["post", "/api/v1/sites/{site_key}/requests"]
    assert {"400", "403", "404", "409", "422"} <= set(filing["responses"])
    assert any(parameter["name"] == "Idempotency-Key" for parameter in filing["parameters"])
    assert ("get", "/api/v1/sites/{site_key}/requests") in operations
    assert ("get", "/api/v1/sites/{site_key}/requests/{public_id}") in operations
    consent = operations["post", "/api/public/v1/sites/{site_key}/consents"]
    assert {"201", "400", "403", "404", "409", "413", "415", "429", "503"} <= set(consent["responses"])
    assert any(parameter["name"] == "Idempotency-Key" for parameter in consent["parameters"])
    for operation in operations.values():
        errors = [code for code in operation["responses"] if code >= "400"]
        assert errors, operation["operationId"]
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    assert reverse("api-schema") == "/api/schema/"


def test_every_webhook_event_is_in_the_contract_with_its_body():
    from django.test import Client

    from consent.models import WebhookEventType

    schema = json.loads(Client().get("/api/schema/?format=json").content)
    webhooks = schema["x-webhooks"]  # OpenAPI 3.0: the extension 3.1 made `webhooks`
    assert set(webhooks) == set(WebhookEventType.values)
    components = schema["components"]["schemas"]
    for name, item in webhooks.items():
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        envelope = components[body.rsplit("/", 1)[1]]
        assert set(envelope["properties"]) == {"id", "type", "created_at", "site", "data"}, name
        assert "Consentry-Signature" in item["post"]["description"]
    recorded = components["ConsentRecordedData"]["properties"]["records"]["items"]["$ref"]
    assert set(components[recorded.rsplit("/", 1)[1]]["properties"]) >= {
        "receipt_id", "recorded_at", "action", "purposes", "jurisdiction", "visitor_id", "gpc", "versions",
    }  # fmt: skip
