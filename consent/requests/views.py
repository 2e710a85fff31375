"""The requester's pages: the request form, the verification link, the status page.

No login and no cookies of ours (the form is CSRF-exempt on purpose: a forged filing only sends a
verification email that the mailbox owner must act on). Every page is in the reader's language among
the site's (`?lang=`, Accept-Language), never cached, and has no inline script or style.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from consent.languages import RIGHT_TO_LEFT
from consent.models import DataSubjectRequest, PackageFormat, RequestAction, RequestStatus, RequestType, Site
from consent.requests.emails import status_url
from consent.requests.package import request_package_delivered
from consent.requests.selectors import (
    request_get_by_public_id,
    request_jurisdiction_resolve,
    request_timeline,
)
from consent.requests.services import (
    REPLY_MAX_CHARACTERS,
    AgentFiling,
    request_agent_confirm,
    request_agent_deny,
    request_file,
    request_reply,
    request_verify,
)
from consent.requests.tokens import (
    RequestTokenError,
    status_token_check,
    status_token_make,
    verify_token_read,
)
from consent.requests.types import request_types_for
from consent.sites.selectors import site_get_by_key
from edge.client import address_limit_key, client_ip
from edge.http import language_choose, no_store, render_in_language
from edge.ratelimit import rate_limits_exceeded

# Filings per client address through the form (the API has its own limit, PUBLIC_RATE_PATHS).
FILE_RATE = "10/hour"
# Verification posts per client address: a link is tried once or twice, never hundreds of times.
VERIFY_RATE = "60/hour"
# Replies per client address (each request also takes REPLY_MAX_PER_REQUEST at most).
REPLY_RATE = "30/hour"


def page_strings() -> dict[str, str]:
    """The words public_base.html needs, in the active language."""
    return {"documents": _("Documents"), "requests": _("Your privacy requests")}


def _language(request: HttpRequest, site: Site) -> str:
    return language_choose(request, site.enabled_languages, site.default_language)


def _page(
    request: HttpRequest,
    site: Site | None,
    language: str,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    with translation.override(language):
        strings = page_strings()
    context = {"site": site, "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr", "t": strings, **context}
    return no_store(render_in_language(request, language, template, context, status=status))


def _message(
    request: HttpRequest, site: Site | None, language: str, status: int, title: str, text: str, **extra: Any
) -> HttpResponse:
    return _page(
        request,
        site,
        language,
        "consent/requests/message.html",
        {"title": title, "text": text, **extra},
        status,
    )


def _rate_limited(
    request: HttpRequest, site: Site, language: str, name: str, rate: str
) -> HttpResponse | None:
    """The 429 page when the client's address used up `rate` for `name` (verify, agent, reply)."""
    address = address_limit_key(client_ip(request))
    if rate_limits_exceeded([(f"{name}:{address}", rate)]) is None:
        return None
    return _message(
        request, site, language, 429, _("Too many requests"), _("Too many requests. Try again in an hour.")
    )


def _no_site(request: HttpRequest) -> HttpResponse:
    with translation.override("en"):
        return _message(request, None, "en", 404, _("Site not found"), _("There is no site with this key."))


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request: HttpRequest, site_key: str) -> HttpResponse:
    """The form a visitor files a request with; POST files it and says to check the inbox."""
    site = site_get_by_key(key=site_key)
    if site is None:
        return _no_site(request)
    language = _language(request, site)
    with translation.override(language):
        if request.method == "POST":
            return _form_post(request, site, language)
        return _form_page(request, site, language, form={})


def _form_page(
    request: HttpRequest,
    site: Site,
    language: str,
    *,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    jurisdiction = request_jurisdiction_resolve(
        site=site,
        country=str(form.get("country", "")),
        region=str(form.get("region", "")),
        http_request=request,
        on=timezone.now().date(),
    )
    offered = request_types_for(jurisdiction.ruleset.code)
    labels = dict(RequestType.choices)
    context = {
        "types": [(value, labels[value]) for value in offered],
        "form": form,
        "errors": errors or {},
        "law": _(jurisdiction.ruleset.name),
    }
    return _page(request, site, language, "consent/requests/form.html", context, 400 if errors else 200)


def _form_post(request: HttpRequest, site: Site, language: str) -> HttpResponse:
    form = {
        "type": str(request.POST.get("type", ""))[:40],
        "email": str(request.POST.get("email", ""))[:320],
        "country": str(request.POST.get("country", "")).strip().upper()[:2],
        "region": str(request.POST.get("region", "")).strip().upper()[:3],
        "agent_name": str(request.POST.get("agent_name", ""))[:300],
        "agent_email": str(request.POST.get("agent_email", ""))[:320],
        "visitor_id": str(request.POST.get("visitor_id", "")).strip()[:100],
    }
    address = address_limit_key(client_ip(request))
    if rate_limits_exceeded([(f"requests-file:{address}", FILE_RATE)]) is not None:
        return _message(
            request,
            site,
            language,
            429,
            _("Too many requests"),
            _("Too many requests from your address. Try again in an hour."),
        )
    try:
        filed = _file(request, site, language, form)
    except ValidationError as error:
        errors = {field: " ".join(messages) for field, messages in error.message_dict.items()}
        return _form_page(request, site, language, form=form, errors=errors)
    return _message(
        request,
        site,
        language,
        201,
        _("Check your inbox"),
        _("We sent a link to %(email)s. Open it to confirm your request; until then nothing happens.")
        % {"email": filed.email},
        link=status_url(filed),
        link_text=_("Follow your request"),
    )


def _file(request: HttpRequest, site: Site, language: str, form: dict[str, Any]) -> DataSubjectRequest:
    """Validate the residence, resolve the law and file: the form's and the API's one path."""
    country, region = form.get("country", ""), form.get("region", "")
    errors: dict[str, list[str]] = {}
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        errors["country"] = [_("Give the two-letter country code, e.g. DE or US.")]
    if region and not (country and region.isascii() and region.isalnum()):
        errors["region"] = [_("Give the region code after the country's, e.g. CA for California.")]
    if errors:
        raise ValidationError(errors)
    jurisdiction = request_jurisdiction_resolve(
        site=site, country=country, region=region, http_request=request, on=timezone.now().date()
    )
    agent = None
    document = request.FILES.get("agent_document")
    if document is not None or form.get("agent_name") or form.get("agent_email"):
        if document is None:
            raise ValidationError({"agent_document": [_("Attach the consumer's signed permission.")]})
        agent = AgentFiling(
            name=form.get("agent_name", ""), email=form.get("agent_email", ""), document=document
        )
    return request_file(
        site=site,
        type=form.get("type", ""),
        email=form.get("email", ""),
        language=language,
        jurisdiction=jurisdiction,
        residence_country=country,
        residence_region=region,
        # The banner's link hands the page its visitor id in the fragment (request-form.js).
        visitor_ids=[form["visitor_id"]] if form.get("visitor_id") else [],
        agent=agent,
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def request_verify_link(request: HttpRequest, site_key: str, token: str) -> HttpResponse:
    """The emailed link: GET shows a button (mail scanners follow links and must not verify for
    the reader), POST verifies. A forged or expired link changes nothing."""
    site = site_get_by_key(key=site_key)
    if site is None:
        return _no_site(request)
    language = _language(request, site)
    with translation.override(language):
        try:
            public_id = verify_token_read(token)
        except RequestTokenError as error:
            return _message(request, site, language, 400, _("Link not valid"), error.message)
        filed = request_get_by_public_id(site=site, public_id=public_id)
        if filed is None:
            return _message(
                request, site, language, 404, _("Request not found"), _("This request no longer exists.")
            )
        if filed.agent_name:
            return _agent_answer(request, site, language, filed)
        if request.method != "POST":
            if filed.status != RequestStatus.AWAITING_VERIFICATION:
                return _message(
                    request,
                    site,
                    language,
                    200,
                    _("Already confirmed"),
                    _("This request is already confirmed."),
                    link=status_url(filed),
                    link_text=_("Follow your request"),
                )
            return _message(
                request,
                site,
                language,
                200,
                _("Confirm your request"),
                _("Press the button to confirm that you made this request (%(type)s).")
                % {"type": filed.get_type_display()},
                action=request.path,
                button=_("Confirm my request"),
            )
        limited = _rate_limited(request, site, language, "requests-verify", VERIFY_RATE)
        if limited is not None:
            return limited
        request_verify(request=filed)
        return _message(
            request,
            site,
            language,
            200,
            _("Request confirmed"),
            _("Thank you: your request is confirmed and with %(site)s.") % {"site": site.name},
            link=status_url(filed),
            link_text=_("Follow your request"),
        )


def _agent_answer(request: HttpRequest, site: Site, language: str, filed: DataSubjectRequest) -> HttpResponse:
    """The consumer's link for an agent's filing: GET shows what the agent asked and two buttons,
    POST confirms (`decision=confirm`) or denies (`decision=deny`) the agent."""
    if not filed.is_awaiting_consumer:
        denied = filed.events.filter(action=RequestAction.AGENT_DENIED).exists()
        return _message(
            request,
            site,
            language,
            200,
            _("Already answered"),
            _("You denied this agent: the request is closed.")
            if denied
            else _("This request is already confirmed or closed."),
            link=status_url(filed),
            link_text=_("Follow your request"),
        )
    if request.method != "POST":
        return _page(
            request,
            site,
            language,
            "consent/requests/agent_confirm.html",
            {
                "text": _(
                    "An authorised agent named %(agent)s made this request to %(site)s on your behalf: "
                    "%(type)s. Did you authorise them?"
                )
                % {"agent": filed.agent_name, "site": site.name, "type": filed.get_type_display()},
                "action": request.path,
            },
        )
    limited = _rate_limited(request, site, language, "requests-verify", VERIFY_RATE)
    if limited is not None:
        return limited
    decision = request.POST.get("decision")
    if decision == "deny":
        request_agent_deny(request=filed)
        return _message(
            request,
            site,
            language,
            200,
            _("Agent denied"),
            _("Thank you: the request the agent made in your name is closed; nothing is done on it."),
            link=status_url(filed),
            link_text=_("See the request"),
        )
    if decision != "confirm":
        return _message(
            request, site, language, 400, _("Choose an answer"), _("Press one of the two buttons.")
        )
    request_agent_confirm(request=filed)
    return _message(
        request,
        site,
        language,
        200,
        _("Agent confirmed"),
        _("Thank you: you confirmed the agent, and the request is with %(site)s.") % {"site": site.name},
        link=status_url(filed),
        link_text=_("Follow your request"),
    )


@require_http_methods(["GET", "HEAD"])
def request_status(request: HttpRequest, site_key: str, public_id: str) -> HttpResponse:
    """The requester's status page: type, status, dates and the timeline (internal notes never).
    The link's signature (`?t=`) is the key; without the right one the page is a 404."""
    site = site_get_by_key(key=site_key)
    if site is None:
        return _no_site(request)
    language = _language(request, site)
    with translation.override(language):
        filed = request_get_by_public_id(site=site, public_id=public_id)
        if filed is None or not status_token_check(public_id=public_id, token=request.GET.get("t", "")):
            return _message(
                request, site, language, 404, _("Request not found"), _("Copy the whole link from the email.")
            )
        return _status_page(request, site, language, filed)


def _status_page(
    request: HttpRequest,
    site: Site,
    language: str,
    filed: DataSubjectRequest,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    events = list(request_timeline(request=filed))
    context: dict[str, Any] = {
        "request_row": filed,
        "events": events,
        "errors": errors or {},
        "form": form or {},
        # The answer's package (consent/requests/package.py), once the request is fulfilled.
        "package": request_package_delivered(filed, PackageFormat.JSON) is not None,
        "token": request.GET.get("t", ""),
    }
    if filed.status == RequestStatus.INFO_REQUESTED:
        asked = [event for event in events if event.action == RequestAction.INFO_REQUESTED]
        context["question"] = asked[-1].note if asked else ""
        token = status_token_make(public_id=filed.public_id)
        context["reply_action"] = reverse("request-reply", args=[site.key, filed.public_id]) + f"?t={token}"
    return _page(request, site, language, "consent/requests/status.html", context, 400 if errors else 200)


@csrf_exempt
@require_http_methods(["POST"])
def request_reply_post(request: HttpRequest, site_key: str, public_id: str) -> HttpResponse:
    """The requester's answer to "more information requested", from their status page (the link's
    signature `?t=` is the key, as for the page): text and an optional file."""
    site = site_get_by_key(key=site_key)
    if site is None:
        return _no_site(request)
    language = _language(request, site)
    with translation.override(language):
        filed = request_get_by_public_id(site=site, public_id=public_id)
        if filed is None or not status_token_check(public_id=public_id, token=request.GET.get("t", "")):
            return _message(
                request, site, language, 404, _("Request not found"), _("Copy the whole link from the email.")
            )
        limited = _rate_limited(request, site, language, "requests-reply", REPLY_RATE)
        if limited is not None:
            return limited
        text = str(request.POST.get("text", ""))[: REPLY_MAX_CHARACTERS + 1]
        try:
            request_reply(
                request=filed,
                text=text,
                attachment=request.FILES.get("attachment"),
                ip=client_ip(request) or None,
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _message(request, site, language, 409, _("Reply not sent"), " ".join(error.messages))
            errors = {field: " ".join(messages) for field, messages in error.message_dict.items()}
            return _status_page(request, site, language, filed, form={"text": text}, errors=errors)
        return _message(
            request,
            site,
            language,
            201,
            _("Reply sent"),
            _("Thank you: %(site)s has your answer.") % {"site": site.name},
            link=status_url(filed),
            link_text=_("Follow your request"),
        )


# What each package format is served as. The page is the stored HTML, under the site-wide CSP
# like every page; the JSON is a download.
_PACKAGE_TYPES = {
    PackageFormat.JSON: ("application/json; charset=utf-8", "attachment"),
    PackageFormat.HTML: ("text/html; charset=utf-8", "inline"),
}


@require_http_methods(["GET", "HEAD"])
def request_package_download(
    request: HttpRequest, site_key: str, public_id: str, format: str
) -> HttpResponse:
    """The package the request was answered with, by the status link's signature (`?t=`): only
    this request's, only once it is fulfilled; anything else is a 404."""
    site = site_get_by_key(key=site_key)
    if site is None:
        return _no_site(request)
    language = _language(request, site)
    with translation.override(language):
        filed = request_get_by_public_id(site=site, public_id=public_id)
        package = None
        if (
            filed is not None
            and format in _PACKAGE_TYPES
            and status_token_check(public_id=public_id, token=request.GET.get("t", ""))
        ):
            package = request_package_delivered(filed, format)
        if filed is None or package is None:
            return _message(
                request,
                site,
                language,
                404,
                _("Package not found"),
                _("Copy the whole link from your status page."),
            )
    content_type, disposition = _PACKAGE_TYPES[format]
    response = HttpResponse(package.content, content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="consent-history-{public_id[:8]}.{format}"'
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)
