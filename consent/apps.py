from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled
        from django.db.models.signals import post_migrate

        from consent import checks, tasks  # noqa: F401  (register the system checks and the jobs)
        from consent.dbroles import grants_ensure
        from consent.immutability import triggers_ensure_all
        from consent.ledger.idempotency import claim_trigger_ensure
        from consent.requests.services import requests_deadlines_watch
        from consent.sites.cors import cors_request_allowed
        from consent.webhooks.dispatch import webhook_detector_register

        # SQLite rebuilds a table to alter it, dropping its triggers: re-ensure them after
        # every migrate. Sent once per app; listening to this app's signal alone is enough,
        # since the handler covers every app's immutable tables.
        post_migrate.connect(triggers_ensure_all, sender=self)
        post_migrate.connect(claim_trigger_ensure, sender=self)
        # PostgreSQL with two roles: the application's share of a schema `migrate` just changed.
        post_migrate.connect(grants_ensure, sender=self)
        # Which origin may read a public answer: its site's registered origins (django-cors-headers).
        check_request_enabled.connect(cors_request_allowed, dispatch_uid="consent.sites.cors")
        # Data-subject requests due soon or overdue: their webhooks and the DPOs' reminders.
        webhook_detector_register(requests_deadlines_watch)
