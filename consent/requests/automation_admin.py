"""The request page's Automation panel in the back office: what Consentry did for the request and
what waits on people (consent/requests/automation.py), the packages, and the automation's
actions, each a POST to the request admin's `automate` view, which calls `automation_run`.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from consent.models import DataSubjectRequest
from consent.requests.automation import (
    NOTE_MAX_LENGTH,
    request_automation_actions,
    request_automation_steps,
    request_decisions_apply,
    request_erase,
    request_erasure_confirm,
)
from consent.requests.package import request_package_generate, request_packages
from edge.client import client_ip

BUTTONS = {
    "generate_package": _("Generate package"),
    "erase": _("Erase what Consentry holds"),
    "confirm_erasure": _("Confirm the backend's erasure by hand"),
    "apply_decisions": _("Record the decisions in the ledger"),
}


class AutomationForm(forms.Form):
    action = forms.ChoiceField(choices=[(action, action) for action in BUTTONS])
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)


def automation_context(request_row: DataSubjectRequest) -> dict[str, Any]:
    """The panel's context for the request page's template."""
    return {
        "automation_steps": request_automation_steps(request_row),
        "automation_actions": [
            {"action": action, "button": BUTTONS[action]}
            for action in request_automation_actions(request_row)
        ],
        "automation_packages": [
            {
                "package": package,
                "url": reverse("admin:consent_datasubjectrequest_package", args=[request_row.pk, package.pk]),
            }
            for package in request_packages(request_row)
        ],
        "automate_url": reverse("admin:consent_datasubjectrequest_automate", args=[request_row.pk]),
    }


def automation_run(request: HttpRequest, request_row: DataSubjectRequest) -> None:
    """Run the posted automation action (its service checks the actor's role), with a message."""
    form = AutomationForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("The action was not understood: nothing was done."))
        return
    action = form.cleaned_data["action"]
    who = {"by": request.user, "ip": client_ip(request)}
    try:
        if action == "generate_package":
            packages = request_package_generate(request=request_row, **who)
            done = ngettext(
                "Package generated: %(count)d record.",
                "Package generated: %(count)d records.",
                packages[0].records,
            ) % {"count": packages[0].records}
        elif action == "erase":
            count = request_erase(request=request_row, **who)
            done = ngettext(
                "%(count)d ledger record redacted.", "%(count)d ledger records redacted.", count
            ) % {"count": count}
        elif action == "confirm_erasure":
            request_erasure_confirm(request=request_row, note=form.cleaned_data["note"], by_hand=True, **who)
            done = gettext("The backend's erasure is confirmed.")
        else:
            receipts = request_decisions_apply(request=request_row, **who)
            done = ngettext(
                "%(count)d decision recorded.", "%(count)d decisions recorded.", len(receipts)
            ) % {"count": len(receipts)}
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return
    messages.success(request, done)
