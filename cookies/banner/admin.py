"""The banner in the back office: texts, settings, a live preview and publishing banner versions."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.content.selectors import MissingText
from consent.languages import VISITOR_LANGUAGES
from consent.models import Site
from consent.rules.jurisdictions import RULESETS
from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin, form_changes, instance_adopt
from consent.tenancy.selectors import site_ids_for_user
from cookies.banner.selectors import banner_version_latest, site_content_missing
from cookies.banner.services import (
    BANNER_SETTINGS_FIELDS,
    banner_content,
    banner_settings_create,
    banner_settings_update,
    banner_text_delete,
    banner_text_set,
    banner_text_update,
    banner_version_publish,
)
from cookies.banner.views import banner_preview_token
from cookies.models import BannerSettings, BannerText, BannerVersion
from edge.client import client_ip


@admin.register(BannerText)
class BannerTextAdmin(SiteScopedModelAdmin):
    """The site's own banner title and body per language (the rest of the UI is built in)."""

    list_display = ["site", "language", "title"]
    list_filter = ["language"]
    list_select_related = ["site"]
    fields = ["site", "language", "title", "body"]

    def get_readonly_fields(self, request: HttpRequest, obj: BannerText | None = None) -> list[str]:
        # A text stays with its site.
        return ["site"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: BannerText, form: forms.ModelForm, change: bool) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                instance_adopt(obj, self.service_call(request, banner_text_update, text=obj, **changes))
            return
        data = form.cleaned_data
        text = self.service_call(
            request, banner_text_set, site=data["site"], language=data["language"], title=data["title"],
            body=data["body"],
        )  # fmt: skip
        instance_adopt(obj, text)

    def delete_model(self, request: HttpRequest, obj: BannerText) -> None:
        self.service_call(request, banner_text_delete, text=obj)


@admin.register(BannerSettings)
class BannerSettingsAdmin(SiteScopedModelAdmin):
    """The banner working copy: look and Consent Mode mapping, the site's texts, a live preview,
    the install tag, and "Publish" (owners and DPOs)."""

    list_display = ["site", "position", "layout", "published_version"]
    list_select_related = ["site"]
    change_form_template = "admin/cookies/bannersettings/change_form.html"
    delete_roles = frozenset()
    fieldsets = [
        (None, {"fields": ["site", "install_tag"]}),
        ("Look", {"fields": ["position", "layout", "color_background", "color_text", "color_accent",
                             "color_accent_text", "radius"]}),
        ("Google Consent Mode v2", {"fields": ["consent_mode"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: BannerSettings | None = None) -> list[str]:
        return ["site", "install_tag"] if obj is not None else ["install_tag"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        for name in ("color_background", "color_text", "color_accent", "color_accent_text"):
            if name in form.base_fields:
                form.base_fields[name].widget = forms.TextInput(attrs={"type": "color"})
        return form

    def save_model(
        self, request: HttpRequest, obj: BannerSettings, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            changes = form_changes(form)
            if changes:
                saved = self.service_call(request, banner_settings_update, settings_row=obj, **changes)
                instance_adopt(obj, saved)
            return
        data = {name: form.cleaned_data[name] for name in BANNER_SETTINGS_FIELDS if name in form.cleaned_data}
        instance_adopt(
            obj, self.service_call(request, banner_settings_create, site=form.cleaned_data["site"], **data)
        )

    @admin.display(description=_("Install"))
    def install_tag(self, settings_row: BannerSettings) -> str:
        if not settings_row.pk:
            return gettext("Save first.")
        return format_html(
            '<code id="consentry-install-tag">&lt;script src="{}/c/{}.js" async&gt;&lt;/script&gt;</code> '
            '<button type="button" class="button" data-copy-target="consentry-install-tag">{}</button>',
            settings.PUBLIC_BASE_URL,
            settings_row.site.key,
            gettext("Copy"),
        )

    @admin.display(description=_("Published"))
    def published_version(self, settings_row: BannerSettings) -> str:
        version = banner_version_latest(site=settings_row.site)
        if version is None:
            return gettext("not yet")
        return gettext("v%(number)s (%(date)s)") % {
            "number": version.number,
            "date": f"{version.published_at:%Y-%m-%d}",
        }

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="cookies_banner_publish",
            ),
            path(
                "languages/<int:site_id>/",
                self.admin_site.admin_view(self.languages_view),
                name="cookies_site_languages",
            ),
            *super().get_urls(),
        ]

    def languages_view(self, request: HttpRequest, site_id: int) -> HttpResponse:
        """Per language of the site: who requires it and what a visitor would miss, each with a link to
        where it is written. Members of the site only (any role: viewers see what is missing too)."""
        if not request.user.is_superuser and site_id not in site_ids_for_user(user=request.user):
            raise Http404
        site = Site.objects.filter(pk=site_id).first()
        if site is None:
            raise Http404
        languages = [
            {
                "content": content,
                "name": f"{VISITOR_LANGUAGES.get(content.language, content.language)} ({content.language})",
                "missing": [(text, _missing_text_link(site, text)) for text in content.missing],
            }
            for content in site_content_missing(site=site)
        ]
        settings_row = BannerSettings.objects.filter(site=site).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Languages of %(site)s") % {"site": site},
            "site_obj": site,
            "languages": languages,
            "settings_row": settings_row,
        }
        return TemplateResponse(request, "admin/cookies/site_languages.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        settings_row = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_publish": settings_row is not None and self.has_change_permission(request, settings_row),
            "working_diff": settings_row is not None and self._working_differs(settings_row),
            "preview_token": banner_preview_token(site=settings_row.site) if settings_row else "",
            "jurisdictions": list(RULESETS),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _working_differs(self, settings_row: BannerSettings) -> bool:
        latest = banner_version_latest(site=settings_row.site)
        return latest is None or latest.content != banner_content(site=settings_row.site)

    def publish_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        settings_row = self.get_object(request, str(object_id))
        if settings_row is None:
            raise Http404
        if request.method != "POST" or not self.has_change_permission(request, settings_row):
            raise PermissionDenied
        try:
            version = banner_version_publish(
                site=settings_row.site, by=request.user, change_note=request.POST.get("change_note", ""),
                ip=client_ip(request),
            )  # fmt: skip
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("Published banner v%(number)s: visitors see it now.") % {"number": version.number},
                messages.SUCCESS,
            )
        return redirect("admin:cookies_bannersettings_change", settings_row.pk)


def _missing_text_link(site: Site, text: MissingText) -> str:
    """The admin page where `text` is written."""
    if text.kind == "banner":
        existing = BannerText.objects.filter(site=site, language=text.language).first()
        if existing is not None:
            return reverse("admin:cookies_bannertext_change", args=[existing.pk])
        return reverse("admin:cookies_bannertext_add") + f"?site={site.pk}&language={text.language}"
    name = {
        "purpose": "admin:consent_purpose_change",
        "cookie": "admin:cookies_cookie_change",
        "vendor": "admin:subprocessors_vendor_change",
        "policy": "admin:consent_policydocument_change",
    }[text.kind]
    return reverse(name, args=[text.object_id])


@admin.register(BannerVersion)
class BannerVersionAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["site", "number", "published_at", "published_by", "change_note"]
    list_select_related = ["site", "published_by"]
    fields = ["site", "number", "published_at", "published_by", "published_from_ip", "change_note"]
    fields += ["content_sha256", "content"]
    readonly_fields = fields
