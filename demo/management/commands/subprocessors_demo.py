"""Give the demo site (from consent_demo) its eight vendors, their cookies and a list history.

Idempotent: vendors and cookies are created when missing; the list history (two versions in
force, one upcoming addition inside its notice period) is published only when the site has
no version yet, through the publishing service with explicit dates, so it obeys the notice
rule like any real history.

Facts are the vendors' public ones as we know them; where we are not sure, a comment says so
and the value must be checked against the vendor's DPA before a real site relies on it.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from consent.models import Purpose, Site
from cookies.catalogue.services import cookie_create, cookie_translation_set
from cookies.models import Cookie
from subprocessors.lists.services import subprocessor_list_publish, vendor_create, vendor_translation_set
from subprocessors.models import SubprocessorListVersion, Vendor

DEMO_KEY = "demo"
TIA_EU_RU = "TIA-2026-03 (EU to Russia, reviewed by counsel)"  # demo reference
TIA_EU_US = "TIA-2026-01 (EU to US)"  # demo reference

VENDORS: list[dict[str, Any]] = [
    {
        "key": "google",
        "name": "Google Analytics",
        "legal_entity": "Google Ireland Limited",
        "address": "Gordon House, Barrow Street, Dublin 4, Ireland",
        "contact": "https://support.google.com/policies/contact/general_privacy_form",
        "website": "https://marketingplatform.google.com/about/analytics/",
        "privacy_policy_url": "https://policies.google.com/privacy",
        "dpa_url": "https://business.safety.google/adsprocessorterms/",
        "purpose": "Measures visits and how pages are used, in aggregate.",
        "data_categories": ["online identifiers", "device and browser data", "usage data"],
        "locations": ["IE", "US"],
        "transfer_mechanisms": ["eu_us_dpf"],  # Google LLC is on the DPF list
        "category": "analytics",
    },
    {
        "key": "intercom",
        "name": "Intercom",
        "legal_entity": "Intercom R&D Unlimited Company",
        # Street address as published in Intercom's terms; check it against the signed DPA.
        "address": "2nd Floor, Stephen Court, 18-21 St. Stephen's Green, Dublin 2, Ireland",
        "contact": "https://www.intercom.com/legal/privacy",
        "website": "https://www.intercom.com",
        "privacy_policy_url": "https://www.intercom.com/legal/privacy",
        "dpa_url": "https://www.intercom.com/legal/data-processing-agreement",
        "purpose": "Runs the support chat and help-centre messages.",
        "data_categories": ["contact details", "messages", "online identifiers"],
        "locations": ["IE", "US"],
        "transfer_mechanisms": ["eu_us_dpf", "sccs"],
        "transfer_assessment_ref": TIA_EU_US,
        "category": "support",
    },
    {
        "key": "meta",
        "name": "Meta (Facebook) Pixel",
        "legal_entity": "Meta Platforms Ireland Limited",
        "address": "Merrion Road, Dublin 4, D04 X2K5, Ireland",
        "contact": "https://www.facebook.com/privacy/policy/",
        "website": "https://www.facebook.com/business/tools/meta-pixel",
        "privacy_policy_url": "https://www.facebook.com/privacy/policy/",
        "dpa_url": "https://www.facebook.com/legal/terms/dataprocessing",
        "purpose": "Measures ad conversions and builds audiences for ads on Facebook and Instagram.",
        "data_categories": ["online identifiers", "events on the site"],
        "locations": ["IE", "US"],
        "transfer_mechanisms": ["eu_us_dpf"],  # Meta Platforms, Inc. is on the DPF list
        "category": "advertising",
    },
    {
        "key": "yandex",
        "name": "Yandex Metrica",
        "legal_entity": "YANDEX LLC",
        "address": "16 Lva Tolstogo St., Moscow, 119021, Russia",
        "contact": "https://yandex.com/legal/confidential/",
        "website": "https://metrica.yandex.com",
        "privacy_policy_url": "https://yandex.com/legal/confidential/",
        "purpose": "Measures visits and how pages are used (web analytics for Russian visitors).",
        "data_categories": ["online identifiers", "device and browser data", "usage data"],
        "locations": ["RU"],
        # Russia has no EU adequacy decision: EU data goes under SCCs with an assessment.
        "transfer_mechanisms": ["sccs"],
        "transfer_assessment_ref": TIA_EU_RU,
        "category": "analytics",
    },
    {
        "key": "vk",
        "name": "VK Pixel",
        "legal_entity": "LLC VK",
        "address": "Leningradsky prospekt 39, bldg. 79, Moscow, 125167, Russia",
        "contact": "https://vk.com/privacy",
        "website": "https://vk.com",
        "privacy_policy_url": "https://vk.com/privacy",
        "purpose": "Measures ad conversions for VK advertising.",
        "data_categories": ["online identifiers", "events on the site"],
        "locations": ["RU"],
        "transfer_mechanisms": ["sccs"],
        "transfer_assessment_ref": TIA_EU_RU,
        "category": "advertising",
    },
    {
        "key": "mytarget",
        "name": "myTarget",
        # myTarget is VK's ad platform; we believe LLC VK is the contracting entity for
        # Russian advertisers (international advertisers contracted with a VK group company
        # abroad). Confirm against the myTarget terms before relying on it.
        "legal_entity": "LLC VK",
        "address": "Leningradsky prospekt 39, bldg. 79, Moscow, 125167, Russia",
        "contact": "https://target.my.com",
        "website": "https://target.my.com",
        "purpose": "Serves and measures ads in the VK advertising network (retargeting counter).",
        "data_categories": ["online identifiers", "events on the site"],
        "locations": ["RU"],
        "transfer_mechanisms": ["sccs"],
        "transfer_assessment_ref": TIA_EU_RU,
        "category": "advertising",
    },
    {
        "key": "carrotquest",
        "name": "Carrot quest",
        "legal_entity": 'LLC "Carrot quest"',
        # We do not know the registered street address for certain: take it from the DPA.
        "address": "Russia (registered address: see the signed DPA)",
        "contact": "https://www.carrotquest.io",
        "website": "https://www.carrotquest.io",
        "purpose": "Runs the chat widget and triggered messages to visitors.",
        "data_categories": ["contact details", "messages", "online identifiers", "usage data"],
        "locations": ["RU"],
        "transfer_mechanisms": ["sccs"],
        "transfer_assessment_ref": TIA_EU_RU,
        "category": "support",
    },
    {
        "key": "hotjar",
        "name": "Hotjar",
        "legal_entity": "Hotjar Ltd",
        # Hotjar is in St Julian's, Malta; the exact street line should be checked in its DPA.
        "address": "Dante Business Centre, 1st Floor, St Julian's, Malta",
        "contact": "https://www.hotjar.com/legal/policies/privacy/",
        "website": "https://www.hotjar.com",
        "privacy_policy_url": "https://www.hotjar.com/legal/policies/privacy/",
        "dpa_url": "https://www.hotjar.com/legal/support/dpa/",
        "purpose": "Records heatmaps and anonymised session replays to find usability problems.",
        "data_categories": ["online identifiers", "device and browser data", "usage data"],
        # Hosting in the EU (Ireland); some of Hotjar's own sub-processors are in the US.
        "locations": ["IE", "MT", "US"],
        "transfer_mechanisms": ["sccs"],
        "transfer_assessment_ref": TIA_EU_US,
        "category": "analytics",
    },
]

# The demo site serves Russian visitors (its RU consent document): each vendor's purpose and each
# cookie's description in Russian too, or the banner and the list could not be published.
VENDOR_PURPOSES_RU: dict[str, str] = {
    "google": "Измеряет посещаемость и то, как используются страницы, в обобщённом виде.",
    "intercom": "Обеспечивает работу чата поддержки и сообщений справочного центра.",
    "meta": "Измеряет конверсии рекламы и формирует аудитории для рекламы в Facebook и Instagram.",
    "yandex": "Измеряет посещаемость и то, как используются страницы "
    "(веб-аналитика для посетителей из России).",
    "vk": "Измеряет конверсии рекламы ВКонтакте.",
    "mytarget": "Показывает и измеряет рекламу в рекламной сети VK (счётчик ретаргетинга).",
    "carrotquest": "Обеспечивает работу виджета чата и автоматических сообщений посетителям.",
    "hotjar": "Записывает тепловые карты и обезличенные записи сеансов, "
    "чтобы находить неудобства в интерфейсе.",
}
COOKIE_DESCRIPTIONS_RU: dict[str, str] = {
    "csrftoken": "Защищает формы сайта от подделки межсайтовых запросов.",
    "_ga": "Различает посетителей для Google Analytics.",
    "_ga_*": "Хранит состояние сеанса ресурса Google Analytics 4.",
    "_gid": "Различает посетителей в течение суток (Google Analytics).",
    "_ym_uid": "Различает посетителей для Яндекс Метрики.",
    "_ym_d": "Дата первого посещения, для Яндекс Метрики.",
    "_hjSessionUser_*": "Различает посетителей для Hotjar.",
    "_fbp": "Различает браузеры для измерения рекламы Meta.",
    "tmr_lvid": "Различает посетителей для счётчика VK/myTarget.",
    "intercom-id-*": "Хранит анонимный идентификатор посетителя чата поддержки.",
    "intercom-session-*": "Сохраняет открытым разговор в чате поддержки.",
}

# (name, purpose key, vendor key or None, days or None, description, justification)
COOKIES: list[tuple[str, str, str | None, int | None, str, str]] = [
    ("csrftoken", "necessary", None, 365, "Protects the site's forms against cross-site request forgery.",
     "Security of forms the visitor submits; no tracking."),
    ("_ga", "analytics", "google", 730, "Distinguishes visitors for Google Analytics.", ""),
    ("_ga_*", "analytics", "google", 730, "Keeps the session state of a Google Analytics 4 property.", ""),
    ("_gid", "analytics", "google", 1, "Distinguishes visitors for a day (Google Analytics).", ""),
    ("_ym_uid", "analytics", "yandex", 365, "Distinguishes visitors for Yandex Metrica.", ""),
    ("_ym_d", "analytics", "yandex", 365, "Date of the first visit, for Yandex Metrica.", ""),
    ("_hjSessionUser_*", "analytics", "hotjar", 365, "Distinguishes visitors for Hotjar.", ""),
    ("_fbp", "marketing", "meta", 90, "Distinguishes browsers for Meta ads measurement.", ""),
    ("tmr_lvid", "marketing", "mytarget", 365, "Distinguishes visitors for the VK/myTarget counter.", ""),
    ("intercom-id-*", "preferences", "intercom", 270, "Keeps the support chat's anonymous visitor id.", ""),
    ("intercom-session-*", "preferences", "intercom", 7, "Keeps the support chat conversation open.", ""),
]  # fmt: skip

FIRST_VERSION = ["google", "intercom", "meta", "yandex", "vk", "carrotquest"]


class Command(BaseCommand):
    help = "Create the demo site's vendors, cookies and sub-processor list history. Idempotent."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or settings.TESTING):
            raise CommandError("subprocessors_demo writes demo data; run it only with DEBUG=true.")
        site = Site.objects.filter(key=DEMO_KEY).first()
        if site is None:
            raise CommandError("The demo site does not exist: run `manage.py consent_demo` first.")
        now = timezone.now().replace(microsecond=0)
        fresh = not SubprocessorListVersion.objects.filter(site=site).exists()
        vendors = {}
        try:
            for data in VENDORS:
                vendor = Vendor.objects.filter(site=site, key=data["key"]).first()
                if vendor is None:
                    vendor = vendor_create(
                        site=site,
                        dpf_checked_on=now.date() if "eu_us_dpf" in data["transfer_mechanisms"] else None,
                        is_listed=not fresh,
                        **data,
                        by=None,
                    )
                if "ru" in site.enabled_languages:
                    vendor_translation_set(
                        vendor=vendor, language="ru", purpose=VENDOR_PURPOSES_RU[vendor.key], by=None
                    )
                vendors[vendor.key] = vendor
            self._cookies(site, vendors)
            if fresh:
                self._history(site, vendors, now)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                "Sub-processors ready.\n"
                f"  List:  {settings.PUBLIC_BASE_URL}/s/{DEMO_KEY}/subprocessors/\n"
                f"  Feed:  {settings.PUBLIC_BASE_URL}/s/{DEMO_KEY}/subprocessors/feed.atom\n"
                f"  JSON:  {settings.PUBLIC_BASE_URL}/api/public/v1/sites/{DEMO_KEY}/subprocessors"
            )
        )

    def _cookies(self, site: Site, vendors: dict[str, Vendor]) -> None:
        purposes = {purpose.key: purpose for purpose in Purpose.objects.filter(site=site)}
        for name, purpose_key, vendor_key, days, description, justification in COOKIES:
            if purpose_key not in purposes or Cookie.objects.filter(site=site, name=name, domain="").exists():
                continue
            cookie = cookie_create(
                site=site,
                purpose=purposes[purpose_key],
                vendor=vendors[vendor_key] if vendor_key else None,
                name=name,
                duration_days=days,
                description=description,
                justification=justification,
                by=None,
            )
            if "ru" in site.enabled_languages:
                cookie_translation_set(
                    cookie=cookie, language="ru", description=COOKIE_DESCRIPTIONS_RU[name], by=None
                )

    def _history(self, site: Site, vendors: dict[str, Vendor], now: Any) -> None:
        """v1 120 days ago; v2 adds myTarget (published 60, effective 30 days ago);
        v3 adds Hotjar, published 10 days ago with 30 days' notice: upcoming in 20 days."""

        def listed(keys: list[str]) -> None:
            for key, vendor in vendors.items():
                if vendor.is_listed != (key in keys):
                    vendor.is_listed = key in keys
                    vendor.save(update_fields=["is_listed", "updated_at"])

        notice = timedelta(days=site.notice_period_days)
        first = now - timedelta(days=120)
        listed(FIRST_VERSION)
        subprocessor_list_publish(
            site=site, effective_at=first, change_note="The list as it stood.", by=None, ip=None, now=first
        )
        second = now - timedelta(days=60)
        listed([*FIRST_VERSION, "mytarget"])
        subprocessor_list_publish(
            site=site,
            effective_at=second + notice,
            change_note="myTarget measures our ads in the VK network.",
            by=None,
            ip=None,
            now=second,
        )
        third = now - timedelta(days=10)
        listed([*FIRST_VERSION, "mytarget", "hotjar"])
        subprocessor_list_publish(
            site=site,
            effective_at=third + notice,
            change_note="Hotjar will help us find usability problems.",
            by=None,
            ip=None,
            now=third,
        )
