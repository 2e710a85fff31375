"""The objection form behind the signed link in a notice email."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from edge.http import no_store
from subprocessors.lists.pages import in_page_language, message_page
from subprocessors.notices.tokens import TokenError
from subprocessors.notices.views import token_link_view
from subprocessors.objections.services import AlreadyRecorded, objection_record, objection_target


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@in_page_language
def objection(request: HttpRequest, site_key: str, token: str) -> HttpResponse:
    """Object to an upcoming addition before it takes effect (the link comes in the notice email)."""
    site, refusal = token_link_view(request, site_key, token, "subproc-object")
    if refusal is not None:
        return refusal
    assert site is not None
    try:
        subscriber, version, entry = objection_target(site=site, token=token)
    except TokenError as error:
        return message_page(request, site, 400, _("Link not valid"), error.message)
    context = {
        "site": site,
        "entry": entry,
        "version": version,
        "subscriber": subscriber,
        "action": request.path,
    }
    if request.method != "POST":
        if timezone.now() >= version.effective_at:
            return message_page(
                request,
                site,
                410,
                _("Objections closed"),
                _("%(vendor)s took effect on %(when)s UTC; objections closed then.")
                % {"vendor": entry["name"], "when": f"{version.effective_at:%Y-%m-%d %H:%M}"},
            )
        return no_store(render(request, "subprocessors/objection.html", context))
    reason = str(request.POST.get("reason", ""))
    try:
        recorded = objection_record(site=site, token=token, reason=reason)
    except AlreadyRecorded as already:
        return message_page(
            request,
            site,
            409,
            _("Objection already recorded"),
            _(
                "Your objection to %(vendor)s was recorded on %(when)s UTC; it is not recorded twice. "
                "The site's DPO will answer you by email."
            )
            % {"vendor": entry["name"], "when": f"{already.objection.created_at:%Y-%m-%d %H:%M}"},
        )
    except ValidationError as error:
        if hasattr(error, "error_dict") and "reason" in error.error_dict:
            context.update(reason=reason, error=" ".join(error.message_dict["reason"]))
            return no_store(render(request, "subprocessors/objection.html", context, status=400))
        return message_page(request, site, 410, _("Objections closed"), " ".join(error.messages))
    return message_page(
        request,
        site,
        201,
        _("Objection recorded"),
        _(
            "We recorded your objection to %(vendor)s on %(when)s UTC. "
            "The site's DPO will answer you by email."
        )
        % {"vendor": entry["name"], "when": f"{recorded.created_at:%Y-%m-%d %H:%M}"},
    )
