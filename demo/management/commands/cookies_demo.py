"""Publish the demo site's banner (idempotent): run after consent_demo and subprocessors_demo."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from consent.models import Role, Site, SiteMembership
from cookies.banner.services import banner_settings_ensure, banner_text_set, banner_version_publish
from cookies.models import BannerVersion


class Command(BaseCommand):
    help = "Give the demo site its banner texts and publish banner version 1. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or settings.TESTING):
            raise CommandError("cookies_demo is for local demos; run it only with DEBUG=true.")
        site = Site.objects.filter(key="demo").first()
        if site is None:
            raise CommandError("Run consent_demo first: there is no demo site.")
        banner_settings_ensure(site=site)
        if BannerVersion.objects.filter(site=site).exists():
            self.stdout.write("The demo banner is already published.")
            return
        banner_text_set(
            site=site,
            language="en",
            title="Cookies at the demo shop",
            body="We would like to use optional cookies to count visits and to show you relevant ads. "
            "They run only if you allow them; the necessary ones keep the shop working.",
            by=None,
        )
        banner_text_set(
            site=site,
            language="ru",
            title="Cookie в демо-магазине",
            body="Мы хотели бы использовать необязательные cookie, чтобы считать посещения и показывать "
            "подходящую рекламу. Они работают, только если вы их разрешите; "
            "необходимые нужны для работы магазина.",
            by=None,
        )
        dpo = SiteMembership.objects.filter(site=site, role=Role.DPO).select_related("user").first()
        if dpo is None:
            raise CommandError("The demo site has no DPO: run consent_demo first.")
        version = banner_version_publish(site=site, by=dpo.user, change_note="First banner.")
        self.stdout.write(f"Published the demo banner v{version.number}.")
