from collections.abc import Mapping

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def published_list_versions(site: object) -> Mapping[int, str]:
    """The site's published sub-processor list versions: number -> content SHA-256."""
    from subprocessors.models import SubprocessorListVersion

    return dict(SubprocessorListVersion.objects.filter(site=site).values_list("number", "content_sha256"))


class SubprocessorsConfig(AppConfig):
    name = "subprocessors"
    verbose_name = _("Sub-processors")

    def ready(self) -> None:
        from consent.pins import pin_kind_register
        from subprocessors import tasks  # noqa: F401  (registers the jobs)

        # Consent records pin the list version the visitor was shown (EU-10).
        pin_kind_register("subprocessors", published_list_versions)
