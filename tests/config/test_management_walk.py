"""Issue 14's "Done when", walked through the management API alone, as a site owner's deploy
pipeline and sign-up backend would: one DPO's token, every step over HTTP, the browser's GPC
opt-out through the public endpoint. Runs on SQLite and, in CI, on PostgreSQL."""

import json

import pytest

from consent.models import AuditEntry, ConsentRecord, Role, SiteMembership
from consent.sites.selectors import site_snapshot_forget
from consent.sites.services import site_create
from consent.tokens.services import token_create, token_revoke
from tests.config.test_api_errors import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example"
ACCOUNT = "crm-account-4711"
VISITOR = "v-4f1c2a9e7b3d5c8a0e6f"


class Api:
    def __init__(self, client, raw):
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path, **headers):
        return self.client.get(f"/api/v1/sites/shop/{path}", **self.headers, **headers)

    def send(self, method, path, body=None, **headers):
        return getattr(self.client, method)(
            f"/api/v1/sites/shop/{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            **self.headers,
            **headers,
        )

    def ok(self, method, path, body=None, status=201, **headers):
        response = self.send(method, path, body, **headers)
        assert response.status_code == status, (method, path, response.content)
        return response


@pytest.fixture
def shop():
    site = site_create(
        key="shop", name="Shop", languages=["en", "ru"], default_jurisdiction="US-CA", origins=[], by=None
    )
    owner = UserFactory(username="olga", is_staff=True)
    SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    dpo = UserFactory(username="dora", is_staff=True)
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    return site, owner, dpo


def test_a_site_is_set_up_published_and_its_accounts_consents_kept_through_the_api_alone(client, shop):
    site, owner, dpo = shop
    # The owner's token for the deploy pipeline and the sign-up backend; the DPO's for policies
    # (publishing a policy version needs a DPO behind the token, as in the admin).
    _, raw = token_create(
        site=site,
        name="deploy and sign-up",
        scopes=["read", "write", "publish", "consents:read", "consents:write"],
        by=owner,
    )
    api = Api(client, raw)
    _, dpo_raw = token_create(site=site, name="policies", scopes=["read", "write", "publish"], by=dpo)
    dpo_api = Api(client, dpo_raw)
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()

    # Register an origin: from now on the banner on it may send consents.
    api.ok("post", "origins", {"origin": ORIGIN})
    # A purpose with its cookie (sold or shared: the opt-out of California applies to it).
    api.ok(
        "post",
        "purposes",
        {
            "key": "advertising",
            "is_sale_or_share": True,
            "texts": {"en": {"name": "Advertising", "description": "Ads that follow you."}},
        },
    )
    api.ok(
        "post",
        "cookies",
        {
            "name": "_ads",
            "purpose": "advertising",
            "duration_days": 90,
            "description": "Remembers which ads you saw.",
        },
        HTTP_IDEMPOTENCY_KEY="cookie-ads",
    )
    # Change a banner text, then publish a banner version: visitors see it at once.
    api.ok("put", "banner/texts/en", {"title": "Your privacy", "body": "Choose what we may do."})
    banner = api.ok("post", "banner/versions", {"change_note": "Advertising."}, HTTP_IDEMPOTENCY_KEY="b-1")
    assert banner.json()["number"] == 1
    config = client.get("/api/public/v1/sites/shop/config", HTTP_ORIGIN=ORIGIN).json()
    assert config["texts"]["title"] == "Your privacy"
    assert "advertising" in [purpose["key"] for purpose in config["purposes"]]

    # A policy version: refused for a token without `publish`, published with it (by the DPO).
    # The separate consent document 152-FZ asks of a Russian sign-up form, in Russian.
    dpo_api.ok("post", "policies", {"kind": "pd_consent", "jurisdictions": ["RU"], "languages": ["ru"]})
    dpo_api.ok(
        "put", "policies/pd-consent/texts/ru", {"title": "Согласие", "body": "Я согласен на обработку."}
    )
    version = {"effective_at": "2026-01-01T00:00:00Z", "summary": "First edition."}
    _, no_publish = token_create(site=site, name="editor", scopes=["read", "write"], by=dpo)
    refused = Api(client, no_publish).send("post", "policies/pd-consent/versions", version)
    assert assert_error(refused, 403, "scope_missing")
    published = dpo_api.ok("post", "policies/pd-consent/versions", version, HTTP_IDEMPOTENCY_KEY="p-1")
    assert published.json()["number"] == 1

    # The sign-up form's consent for an account, pinned to the consent document it showed.
    site_snapshot_forget()
    sign_up = api.ok(
        "post",
        "consents",
        {
            "subject": ACCOUNT,
            "collection_method": "sign_up_form",
            "language": "ru",
            "jurisdiction": "RU",
            "purposes_granted": ["advertising"],
            "versions": {"policies": {"pd-consent": 1}},
        },
        HTTP_IDEMPOTENCY_KEY="signup-4711",
    ).json()
    state = api.get(f"subjects/{ACCOUNT}/consents").json()
    assert state["state"]["advertising"]["granted"] is True
    assert state["state"]["advertising"]["decided_by"] == sign_up["receipt_id"]
    receipt = client.get(f"/api/public/v1/receipts/{sign_up['receipt_id']}").json()
    assert receipt["record"]["collection"] == "sign_up_form"

    # Link the browser the account uses; its Global Privacy Control signal, sent by the browser
    # through the public endpoint, reaches the account's state.
    api.ok("post", f"subjects/{ACCOUNT}/link", {"visitor_id": VISITOR})
    signal = client.post(
        "/api/public/v1/sites/shop/consents",
        json.dumps(
            {
                "visitor_id": VISITOR,
                "action": "gpc_opt_out",
                "granted": [],
                "denied": ["advertising"],
                "versions": {"banner": 1},
                "language": "en",
                "ui_layer": "signal",
                "page_url": f"{ORIGIN}/",
            }
        ),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        HTTP_SEC_GPC="1",
    )
    assert signal.status_code == 201, signal.content
    state = api.get(f"subjects/{ACCOUNT}/consents").json()
    assert state["state"]["advertising"]["granted"] is False
    assert state["state"]["advertising"]["decided_by"] == signal.json()["receipt_id"]
    assert [s["signal"] for s in state["optout_signals"]] == ["gpc_opt_out"]

    # Everything changed names the token in its audit row; the ledger holds both decisions.
    changes = AuditEntry.objects.filter(site=site, id__gt=before).exclude(action__startswith="token.")
    assert changes.exists() and all(entry.data.get("token", "").startswith("cst_") for entry in changes)
    assert ConsentRecord.objects.filter(site=site).count() == 2

    # A revoked token is a 401, whatever it asks.
    token_revoke(token=site.api_tokens.get(name="deploy and sign-up"), by=owner, ip=None)
    assert_error(
        api.send("post", "origins", {"origin": "https://blog.shop.example"}), 401, "authentication_failed"
    )
