"""Create (idempotently) the demo site `demo`, its purposes, and a local admin account."""

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from consent.models import DocumentKind, PolicyDocument, Purpose, Role, Site
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.sites.services import necessary_purpose_ensure, purpose_create, site_create, site_origin_add
from consent.tenancy.services import site_member_set
from demo import content as text

DEMO_KEY = "demo"


def demo_origins() -> list[str]:
    """Where the demo page is served (PUBLIC_BASE_URL; `make run PORT=…` sets it) under both
    names a developer may type, so the banner on it may send consents."""
    base = settings.PUBLIC_BASE_URL
    return list(dict.fromkeys([base, base.replace("://127.0.0.1", "://localhost")]))


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
                origins=demo_origins(),
                by=None,
            )
            self.stdout.write(f"Created the demo site '{DEMO_KEY}'.")
        necessary_purpose_ensure(site=site)
        for origin in demo_origins():
            if not site.origins.filter(origin=origin).exists():
                site_origin_add(site=site, origin=origin, by=None)
        for key, (position, is_sale_or_share, texts) in DEMO_PURPOSES.items():
            if not Purpose.objects.filter(site=site, key=key).exists():
                purpose_create(
                    site=site,
                    key=key,
                    texts=texts,
                    is_sale_or_share=is_sale_or_share,
                    position=position,
                    by=None,
                )

        password = self._admin_ensure(admin_username, Path(admin_password_file))
        dpo = self._dpo_ensure(site, password)
        self._documents_ensure(site, dpo)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready.\n"
                f"  Demo page:  {settings.PUBLIC_BASE_URL}/demo/\n"
                f"  Policies:   {settings.PUBLIC_BASE_URL}/s/demo/policies/\n"
                f"  Admin:      {settings.PUBLIC_BASE_URL}/admin/\n"
                f"  Username:   {admin_username} (superuser) or {dpo.username} (the demo site's DPO)\n"
                f"  Password:   {password}   (kept in {admin_password_file})"
            )
        )

    def _dpo_ensure(self, site: Site, password: str) -> AbstractUser:
        membership = site_member_set(site=site, email="dpo@demo.example", role=Role.DPO, by=None)
        user = membership.user
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return user

    def _documents_ensure(self, site: Site, dpo: AbstractUser) -> None:
        """Publish the demo documents once: a history for the privacy policy, one edition of the rest."""
        if PolicyDocument.objects.filter(site=site).exists():
            return
        now = timezone.now().replace(second=0, microsecond=0)
        privacy = policy_document_create(
            site=site, kind=DocumentKind.PRIVACY_POLICY, prevailing_language="ru", by=None
        )
        day = timedelta(days=1)
        # (en, ru, published, effective, material, change kinds); the last one is upcoming: a new purpose
        # and new recipients, published with the full notice period.
        editions = [
            (text.PRIVACY_EN_V1, text.PRIVACY_RU_V1, now - 200 * day, now - 200 * day, False, []),
            (text.PRIVACY_EN_V2, text.PRIVACY_RU_V2, now - 60 * day, now - 60 * day, False, []),
            (
                text.PRIVACY_EN_V3,
                text.PRIVACY_RU_V3,
                now - 10 * day,
                now + 20 * day,
                True,
                ["new_purpose", "new_recipient"],
            ),
        ]
        summaries = [
            "First edition.",
            "How to send a request; response times per country.",
            "Email recommendations with separate consent; marketing data shared with advertising partners.",
        ]
        for (en, ru, published_at, effective_at, is_material, kinds), summary in zip(
            editions, summaries, strict=True
        ):
            policy_text_set(document=privacy, language="en", title="Privacy policy", body=en, by=None)
            policy_text_set(
                document=privacy, language="ru", title="Политика конфиденциальности", body=ru, by=None
            )
            policy_version_publish(
                document=privacy,
                effective_at=effective_at,
                by=dpo,
                now=published_at,
                summary=summary,
                is_material=is_material,
                change_kinds=kinds,
                affected_purposes=["marketing"] if is_material else [],
            )
        cookie_texts = {
            "en": ("Cookie policy", text.COOKIE_EN),
            "ru": ("Политика в отношении cookie", text.COOKIE_RU),
        }
        california_texts = {"en": ("California notice at collection", text.CALIFORNIA_EN)}
        consent_texts = {
            "ru": ("Согласие на обработку персональных данных", text.CONSENT_RU),
            "en": ("Consent to personal data processing", text.CONSENT_EN),
        }
        singles = [
            (DocumentKind.COOKIE_POLICY, [], "en", cookie_texts),
            (DocumentKind.CALIFORNIA_NOTICE, ["US-CA", "US-UOOM", "US"], "en", california_texts),
            (DocumentKind.PD_CONSENT, ["RU"], "ru", consent_texts),
        ]
        for kind, jurisdictions, prevailing, texts in singles:
            document = policy_document_create(
                site=site,
                kind=kind,
                jurisdictions=jurisdictions,
                prevailing_language=prevailing,
                languages=list(texts),
                by=None,
            )
            for language, (title, body) in texts.items():
                policy_text_set(document=document, language=language, title=title, body=body, by=None)
            published_at = now - timedelta(days=200)
            policy_version_publish(
                document=document,
                effective_at=published_at,
                by=dpo,
                now=published_at,
                summary="First edition.",
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
