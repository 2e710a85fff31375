"""The requests' retention function on PostgreSQL deletes their reminders too: the foreign key
has no ON DELETE CASCADE in the database, so an expired request that had a reminder failed its
site's purge."""

from django.db import migrations

from consent.requests.retention import retention_functions_install


def functions_install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            retention_functions_install(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0025_request_actions_all"),
    ]

    operations = [
        migrations.RunPython(functions_install, migrations.RunPython.noop, elidable=False),
    ]
