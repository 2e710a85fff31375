"""Verifying part of the ledger: one month, or the log from a signed checkpoint on."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from consent.immutability import triggers_install, triggers_remove
from consent.ledger.verify import ledger_verify
from consent.models import ConsentRecord, MerkleNode, Site
from tests.consent.test_ledger import body, post, record_at
from tests.consent.test_ledger import site as site_fixture  # noqa: F401 (the "site" fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_fixture")]


def tamper(owner, sql, params):
    """Change a ledger table behind the triggers' back, as an attacker with the owner role could
    (`owner`: the ledger_owner_connection fixture; the application's role may do none of it)."""
    tables = [ConsentRecord._meta.db_table, MerkleNode._meta.db_table]
    for table in tables:
        triggers_remove(owner, table)
    with owner.cursor() as cursor:
        cursor.execute(sql, params)
    triggers_install(owner, tables[0], ConsentRecord.mutable_columns, ConsentRecord.purgeable)
    triggers_install(owner, tables[1], MerkleNode.mutable_columns, MerkleNode.purgeable)


def test_consent_verify_of_one_month_checks_its_records_and_names_an_altered_one(ledger_owner_connection):
    older, newer = timezone.now() - timedelta(days=75), timezone.now() - timedelta(days=15)
    old = [record_at(older + timedelta(minutes=n), visitor_id=f"visitor-old-{n:08d}") for n in range(3)]
    for n in range(2):
        record_at(newer + timedelta(minutes=n), visitor_id=f"visitor-new-{n:08d}")
    call_command("consent_seal", stdout=StringIO())
    tamper(
        ledger_owner_connection,
        f"UPDATE {ConsentRecord._meta.db_table} SET action = 'accept_all' WHERE id = %s",
        [old[1].pk],
    )

    out = StringIO()
    call_command("consent_verify", "--month", f"{newer:%Y-%m}", stdout=out)
    assert f"shop ({newer:%Y-%m}): 2 records (2 sealed" in out.getvalue()
    assert "The ledger verifies." in out.getvalue()

    out = StringIO()
    with pytest.raises(CommandError, match="1 mismatch"):
        call_command("consent_verify", "--month", f"{older:%Y-%m}", stdout=out)
    assert f"shop ({older:%Y-%m}): 3 records" in out.getvalue()
    assert f"receipt {old[1].receipt_id}" in out.getvalue() and "the row was altered" in out.getvalue()


def test_consent_verify_of_one_month_proves_its_part_of_the_tree_against_the_newest_checkpoint(
    ledger_owner_connection,
):
    older, newer = timezone.now() - timedelta(days=75), timezone.now() - timedelta(days=15)
    for n in range(3):
        record_at(older + timedelta(minutes=n), visitor_id=f"visitor-old-{n:08d}")
    for n in range(3):
        record_at(newer + timedelta(minutes=n), visitor_id=f"visitor-new-{n:08d}")
    call_command("consent_seal", stdout=StringIO())
    # Leaves 3..5 are the newer month; the node above leaves 4 and 5 is rewritten.
    index = connection.ops.quote_name("index")
    tamper(
        ledger_owner_connection,
        f"UPDATE {MerkleNode._meta.db_table} SET hash = %s WHERE level = 1 AND {index} = 2",
        ["00" * 32],
    )
    report = ledger_verify(site=Site.objects.get(key="shop"), month=newer.date())
    assert report.leaves == 3 and report.records == 3
    assert any("node level 1 index 2" in problem for problem in report.problems)
    # The older month's own leaves and nodes are fine, but the proof from its end to the newest
    # checkpoint passes through the rewritten node, and fails.
    assert ledger_verify(site=Site.objects.get(key="shop"), month=older.date()).problems == [
        "checkpoint size 6: not an append-only extension of the walked log at size 3"
    ]


def test_consent_verify_from_a_checkpoint_rebuilds_the_log_after_it(ledger_owner_connection, client):
    for n in range(4):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    for n in range(4, 7):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())

    out = StringIO()
    call_command("consent_verify", "--site", "shop", "--from-checkpoint", "4", stdout=out)
    assert "shop (from checkpoint 4):" in out.getvalue() and "3 leaves rebuilt" in out.getvalue()
    assert "The ledger verifies." in out.getvalue()

    # The leaf after the checkpoint is rewritten: the rebuilt root no longer matches size 7.
    index = connection.ops.quote_name("index")
    tamper(
        ledger_owner_connection,
        f"UPDATE {MerkleNode._meta.db_table} SET hash = %s WHERE level = 0 AND {index} = 5",
        ["11" * 32],
    )
    report = ledger_verify(site=Site.objects.get(key="shop"), from_checkpoint=4)
    assert any("checkpoint size 7: its root does not match the log" in problem for problem in report.problems)


def test_consent_verify_from_a_checkpoint_checks_the_stored_tree_before_it_against_its_root(
    ledger_owner_connection, client
):
    for n in range(4):
        post(client, body(visitor_id=f"visitor-{n:012d}"))
    call_command("consent_seal", stdout=StringIO())
    post(client, body(visitor_id="visitor-000000000004"))
    call_command("consent_seal", stdout=StringIO())
    # The node that stands for leaves 0..3 is what a walk from checkpoint 4 starts from.
    index = connection.ops.quote_name("index")
    tamper(
        ledger_owner_connection,
        f"UPDATE {MerkleNode._meta.db_table} SET hash = %s WHERE level = 2 AND {index} = 0",
        ["22" * 32],
    )
    report = ledger_verify(site=Site.objects.get(key="shop"), from_checkpoint=4)
    assert any("checkpoint size 4: its root does not match the log" in problem for problem in report.problems)


def test_consent_verify_refuses_a_checkpoint_the_site_does_not_have(client):
    post(client, body(visitor_id="visitor-000000000001"))
    call_command("consent_seal", stdout=StringIO())
    with pytest.raises(CommandError, match="no checkpoint of size 5"):
        call_command("consent_verify", "--site", "shop", "--from-checkpoint", "5", stdout=StringIO())
    with pytest.raises(CommandError, match="give --site too"):
        call_command("consent_verify", "--from-checkpoint", "1", stdout=StringIO())
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("consent_verify", "--month", "2026-13", stdout=StringIO())
