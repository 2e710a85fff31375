"""Webhook endpoints move to the consent app (one mechanism for every event): each keeps its id,
key, URL and secret and subscribes to `subprocessors.published`. The notification log keeps its
rows, their endpoint now pointing at the moved row (same id, so no log row changes). Reversible:
the endpoints subscribed to `subprocessors.published` come back."""

import django.db.models.deletion
from django.core.management.color import no_style
from django.db import migrations, models

from consent.immutability import triggers_install

FIELDS = ("id", "site_id", "key", "url", "description", "secret", "is_active", "created_at")


def _sequence_reset(schema_editor, model):
    # Rows were written with their ids: PostgreSQL's sequence must continue after them.
    connection = schema_editor.connection
    for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
        schema_editor.execute(sql)


def endpoints_to_consent(apps, schema_editor):
    Old = apps.get_model("subprocessors", "WebhookEndpoint")
    New = apps.get_model("consent", "WebhookEndpoint")
    rows = list(Old.objects.values(*FIELDS))
    New.objects.bulk_create(
        [New(**row, events=["subprocessors.published"], consent_actions=[]) for row in rows]
    )
    for row in rows:  # auto_now_add set "now" on insert: keep when each was registered
        New.objects.filter(pk=row["id"]).update(created_at=row["created_at"], updated_at=row["created_at"])
    _sequence_reset(schema_editor, New)


def endpoints_to_subprocessors(apps, schema_editor):
    Old = apps.get_model("subprocessors", "WebhookEndpoint")
    New = apps.get_model("consent", "WebhookEndpoint")
    rows = [
        row for row in New.objects.values(*FIELDS, "events") if "subprocessors.published" in row.pop("events")
    ]
    Old.objects.bulk_create([Old(**row) for row in rows])
    for row in rows:
        Old.objects.filter(pk=row["id"]).update(created_at=row["created_at"])
    _sequence_reset(schema_editor, Old)


def log_triggers(apps, schema_editor):
    # SQLite rebuilds the table to change its foreign key, and the rebuild drops its triggers.
    table = apps.get_model("subprocessors", "NotificationLog")._meta.db_table
    triggers_install(schema_editor.connection, table, ("subscriber_id", "endpoint_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0016_webhooks"),
        ("subprocessors", "0003_vendor_translations"),
    ]

    operations = [
        migrations.RunPython(endpoints_to_consent, log_triggers, elidable=False),
        migrations.AlterField(
            model_name="notificationlog",
            name="endpoint",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="consent.webhookendpoint",
                verbose_name="endpoint",
            ),
        ),
        migrations.RunPython(log_triggers, endpoints_to_subprocessors, elidable=False),
        migrations.DeleteModel(name="WebhookEndpoint"),
    ]
