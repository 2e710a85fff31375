# Consents recorded by a site's own systems (management API): the account id as an HMAC under a
# per-site secret (erasable: under the personal commitment, cleared by redaction), the
# collection method, links between accounts and banner visitors.

import secrets

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import consent.models.sites
from consent.immutability import triggers_install, triggers_remove
from consent.ledger.retention import retention_functions_install

LEDGER = "consent_consentrecord"
ERASABLE_BEFORE = ("visitor_id", "ip_address", "user_agent", "personal_salt")
ERASABLE = (*ERASABLE_BEFORE, "subject_hmac")


def secrets_fill(apps, schema_editor):
    """Every existing site gets its own secret (a callable default is called once per AddField)."""
    Site = apps.get_model("consent", "Site")
    for site in Site.objects.filter(subject_secret__isnull=True).only("pk"):
        Site.objects.filter(pk=site.pk).update(subject_secret=secrets.token_hex(32))


def ledger_guards_widen(apps, schema_editor):
    """The triggers list every guarded column: a new column is guarded only once they are
    re-made, and subject_hmac is erasable; the redaction function clears it too."""
    connection = schema_editor.connection
    triggers_install(connection, LEDGER, ERASABLE, purgeable=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            retention_functions_install(cursor, erasable=ERASABLE)


def ledger_guards_drop(apps, schema_editor):
    # Going back: the triggers name the new columns, which SQLite cannot drop under them.
    triggers_remove(schema_editor.connection, LEDGER)


def ledger_guards_restore(apps, schema_editor):
    # Going back, once the columns are gone: the triggers and the redaction function as before.
    connection = schema_editor.connection
    triggers_install(connection, LEDGER, ERASABLE_BEFORE, purgeable=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            retention_functions_install(cursor, erasable=ERASABLE_BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0016_webhooks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, ledger_guards_restore, elidable=False),
        migrations.CreateModel(
            name="SubjectLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subject_hmac", models.CharField(max_length=64, verbose_name="subject (keyed hash)")),
                ("visitor_id", models.CharField(max_length=64, verbose_name="visitor id")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="linked at")),
                (
                    "token_prefix",
                    models.CharField(
                        blank=True,
                        help_text="The API token that made the link.",
                        max_length=32,
                        verbose_name="token",
                    ),
                ),
            ],
            options={
                "verbose_name": "subject link",
                "verbose_name_plural": "subject links",
            },
        ),
        migrations.AddField(
            model_name="consentrecord",
            name="collection_method",
            field=models.CharField(
                choices=[
                    ("sign_up_form", "Sign-up form"),
                    ("account_settings", "Account settings"),
                    ("call_centre", "Call centre"),
                    ("paper_form", "Paper form"),
                    ("email", "Email"),
                    ("other", "Other"),
                ],
                max_length=32,
                null=True,
                verbose_name="collection method",
            ),
        ),
        migrations.AddField(
            model_name="consentrecord",
            name="subject_hmac",
            field=models.CharField(max_length=64, null=True, verbose_name="subject (keyed hash)"),
        ),
        migrations.AddField(
            model_name="site",
            name="subject_secret",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="subject secret"),
        ),
        migrations.RunPython(secrets_fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="site",
            name="subject_secret",
            field=models.CharField(
                default=consent.models.sites.subject_secret_new,
                editable=False,
                max_length=64,
                verbose_name="subject secret",
            ),
        ),
        migrations.AlterField(
            model_name="consentrecord",
            name="ui_layer",
            field=models.CharField(
                choices=[
                    ("first_layer", "Banner (first layer)"),
                    ("second_layer", "Preferences (second layer)"),
                    ("opt_out_link", "Do Not Sell or Share page"),
                    ("signal", "Browser signal, no interaction"),
                    ("api", "Site's own interface through the JavaScript API"),
                    ("backend", "Recorded by the site's own systems (management API)"),
                ],
                max_length=32,
                verbose_name="where",
            ),
        ),
        migrations.AddIndex(
            model_name="consentrecord",
            index=models.Index(fields=["site", "subject_hmac", "-id"], name="consent_subject_latest"),
        ),
        migrations.AddField(
            model_name="subjectlink",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="linked by",
            ),
        ),
        migrations.AddField(
            model_name="subjectlink",
            name="site",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.site",
                verbose_name="site",
            ),
        ),
        migrations.AddIndex(
            model_name="subjectlink",
            index=models.Index(fields=["site", "visitor_id"], name="subject_link_visitor"),
        ),
        migrations.AddConstraint(
            model_name="subjectlink",
            constraint=models.UniqueConstraint(
                fields=("site", "subject_hmac", "visitor_id"), name="subject_link_unique"
            ),
        ),
        migrations.RunPython(ledger_guards_widen, ledger_guards_drop, elidable=False),
    ]
