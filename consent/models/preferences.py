"""A back-office user's own settings: the admin's language, wherever they log in."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES


class AdminPreference(models.Model):
    """One row per user who chose something: the admin follows it on every request, in every
    browser (the language cookie only remembers the choice on one browser, for its login page)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="admin_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("language"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("admin preference")
        verbose_name_plural = _("admin preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
