"""Data-subject requests in the back office: the DPO's queue (open requests first by due date,
overdue in red, due soon in amber) and each request's page with its clock, history and the actions
its status allows now, each a POST to one view that calls the service (consent/requests/services.py).
The request's own fields stay read-only: every change is an action.

Requests hold personal data (the requester's email), so only a site's owners and DPOs see them,
not its viewers; another site's people see nothing.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Model, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from consent.models import (
    FINAL_STATUS_LIST,
    DataSubjectRequest,
    RequestAction,
    RequestEvent,
    SiteMembership,
)
from consent.requests.admin_reports import RequestReportsAdminMixin
from consent.requests.answers import answer_templates, complaint_rights
from consent.requests.automation_admin import automation_context, automation_run
from consent.requests.package import request_packages
from consent.requests.services import (
    request_acknowledge,
    request_actions_allowed,
    request_assign,
    request_assignees,
    request_clock,
    request_close,
    request_extend,
    request_fulfil,
    request_info_ask,
    request_refuse,
)
from consent.rules.jurisdictions import RULESETS
from consent.tenancy.scoping import ReadOnlyAdminMixin, SiteScopedModelAdmin, request_site_ids
from consent.tenancy.selectors import EDITOR_ROLES
from edge.client import client_ip

# The actions with a text the DPO writes (prefilled from consent/requests/answers.py).
_TEXT_ACTIONS = {
    RequestAction.INFO_REQUESTED: "request_info",
    RequestAction.EXTENDED: "extend",
    RequestAction.FULFILLED: "fulfil",
    RequestAction.REFUSED: "refuse",
}

# What each action's button says (the history says what was done: RequestAction's labels).
_BUTTONS = {
    RequestAction.ACKNOWLEDGED: _("Acknowledge"),
    RequestAction.INFO_REQUESTED: _("Ask for more information"),
    RequestAction.EXTENDED: _("Extend, sending this notice"),
    RequestAction.FULFILLED: _("Fulfil, sending this answer"),
    RequestAction.REFUSED: _("Refuse, sending these reasons"),
    RequestAction.CLOSED: _("Close"),
}


class RequestActionForm(forms.Form):
    """One of the DPO's actions on a request, as its page's forms POST it."""

    action = forms.ChoiceField(
        choices=[
            (action, action)
            for action in (
                RequestAction.ACKNOWLEDGED,
                RequestAction.INFO_REQUESTED,
                RequestAction.EXTENDED,
                RequestAction.FULFILLED,
                RequestAction.REFUSED,
                RequestAction.CLOSED,
                RequestAction.ASSIGNED,
            )
        ]
    )
    text = forms.CharField(required=False, max_length=20000)
    assignee = forms.IntegerField(required=False, min_value=1)


class OpenFilter(admin.SimpleListFilter):
    """The queue shows open requests unless asked for the others."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("closed", _("Answered or closed")), ("all", _("All"))]

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Open"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "all":
            return queryset
        if self.value() == "closed":
            return queryset.filter(status__in=FINAL_STATUS_LIST)
        return queryset.exclude(status__in=FINAL_STATUS_LIST)  # as the partial index dsr_open_due_filed says


class JurisdictionFilter(admin.SimpleListFilter):
    """By the law a request was filed under: the rules table's codes (no DISTINCT over the table)."""

    title = _("jurisdiction")
    parameter_name = "jurisdiction"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(code, code) for code in sorted(RULESETS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(jurisdiction=self.value()) if self.value() else queryset


class AssigneeFilter(admin.SimpleListFilter):
    """By who handles it: only the people of the user's own sites are offered."""

    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        memberships = SiteMembership.objects.filter(role__in=EDITOR_ROLES)
        if not request.user.is_superuser:
            memberships = memberships.filter(site__in=request_site_ids(request, EDITOR_ROLES))
        users = get_user_model().objects.filter(pk__in=memberships.values("user")).order_by("username")
        return [("none", _("Nobody")), *((str(user.pk), user.get_username()) for user in users)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        if self.value() and self.value().isdigit():
            return queryset.filter(assignee_id=int(self.value()))
        return queryset


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note", "attachment_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description=_("attachment"))
    def attachment_link(self, event: RequestEvent) -> str:
        if not event.attachment:
            return "—"
        url = reverse("admin:consent_datasubjectrequest_reply_attachment", args=[event.request_id, event.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # The parent's admin already decided who sees the request.
        return True


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(RequestReportsAdminMixin, ReadOnlyAdminMixin, SiteScopedModelAdmin):
    list_display = [
        "short_id",
        "site",
        "type",
        "status",
        "jurisdiction",
        "assignee",
        "filed_at",
        "acknowledge_by",
        "due_at",
        "time_left",
    ]
    list_filter = [OpenFilter, "type", JurisdictionFilter, "status", AssigneeFilter]
    list_select_related = ["site", "assignee"]
    # The queue counts what it filters, not the whole table as well (one COUNT fewer per page).
    show_full_result_count = False
    # Fifty rows a page: rendering the rows is most of the page's time (bench/requests_queue.py).
    list_per_page = 50
    search_fields = ["public_id", "email"]
    # By time left: the soonest due first; requests without a due date last.
    ordering = [F("due_at").asc(nulls_last=True), "filed_at"]
    inlines = [RequestEventInline]
    change_form_template = "admin/consent/datasubjectrequest/change_form.html"
    change_list_template = "admin/consent/datasubjectrequest/change_list.html"
    readonly_fields = [
        "site",
        "public_id",
        "type",
        "status",
        "email",
        "language",
        "residence_country",
        "residence_region",
        "visitor_ids",
        "agent_name",
        "agent_email",
        "agent_document_link",
        "agent_document_sha256",
        "jurisdiction",
        "rules_version",
        "rules_sha256",
        "resolved_by",
        "establishment_country",
        "filed_at",
        "verified_at",
        "acknowledge_by",
        "acknowledge_explanation",
        "due_at",
        "due_explanation",
        "is_due_provisional",
        "extended_at",
        "extension_reason",
        "response_text",
        "assignee",
        "closed_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(site__in=request_site_ids(request, EDITOR_ROLES))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, EDITOR_ROLES, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, EDITOR_ROLES, obj)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/act/",
                self.admin_site.admin_view(require_POST(self.act_view)),
                name="consent_datasubjectrequest_act",
            ),
            path(
                "<int:object_id>/automate/",
                self.admin_site.admin_view(require_POST(self.automate_view)),
                name="consent_datasubjectrequest_automate",
            ),
            path(
                "<int:object_id>/package/<int:package_id>/",
                self.admin_site.admin_view(self.package_view),
                name="consent_datasubjectrequest_package",
            ),
            path(
                "<int:object_id>/agent-document/",
                self.admin_site.admin_view(self.agent_document_view),
                name="consent_datasubjectrequest_agent_document",
            ),
            path(
                "<int:object_id>/reply-attachment/<int:event_id>/",
                self.admin_site.admin_view(self.reply_attachment_view),
                name="consent_datasubjectrequest_reply_attachment",
            ),
            *super().get_urls(),
        ]

    def reply_attachment_view(self, request: HttpRequest, object_id: int, event_id: int) -> FileResponse:
        """A requester's reply attachment, as a download (never rendered inline), to the DPOs and
        owners of the request's site only."""
        request_row = self.get_object(request, str(object_id))
        if request_row is None or not self.has_view_permission(request, request_row):
            raise Http404
        event = request_row.events.filter(pk=event_id).exclude(attachment="").first()
        if event is None:
            raise Http404
        response = FileResponse(event.attachment.open("rb"), as_attachment=True)
        response["Content-Type"] = "application/octet-stream"
        response["Cache-Control"] = "no-store"
        return response

    def agent_document_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        """The agent's permission document, as a download (never rendered inline)."""
        request_row = self.get_object(request, str(object_id))
        if (
            request_row is None
            or not request_row.agent_document
            or not self.has_view_permission(request, request_row)
        ):
            raise Http404
        response = FileResponse(request_row.agent_document.open("rb"), as_attachment=True)
        response["Content-Type"] = "application/octet-stream"
        response["Cache-Control"] = "no-store"
        return response

    def automate_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Run one of the automation's actions (consent/requests/automation_admin.py) and come back."""
        request_row = self.get_object(request, str(object_id))
        if request_row is None:
            raise Http404
        if not self.has_view_permission(request, request_row):
            raise PermissionDenied
        automation_run(request, request_row)
        return HttpResponseRedirect(reverse("admin:consent_datasubjectrequest_change", args=[request_row.pk]))

    def package_view(self, request: HttpRequest, object_id: int, package_id: int) -> HttpResponse:
        """One of the request's packages, as a download for its site's DPOs and owners."""
        request_row = self.get_object(request, str(object_id))
        if request_row is None or not self.has_view_permission(request, request_row):
            raise Http404
        package = next((item for item in request_packages(request_row) if item.pk == package_id), None)
        if package is None:
            raise Http404
        package.refresh_from_db(fields=["content"])
        response = HttpResponse(package.content, content_type="application/octet-stream")
        name = f"consent-history-{request_row.public_id[:8]}-{package.pk}.{package.format}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description=_("agent's permission document"))
    def agent_document_link(self, request_row: DataSubjectRequest) -> str:
        if not request_row.agent_document:
            return "—"
        url = reverse("admin:consent_datasubjectrequest_agent_document", args=[request_row.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    @admin.display(description=_("request"), ordering="public_id")
    def short_id(self, request_row: DataSubjectRequest) -> str:
        return request_row.public_id[:8]

    @admin.display(description=_("time left"), ordering="due_at")
    def time_left(self, request_row: DataSubjectRequest) -> str:
        if request_row.due_at is None or not request_row.is_open:
            return "—"
        days = (request_row.due_at - timezone.localdate()).days
        if days < 0:
            text = ngettext("%(days)d day overdue", "%(days)d days overdue", -days) % {"days": -days}
            css = "dsr-overdue"
        else:
            text = ngettext("%(days)d day", "%(days)d days", days) % {"days": days}
            css = "dsr-due-soon" if days <= settings.REQUEST_DUE_SOON_DAYS else "dsr-on-time"
        return format_html('<span class="{}">{}</span>', css, text)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        request_row = self.get_object(request, object_id)
        extra: dict[str, Any] = {}
        if request_row is not None and self.has_view_permission(request, request_row):
            allowed = request_actions_allowed(request_row)
            with translation.override(request_row.language):
                templates = answer_templates(
                    site_name=request_row.site.name, type_label=request_row.get_type_display()
                )
                complaint = complaint_rights(request_row.jurisdiction)
            clock = request_clock(request_row)
            extra = {
                "clock": clock,
                "overdue_days": -clock.days_left if clock else 0,
                "clock_state": (
                    "dsr-overdue"
                    if clock and clock.is_overdue
                    else "dsr-due-soon"
                    if clock and clock.is_due_soon
                    else ""
                ),
                "actions": [
                    {
                        "action": action,
                        "label": RequestAction(action).label,
                        "button": _BUTTONS[action],
                        "text": templates.get(_TEXT_ACTIONS.get(action, ""), ""),
                    }
                    for action in allowed
                    if action != RequestAction.ASSIGNED
                ],
                "can_assign": RequestAction.ASSIGNED in allowed,
                "assignees": request_assignees(request_row),
                "complaint_rights": complaint,
                "act_url": reverse("admin:consent_datasubjectrequest_act", args=[request_row.pk]),
                **automation_context(request_row),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def act_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Run one of the DPO's actions on the request and come back to its page with the outcome."""
        request_row = self.get_object(request, str(object_id))
        if request_row is None:
            raise Http404
        if not self.has_view_permission(request, request_row):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:consent_datasubjectrequest_change", args=[request_row.pk]))
        form = RequestActionForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("The action was not understood: nothing was done."))
            return back
        action, text = form.cleaned_data["action"], form.cleaned_data["text"] or ""
        who = {"by": request.user, "ip": client_ip(request)}
        try:
            if action == RequestAction.ACKNOWLEDGED:
                request_acknowledge(request=request_row, **who)
            elif action == RequestAction.INFO_REQUESTED:
                request_info_ask(request=request_row, text=text, **who)
            elif action == RequestAction.EXTENDED:
                request_extend(request=request_row, reason=text, **who)
            elif action == RequestAction.FULFILLED:
                request_fulfil(request=request_row, text=text, **who)
            elif action == RequestAction.REFUSED:
                request_refuse(request=request_row, text=text, **who)
            elif action == RequestAction.CLOSED:
                request_close(request=request_row, note=text, **who)
            else:
                assignee_id = form.cleaned_data["assignee"]
                assignee = next(
                    (user for user in request_assignees(request_row) if user.pk == assignee_id), None
                )
                if assignee_id and assignee is None:
                    raise ValidationError(gettext("Assign it to an owner or DPO of the site."))
                request_assign(request=request_row, assignee=assignee, **who)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return back
        messages.success(request, gettext("Done: %(action)s.") % {"action": RequestAction(action).label})
        return back
