"""The cross-tenant matrix of the management API: every operation of the contract under
/api/v1/sites/{site_key}, called with an all-scopes token of ANOTHER site, reads nothing of
the demo site and changes nothing, whatever the method.

The operations come from the committed OpenAPI contract (docs/openapi.yaml), so an endpoint
added later is in the matrix without anyone remembering to add it. Each is called twice:
with the demo site's key (the path names another tenant) and with the token's own site key
but the demo site's object ids and keys (a foreign object under one's own site)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from consent.models import (
    AuditEntry,
    ConsentRecord,
    DataSubjectRequest,
    PolicyDocument,
    RequestEvent,
    Site,
    SubjectLink,
    WebhookEndpoint,
    WebhookEvent,
)
from consent.requests.selectors import request_jurisdiction_resolve
from consent.requests.services import request_file_verified
from consent.sites.selectors import site_snapshot
from consent.sites.services import site_create
from consent.subjects.services import subject_consent_record
from consent.subjects.validation import subject_consent_parse
from consent.tokens.services import token_create
from consent.webhooks.services import webhook_endpoint_create
from cookies.models import Cookie
from subprocessors.models import Objection, SubprocessorListVersion, Subscriber, Vendor

pytestmark = pytest.mark.django_db
ALL_SCOPES = [
    "read",
    "write",
    "publish",
    "consents:read",
    "consents:write",
    "export",
    "requests:read",
    "requests:write",
]
# Path parameters that name one of the demo site's objects (a language or a version number
# names none: under the token's own site they are its own texts and versions).
# A subject (an account id) names an object of the demo site only through the demo site's own
# secret: under another site the same id is another account, never the demo's (its HMAC differs).
OBJECT_PARAMETERS = {
    "cookie_id",
    "origin_id",
    "objection_id",
    "purpose_key",
    "vendor_key",
    "slug",
    "visitor_id",
    "endpoint_key",
    "public_id",
}


def management_operations() -> list[tuple[str, str]]:
    contract = yaml.safe_load(Path(settings.BASE_DIR, "docs", "openapi.yaml").read_text())
    return [
        (method, path)
        for path, item in contract["paths"].items()
        if path.startswith("/api/v1/sites/{site_key}")
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.fixture
def tenants(tmp_path):
    call_command("consent_demo", admin_password_file=str(tmp_path / "pw"), stdout=open("/dev/null", "w"))
    call_command("subprocessors_demo", stdout=open("/dev/null", "w"))
    call_command("cookies_demo", stdout=open("/dev/null", "w"))
    demo = Site.objects.get(key="demo")
    version = SubprocessorListVersion.objects.filter(site=demo).order_by("-number").first()
    subscriber = Subscriber.objects.create(
        site=demo, email="sub@example.org", language="en", status="confirmed"
    )
    objection = Objection.objects.create(
        site=demo, version=version, vendor_key="hotjar", vendor_name="Hotjar", subscriber=subscriber,
        email=subscriber.email, reason="No.",
    )  # fmt: skip
    other = site_create(key="other", name="Other", origins=["https://other.example"], by=None)
    _, raw = token_create(site=other, name="foreign", scopes=ALL_SCOPES, by=None)
    document = PolicyDocument.objects.filter(site=demo).first()
    endpoint, _ = webhook_endpoint_create(
        site=demo, url="https://hooks.demo.example/in", events=["consent.withdrawn"], by=None
    )
    # An account of the demo site with a consent its systems recorded and a linked browser.
    visitor = "v-demo-linked-0000000001"
    snapshot = site_snapshot(key="demo")
    given = {"subject": "demo-account-1", "action": "reject_all", "collection_method": "sign_up_form"}
    data = subject_consent_parse(
        {**given, "language": demo.default_language, "visitor_id": visitor}, snapshot
    )
    subject_consent_record(snapshot=snapshot, data=data, by=None)
    # A data-subject request the demo site's backend filed for that account.
    filed = request_file_verified(
        site=demo,
        type="access",
        subject="demo-account-1",
        email="demo-requester@example.org",
        language=demo.default_language,
        jurisdiction=request_jurisdiction_resolve(
            site=demo, country="", region="", http_request=None, on=timezone.now().date()
        ),
        token_name="demo",
    )
    values = {
        "cookie_id": str(Cookie.objects.filter(site=demo).first().pk),
        "origin_id": str(demo.origins.first().pk),
        "objection_id": str(objection.pk),
        "purpose_key": "analytics",
        "vendor_key": Vendor.objects.filter(site=demo).first().key,
        "slug": document.slug,
        "endpoint_key": endpoint.key,
        "number": "1",
        "language": "en",
        "subject": "demo-account-1",
        "visitor_id": visitor,
        "public_id": filed.public_id,
    }
    return demo, raw, values


def _rows(demo):
    return {
        "audit": AuditEntry.objects.filter(site=demo).count(),
        "cookies": Cookie.objects.filter(site=demo).count(),
        "vendors": Vendor.objects.filter(site=demo).count(),
        "origins": demo.origins.count(),
        "purposes": demo.purposes.count(),
        "settings": Site.objects.filter(pk=demo.pk).values().get(),
        "webhooks": list(WebhookEndpoint.objects.filter(site=demo).values()),
        "webhook_events": WebhookEvent.objects.filter(site=demo).count(),
        "consents": ConsentRecord.objects.filter(site=demo).count(),
        "links": SubjectLink.objects.filter(site=demo).count(),
        "requests": list(DataSubjectRequest.objects.filter(site=demo).values()),
        "request_events": RequestEvent.objects.filter(request__site=demo).count(),
    }


def test_no_operation_reaches_another_sites_data_with_a_foreign_token(client, tenants):
    demo, raw, values = tenants
    operations = management_operations()
    assert len(operations) >= 40  # the whole management API, not a handful
    before = _rows(demo)
    leaks = []
    for method, template in operations:
        for site_key in ("demo", "other"):
            if site_key == "other" and not OBJECT_PARAMETERS & set(re.findall(r"\{(\w+)\}", template)):
                continue  # no object of the demo site in this path: the token's own site, not a leak
            names = {**values, "site_key": site_key}
            path = re.sub(r"\{(\w+)\}", lambda m, names=names: names[m[1]], template)
            response = getattr(client, method)(
                path,
                json.dumps({}) if method != "get" else None,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {raw}",
                HTTP_IF_MATCH="*",
            )
            body = response.content.decode(errors="replace")
            if response.status_code != 404 or "demo" in body.replace(path, ""):
                leaks.append((method.upper(), path, response.status_code, body[:120]))
    assert leaks == []
    assert _rows(demo) == before
