"""Signed inclusion promises: every receipt's promise verifies with nothing but `cryptography`, a
tampered one is refused, and a promise whose record was removed is caught by consent_verify,
the promise API and the receipt page."""

import base64
import hashlib
import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import CommandError, call_command
from django.utils import timezone

from consent.immutability import triggers_install, triggers_remove
from consent.ledger.promise import promise_sign
from consent.models import ConsentRecord, MerkleNode
from tests.consent import test_ledger
from tests.consent.test_ledger import body, post, record_at

site = test_ledger.site  # the ledger tests' site, as a fixture here too

pytestmark = pytest.mark.django_db


def verify_promise_independently(note: str, public_keys_base64: list[str]) -> dict:
    """A promise checked as a third party would: hashlib and `cryptography`, no Consentry code.

    A C2SP signed note: the text, a blank line, then signature lines "— <name> <base64(4-byte key
    hash || 64-byte Ed25519 signature)>"; key hash = SHA-256(name || "\\n" || 0x01 || key)[:4].
    """
    text, signatures = note.encode().rsplit(b"\n\n", 1)
    text += b"\n"
    lines = text.decode().split("\n")[:-1]
    assert lines[0] == "consentry/promise/v1" and len(lines) == 6
    origin = lines[1]
    for line in signatures.decode().splitlines():
        name, encoded = line.removeprefix("\u2014 ").split(" ")
        raw = base64.b64decode(encoded)
        for key_b64 in public_keys_base64:
            key = base64.b64decode(key_b64)
            if name == origin and raw[:4] == hashlib.sha256(name.encode() + b"\n\x01" + key).digest()[:4]:
                Ed25519PublicKey.from_public_bytes(key).verify(raw[4:], text)  # raises if forged
                return {
                    "origin": origin,
                    "receipt": lines[2],
                    "leaf_hex": base64.b64decode(lines[3]).hex(),
                    "time": lines[4],
                    "merge_delay_seconds": int(lines[5]),
                }
    raise AssertionError("no signature by the log's key")


def log_keys(client, site_key="shop"):
    return [
        key["public_key"] for key in client.get(f"/api/public/v1/sites/{site_key}/checkpoints").json()["keys"]
    ]


def check(client, note):
    return client.post("/api/public/v1/promises/check", {"note": note}, content_type="application/json")


def delete_behind_the_triggers(owner, record):
    """What an owner of the tables can do: lift the trigger, delete the row, put the trigger back
    (`owner`: the ledger_owner_connection fixture; the application's role may do none of it)."""
    table = ConsentRecord._meta.db_table
    triggers_remove(owner, table)
    with owner.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [record.pk])  # noqa: S608
    triggers_install(owner, table, ConsentRecord.mutable_columns, ConsentRecord.purgeable)


def test_a_consent_post_answers_with_a_promise_anyone_can_verify_without_consentry(client, site, settings):
    answer = post(client, body(), HTTP_IDEMPOTENCY_KEY="choice-0001")
    assert answer.status_code == 201
    created = answer.json()
    promise = created["promise"]
    record = ConsentRecord.objects.get()
    fields = verify_promise_independently(promise["note"], log_keys(client))
    assert fields == {
        "origin": f"{settings.LEDGER_LOG_HOST}/consentry/shop",
        "receipt": created["receipt_id"],
        "leaf_hex": record.leaf_sha256,
        "time": promise["promised_at"],
        "merge_delay_seconds": 300,
    }
    assert promise["leaf_hash"] == created["leaf_sha256"] == record.leaf_sha256
    assert promise["merge_delay_seconds"] == 300
    assert promise["promised_at"] == record.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # Ed25519 is deterministic: the replay's 409 and the receipt API give the same note.
    replay = post(client, body(), HTTP_IDEMPOTENCY_KEY="choice-0001")
    assert replay.status_code == 409 and replay.json()["promise"] == promise
    receipt = client.get(f"/api/public/v1/receipts/{created['receipt_id']}").json()
    assert receipt["promise"] == promise
    assert receipt["inclusion"]["state"] == "pending"


def test_a_tampered_or_foreign_promise_is_refused_with_a_json_error(client, site):
    note = post(client, body()).json()["promise"]["note"]
    other = post(client, body(visitor_id="another-visitor-000001")).json()["receipt_id"]
    tampered = re.sub(r"\n[A-Za-z0-9_-]{16,32}\n", f"\n{other}\n", note, count=1)
    assert tampered != note
    with pytest.raises(InvalidSignature):
        verify_promise_independently(tampered, log_keys(client))
    for bad in (tampered, note.replace("consentry/promise/v1", "consentry/promise/v2"), "hello", ""):
        answer = check(client, bad)
        assert answer.status_code == 400, bad
        assert (
            answer.json()["error"]["code"] in {"invalid", "blank"}
            and "note" in answer.json()["error"]["fields"]
        )
    foreign = note.replace("/consentry/shop\n", "/consentry/elsewhere\n")
    assert check(client, foreign).status_code == 404
    assert (
        client.post("/api/public/v1/promises/check", "[", content_type="application/json").status_code == 400
    )


def test_a_kept_promise_is_pending_then_included_at_its_index_in_a_checkpoint(client, site):
    created = post(client, body()).json()
    note, receipt_id = created["promise"]["note"], created["receipt_id"]
    pending = check(client, note).json()
    assert pending["state"] == "pending" and pending["kept"] and not pending["evidence_of_removal"]
    assert "not yet included, due by" in pending["message"]
    page = client.get(f"/r/{receipt_id}/").content.decode()
    assert 'data-promise-state="pending"' in page and "not yet included, due by" in page

    call_command("consent_seal", stdout=StringIO())
    included = check(client, note).json()
    assert included["state"] == "included" and included["leaf_index"] == 0
    assert included["checkpoint"]["tree_size"] == 1
    assert included["message"].endswith("included at index 0 in checkpoint 1.")
    page = client.get(f"/r/{receipt_id}/").content.decode()
    assert 'data-promise-state="included"' in page and "included at index 0 in checkpoint 1." in page
    assert client.get(f"/api/public/v1/receipts/{receipt_id}").json()["inclusion"]["state"] == "included"
    out = StringIO()
    call_command("consent_verify", promises=_promise_file([created["promise"]]), stdout=out)
    assert "included line 1: shop receipt" in out.getvalue() and "every one is kept" in out.getvalue()


def _promise_file(entries, tmp=None):
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)  # noqa: SIM115
    with handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n\n")
    return handle.name


def test_deleting_an_unsealed_row_is_evidence_of_removal_once_the_merge_delay_has_passed(
    ledger_owner_connection, client, site
):
    # Time travel: records made ten minutes ago, past their five-minute merge delay, unsealed.
    then = timezone.now() - timedelta(minutes=10)
    victim = record_at(then, visitor_id="visitor-deleted-0001")
    late = record_at(then, visitor_id="visitor-unsealed-001")
    victim_note, late_note = promise_sign(victim, "shop").decode(), promise_sign(late, "shop").decode()
    fresh = post(client, body()).json()
    delete_behind_the_triggers(ledger_owner_connection, victim)
    assert not ConsentRecord.objects.filter(receipt_id=victim.receipt_id).exists()
    call_command("consent_verify", stdout=StringIO())  # the ledger alone cannot tell: nothing is left

    removed = check(client, victim_note).json()
    assert removed["state"] == "removed" and removed["evidence_of_removal"] and not removed["kept"]
    assert "evidence that it was removed" in removed["message"]
    assert check(client, late_note).json()["state"] == "overdue"

    out = StringIO()
    file = _promise_file([{"note": victim_note}, late_note, fresh["promise"], "not a promise"])
    with pytest.raises(CommandError, match="3 of 4 promise"):
        call_command("consent_verify", promises=file, stdout=out)
    report = out.getvalue()
    assert f"REMOVED line 1: shop receipt {victim.receipt_id}" in report
    assert f"BROKEN line 3: shop receipt {late.receipt_id}" in report and "the promise is broken" in report
    assert f"pending line 5: shop receipt {fresh['receipt_id']}" in report
    assert "INVALID line 7" in report

    # The receipt page of a missing record still runs the browser's promise check (tests/e2e).
    page = client.get(f"/r/{victim.receipt_id}/")
    assert page.status_code == 404 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert "No record with this receipt id" in html and 'id="receipt-promise"' in html
    assert 'src="/static/consent/receipt-promise.js"' in html
    strings = json.loads(re.search(r'id="receipt-strings" type="application/json">(.*?)</script>', html)[1])
    assert strings["promise_removed"].startswith("Evidence of removal")


def test_a_promise_of_a_record_purged_by_retention_is_kept(client, site):
    old = record_at(
        timezone.now() - timedelta(days=site.consent_retention_days + 40), visitor_id="old-visitor-0001"
    )
    note = promise_sign(old, "shop").decode()
    call_command("consent_seal", stdout=StringIO())
    call_command("consent_retention", stdout=StringIO())
    assert not ConsentRecord.objects.exists() and MerkleNode.objects.filter(level=0).count() == 1
    purged = check(client, note).json()
    assert purged["state"] == "purged" and purged["kept"] and purged["leaf_index"] == 0


def test_a_negative_merge_delay_is_a_configuration_error(settings):
    from django.core.checks import run_checks

    settings.LEDGER_MERGE_DELAY_SECONDS = -1
    assert "consentry.E023" in [problem.id for problem in run_checks()]
    settings.LEDGER_MERGE_DELAY_SECONDS = 300
    assert "consentry.E023" not in [problem.id for problem in run_checks()]
