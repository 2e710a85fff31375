"""Objections in the back office: read-only evidence, answered by a DPO."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin
from consent.tenancy.selectors import EDITOR_ROLES, site_ids_for_user
from edge.client import client_ip
from subprocessors.models import (
    Objection,
)
from subprocessors.objections.services import objection_answer


class ObjectionAnswerForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), label=_("Answer (emailed to the subscriber)")
    )


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = ["created_at", "site", "vendor_name", "version_number", "email", "is_answered"]
    list_select_related = ["site", "version"]
    search_fields = ["email", "vendor_name"]
    fields = [
        "created_at",
        "site",
        "version",
        "vendor_key",
        "vendor_name",
        "email",
        "reason",
        "answers_display",
    ]
    readonly_fields = fields

    @admin.display(description="version")
    def version_number(self, objection: Objection) -> int:
        return objection.version.number

    @admin.display(boolean=True, description="answered")
    def is_answered(self, objection: Objection) -> bool:
        return objection.answers.exists()

    @admin.display(description="answers")
    def answers_display(self, objection: Objection) -> str:
        answers = list(objection.answers.select_related("answered_by"))
        link = format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:subprocessors_objection_answer", args=[objection.pk]),
            pgettext("button", "Answer"),
        )
        if not answers:
            return format_html(gettext("Not answered yet. {}"), link)
        rows = format_html(
            "".join(["<p>{}:<br>{}</p>"] * len(answers)),
            *[
                value
                for a in answers
                for value in (
                    format_html(
                        gettext("{time} by {person}"),
                        time=format_html("<strong>{}</strong>", f"{a.created_at:%Y-%m-%d %H:%M}"),
                        person=a.answered_by,
                    ),
                    a.text,
                )
            ],
        )
        return format_html("{}{}", rows, link)

    def get_urls(self) -> list[URLPattern]:
        answer = path(
            "<int:pk>/answer/",
            self.admin_site.admin_view(self.answer_view),
            name="subprocessors_objection_answer",
        )
        return [answer, *super().get_urls()]

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        objection = get_object_or_404(self.get_queryset(request), pk=pk)
        if not (
            request.user.is_superuser
            or objection.site_id in site_ids_for_user(user=request.user, roles=EDITOR_ROLES)
        ):
            raise PermissionDenied
        form = ObjectionAnswerForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            objection_answer(
                objection=objection,
                text=form.cleaned_data["text"],
                by=request.user,
                ip=client_ip(request) or None,
            )
            messages.success(
                request, gettext("Answer recorded and emailed to %(email)s.") % {"email": objection.email}
            )
            return HttpResponseRedirect(reverse("admin:subprocessors_objection_change", args=[objection.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Answer the objection to %(vendor)s") % {"vendor": objection.vendor_name},
            "opts": self.model._meta,
            "objection": objection,
            "form": form,
        }
        return TemplateResponse(request, "admin/subprocessors/objection_answer.html", context)
