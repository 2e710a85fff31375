"""API tokens in the back office: a site's owners and DPOs make them (shown once) and revoke them."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from consent.models import ApiToken, TokenScope
from consent.tenancy.scoping import AdminRefusal, SiteScopedModelAdmin
from consent.tenancy.selectors import EDITOR_ROLES
from consent.tokens.services import token_create, token_revoke


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        label=_("scopes"),
        help_text=_("No wider than your role on the site allows; `publish` of policy versions needs a DPO."),
    )

    class Meta:
        model = ApiToken
        fields = ["site", "name", "scopes", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(SiteScopedModelAdmin):
    form = ApiTokenForm
    change_roles = EDITOR_ROLES
    list_display = [
        "name",
        "visible_prefix",
        "site",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "state",
    ]
    list_filter = ["site"]
    search_fields = ["name", "prefix"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "site",
        "name",
        "visible_prefix",
        "scopes",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]

    @admin.display(description=_("prefix"))
    def visible_prefix(self, token: ApiToken) -> str:
        return token.visible_prefix

    @admin.display(description=_("state"))
    def state(self, token: ApiToken) -> str:
        if token.revoked_at is not None:
            return gettext("revoked")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            return gettext("expired")
        return gettext("active")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return ["site", "name", "scopes", "expires_at"] if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: audit rows name tokens

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        if change:
            raise AdminRefusal(gettext("A token cannot be changed; revoke it and make a new one."))
        token, raw = self.service_call(
            request,
            token_create,
            site=form.cleaned_data["site"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        request._api_token_raw = raw  # type: ignore[attr-defined]  # for response_add only

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The token itself goes into this one page, never into a message (messages may be kept in a cookie).
        response = TemplateResponse(
            request,
            "admin/consent/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "token": obj,
                "raw": request._api_token_raw,  # type: ignore[attr-defined]
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.select_related("site"))
        for token in tokens:
            self.service_call(request, token_revoke, token=token)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens))
            % {"count": len(tokens)},
            messages.SUCCESS,
        )
