"""The consent ledger over HTTP: recording, bad input, receipts, proofs, tampering, erasure, retention."""

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.editions import canonical_json
from consent.immutability import triggers_install, triggers_remove
from consent.ledger.merkle import consistency_proof_verify, inclusion_proof_verify, leaf_hash
from consent.ledger.note import note_open, verifier_from_vkey
from consent.ledger.partitions import month_after
from consent.ledger.prepared import PreparedSql
from consent.ledger.verify import ledger_verify
from consent.models import (
    AuditEntry,
    Checkpoint,
    ConsentRecord,
    IdempotencyClaim,
    ImmutableRowError,
    MerkleNode,
    Role,
    Site,
    SiteMembership,
)
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.sites.services import purpose_create, site_create
from edge import ratelimit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example"
VISITOR = "v-7f3a9c2e4b1d8a6f0c5e"


@pytest.fixture
def site():
    site = site_create(
        key="shop", name="Shop", languages=["en", "ru"], origins=[ORIGIN], default_jurisdiction="EU", by=None
    )
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    purpose_create(
        site=site, key="marketing", texts={"en": ("Marketing", "Ads.")}, is_sale_or_share=True, by=None
    )
    dpo = UserFactory(username="dora")
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    document = policy_document_create(site=site, kind="privacy_policy", languages=["en"], by=None)
    policy_text_set(document=document, language="en", title="Privacy", body="We are careful.", by=None)
    policy_version_publish(document=document, effective_at=timezone.now(), by=dpo)
    return site


def body(**changes):
    data = {
        "visitor_id": VISITOR,
        "action": "custom",
        "granted": ["analytics"],
        "denied": ["marketing"],
        "versions": {"policies": {"privacy-policy": 1}},
        "language": "en",
        "ui_layer": "second_layer",
        "gpc": False,
        "dnt": False,
        "page_url": f"{ORIGIN}/cart?coupon=secret#top",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


def post(client, data, *, site_key="shop", origin=ORIGIN, **headers):
    if origin:
        headers["HTTP_ORIGIN"] = origin
    headers.setdefault("REMOTE_ADDR", "203.0.113.77")
    headers.setdefault("HTTP_USER_AGENT", "Mozilla/5.0 (Test)")
    payload = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(
        f"/api/public/v1/sites/{site_key}/consents",
        payload,
        content_type=headers.pop("content_type", "application/json"),
        **headers,
    )


def record_at(when, *, visitor_id, idempotency_key=None):
    """A record written as the API would, but at `when` (old data, a late commit): the service directly."""
    from django.test import RequestFactory

    from consent.ledger.services import consent_record_create
    from consent.ledger.validation import consent_input_parse
    from consent.rules.geo import jurisdiction_resolve
    from consent.sites.selectors import site_snapshot

    snapshot = site_snapshot(key="shop")
    data = consent_input_parse(
        body(visitor_id=visitor_id), snapshot, gpc_header=False, idempotency_header=idempotency_key
    )
    return consent_record_create(
        snapshot=snapshot,
        data=data,
        resolution=jurisdiction_resolve(
            request=RequestFactory().post("/", HTTP_CF_IPCOUNTRY="DE"), default_code="EU"
        ),
        ip="",
        user_agent="",
        now=when,
    )


def _consistency_holds(older, newer):
    """The newer checkpoint's consistency proof (as the checkpoints endpoint lists it) from the older."""
    return consistency_proof_verify(
        old_size=older["tree_size"],
        new_size=newer["tree_size"],
        old_root=bytes.fromhex(older["root_hash"]),
        new_root=bytes.fromhex(newer["root_hash"]),
        proof=[bytes.fromhex(step) for step in newer["consistency_proof"]],
    )


def test_a_choice_is_recorded_with_what_the_visitor_saw(client, site):
    response = post(client, body(), HTTP_CF_IPCOUNTRY="DE")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in response
    assert not response.cookies
    record = ConsentRecord.objects.get(receipt_id=answer["receipt_id"])
    assert (record.action, record.purposes_granted, record.purposes_denied) == (
        "custom",
        ["analytics", "necessary"],
        ["marketing"],
    )
    assert (record.jurisdiction, record.resolved_by, record.country) == ("EU", "header", "DE")
    assert record.ip_address == "203.0.113.0"  # truncated to /24 by default
    assert record.user_agent == "Mozilla/5.0 (Test)"
    assert record.page_url == f"{ORIGIN}/cart"  # no query or fragment
    policy = record.versions["policies"]["privacy-policy"]
    assert policy["number"] == 1 and len(policy["sha256"]) == 64
    assert answer["state"]["granted"] == ["analytics", "necessary"]
    assert answer["state"]["expires_at"] is not None
    assert answer["leaf_sha256"] == record.leaf_sha256


def test_the_sec_gpc_header_counts_as_the_signal(client, site):
    response = post(
        client,
        body(action="gpc_opt_out", granted=["analytics"], denied=["marketing"], ui_layer="signal"),
        HTTP_SEC_GPC="1",
    )
    assert response.status_code == 201
    assert ConsentRecord.objects.get().gpc is True


def test_preflight_is_answered_for_registered_origins_only(client, site):
    # As a browser sends it before the banner's POST (JSON and an Idempotency-Key header).
    preflight = {
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type,idempotency-key",
    }
    ok = client.options("/api/public/v1/sites/shop/consents", HTTP_ORIGIN=ORIGIN, **preflight)
    assert ok.status_code == 200
    assert ok["Access-Control-Allow-Origin"] == ORIGIN
    assert "idempotency-key" in ok["Access-Control-Allow-Headers"].lower()
    assert "POST" in ok["Access-Control-Allow-Methods"]
    # A foreign origin's preflight gets no Allow-* headers: the browser never sends the POST.
    refused = client.options(
        "/api/public/v1/sites/shop/consents", HTTP_ORIGIN="https://evil.example", **preflight
    )
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Headers" not in refused


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"granted": ["analytics", "ghosts"]}, 400, "invalid", "granted"),
        ({"granted": ["analytics"], "denied": []}, 400, "invalid", "granted"),  # marketing missing
        ({"granted": ["analytics", "marketing"], "denied": ["necessary"]}, 400, "invalid", "granted"),
        ({"action": "accept_all"}, 400, "invalid", "granted"),  # accept_all with a denial
        ({"action": "reject_all"}, 400, "invalid", "granted"),  # reject_all with a grant
        (
            {"action": "do_not_sell_opt_out", "granted": ["analytics", "marketing"], "denied": []},
            400,
            "invalid",
            "granted",
        ),
        ({"versions": {"policies": {"privacy-policy": 7}}}, 400, "invalid", "versions"),
        ({"versions": {"policies": {"terms": 1}}}, 400, "invalid", "versions"),
        (
            {"versions": {"banner": 1, "policies": {}}} if False else {"versions": {"horoscope": 1}},
            400,
            "invalid",
            "versions",
        ),
        ({"visitor_id": "short"}, 400, "invalid", "visitor_id"),
        ({"visitor_id": "has spaces in it, sixteen+"}, 400, "invalid", "visitor_id"),
        ({"action": "maybe"}, 400, "invalid", "action"),
        ({"language": "de"}, 400, "invalid", "language"),
        ({"ui_layer": "telepathy"}, 400, "invalid", "ui_layer"),
        ({"page_url": "https://evil.example/page"}, 400, "invalid", "page_url"),
        ({"gpc": "yes"}, 400, "invalid", "gpc"),
        ({"surprise": 1}, 400, "invalid", "non_field_errors"),
        ({"idempotency_key": "bad key!"}, 400, "invalid", "idempotency_key"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(client, site, change, status, code, field):
    response = post(client, body(**change))
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"], error
    assert not ConsentRecord.objects.exists()


def test_a_version_of_another_site_is_refused(client, site):
    other = site_create(key="other", name="Other", origins=[ORIGIN], by=None)
    dpo = UserFactory(username="olga")
    SiteMembership.objects.create(site=other, user=dpo, role=Role.DPO)
    document = policy_document_create(site=other, kind="terms", languages=["en"], by=None)
    policy_text_set(document=document, language="en", title="Terms", body="Be nice.", by=None)
    policy_version_publish(document=document, effective_at=timezone.now(), by=dpo)
    response = post(client, body(versions={"policies": {"terms": 1}}))
    assert response.status_code == 400
    assert "no such document on this site" in response.json()["error"]["fields"]["versions"][0]
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"site_key": "nope"}, 404, "not_found"),
        ({"origin": None}, 403, "origin_required"),
        ({"origin": "https://evil.example"}, 403, "origin_not_allowed"),
        ({"content_type": "text/plain"}, 415, "unsupported_media_type"),
    ],
)
def test_requests_from_the_wrong_place_or_in_the_wrong_form_are_refused(client, site, kwargs, status, code):
    response = post(client, body(), **kwargs)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not ConsentRecord.objects.exists()


def test_malformed_json_and_oversized_bodies_are_refused(client, site, settings):
    assert post(client, "{not json").json()["error"]["code"] == "parse_error"
    assert post(client, "[1, 2]").status_code == 400
    settings.CONSENT_MAX_BODY_BYTES = 300
    oversized = post(client, body(page_url=f"{ORIGIN}/" + "a" * 400))
    assert oversized.status_code == 413 and oversized.json()["error"]["code"] == "too_large"
    assert not ConsentRecord.objects.exists()


def test_a_replayed_idempotency_key_is_a_409_and_writes_nothing(client, site):
    first = post(client, body(), HTTP_IDEMPOTENCY_KEY="choice-0001")
    assert first.status_code == 201
    again = post(client, body(), HTTP_IDEMPOTENCY_KEY="choice-0001")
    assert again.status_code == 409
    assert first.json()["receipt_id"] in again.json()["error"]["message"]
    assert again.json()["receipt_id"] == first.json()["receipt_id"]  # a retrying banner keeps its receipt
    assert again["Access-Control-Allow-Origin"] == ORIGIN
    assert ConsentRecord.objects.count() == 1


def test_the_database_itself_refuses_a_replayed_key_in_the_same_insert(client, site):
    # No cache and no read before the write: the idempotency trigger on the ledger writes the
    # claim in the INSERT itself, so a second row with the key fails as a whole, even one
    # written behind the API's back.
    first = post(client, body(idempotency_key="choice-0002"))
    assert first.status_code == 201
    claim = IdempotencyClaim.objects.get(site=site, idempotency_key="choice-0002")
    assert claim.receipt_id == first.json()["receipt_id"]
    record = ConsentRecord.objects.get()
    record.pk, record.receipt_id = None, "another-receipt-0001"
    record._state.adding = True
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save(force_insert=True)
    assert ConsentRecord.objects.count() == 1 and IdempotencyClaim.objects.count() == 1
    # The same key on another site is that site's own.
    other = site_create(
        key="blog", name="Blog", languages=["en"], origins=[ORIGIN], default_jurisdiction="EU", by=None
    )
    elsewhere = body(idempotency_key="choice-0002", action="reject_all", granted=[], denied=[], versions={})
    assert post(client, elsewhere, site_key=other.key).status_code == 201
    assert post(client, body(idempotency_key=...)).status_code == 201  # no key, no claim
    assert IdempotencyClaim.objects.count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every writer on the file: nothing can race"
)
def test_racing_replays_on_separate_connections_record_one_consent(ledger_transactional_db, site):
    # Eight requests with one key at once, each on its own thread and database connection (as
    # on separate servers): exactly one is recorded, the others wait for it and get 409 with
    # its receipt.
    from django.db import connections
    from django.test import Client

    attempts = 8
    barrier = threading.Barrier(attempts)
    answers = []

    def attempt():
        try:
            barrier.wait()
            answers.append(post(Client(), body(idempotency_key="choice-race"), REMOTE_ADDR="198.51.100.1"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * (attempts - 1), statuses
    receipt = next(answer.json()["receipt_id"] for answer in answers if answer.status_code == 201)
    assert all(answer.json()["receipt_id"] == receipt for answer in answers if answer.status_code == 409)
    assert ConsentRecord.objects.filter(idempotency_key="choice-race").count() == 1


def test_floods_from_one_address_are_rate_limited(client, site, settings):
    settings.CONSENT_RATE_PER_IP = "3/day"  # a day: no window can end mid-test
    for _ in range(3):
        assert post(client, body()).status_code == 201
    limited = post(client, body())
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert post(client, body(), REMOTE_ADDR="198.51.100.9").status_code == 201
    assert ConsentRecord.objects.count() == 4


def _redis_url_for_tests() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means "no Redis here"
        return None
    return url


@pytest.fixture
def shared_rate_limits(settings):
    """The project on a real Redis cache, as production runs: (a client of that Redis, key prefix)."""
    url = _redis_url_for_tests()
    if url is None:
        pytest.skip("no Redis answers (REDIS_URL or 127.0.0.1:6379)")
    import redis

    prefix = f"ratelimit-test-{os.getpid()}-{threading.get_ident()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(url)
    yield server, prefix
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def _shared_counters(server, prefix):
    return {key.decode(): int(server.get(key)) for key in server.scan_iter(f"{prefix}:*:consentry:rl:*")}


def test_with_redis_every_server_counts_against_one_shared_budget(client, site, settings, shared_rate_limits):
    # Several app servers on one Redis: each must refuse once the deployment's budget is spent,
    # or each would grant the whole budget again.
    from edge.ratelimit import rate_limits_reset

    server, prefix = shared_rate_limits
    settings.RATE_LIMIT_SYNC_SECONDS = 0  # every request syncs: exact
    settings.CONSENT_RATE_PER_IP = "3/day"  # a day: no window can end mid-test
    for _ in range(3):
        assert post(client, body()).status_code == 201
    counters = _shared_counters(server, prefix)  # one per address and one per site
    assert sorted(counters.values()) == [3, 3], counters
    assert any(":consent:ip:203.0.113.77:" in key for key in counters)
    rate_limits_reset()  # now as another server, which has counted nothing itself
    refused = post(client, body())
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 86400
    assert ConsentRecord.objects.count() == 3


def test_with_redis_a_process_sends_its_hits_once_per_interval(
    client, site, settings, shared_rate_limits, monkeypatch
):
    # The write path must not pay a Redis round trip per consent: hits gather in the process and
    # go to Redis together, at most once per RATE_LIMIT_SYNC_SECONDS.
    server, prefix = shared_rate_limits
    settings.RATE_LIMIT_SYNC_SECONDS = 2
    # Day-long windows: a minute's could end mid-test, and the ended one's counters expire.
    settings.CONSENT_RATE_PER_IP, settings.CONSENT_RATE_PER_SITE = "1000/day", "100000/day"
    # The limiter's own clock, held still: a loaded machine must not let the interval pass early.
    clock = [time.time()]
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: clock[0]))
    for _ in range(5):  # within one interval: the first syncs at once, the other four wait
        assert post(client, body()).status_code == 201
    assert sorted(_shared_counters(server, prefix).values()) == [1, 1]
    clock[0] += 2.1
    assert post(client, body()).status_code == 201  # due: carries all five since the first
    assert sorted(_shared_counters(server, prefix).values()) == [6, 6]


def test_a_redis_outage_costs_no_consent_and_the_limits_still_hold_per_process(client, site, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.RATE_LIMIT_SYNC_SECONDS = 0
    settings.CONSENT_RATE_PER_IP = "3/day"  # a day: no window can end mid-test
    for _ in range(3):
        assert post(client, body()).status_code == 201
    assert post(client, body()).status_code == 429
    assert ConsentRecord.objects.count() == 3


def test_floods_at_one_site_are_rate_limited_across_addresses(client, site, settings):
    settings.CONSENT_RATE_PER_SITE = "2/hour"
    assert post(client, body(), REMOTE_ADDR="198.51.100.1").status_code == 201
    assert post(client, body(), REMOTE_ADDR="198.51.100.2").status_code == 201
    limited = post(client, body(), REMOTE_ADDR="198.51.100.3")
    assert limited.status_code == 429
    # The wait is the site's hourly window, not the per-address minute.
    assert 0 < int(limited["Retry-After"]) <= 3600
    assert ConsentRecord.objects.count() == 2


def test_ip_storage_follows_the_site_setting(client, site):
    site.ip_storage = "none"
    site.store_user_agent = False
    site.save()
    post(client, body(), REMOTE_ADDR="2001:db8:1234:5678::1")
    record = ConsentRecord.objects.get()
    assert record.ip_address is None and record.user_agent is None
    site.ip_storage = "truncated"
    site.save()
    from consent.sites.selectors import site_snapshot_forget

    site_snapshot_forget()
    post(client, body(), REMOTE_ADDR="2001:db8:1234:5678::1")
    assert ConsentRecord.objects.order_by("-id").first().ip_address == "2001:db8:1234::"


# --- Append-only, down to the database -------------------------------------------------------


def test_records_cannot_be_changed_even_bypassing_the_orm_guard(client, site):
    post(client, body())
    record = ConsentRecord.objects.get()
    with pytest.raises(ImmutableRowError):
        ConsentRecord.objects.filter(pk=record.pk).update(action="accept_all")
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(ConsentRecord).filter(pk=record.pk).update(action="accept_all")
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(ConsentRecord).filter(pk=record.pk).update(visitor_id="someone-else-entirely")
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(ConsentRecord).filter(pk=record.pk).delete()
    record.refresh_from_db()
    assert record.action == "custom" and record.visitor_id == VISITOR


# --- Receipts, sealing, proofs ---------------------------------------------------------------


def _verify_receipt(receipt):
    record_bytes = canonical_json(receipt["record"])
    leaf = leaf_hash(record_bytes)
    assert leaf.hex() == receipt["leaf_sha256"]
    checkpoint = receipt["checkpoint"]
    assert inclusion_proof_verify(
        leaf_hash=leaf,
        index=receipt["leaf_index"],
        tree_size=checkpoint["tree_size"],
        proof=[bytes.fromhex(step) for step in receipt["inclusion_proof"]],
        root=bytes.fromhex(checkpoint["root_hash"]),
    )
    assert _note_states(checkpoint, receipt["vkey"])


def _note_states(checkpoint, vkey):
    """The checkpoint's C2SP note opens with the vkey and states its size and root."""
    opened = note_open(checkpoint["note"].encode(), [verifier_from_vkey(vkey)])
    origin, size, root = opened.text.decode().splitlines()
    return (
        origin.endswith("/consentry/shop")
        and int(size) == checkpoint["tree_size"]
        and base64.b64decode(root).hex() == checkpoint["root_hash"]
    )


def test_a_receipt_is_pending_until_sealed_then_carries_a_proof_anyone_can_check(client, site):
    receipts = [post(client, body(visitor_id=f"visitor-{n:012d}")).json()["receipt_id"] for n in range(5)]
    pending = client.get(f"/api/public/v1/receipts/{receipts[2]}").json()
    assert pending["status"] == "pending" and pending["checkpoint"] is None
    call_command("consent_seal", stdout=StringIO())
    for receipt_id in receipts:
        receipt = client.get(f"/api/public/v1/receipts/{receipt_id}").json()
        assert receipt["status"] == "sealed"
        assert receipt["checkpoint"]["tree_size"] == 5
        _verify_receipt(receipt)
    text = json.dumps(receipt)
    assert VISITOR not in text and "203.0.113" not in text and "Mozilla" not in text
    assert client.get("/api/public/v1/receipts/not-a-real-receipt-id").status_code == 404


def test_the_busiest_reads_are_prepared_once_per_database_session_and_answer_as_before(client, site):
    receipts = [post(client, body(visitor_id=f"visitor-{n:012d}")).json()["receipt_id"] for n in range(3)]
    call_command("consent_seal", stdout=StringIO())
    current_url = "/api/public/v1/sites/shop/consents/current?visitor_id=visitor-000000000001"
    _verify_receipt(client.get(f"/api/public/v1/receipts/{receipts[0]}").json())
    assert client.get(current_url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        receipt = client.get(f"/api/public/v1/receipts/{receipts[1]}").json()
        current = client.get(current_url).json()
        assert client.get("/api/public/v1/receipts/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    _verify_receipt(receipt)
    assert receipt["receipt_id"] == receipts[1] and receipt["leaf_index"] == 1
    assert current["receipt_id"] == receipts[1] and current["granted"] == ["analytics", "necessary"]
    sql = [query["sql"] for query in queries.captured_queries]
    if connection.vendor != "postgresql":
        assert not any(text.startswith(("PREPARE", "EXECUTE")) for text in sql)
        return
    # Prepared by the first reads (a test's rollback keeps them: they belong to the session).
    assert not any(text.startswith("PREPARE") for text in sql)
    # The record, its leaf index and the newest checkpoint in one statement; no cosignatures to read.
    assert f"EXECUTE consentry_receipt_checkpoint ('{receipts[1]}')" in sql
    assert not any("consent_checkpoint" in text or "consent_cosignature" in text for text in sql)
    assert any(text.startswith("EXECUTE consentry_merkle_nodes ") for text in sql)
    assert any(text.startswith("EXECUTE consentry_consent_current ") for text in sql)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "consentry_receipt_checkpoint",
        "consentry_merkle_nodes",
        "consentry_consent_current",
    } <= names


def test_a_prepared_statement_states_one_type_per_placeholder():
    with pytest.raises(ValueError, match="1 types for 2 placeholders"):
        PreparedSql("consentry_test", "SELECT %s, %s", ("text",))
    with pytest.raises(ValueError, match="not a statement name"):
        PreparedSql("x; DROP TABLE y", "SELECT 1", ())


def test_the_receipt_page_shows_the_decision_and_what_was_shown_and_no_personal_data(client, site):
    created = post(client, body()).json()
    receipt_id = created["receipt_id"]
    assert created["receipt_page_url"] == f"/r/{receipt_id}/"
    page = client.get(f"/r/{receipt_id}/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store" and page["X-Robots-Tag"] == "noindex"
    html = page.content.decode()
    assert "Custom choice" in html and "analytics" in html and "marketing" in html
    assert 'data-status="pending"' in html and "not yet sealed" in html
    assert '<a href="/s/shop/policies/privacy-policy/v1/?lang=en">Privacy, version 1</a>' in html
    assert client.get("/s/shop/policies/privacy-policy/v1/").status_code == 200
    assert 'src="/static/consent/receipt.js"' in html
    for personal in (VISITOR, "203.0.113", "Mozilla/5.0 (Test)", "coupon=secret"):
        assert personal not in html

    call_command("consent_seal", stdout=StringIO())
    html = client.get(f"/r/{receipt_id}/").content.decode()
    checkpoint = Checkpoint.objects.get()
    assert 'data-status="sealed"' in html and "entry 1 of 1" in html
    assert checkpoint.root_hash in html and checkpoint.key_id in html

    call_command("consent_redact", site="shop", visitor=VISITOR, reason="erasure request", stdout=StringIO())
    html = client.get(f"/r/{receipt_id}/").content.decode()
    assert "was erased on request" in html and 'data-status="sealed"' in html

    # ?lang= first, then the record's language, then Accept-Language, among every catalogue.
    russian = client.get(f"/r/{receipt_id}/", {"lang": "ru"}).content.decode()
    assert '<html lang="ru"' in russian and "Подтверждение согласия" in russian and "Свой выбор" in russian
    assert 'href="/s/shop/policies/privacy-policy/v1/?lang=ru"' in russian
    strings = re.search(r'<script id="receipt-strings" type="application/json">(.*?)</script>', russian)
    assert json.loads(strings.group(1))["verdict_verified"].startswith("Все проверки пройдены")
    # The record was made in English: that beats the reader's browser.
    english = client.get(f"/r/{receipt_id}/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").content.decode()
    assert '<html lang="en"' in english and "Consent receipt" in english
    hebrew = client.get(f"/r/{receipt_id}/", {"lang": "he"}).content.decode()
    assert '<html lang="he" dir="rtl"' in hebrew

    assert client.get("/r/AAAAAAAAAAAAAAAAAAAAAA/").status_code == 404
    assert client.get("/r/not%20a%20receipt/").status_code == 404


def test_a_receipt_can_be_looked_up_by_its_id(client, site):
    receipt_id = post(client, body()).json()["receipt_id"]
    form = client.get("/r/")
    assert form.status_code == 200 and b'name="id"' in form.content
    found = client.get("/r/", {"id": f"  {receipt_id} "})
    assert found.status_code == 302 and found["Location"] == f"/r/{receipt_id}/"
    missing = client.get("/r/", {"id": "AAAAAAAAAAAAAAAAAAAAAA"})
    assert missing.status_code == 404 and "No receipt has the id" in missing.content.decode()
    assert client.get("/r/", {"id": "<script>"}).status_code == 404  # malformed: the same answer
    assert b"<script>" not in client.get("/r/", {"id": "<script>"}).content


def test_checkpoints_prove_the_log_only_grew(client, site):
    for n in range(3):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    call_command("consent_seal", stdout=StringIO())  # nothing new: no new checkpoint
    for n in range(3, 8):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    listing = client.get("/api/public/v1/sites/shop/checkpoints").json()
    newer, older = listing["checkpoints"]
    assert (newer["tree_size"], older["tree_size"]) == (8, 3)
    assert _consistency_holds(older, newer)
    for checkpoint in listing["checkpoints"]:
        assert checkpoint["format"] == "c2sp" and _note_states(checkpoint, listing["vkey"])
    root_b64 = base64.b64encode(bytes.fromhex(newer["root_hash"])).decode()
    assert newer["note"].startswith(f"{listing['origin']}\n8\n{root_b64}\n\n\u2014 {listing['origin']} ")
    assert listing["origin"] == "127.0.0.1:8000/consentry/shop"
    assert Checkpoint.objects.get(tree_size=8).note == newer["note"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the ledger is partitioned on PostgreSQL only")
def test_no_month_of_the_ledger_can_be_truncated_by_name(ledger_owner_connection, client, site):
    from consent.ledger.partitions import partition_name, partitions_ensure, partitions_list

    assert post(client, body()).status_code == 201
    # Months created after the triggers were installed (as the sealer creates them) too; the
    # migration made this month and the next three.
    today = timezone.now().date().replace(day=1)
    ahead = [today]
    for _ in range(5):
        ahead.append(month_after(ahead[-1]))
    assert partitions_ensure(months_ahead=5) == [partition_name(month) for month in ahead[4:]]
    table = ConsentRecord._meta.db_table
    months = [name for name, _ in partitions_list()]
    assert [partition_name(month) for month in ahead] == months[-6:]
    # Refused to the owner by the trigger (to the application's role, by its privileges first:
    # tests/consent/test_db_roles.py).
    for name in [*months, f"{table}_default", table]:
        with pytest.raises(DatabaseError, match="append-only"), ledger_owner_connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {name}")
    assert ConsentRecord.objects.count() == 1


def test_a_rotated_signing_key_keeps_earlier_checkpoints_verifiable(client, site, settings):
    from django.core import checks

    from consent.ledger.crypto import signing_key

    old_key = signing_key()
    receipts = [post(client, body(visitor_id=f"visitor-{n:012d}")).json()["receipt_id"] for n in range(3)]
    call_command("consent_seal", stdout=StringIO())

    settings.LEDGER_SIGNING_KEY = base64.b64encode(os.urandom(32)).decode()
    new_key = signing_key()
    # Rotated without listing the old public key: the old checkpoint is named, not trusted.
    out = StringIO()
    with pytest.raises(CommandError, match="mismatch"):
        call_command("consent_verify", stdout=out)
    assert f"checkpoint size 3: signed with key {old_key.key_id}, which is neither" in out.getvalue()

    settings.LEDGER_RETIRED_PUBLIC_KEYS = [old_key.public_base64]
    assert not [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "consentry.E022"]
    receipt = client.get(f"/api/public/v1/receipts/{receipts[0]}").json()
    assert receipt["checkpoint"]["key_id"] == old_key.key_id
    assert receipt["public_key"] == old_key.public_base64
    _verify_receipt(receipt)

    for n in range(3, 5):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    listing = client.get("/api/public/v1/sites/shop/checkpoints").json()
    assert listing["key_id"] == new_key.key_id
    keys = {key["key_id"]: key for key in listing["keys"]}
    assert keys[new_key.key_id]["current"] and not keys[old_key.key_id]["current"]
    newer, older = listing["checkpoints"]
    assert (newer["key_id"], older["key_id"]) == (new_key.key_id, old_key.key_id)
    for checkpoint in (newer, older):
        assert _note_states(checkpoint, keys[checkpoint["key_id"]]["vkey"])
    # The log itself carried on across the rotation: size 5 extends size 3.
    assert (older["tree_size"], newer["tree_size"]) == (3, 5) and _consistency_holds(older, newer)
    _verify_receipt(client.get(f"/api/public/v1/receipts/{receipts[0]}").json())
    out = StringIO()
    call_command("consent_verify", stdout=out)
    assert "The ledger verifies." in out.getvalue()

    settings.LEDGER_RETIRED_PUBLIC_KEYS = ["not-a-key"]
    errors = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "consentry.E022"]
    assert len(errors) == 1 and "not-a-key" in errors[0].msg


def test_sealing_pages_through_the_window_and_picks_up_a_late_commit(client, site, monkeypatch):
    # Small pages and batches, so every seal crosses page boundaries between sealed and new rows.
    from consent.ledger import seal

    monkeypatch.setattr(seal, "UNSEALED_PAGE", 3)
    for n in range(7):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    site.refresh_from_db()
    first = seal.ledger_seal(site=site, batch_size=4)
    assert first.tree_size == 7 and Checkpoint.objects.count() == 2  # two batches: 4, then 3
    for n in range(7, 12):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    # A record whose transaction committed late: its created_at is older than the newest
    # checkpoint (within the sealer's margin), yet it must still enter the log.
    late = record_at(first.created_at - timedelta(minutes=5), visitor_id="visitor-late-commit")
    latest = seal.ledger_seal(site=site, batch_size=4)
    assert latest.tree_size == 13
    sealed = MerkleNode.objects.filter(site=site, level=0)
    assert sealed.count() == 13 and sealed.filter(record_id=late.pk).exists()
    assert seal.ledger_seal(site=site, batch_size=4) is None  # nothing left
    report = ledger_verify(site=site)
    assert report.problems == [] and report.sealed == 13 and report.unsealed == 0


def test_the_periodic_sealer_takes_new_sites_outlives_a_database_fault_and_queues_retention(
    ledger_transactional_db, client, site, monkeypatch
):
    # `consent_seal --every` is the ledger's long-running job: a database outage must not end
    # it, the retention it could not queue is queued in the next round, and a site registered
    # while it runs is sealed too.

    from django.db import OperationalError

    from consent.management.commands import consent_seal as job
    from consent.tasks import consent_retention_task

    # Retention deletes whole months: this record's month is past it.
    record_at(
        timezone.now() - timedelta(days=site.consent_retention_days + 40), visitor_id="visitor-long-ago-01"
    )
    post(client, body())

    def database_down():
        raise OperationalError("server closed the connection unexpectedly")

    class Stop(Exception):
        pass

    rounds = []

    def between_rounds(seconds):
        rounds.append(seconds)
        if len(rounds) == 1:  # the database is back, and a new site records a consent
            monkeypatch.setattr(job, "consent_retention_task", consent_retention_task)
            blog = site_create(
                key="blog",
                name="Blog",
                languages=["en"],
                origins=[ORIGIN],
                default_jurisdiction="EU",
                by=None,
            )
            reject = body(action="reject_all", granted=[], denied=[], versions={})
            assert post(client, reject, site_key=blog.key).status_code == 201
        else:
            raise Stop

    monkeypatch.setattr(job, "consent_retention_task", SimpleNamespace(enqueue=database_down))
    monkeypatch.setattr(job, "time", SimpleNamespace(sleep=between_rounds, monotonic=time.monotonic))
    out, err = StringIO(), StringIO()
    with pytest.raises(Stop):
        call_command("consent_seal", every=30, stdout=out, stderr=err)
    assert rounds == [30, 30]
    assert err.getvalue().count("the database failed (server closed the connection unexpectedly)") == 1
    # Retention was queued in the second round (the worker runs it; inline here), before sealing.
    assert AuditEntry.objects.filter(action="consent.retention").count() == 1
    assert not ConsentRecord.objects.filter(visitor_id="visitor-long-ago-01").exists()
    assert "shop: sealed up to 1," in out.getvalue() and "blog: sealed up to 1," in out.getvalue()
    for one in Site.objects.all():
        assert ledger_verify(site=one).problems == []


def test_the_periodic_sealer_looks_back_briefly_each_round_and_fully_once_an_hour(client, site, monkeypatch):
    # A busy site's last hour is not rescanned every 30 s: a record that committed minutes
    # late waits for the hourly deep round, and is sealed there.

    from consent.management.commands import consent_seal as job

    post(client, body())
    clock = [1000.0]
    late = []

    class Stop(Exception):
        pass

    def between_rounds(seconds):
        clock[0] += seconds
        if len(late) == 0:  # after round 1 (deep): a record five minutes late commits now
            newest = Checkpoint.objects.order_by("-tree_size").first()
            late.append(record_at(newest.created_at - timedelta(minutes=5), visitor_id="visitor-late-0001"))
        elif len(late) == 1:  # after round 2 (brief): it was not looked at; an hour passes
            assert not MerkleNode.objects.filter(level=0, record_id=late[0].pk).exists()
            late.append("checked")
            clock[0] += job.DEEP_ROUND_SECONDS
        else:
            raise Stop

    monkeypatch.setattr(job, "time", SimpleNamespace(sleep=between_rounds, monotonic=lambda: clock[0]))
    out = StringIO()
    with pytest.raises(Stop):
        call_command("consent_seal", every=30, stdout=out, stderr=StringIO())
    assert late[1] == "checked"
    assert MerkleNode.objects.filter(level=0, record_id=late[0].pk).exists()  # round 3: deep
    assert out.getvalue().count("shop: sealed up to") == 2  # rounds 1 and 3
    assert ledger_verify(site=site).problems == []


def test_consent_verify_passes_on_an_honest_ledger(client, site):
    for n in range(6):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    post(client, body(visitor_id="visitor-unsealed-0001"))
    out = StringIO()
    call_command("consent_verify", stdout=out)
    assert "shop: 7 records (6 sealed, 1 unsealed" in out.getvalue()
    assert "The ledger verifies." in out.getvalue()


def test_consent_verify_names_a_row_altered_behind_the_triggers_back(ledger_owner_connection, client, site):
    receipts = [post(client, body(visitor_id=f"visitor-{n:012d}")).json()["receipt_id"] for n in range(4)]
    call_command("consent_seal", stdout=StringIO())
    table = ConsentRecord._meta.db_table
    # The attacker, holding the tables' owner, drops the triggers and rewrites a refusal into a consent.
    owner = ledger_owner_connection
    triggers_remove(owner, table)
    with owner.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET action = 'accept_all', purposes_granted = %s, purposes_denied = %s "
            "WHERE receipt_id = %s",
            ['["analytics", "marketing", "necessary"]', "[]", receipts[1]],
        )
    triggers_install(owner, table, ConsentRecord.mutable_columns, ConsentRecord.purgeable)
    out = StringIO()
    with pytest.raises(CommandError, match="mismatch"):
        call_command("consent_verify", stdout=out)
    assert f"receipt {receipts[1]}" in out.getvalue()
    assert "the row was altered" in out.getvalue()
    assert receipts[0] not in out.getvalue()


def test_consent_verify_names_a_backdated_record_slipped_in_behind_the_sealed_log(client, site):
    # INSERT is the one write the triggers must allow. A forged record dated long before the
    # newest checkpoint is never sealed (the sealer only looks back so far), and verify says so.
    for n in range(3):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    forged = record_at(timezone.now() - timedelta(days=3), visitor_id="visitor-forged-0001")
    recent = post(client, body(visitor_id="visitor-recent-0001")).json()["receipt_id"]  # not sealed yet: fine
    call_command("consent_seal", stdout=StringIO())
    report = ledger_verify(site=site)
    assert report.unsealed == 1
    assert len(report.problems) == 1 and f"receipt {forged.receipt_id}" in report.problems[0]
    assert "written behind the API (backdated)" in report.problems[0]
    assert recent not in report.problems[0]


def test_consent_verify_catches_a_rewritten_log_node_and_a_deleted_record(
    ledger_owner_connection, client, site
):
    for n in range(4):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    victim = ConsentRecord.objects.order_by("id")[2]
    owner = ledger_owner_connection
    triggers_remove(owner, ConsentRecord._meta.db_table)
    triggers_remove(owner, MerkleNode._meta.db_table)
    with owner.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ConsentRecord._meta.db_table} WHERE id = %s", [victim.pk])
        index_column = connection.ops.quote_name("index")
        cursor.execute(
            f"UPDATE {MerkleNode._meta.db_table} SET hash = %s WHERE level = 1 AND {index_column} = 0",
            ["00" * 32],
        )
    report = ledger_verify(site=site)
    assert any(f"its record {victim.pk} is missing" in problem for problem in report.problems)
    assert any("node level 1 index 0" in problem for problem in report.problems)


# --- Erasure and retention -------------------------------------------------------------------


def test_redaction_erases_personal_data_and_every_proof_still_verifies(client, site):
    receipt_id = post(client, body()).json()["receipt_id"]
    post(client, body(visitor_id="another-visitor-000001"))
    call_command("consent_seal", stdout=StringIO())
    call_command("consent_redact", site="shop", visitor=VISITOR, reason="erasure request", stdout=StringIO())
    record = ConsentRecord.objects.get(receipt_id=receipt_id)
    assert (record.visitor_id, record.ip_address, record.user_agent, record.personal_salt) == (
        None,
        None,
        None,
        None,
    )
    assert record.is_redacted
    other = ConsentRecord.objects.get(visitor_id="another-visitor-000001")
    assert other.ip_address is not None
    report = ledger_verify(site=site)
    assert report.problems == [] and report.redacted == 1
    _verify_receipt(client.get(f"/api/public/v1/receipts/{receipt_id}").json())
    audit = AuditEntry.objects.get(action="consent.redact")
    assert VISITOR not in json.dumps(audit.data)


def test_retention_deletes_old_records_leaves_an_audit_entry_and_the_log_still_verifies(client, site):
    old_time = timezone.now() - timedelta(days=site.consent_retention_days + 40)
    for n in range(3):
        record_at(old_time, visitor_id=f"old-visitor-{n:08d}", idempotency_key=f"old-choice-{n}")
    post(client, body(), HTTP_IDEMPOTENCY_KEY="recent-choice")
    call_command("consent_seal", stdout=StringIO())
    out = StringIO()
    call_command("consent_retention", stdout=out)
    assert "shop: 3 record(s) past retention deleted" in out.getvalue()
    assert ConsentRecord.objects.count() == 1
    entry = AuditEntry.objects.get(action="consent.retention")
    assert entry.data["records"] == 3
    # The deleted records' idempotency keys went with them; the kept one's stays.
    assert list(IdempotencyClaim.objects.values_list("idempotency_key", flat=True)) == ["recent-choice"]
    report = ledger_verify(site=site)
    assert report.problems == [] and report.purged == 3 and report.records == 1


def test_the_write_path_answers_503_when_the_database_is_down():
    # A real outage: the database is unreachable. The banner is told to keep the choice and retry.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().post('/api/public/v1/sites/shop/consents', '{}', content_type='application/json',"
        " HTTP_ORIGIN='https://shop.example');"
        "print(json.dumps({'status': r.status_code, 'retry': r.get('Retry-After'), 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-only",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing",
        "REDIS_URL": "",
    }
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert (answer["status"], answer["retry"], answer["body"]["error"]["code"]) == (503, "5", "unavailable")


def test_a_record_pins_the_sub_processor_list_version_shown(client, site):
    from subprocessors.lists.services import subprocessor_list_publish, vendor_create

    assert post(client, body(versions={"subprocessors": 1})).status_code == 400  # none published yet
    vendor_create(
        site=site,
        key="yandex",
        name="Yandex Metrica",
        legal_entity="YANDEX LLC",
        address="16 Lva Tolstogo St., Moscow, Russia",
        contact="https://yandex.com/legal/confidential/",
        purpose="Web analytics.",
        locations=["RU"],
        transfer_mechanisms=["sccs"],
        transfer_assessment_ref="TIA-1",
        category="analytics",
        by=None,
    )
    dpo = SiteMembership.objects.get(site=site, role=Role.DPO).user
    version = subprocessor_list_publish(
        site=site, effective_at=timezone.now(), change_note="First.", by=dpo, ip=None
    )
    from consent.sites.selectors import site_snapshot_forget

    site_snapshot_forget()
    response = post(client, body(versions={"subprocessors": 1, "policies": {"privacy-policy": 1}}))
    assert response.status_code == 201, response.content
    pinned = ConsentRecord.objects.get().versions["subprocessors"]
    assert pinned == {"number": 1, "sha256": version.content_sha256}


def test_a_written_record_reads_back_field_for_field(site):
    # The ledger INSERT is compiled once per process (services._ledger_insert); what it stores
    # must be exactly what the ORM would have: every field read back equals the one written.
    from django.test import RequestFactory

    from consent.ledger.services import consent_record_create
    from consent.ledger.validation import consent_input_parse
    from consent.rules.geo import jurisdiction_resolve
    from consent.sites.selectors import site_snapshot

    snapshot = site_snapshot(key="shop")
    request = RequestFactory().post("/", HTTP_CF_IPCOUNTRY="DE")
    data = consent_input_parse(
        body(page_url=f"{ORIGIN}/ünïcode/path"), snapshot, gpc_header=True, idempotency_header="read-back-1"
    )
    written = consent_record_create(
        snapshot=snapshot,
        data=data,
        resolution=jurisdiction_resolve(request=request, default_code="EU"),
        ip="203.0.113.77",
        user_agent='Mozilla/5.0 (Test) «quotes\' "and" unicode»',
    )
    read = ConsentRecord.objects.get(receipt_id=written.receipt_id)
    assert read.pk == written.pk and not written._state.adding
    for field in ConsentRecord._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(written, field.attname), field.name
    assert read.versions["policies"]["privacy-policy"]["number"] == 1
    assert read.gpc is True and read.purposes_granted == ["analytics", "necessary"]


def test_a_checkpoint_signed_before_the_c2sp_format_keeps_verifying(client, site):
    from consent.ledger.crypto import (
        checkpoint_note_legacy,
        checkpoint_signature_valid,
        note_sign,
        signing_key,
    )

    for n in range(2):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    leaf = MerkleNode.objects.get(site=site, level=0, index=0).hash
    at = Checkpoint.objects.get(tree_size=2).created_at - timedelta(seconds=5)
    text = checkpoint_note_legacy(site_key="shop", tree_size=1, root_hex=leaf, created_at=at)
    legacy = Checkpoint(
        site=site,
        tree_size=1,
        root_hash=leaf,
        created_at=at,
        key_id=signing_key().key_id,
        signature=note_sign(text),
    )
    assert checkpoint_signature_valid(legacy, "shop")
    forged = Checkpoint(
        **{**{f.name: getattr(legacy, f.name) for f in Checkpoint._meta.fields}, "tree_size": 2}
    )
    assert not checkpoint_signature_valid(forged, "shop")
    legacy.save()
    assert ledger_verify(site=site).problems == []
    listing = client.get("/api/public/v1/sites/shop/checkpoints").json()
    assert [c["format"] for c in listing["checkpoints"]] == ["c2sp", "legacy"]
    assert listing["checkpoints"][1]["note"] == text.decode()
