"""Consents recorded by a site's own systems through the management API, for its accounts
(subjects), links from accounts to banner visitors, and the account's state: over HTTP, with
a token, on whichever database the suite runs on."""

import csv
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from consent.editions import canonical_json
from consent.immutability import triggers_install, triggers_remove
from consent.ledger.crypto import leaf_data, personal_commitment
from consent.ledger.seal import ledger_seal
from consent.ledger.verify import ledger_verify
from consent.models import AuditEntry, ConsentRecord, Role, SiteMembership, SubjectLink
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.sites.services import purpose_create, site_create
from consent.subjects.services import LINKS_PER_SUBJECT_MAX
from consent.tokens.services import token_create, token_revoke
from tests.config.test_api_errors import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example"
ACCOUNT = "account-4711@crm"
VISITOR = "v-7f3a9c2e4b1d8a6f0c5e"
OTHER_VISITOR = "v-00112233445566778899"
ALL = ["read", "write", "publish", "consents:read", "consents:write", "export"]


@pytest.fixture
def shop():
    site = site_create(
        key="shop",
        name="Shop",
        languages=["en", "ru"],
        origins=[ORIGIN],
        default_jurisdiction="US-CA",
        by=None,
    )
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    purpose_create(
        site=site, key="marketing", texts={"en": ("Marketing", "Ads.")}, is_sale_or_share=True, by=None
    )
    dpo = UserFactory(username="dora", is_staff=True)
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    document = policy_document_create(site=site, kind="pd_consent", languages=["ru"], by=None)
    policy_text_set(document=document, language="ru", title="Согласие", body="Я согласен.", by=None)
    policy_version_publish(document=document, effective_at=timezone.now(), by=dpo)
    site.dpo = dpo
    return site


@pytest.fixture
def api(client, shop):
    _, raw = token_create(site=shop, name="crm", scopes=ALL, by=shop.dpo)
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


def sign_up(**changes):
    data = {
        "subject": ACCOUNT,
        "purposes_granted": ["analytics"],
        "purposes_denied": [],
        "versions": {"policies": {"pd-consent": 1}},
        "collection_method": "sign_up_form",
        "language": "ru",
        "jurisdiction": "RU",
        "page_url": f"{ORIGIN}/signup?ref=mail",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


def banner_post(client, **changes):
    data = {
        "visitor_id": VISITOR,
        "action": "accept_all",
        "granted": ["analytics", "marketing"],
        "denied": [],
        "versions": {},
        "language": "en",
        "ui_layer": "first_layer",
        "page_url": f"{ORIGIN}/",
    }
    headers = changes.pop("headers", {})
    data.update(changes)
    return client.post(
        "/api/public/v1/sites/shop/consents",
        json.dumps(data),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT="Mozilla/5.0 (Test)",
        **headers,
    )


def raw_subject_stored_anywhere(subject):
    """Whether the raw account id is in any row of any table (it must never be)."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            if any(subject in str(value) for row in cursor.fetchall() for value in row):
                return table
    return None


def test_a_sign_up_consent_is_recorded_for_an_account_pinned_to_the_pd_consent_edition_and_read_back(
    api, shop, client
):
    before = AuditEntry.objects.count()
    created = api.send("post", "shop/consents", sign_up())
    assert created.status_code == 201, created.content
    receipt = created.json()
    assert receipt["receipt_page_url"] == f"/r/{receipt['receipt_id']}/"
    assert receipt["state"] == {
        "action": "custom",
        "granted": ["analytics", "necessary"],
        "denied": [],
        "jurisdiction": "RU",
        "collection_method": "sign_up_form",
        "linked_visitor": None,
    }
    assert receipt["promise"]["note"] and ACCOUNT not in created.content.decode()

    record = ConsentRecord.objects.get(receipt_id=receipt["receipt_id"])
    assert (record.ui_layer, record.collection_method, record.resolved_by) == (
        "backend",
        "sign_up_form",
        "site_stated",
    )
    assert record.versions["policies"]["pd-consent"]["number"] == 1
    assert len(record.versions["policies"]["pd-consent"]["sha256"]) == 64
    # Nothing of the site's server is kept as if it were the person's: no address, no browser.
    assert (record.ip_address, record.user_agent, record.visitor_id) == (None, None, None)
    assert len(record.subject_hmac) == 64 and record.page_url == f"{ORIGIN}/signup"
    assert raw_subject_stored_anywhere(ACCOUNT) is None
    audit = AuditEntry.objects.filter(id__gt=0).order_by("-id")[: AuditEntry.objects.count() - before]
    assert [row.action for row in audit] == ["consent.record_backend"]
    assert audit[0].data["token"].startswith("cst_") and audit[0].actor.username == "dora"

    read = api.get(f"shop/subjects/{ACCOUNT}/consents")
    assert read.status_code == 200, read.content
    body = read.json()
    assert body["state"]["analytics"]["granted"] is True
    assert body["state"]["analytics"]["decided_by"] == receipt["receipt_id"]
    assert "marketing" not in body["state"]  # the form did not ask about it
    assert body["optout_signals"] == [] and body["linked_visitors"] == []
    (item,) = body["history"]["results"]
    assert (item["source"], item["collection_method"], item["receipt_id"]) == (
        "backend",
        "sign_up_form",
        receipt["receipt_id"],
    )
    # The receipt: JSON with the collection method in the leaf, and the page saying who recorded it.
    public = client.get(receipt["receipt_url"]).json()
    assert public["record"]["collection"] == "sign_up_form" and public["record"]["layer"] == "backend"
    page = client.get(receipt["receipt_page_url"] + "?lang=en").content.decode()
    assert "Recorded by the site&#x27;s own systems" in page and "Sign-up form" in page
    # Another account of the same site has nothing.
    assert_error(api.get("shop/subjects/account-1/consents"), 404, "not_found")


def test_a_gpc_opt_out_on_a_linked_browser_reaches_the_accounts_state_until_the_account_opts_in_again(
    api, shop, client
):
    granted = api.send("post", "shop/consents", sign_up(purposes_granted=["analytics", "marketing"]))
    assert granted.status_code == 201, granted.content
    linked = api.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": VISITOR})
    assert linked.status_code == 201, linked.content
    again = api.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": VISITOR})
    assert again.status_code == 200 and SubjectLink.objects.count() == 1

    # The browser sends Global Privacy Control, as a browser would, through the public endpoint.
    signal = banner_post(
        client,
        action="gpc_opt_out",
        granted=["analytics"],
        denied=["marketing"],
        ui_layer="signal",
        headers={"HTTP_SEC_GPC": "1"},
    )
    assert signal.status_code == 201, signal.content
    gpc_receipt = signal.json()["receipt_id"]

    state = api.get(f"shop/subjects/{ACCOUNT}/consents").json()
    assert state["state"]["marketing"] == {
        "granted": False,
        "decided_by": gpc_receipt,
        "at": state["state"]["marketing"]["at"],
        "by_optout_signal": False,
    }
    assert [
        (s["receipt_id"], s["signal"], s["visitor_id"], s["source"]) for s in state["optout_signals"]
    ] == [(gpc_receipt, "gpc_opt_out", VISITOR, "banner")]
    assert [link["visitor_id"] for link in state["linked_visitors"]] == [VISITOR]
    assert len(state["history"]["results"]) == 2

    # A later "Accept all" click on the linked browser does not lift the opt-out for the account...
    click = banner_post(client, action="accept_all")
    assert click.status_code == 201, click.content
    state = api.get(f"shop/subjects/{ACCOUNT}/consents").json()["state"]
    assert state["marketing"]["granted"] is False and state["marketing"]["by_optout_signal"] is True
    assert state["marketing"]["decided_by"] == gpc_receipt
    assert state["analytics"]["decided_by"] == click.json()["receipt_id"]
    # ...though the browser's own state is its newest choice.
    visitor = api.get(f"shop/visitors/{VISITOR}/consents").json()
    assert visitor["state"]["marketing"]["granted"] is True and visitor["linked"] is True
    assert [s["receipt_id"] for s in visitor["optout_signals"]] == [gpc_receipt]
    # The account itself opting in again through the API does.
    opt_in = api.send(
        "post",
        "shop/consents",
        sign_up(purposes_granted=["marketing"], collection_method="account_settings", language="en"),
    )
    state = api.get(f"shop/subjects/{ACCOUNT}/consents").json()["state"]
    assert state["marketing"] == {
        "granted": True,
        "decided_by": opt_in.json()["receipt_id"],
        "at": state["marketing"]["at"],
        "by_optout_signal": False,
    }

    # Unlinked, the browser's decisions no longer count for the account.
    etag = api.get(f"shop/subjects/{ACCOUNT}/links/{VISITOR}")["ETag"]
    assert_error(api.send("delete", f"shop/subjects/{ACCOUNT}/links/{VISITOR}"), 428, "precondition_required")
    assert (
        api.send("delete", f"shop/subjects/{ACCOUNT}/links/{VISITOR}", HTTP_IF_MATCH=etag).status_code == 204
    )
    after = api.get(f"shop/subjects/{ACCOUNT}/consents").json()
    assert after["linked_visitors"] == [] and after["optout_signals"] == []
    assert len(after["history"]["results"]) == 2
    actions = list(
        AuditEntry.objects.filter(action__startswith="subject.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["subject.link", "subject.unlink"]
    assert raw_subject_stored_anywhere(ACCOUNT) is None


def test_a_withdrawal_on_a_browser_linked_at_sign_up_reaches_the_account(api, shop, client):
    created = api.send("post", "shop/consents", sign_up(action="accept_all", visitor_id=VISITOR))
    assert created.status_code == 201, created.content
    assert created.json()["state"]["linked_visitor"] == VISITOR
    assert created.json()["state"]["granted"] == ["analytics", "marketing", "necessary"]
    withdrawn = banner_post(client, action="withdraw", granted=[], denied=["analytics", "marketing"])
    assert withdrawn.status_code == 201, withdrawn.content
    state = api.get(f"shop/subjects/{ACCOUNT}/consents").json()["state"]
    assert {key: value["granted"] for key, value in state.items()} == {
        "analytics": False,
        "marketing": False,
        "necessary": True,
    }
    assert state["analytics"]["decided_by"] == withdrawn.json()["receipt_id"]


def test_bad_input_is_a_400_naming_each_field_and_writes_nothing(api, shop):
    records, audit = ConsentRecord.objects.count(), AuditEntry.objects.count()
    cases = {
        "subject": sign_up(subject=""),
        "collection_method": sign_up(collection_method="telepathy"),
        "language": sign_up(language="de"),
        "jurisdiction": sign_up(jurisdiction="MARS"),
        "visitor_id": sign_up(visitor_id="short"),
        "page_url": sign_up(page_url="https://evil.example/signup"),
        "action": sign_up(action="gpc_opt_out"),
    }
    # An unclosed IPv6 bracket: urlsplit raises, the field is named (the reviewer found a 500).
    error = assert_error(api.send("post", "shop/consents", sign_up(page_url="https://[::1")), 400, "invalid")
    assert error["fields"]["page_url"] == ["Give an absolute http(s) URL."]
    # A list of the wrong type is named as such, not hidden behind the "name a purpose" rule.
    error = assert_error(
        api.send("post", "shop/consents", sign_up(purposes_granted="analytics")), 400, "invalid"
    )
    assert error["fields"]["purposes_granted"][0] == "Give a list of purpose keys."
    for field, data in cases.items():
        error = assert_error(api.send("post", "shop/consents", data), 400, "invalid")
        assert field in error["fields"], (field, error)
    unpublished = assert_error(
        api.send("post", "shop/consents", sign_up(versions={"policies": {"pd-consent": 2}})), 400, "invalid"
    )
    assert "not a published version" in unpublished["fields"]["versions"][0]
    unknown_document = api.send("post", "shop/consents", sign_up(versions={"policies": {"nope": 1}}))
    assert "no such document" in assert_error(unknown_document, 400, "invalid")["fields"]["versions"][0]
    for purposes in (
        {"purposes_granted": ["astrology"]},
        {"purposes_granted": ["analytics"], "purposes_denied": ["analytics"]},
        {"purposes_granted": [], "purposes_denied": ["necessary"]},
        {"purposes_granted": [], "purposes_denied": []},
        {"action": "accept_all", "purposes_denied": ["marketing"]},
        {"purposes_granted": "analytics"},
    ):
        response = api.send("post", "shop/consents", sign_up(**purposes))
        assert_error(response, 400, "invalid")
    assert_error(
        api.send("post", "shop/consents", sign_up(occurred_at="2020-01-01T00:00:00Z")), 400, "invalid"
    )
    # The account id is never repeated back, even when it is what is wrong.
    long_subject = "secret-account-" + "x" * 200
    refused = api.send("post", "shop/consents", sign_up(subject=long_subject)).content.decode()
    assert "secret-account" not in refused
    refused = api.get(f"shop/subjects/{long_subject}/consents")
    assert_error(refused, 400, "invalid") and "secret-account" not in refused.content.decode()
    assert_error(api.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": "x"}), 400, "invalid")
    assert_error(api.send("post", "shop/consents", [1, 2]), 400, "invalid")
    assert (ConsentRecord.objects.count(), AuditEntry.objects.count()) == (records, audit)
    assert SubjectLink.objects.count() == 0


def test_a_token_without_the_scope_is_a_403_and_a_revoked_one_a_401(client, shop):
    token, raw = token_create(site=shop, name="reader", scopes=["consents:read"], by=shop.dpo)
    reader = Api(client, raw)
    assert_error(reader.send("post", "shop/consents", sign_up()), 403, "scope_missing")
    assert_error(
        reader.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": VISITOR}), 403, "scope_missing"
    )
    assert_error(reader.get(f"shop/subjects/{ACCOUNT}/consents"), 404, "not_found")
    _, raw_writer = token_create(site=shop, name="writer", scopes=["consents:write"], by=shop.dpo)
    writer = Api(client, raw_writer)
    assert writer.send("post", "shop/consents", sign_up()).status_code == 201
    assert_error(writer.get(f"shop/subjects/{ACCOUNT}/consents"), 403, "scope_missing")
    assert reader.get(f"shop/subjects/{ACCOUNT}/consents").status_code == 200
    token_revoke(token=token, by=None)
    assert reader.get(f"shop/subjects/{ACCOUNT}/consents").status_code == 401
    # A viewer's session may read an account's consents but never record one.
    viewer = UserFactory(username="vera", is_staff=True)
    SiteMembership.objects.create(site=shop, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    assert client.get(f"/api/v1/sites/shop/subjects/{ACCOUNT}/consents").status_code == 200
    refused = client.post(
        "/api/v1/sites/shop/consents", json.dumps(sign_up()), content_type="application/json"
    )
    assert_error(refused, 403, "scope_missing")
    assert ConsentRecord.objects.count() == 1


def test_a_retried_post_with_the_same_idempotency_key_records_once(api, shop):
    first = api.send("post", "shop/consents", sign_up(), HTTP_IDEMPOTENCY_KEY="signup-4711")
    again = api.send("post", "shop/consents", sign_up(), HTTP_IDEMPOTENCY_KEY="signup-4711")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert ConsentRecord.objects.count() == 1
    other = api.send("post", "shop/consents", sign_up(language="en"), HTTP_IDEMPOTENCY_KEY="signup-4711")
    assert_error(other, 422, "idempotency_key_reused")
    assert (
        ConsentRecord.objects.count() == 1
        and AuditEntry.objects.filter(action="consent.record_backend").count() == 1
    )


def test_an_account_links_at_most_a_hundred_browsers(api, shop):
    links = [
        SubjectLink(site=shop, subject_hmac=_reference(shop), visitor_id=f"v-{index:018d}")
        for index in range(LINKS_PER_SUBJECT_MAX)
    ]
    SubjectLink.objects.bulk_create(links)
    refused = api.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": VISITOR})
    assert_error(refused, 409, "link_limit_reached")
    with_visitor = api.send("post", "shop/consents", sign_up(visitor_id=VISITOR))
    assert_error(with_visitor, 409, "link_limit_reached")
    assert ConsentRecord.objects.count() == 0  # the consent went with the link it could not make
    # A browser already linked is not a new link.
    assert (
        api.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": links[0].visitor_id}).status_code
        == 200
    )


def _reference(site):
    from consent.subjects.selectors import subject_ref

    return subject_ref(site=site, subject=ACCOUNT)


def test_subjects_are_any_printable_id_slashes_and_spaces_included_and_hash_per_site(api, shop):
    subject = "crm/users/42 Ölga"
    created = api.send("post", "shop/consents", sign_up(subject=subject))
    assert created.status_code == 201
    read = api.get("shop/subjects/crm%2Fusers%2F42%20%C3%96lga/consents")
    assert read.status_code == 200, read.content
    assert read.json()["history"]["results"][0]["receipt_id"] == created.json()["receipt_id"]
    other = site_create(key="other", name="Other", origins=["https://other.example"], by=None)
    from consent.subjects.selectors import subject_ref

    assert subject_ref(site=shop, subject=subject) != subject_ref(site=other, subject=subject)


def test_redacting_an_account_clears_its_hmac_and_links_and_the_ledger_still_verifies(api, shop, client):
    created = api.send("post", "shop/consents", sign_up(visitor_id=VISITOR)).json()
    banner = banner_post(client)
    assert banner.status_code == 201
    ledger_seal(site=shop)
    out = StringIO()
    call_command("consent_redact", site="shop", subject=ACCOUNT, reason="erasure request", stdout=out)
    assert "Redacted 1 record(s)." in out.getvalue()
    record = ConsentRecord.objects.get(receipt_id=created["receipt_id"])
    assert record.subject_hmac is None and record.is_redacted
    assert SubjectLink.objects.count() == 0
    assert ConsentRecord.objects.get(receipt_id=banner.json()["receipt_id"]).visitor_id == VISITOR
    assert_error(api.get(f"shop/subjects/{ACCOUNT}/consents"), 404, "not_found")
    page = client.get(f"/r/{created['receipt_id']}/?lang=en").content.decode()
    assert "the reference to the account, a visitor id) was erased on request" in page
    report = ledger_verify(site=shop)
    assert report.problems == [] and report.redacted == 1 and report.records == 2
    audit = AuditEntry.objects.get(action="subject.redact")
    assert audit.data["records"] == 1 and audit.data["links"] == 1
    out = StringIO()
    call_command("consent_verify", site="shop", stdout=out)
    assert "The ledger verifies." in out.getvalue()


def test_a_record_with_its_subject_altered_fails_verification(ledger_owner_connection, api, shop):
    created = api.send("post", "shop/consents", sign_up()).json()
    ledger_seal(site=shop)
    # The attacker, holding the tables' owner, drops the triggers and pins the record on another account.
    owner, table = ledger_owner_connection, ConsentRecord._meta.db_table
    triggers_remove(owner, table)
    with owner.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET subject_hmac = %s WHERE receipt_id = %s",  # noqa: S608
            ["0" * 64, created["receipt_id"]],
        )
    triggers_install(owner, table, ConsentRecord.mutable_columns, ConsentRecord.purgeable)
    (problem,) = ledger_verify(site=shop).problems
    assert "personal data no longer matches its commitment" in problem


def test_the_triggers_refuse_changing_a_subject_but_let_redaction_clear_it(api, shop):
    from django.db import DatabaseError, transaction
    from django.db.models import QuerySet

    created = api.send("post", "shop/consents", sign_up()).json()
    rows = QuerySet(ConsentRecord).filter(receipt_id=created["receipt_id"])
    for change in ({"subject_hmac": "0" * 64}, {"collection_method": "email"}):
        with pytest.raises(DatabaseError), transaction.atomic():
            rows.update(**change)


def test_banner_records_keep_exactly_their_earlier_leaf_and_commitment(client, shop):
    response = banner_post(client)
    record = ConsentRecord.objects.get(receipt_id=response.json()["receipt_id"])
    data = leaf_data(record, "shop")
    assert "collection" not in data and data["layer"] == "first_layer"
    # The commitment without a subject, exactly as it was computed before subjects existed.
    import hashlib

    before = hashlib.sha256(
        bytes.fromhex(record.personal_salt)
        + canonical_json({"ip": record.ip_address, "ua": record.user_agent, "visitor": record.visitor_id})
    ).hexdigest()
    assert (
        record.personal_sha256
        == before
        == personal_commitment(
            salt=record.personal_salt,
            visitor_id=record.visitor_id,
            ip_address=record.ip_address,
            user_agent=record.user_agent,
        )
    )


def test_the_export_has_the_backend_record_with_its_source_and_collection_method(api, shop, client):
    api.send("post", "shop/consents", sign_up())
    banner_post(client)
    today = timezone.now().date().isoformat()
    response = api.get(f"shop/consents/export?from={today}&to={today}&format=csv")
    assert response.status_code == 200, response.content
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["source"], row["collection_method"], row["ui_layer"]) for row in rows] == [
        ("backend", "sign_up_form", "backend"),
        ("banner", "", "first_layer"),
    ]
    assert len(rows[0]["subject_ref"]) == 64 and rows[1]["subject_ref"] == ""
    lines = api.get(f"shop/consents/export?from={today}&to={today}&format=jsonl")
    items = [json.loads(line) for line in b"".join(lines.streaming_content).decode().splitlines()]
    assert [(item["source"], item["collection_method"]) for item in items] == [
        ("backend", "sign_up_form"),
        ("banner", None),
    ]
    assert ACCOUNT not in json.dumps(items)


def test_reading_an_account_costs_a_bounded_number_of_queries(
    api, shop, client, django_assert_max_num_queries
):
    for _ in range(3):
        api.send("post", "shop/consents", sign_up())
    api.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": VISITOR})
    api.send("post", f"shop/subjects/{ACCOUNT}/link", {"visitor_id": OTHER_VISITOR})
    for _ in range(5):
        banner_post(client)
    with django_assert_max_num_queries(8):
        body = api.get(f"shop/subjects/{ACCOUNT}/consents?limit=4").json()
    assert len(body["history"]["results"]) == 4 and body["history"]["next_cursor"]
    rest = api.get(f"shop/subjects/{ACCOUNT}/consents?cursor={body['history']['next_cursor']}").json()
    assert len(rest["history"]["results"]) == 4


def test_no_log_line_of_ours_holds_an_account_id(api, shop):
    import logging

    (console,) = [handler for handler in logging.getLogger().handlers if handler.filters]
    stream = StringIO()
    previous = console.setStream(stream)
    try:
        assert api.get("shop/subjects/secret-account/7/consents").status_code == 404
        assert (
            api.send("delete", "shop/subjects/secret-account/links/v-00112233445566778899").status_code == 404
        )
        assert api.get("shop/subjects/secret-account").status_code == 404
    finally:
        console.setStream(previous)
    written = stream.getvalue()
    assert "Not Found: /api/v1/sites/shop/subjects/…/consents" in written
    assert "secret-account" not in written


def test_the_readmes_sign_up_example_records_a_consent_on_the_demo_site(client, tmp_path):
    import re
    from pathlib import Path

    from django.conf import settings

    call_command("consent_demo", admin_password_file=str(tmp_path / "pw"), stdout=StringIO())
    readme = Path(settings.BASE_DIR, "README.md").read_text()
    section = readme[readme.index("### Consents from the site's own systems") :]
    example = section[section.index("```sh") + 5 : section.index("```", section.index("```sh") + 5)]
    body = json.loads(re.search(r"-d '(.*?)'", example, re.DOTALL)[1])
    out = StringIO()
    call_command(
        "token_create", site="demo", scopes="consents:read,consents:write", name="sign-up form", stdout=out
    )
    raw = re.search(r"cst_\S+", out.getvalue())[0]
    api = Api(client, raw)
    created = api.send("post", "demo/consents", body, HTTP_IDEMPOTENCY_KEY="signup-4711")
    assert created.status_code == 201, created.content
    read = api.get("demo/subjects/4711/consents")
    assert read.json()["state"]["analytics"]["decided_by"] == created.json()["receipt_id"]


def test_the_sites_subject_secret_is_in_no_answer_or_admin_page(api, shop, client):
    secret = shop.subject_secret
    assert len(secret) == 64
    answers = [
        api.get("shop"),
        api.get("shop/settings"),
        api.client.get("/api/v1/sites", **api.headers),
        api.send("post", "shop/consents", sign_up()),
    ]
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    answers.append(client.get(f"/admin/consent/site/{shop.pk}/change/"))
    assert [response.status_code for response in answers] == [200, 200, 200, 201, 200]
    assert not any(secret in response.content.decode() for response in answers)
    # Every site gets its own, including one made later.
    other = site_create(key="other", name="Other", origins=["https://other.example"], by=None)
    assert other.subject_secret != secret and len(other.subject_secret) == 64


def test_gpc_counts_as_an_opt_out_for_the_account_only_where_its_rules_honour_it(api, shop, client):
    from consent.models import Site
    from consent.sites.selectors import site_snapshot_forget

    api.send(
        "post", "shop/consents", sign_up(purposes_granted=["analytics", "marketing"], visitor_id=VISITOR)
    )
    # In the EU, GPC is no opt-out signal in law: a browser sending it with its consent is a consent.
    Site.objects.filter(pk=shop.pk).update(default_jurisdiction="EU")
    site_snapshot_forget()
    eu = banner_post(client, action="custom", headers={"HTTP_SEC_GPC": "1"})
    assert eu.status_code == 201, eu.content
    body = api.get(f"shop/subjects/{ACCOUNT}/consents").json()
    assert body["optout_signals"] == [] and body["state"]["marketing"]["granted"] is True
    # In California it is one, even on a choice that grants the purpose.
    Site.objects.filter(pk=shop.pk).update(default_jurisdiction="US-CA")
    site_snapshot_forget()
    ca = banner_post(client, action="custom", headers={"HTTP_SEC_GPC": "1"})
    assert ca.status_code == 201, ca.content
    body = api.get(f"shop/subjects/{ACCOUNT}/consents").json()
    assert [(s["signal"], s["jurisdiction"]) for s in body["optout_signals"]] == [("gpc", "US-CA")]
    assert body["state"]["marketing"] == {
        "granted": False,
        "decided_by": ca.json()["receipt_id"],
        "at": body["state"]["marketing"]["at"],
        "by_optout_signal": True,
    }
    assert body["state"]["analytics"]["granted"] is True
    # A call centre's Do-Not-Sell request for the account is an opt-out signal too.
    api.send(
        "post",
        "shop/consents",
        sign_up(action="do_not_sell_opt_out", purposes_granted=[], collection_method="call_centre"),
    )
    body = api.get(f"shop/subjects/{ACCOUNT}/consents").json()
    assert [(s["signal"], s["source"]) for s in body["optout_signals"]][0] == (
        "do_not_sell_opt_out",
        "backend",
    )
    assert body["state"]["analytics"]["granted"] is True  # it decided sale and sharing only


def test_a_sign_up_record_with_the_browsers_id_is_not_the_banners_choice_to_restore(api, shop, client):
    banner = banner_post(client, action="reject_all", granted=[], denied=["analytics", "marketing"])
    api.send("post", "shop/consents", sign_up(visitor_id=VISITOR))
    current = client.get(
        f"/api/public/v1/sites/shop/consents/current?visitor_id={VISITOR}", HTTP_ORIGIN=ORIGIN
    )
    assert current.status_code == 200 and current.json()["receipt_id"] == banner.json()["receipt_id"]
    # The browser's history through the management API has both: the sign-up carries its id.
    history = api.get(f"shop/visitors/{VISITOR}/consents").json()["history"]["results"]
    assert [item["source"] for item in history] == ["banner", "backend"]


@pytest.mark.parametrize(
    ("line", "written"),
    [
        (
            "Not Found: /api/v1/sites/s/subjects/org/linkedin-42/consents",
            "/api/v1/sites/s/subjects/…/consents",
        ),
        (
            "Not Found: /api/v1/sites/s/subjects/team/consents-bob/consents",
            "/api/v1/sites/s/subjects/…/consents",
        ),
        ("Not Found: /api/v1/sites/s/subjects/john doe/link", "/api/v1/sites/s/subjects/…/link"),
        ("Not Found: /api/v1/sites/s/subjects/a/links/v-0011223344", "/api/v1/sites/s/subjects/…/links/…"),
        (
            '"GET /api/v1/sites/s/subjects/a%2Fb/consents?limit=5 HTTP/1.1" 200',
            "/subjects/…/consents HTTP/1.1",
        ),
        ("Not Found: /api/v1/sites/s/subjects/secret-account", "/api/v1/sites/s/subjects/…"),
    ],
)
def test_the_log_filter_keeps_nothing_of_an_account_id_whatever_it_holds(line, written):
    from edge.logs import subject_paths_redact

    redacted = subject_paths_redact(line)
    assert written in redacted
    for part in ("org", "linkedin", "team", "bob", "john", "doe", "a%2Fb", "v-0011", "secret", "limit"):
        assert part not in redacted.split("/subjects/", 1)[1], (part, redacted)
