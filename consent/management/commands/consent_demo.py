"""Create (idempotently) the demo site `demo`, its purposes, and a local admin account."""

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from consent.models import Purpose, Site
from consent.services import necessary_purpose_ensure, purpose_create, site_create, site_origin_add

DEMO_KEY = "demo"
DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]

# key -> (position, sold or shared?, {language: (name, description)})
DEMO_PURPOSES: dict[str, tuple[int, bool, dict[str, tuple[str, str]]]] = {
    "preferences": (
        10,
        False,
        {
            "en": ("Preferences", "Remember settings you choose, such as language and region."),
            "ru": ("Предпочтения", "Запоминают выбранные вами настройки, например язык и регион."),
        },
    ),
    "analytics": (
        20,
        False,
        {
            "en": ("Analytics", "Count visits and see which pages are used, so we can improve the site."),
            "ru": (
                "Аналитика",
                "Считают посещения и показывают, какими страницами пользуются, чтобы улучшать сайт.",
            ),
        },
    ),
    "marketing": (
        30,
        True,
        {
            "en": ("Marketing", "Show you relevant ads on other sites and measure how they perform."),
            "ru": (
                "Маркетинг",
                "Показывают вам подходящую рекламу на других сайтах и измеряют её эффективность.",
            ),
        },
    ),
}


class Command(BaseCommand):
    help = "Create the demo site (key 'demo') with its purposes, and a local admin account. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument(
            "--admin-password-file",
            default=str(Path(settings.BASE_DIR) / "var" / "dev-admin-password"),
            help="Where the generated admin password is kept between runs.",
        )

    @transaction.atomic
    def handle(self, *args: Any, admin_username: str, admin_password_file: str, **options: Any) -> None:
        if not (settings.DEBUG or settings.TESTING):
            raise CommandError("consent_demo creates a known admin account; run it only with DEBUG=true.")
        site = Site.objects.filter(key=DEMO_KEY).first()
        if site is None:
            site = site_create(
                key=DEMO_KEY,
                name="Consentry demo shop",
                default_language="en",
                languages=["en", "ru"],
                default_jurisdiction="EU",
                origins=DEMO_ORIGINS,
            )
            self.stdout.write(f"Created the demo site '{DEMO_KEY}'.")
        necessary_purpose_ensure(site=site)
        for origin in DEMO_ORIGINS:
            if not site.origins.filter(origin=origin).exists():
                site_origin_add(site=site, origin=origin)
        for key, (position, is_sale_or_share, texts) in DEMO_PURPOSES.items():
            if not Purpose.objects.filter(site=site, key=key).exists():
                purpose_create(
                    site=site, key=key, texts=texts, is_sale_or_share=is_sale_or_share, position=position
                )

        password = self._admin_ensure(admin_username, Path(admin_password_file))
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready.\n"
                "  Demo page:  http://127.0.0.1:8000/demo/\n"
                "  Admin:      http://127.0.0.1:8000/admin/\n"
                f"  Username:   {admin_username}\n"
                f"  Password:   {password}   (kept in {admin_password_file})"
            )
        )

    def _admin_ensure(self, username: str, password_file: Path) -> str:
        User = get_user_model()
        if password_file.is_file():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        user = User.objects.filter(username=username).first()
        if user is None:
            User.objects.create_superuser(username=username, email=f"{username}@localhost", password=password)
        elif not user.check_password(password):
            # The password file is the source of truth for the local account.
            user.set_password(password)
            user.save(update_fields=["password"])
        return password
