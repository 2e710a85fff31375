# Idempotency keys move from a SQLite-only unique index on the ledger to IdempotencyClaim,
# filled by a trigger on both databases (see consent.ledger.idempotency).

import django.db.models.deletion
from django.db import migrations, models

from consent.ledger.idempotency import claim_trigger_migration
from consent.ledger.partitions import remove_constraint_except_postgresql


def claims_backfill(apps, schema_editor):
    """A claim for every key already in the ledger (the oldest receipt wins a duplicate)."""
    connection = schema_editor.connection
    select = (
        'SELECT "site_id", "idempotency_key", "receipt_id", "created_at" FROM "consent_consentrecord" '
        'WHERE "idempotency_key" IS NOT NULL ORDER BY "created_at", "id"'
    )
    columns = '"consent_idempotencyclaim" ("site_id", "idempotency_key", "receipt_id", "created_at")'
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"INSERT INTO {columns} {select} ON CONFLICT DO NOTHING")
        else:
            cursor.execute(f"INSERT OR IGNORE INTO {columns} {select}")


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0006_idempotency_unique_sqlite"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyClaim",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "site",
                        "idempotency_key",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="consent.site"
                    ),
                ),
                ("idempotency_key", models.CharField(max_length=64)),
                ("receipt_id", models.CharField(max_length=32)),
                ("created_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(claims_backfill, migrations.RunPython.noop, elidable=False),
        remove_constraint_except_postgresql(
            model_name="consentrecord",
            name="consent_idempotency_unique",
        ),
        migrations.RemoveIndex(
            model_name="consentrecord",
            name="consent_idempotency",
        ),
        claim_trigger_migration(),
    ]
