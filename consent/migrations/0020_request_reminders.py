# The reminders sent so far: one row per request, due date and threshold (issue 15 review), taken
# from the REMINDED events, whose note was "<days>:<due date>", so none is sent again.

from datetime import date

import django.db.models.deletion
from django.db import migrations, models


def reminders_from_events(apps, schema_editor):
    RequestEvent = apps.get_model("consent", "RequestEvent")
    RequestReminder = apps.get_model("consent", "RequestReminder")
    rows = {}
    for request_id, note, at in RequestEvent.objects.filter(action="reminded").values_list(
        "request_id", "note", "at"
    ):
        days, _, due = note.partition(":")
        try:
            key = (request_id, date.fromisoformat(due), int(days))
        except ValueError:
            continue
        rows.setdefault(key, at)
    RequestReminder.objects.bulk_create(
        RequestReminder(request_id=request_id, due_at=due_at, days=days, queued_at=at, sent_at=at)
        for (request_id, due_at, days), at in rows.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0019_request_queue"),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("due_at", models.DateField(verbose_name="due on")),
                ("days", models.PositiveSmallIntegerField(verbose_name="days before the due date")),
                ("queued_at", models.DateTimeField(verbose_name="queued at")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="consent.datasubjectrequest",
                        verbose_name="request",
                    ),
                ),
            ],
            options={
                "verbose_name": "request reminder",
                "verbose_name_plural": "request reminders",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("request", "due_at", "days"), name="request_reminder_once"
                    )
                ],
            },
        ),
        migrations.RunPython(reminders_from_events, migrations.RunPython.noop),
    ]
