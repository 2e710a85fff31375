# Least privilege on PostgreSQL (consent.dbroles): the ledger changes only through SECURITY
# DEFINER functions (redaction, retention, partitions), the `consentry.purge` session switch
# is gone from the triggers, and idempotency claims get the append-only guard.

import django.db.models.deletion
from django.db import migrations, models

from consent.immutability import triggers_install, triggers_migration
from consent.ledger.partitions import partitions_function_install
from consent.ledger.retention import retention_functions_install, retention_functions_remove

LEDGER_ERASABLE = ("visitor_id", "ip_address", "user_agent", "personal_salt")


def functions_install(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        partitions_function_install(cursor)
        retention_functions_install(cursor, erasable=LEDGER_ERASABLE)
    # The ledger's trigger without the session switch: only the retention functions delete.
    triggers_install(connection, "consent_consentrecord", LEDGER_ERASABLE, purgeable=True)


def functions_remove(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        retention_functions_remove(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0007_idempotency_claims"),
    ]

    operations = [
        migrations.AlterField(
            model_name="idempotencyclaim",
            name="site",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="consent.site"
            ),
        ),
        triggers_migration("IdempotencyClaim", "consent", purgeable=True),
        migrations.RunPython(functions_install, functions_remove, elidable=False),
    ]
