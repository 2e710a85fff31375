from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo: its content, the commands that load it and the stand-in customer pages.

    Installed always (so `manage.py consent_demo` works anywhere), routed only when DEBUG or
    DEMO is on (config/urls.py): a production deployment never serves the fake trackers.
    """

    name = "demo"
    verbose_name = _("Demo")
