"""Cookie descriptions per language (CookieTranslation): each existing text moves under its site's default
language, then the single-language column goes. Reversible: the default-language text comes back."""

import django.db.models.deletion
from django.db import migrations, models


def texts_to_translations(apps, schema_editor):
    Cookie = apps.get_model("cookies", "Cookie")
    CookieTranslation = apps.get_model("cookies", "CookieTranslation")
    CookieTranslation.objects.bulk_create(
        [
            CookieTranslation(
                cookie=row, language=row.site.default_language, description=row.description.strip()
            )
            for row in Cookie.objects.select_related("site").iterator()
            if row.description.strip()
        ]
    )


def translations_to_texts(apps, schema_editor):
    Cookie = apps.get_model("cookies", "Cookie")
    CookieTranslation = apps.get_model("cookies", "CookieTranslation")
    for row in Cookie.objects.select_related("site").iterator():
        texts = {t.language: t.description for t in CookieTranslation.objects.filter(cookie=row)}
        text = texts.get(row.site.default_language) or next(iter(texts.values()), "")
        Cookie.objects.filter(pk=row.pk).update(description=text)


class Migration(migrations.Migration):
    dependencies = [
        ("cookies", "0003_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="CookieTranslation",
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
                    "description",
                    models.TextField(
                        help_text="What it stores and why, in plain words.", verbose_name="description"
                    ),
                ),
                (
                    "cookie",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="translations",
                        to="cookies.cookie",
                        verbose_name="cookie",
                    ),
                ),
            ],
            options={
                "verbose_name": "cookie text",
                "verbose_name_plural": "cookie texts",
                "ordering": ["cookie", "language"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("cookie", "language"), name="cookie_translation_unique_language"
                    )
                ],
            },
        ),
        migrations.RunPython(texts_to_translations, translations_to_texts),
        # A default first, so that going back can add the column again to rows that exist.
        migrations.AlterField(
            model_name="cookie",
            name="description",
            field=models.TextField(
                default="", help_text="What it stores and why, in plain words.", verbose_name="description"
            ),
        ),
        migrations.RemoveField(
            model_name="cookie",
            name="description",
        ),
    ]
