from collections.abc import Mapping

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def published_banner_versions(site: object) -> Mapping[int, str]:
    """The site's published banner versions: number -> content SHA-256."""
    from cookies.models import BannerVersion

    return dict(BannerVersion.objects.filter(site=site).values_list("number", "content_sha256"))


class CookiesConfig(AppConfig):
    name = "cookies"
    verbose_name = _("Cookie banner")

    def ready(self) -> None:
        from consent.pins import pin_kind_register

        # Consent records pin the banner version the visitor saw (EU-8).
        pin_kind_register("banner", published_banner_versions)
