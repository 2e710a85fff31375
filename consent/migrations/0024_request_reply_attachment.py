# A requester's reply to "more information requested" may carry a file: RequestEvent gets the
# attachment and its hash, and the "replied" action.

from django.db import migrations, models

import consent.models.requests
from consent.immutability import triggers_install, triggers_remove

EVENTS = "consent_requestevent"


def event_guards_widen(apps, schema_editor):
    """The triggers list every guarded column: the new ones are guarded once they are re-made."""
    triggers_install(schema_editor.connection, EVENTS, (), purgeable=True)


def event_guards_drop(apps, schema_editor):
    # Going back: the triggers name the new columns, which SQLite cannot drop under them.
    triggers_remove(schema_editor.connection, EVENTS)


def event_guards_restore(apps, schema_editor):
    # Going back, once the columns are gone: the triggers as before.
    triggers_install(schema_editor.connection, EVENTS, (), purgeable=True)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0023_request_agent_confirmation_actions"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, event_guards_restore, elidable=False),
        migrations.AddField(
            model_name="requestevent",
            name="attachment",
            field=models.FileField(
                blank=True,
                max_length=200,
                upload_to=consent.models.requests.reply_attachment_path,
                verbose_name="attachment",
            ),
        ),
        migrations.AddField(
            model_name="requestevent",
            name="attachment_sha256",
            field=models.CharField(blank=True, max_length=64, verbose_name="attachment hash"),
        ),
        migrations.AlterField(
            model_name="requestevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("filed", "Filed"),
                    ("verification_sent", "Verification email sent"),
                    ("verified", "Email verified"),
                    ("note", "Internal note"),
                    ("acknowledged", "Acknowledged"),
                    ("info_requested", "More information requested"),
                    ("extended", "Extended with notice"),
                    ("fulfilled", "Fulfilled"),
                    ("refused", "Refused"),
                    ("closed", "Closed"),
                    ("assigned", "Assigned"),
                    ("reminded", "Reminder sent"),
                    ("agent_confirmed", "Consumer confirmed the agent"),
                    ("agent_denied", "Consumer denied the agent"),
                    ("replied", "Requester replied"),
                    ("purged", "Purged"),
                ],
                max_length=32,
                verbose_name="action",
            ),
        ),
        migrations.RunPython(event_guards_widen, event_guards_drop, elidable=False),
    ]
