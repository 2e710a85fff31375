"""Migrations that move data: run backwards and forwards on a real database."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from consent.ledger.idempotency import claim_trigger_present
from consent.models import ConsentRecord, IdempotencyClaim
from tests.conftest import db_login

BEFORE_CLAIMS = [("consent", "0006_idempotency_unique_sqlite")]


def _migrate(targets=None):
    """Migrate to `targets`, or back to the newest state of every app."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_claims_are_backfilled_from_the_keys_already_in_the_ledger(ledger_transactional_db):
    # A ledger written before 0007 had its keys only on its rows: after 0007 every one of them
    # is claimed (with its receipt), and the trigger guards new rows. Migrations are the owner's.
    db_login(owner=True)
    _migrate(BEFORE_CLAIMS)
    try:
        assert not claim_trigger_present(connection)
        # The model as it was then: today's Site has columns the old table lacks.
        old = MigrationExecutor(connection).loader.project_state(BEFORE_CLAIMS).apps
        site = old.get_model("consent", "Site").objects.create(key="legacy", name="Legacy")
        columns = [f for f in ConsentRecord._meta.concrete_fields if not f.primary_key]
        for number, key in enumerate(["legacy-key-0001", "legacy-key-0002", None]):
            values = {
                "site_id": site.pk,
                "receipt_id": f"legacy-receipt-{number}",
                "created_at": timezone.now(),
                "action": "accept_all",
                "ui_layer": "first_layer",
                "purposes_granted": "[]",
                "purposes_denied": "[]",
                "jurisdiction": "EU",
                "rules_version": "2026.11",
                "rules_sha256": "0" * 64,
                "resolved_by": "header",
                "country": "DE",
                "region": "",
                "language": "en",
                "versions": "{}",
                "gpc": False,
                "dnt": False,
                "page_url": "",
                "idempotency_key": key,
                "visitor_id": None,
                "ip_address": None,
                "user_agent": None,
                "personal_salt": None,
                "personal_sha256": "0" * 64,
                "leaf_sha256": "0" * 64,
            }
            quoted = ", ".join(connection.ops.quote_name(f.column) for f in columns)
            placeholders = ", ".join(["%s"] * len(columns))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO consent_consentrecord ({quoted}) VALUES ({placeholders})",  # noqa: S608
                    [values[f.column] for f in columns],
                )
    finally:
        _migrate()
    claims = dict(IdempotencyClaim.objects.values_list("idempotency_key", "receipt_id"))
    assert claims == {"legacy-key-0001": "legacy-receipt-0", "legacy-key-0002": "legacy-receipt-1"}
    assert claim_trigger_present(connection)


BEFORE_TEXTS = [
    ("cookies", "0003_verbose_names"),
    ("subprocessors", "0002_subscriber_language_verbose_names"),
]


def test_cookie_and_vendor_texts_move_under_the_sites_default_language_and_back(ledger_transactional_db):
    # Before 0004/0003 a cookie's description and a vendor's purpose had one language: they become
    # the site's default-language texts, and going back restores them.
    db_login(owner=True)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(BEFORE_TEXTS)
    try:
        old = executor.loader.project_state(BEFORE_TEXTS).apps
        site = old.get_model("consent", "Site").objects.create(
            key="legacy", name="Legacy", default_language="ru"
        )
        purpose = old.get_model("consent", "Purpose").objects.create(site=site, key="analytics")
        vendor = old.get_model("subprocessors", "Vendor").objects.create(
            site=site, key="yandex", name="Yandex Metrica", legal_entity="YANDEX LLC", address="Moscow",
            contact="https://yandex.ru", purpose="Веб-аналитика.", locations=["RU"],
        )  # fmt: skip
        old.get_model("cookies", "Cookie").objects.create(
            site=site, purpose=purpose, vendor=vendor, name="_ym_uid", description="Различает посетителей."
        )
    finally:
        _migrate()
    from cookies.models import CookieTranslation
    from subprocessors.models import VendorTranslation

    assert list(CookieTranslation.objects.values_list("language", "description")) == [
        ("ru", "Различает посетителей.")
    ]
    assert list(VendorTranslation.objects.values_list("language", "purpose")) == [("ru", "Веб-аналитика.")]
    _migrate(BEFORE_TEXTS)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE_TEXTS).apps
        assert old.get_model("cookies", "Cookie").objects.get().description == "Различает посетителей."
        assert old.get_model("subprocessors", "Vendor").objects.get().purpose == "Веб-аналитика."
    finally:
        _migrate()
