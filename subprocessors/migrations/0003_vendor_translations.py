"""Vendor purposes per language (VendorTranslation): each existing text moves under its site's default
language, then the single-language column goes. Reversible: the default-language text comes back."""

import django.db.models.deletion
from django.db import migrations, models


def texts_to_translations(apps, schema_editor):
    Vendor = apps.get_model("subprocessors", "Vendor")
    VendorTranslation = apps.get_model("subprocessors", "VendorTranslation")
    VendorTranslation.objects.bulk_create(
        [
            VendorTranslation(vendor=row, language=row.site.default_language, purpose=row.purpose.strip())
            for row in Vendor.objects.select_related("site").iterator()
            if row.purpose.strip()
        ]
    )


def translations_to_texts(apps, schema_editor):
    Vendor = apps.get_model("subprocessors", "Vendor")
    VendorTranslation = apps.get_model("subprocessors", "VendorTranslation")
    for row in Vendor.objects.select_related("site").iterator():
        texts = {t.language: t.purpose for t in VendorTranslation.objects.filter(vendor=row)}
        text = texts.get(row.site.default_language) or next(iter(texts.values()), "")
        Vendor.objects.filter(pk=row.pk).update(purpose=text)


class Migration(migrations.Migration):
    dependencies = [
        ("subprocessors", "0002_subscriber_language_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="VendorTranslation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[
                            ("bg", "Български (bg)"),
                            ("cs", "Čeština (cs)"),
                            ("da", "Dansk (da)"),
                            ("de", "Deutsch (de)"),
                            ("el", "Ελληνικά (el)"),
                            ("en", "English (en)"),
                            ("es", "Español (es)"),
                            ("et", "Eesti (et)"),
                            ("fi", "Suomi (fi)"),
                            ("fr", "Français (fr)"),
                            ("ga", "Gaeilge (ga)"),
                            ("hr", "Hrvatski (hr)"),
                            ("hu", "Magyar (hu)"),
                            ("it", "Italiano (it)"),
                            ("lt", "Lietuvių (lt)"),
                            ("lv", "Latviešu (lv)"),
                            ("mt", "Malti (mt)"),
                            ("nl", "Nederlands (nl)"),
                            ("pl", "Polski (pl)"),
                            ("pt", "Português (pt)"),
                            ("ro", "Română (ro)"),
                            ("sk", "Slovenčina (sk)"),
                            ("sl", "Slovenščina (sl)"),
                            ("sv", "Svenska (sv)"),
                            ("ru", "Русский (ru)"),
                            ("kk", "Қазақ тілі (kk)"),
                            ("uk", "Українська (uk)"),
                            ("tr", "Türkçe (tr)"),
                            ("ar", "العربية (ar)"),
                            ("he", "עברית (he)"),
                            ("nb", "Norsk bokmål (nb)"),
                            ("is", "Íslenska (is)"),
                        ],
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                (
                    "purpose",
                    models.TextField(
                        help_text="The service it provides and why personal data is shared.",
                        verbose_name="purpose",
                    ),
                ),
                (
                    "vendor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="translations",
                        to="subprocessors.vendor",
                        verbose_name="vendor",
                    ),
                ),
            ],
            options={
                "verbose_name": "vendor text",
                "verbose_name_plural": "vendor texts",
                "ordering": ["vendor", "language"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("vendor", "language"), name="vendor_translation_unique_language"
                    )
                ],
            },
        ),
        migrations.RunPython(texts_to_translations, translations_to_texts),
        # A default first, so that going back can add the column again to rows that exist.
        migrations.AlterField(
            model_name="vendor",
            name="purpose",
            field=models.TextField(
                default="",
                help_text="The service it provides and why personal data is shared.",
                verbose_name="purpose",
            ),
        ),
        migrations.RemoveField(
            model_name="vendor",
            name="purpose",
        ),
    ]
