"""The links in our emails: confirming and ending a subscription (CSRF-exempt: signed tokens decide)."""

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from consent.models import Site
from edge.client import address_limit_key, client_ip
from edge.ratelimit import rate_limits_exceeded
from subprocessors.lists.pages import in_page_language, message_page, site_or_404
from subprocessors.notices.services import subscriber_confirm, subscriber_unsubscribe
from subprocessors.notices.tokens import TokenError, confirm_token_read, unsubscribe_token_read

TOKEN_FORM_RATE = "60/hour"


def token_link_view(
    request: HttpRequest, site_key: str, token: str, scope: str
) -> tuple[Site | None, HttpResponse | None]:
    try:
        site = site_or_404(site_key)
    except Http404:
        return None, message_page(
            request, None, 404, _("Site not found"), _("There is no site with this key.")
        )
    if len(token) > 500:
        return site, message_page(request, site, 400, _("Link not valid"), _("This link is not valid."))
    address = address_limit_key(client_ip(request))
    if (
        request.method == "POST"
        and rate_limits_exceeded([(f"{scope}:{address}", TOKEN_FORM_RATE)]) is not None
    ):
        return site, message_page(
            request, site, 429, _("Too many requests"), _("Too many requests. Try again in an hour.")
        )
    return site, None


def _button_page(
    request: HttpRequest,
    site: Site,
    token: str,
    *,
    read: Callable[[str], object],
    title: str,
    text: str,
    button: str,
) -> HttpResponse:
    """A GET of an emailed link only shows a button that POSTs back, once the token reads:
    mail scanners follow links, and must not act for the reader."""
    try:
        read(token)
    except TokenError as error:
        return message_page(request, site, 400, _("Link not valid"), error.message)
    return message_page(request, site, 200, title, text, action=request.path, button=button)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@in_page_language
def subscribe_confirm(request: HttpRequest, site_key: str, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links; they must not confirm); POST confirms."""
    site, refusal = token_link_view(request, site_key, token, "subproc-confirm")
    if refusal is not None:
        return refusal
    assert site is not None
    if request.method != "POST":
        return _button_page(
            request,
            site,
            token,
            read=confirm_token_read,
            title=_("Confirm your subscription"),
            text=_("Press the button to start receiving notices."),
            button=_("Confirm subscription"),
        )
    try:
        subscriber, changed = subscriber_confirm(site=site, token=token)
    except TokenError as error:
        return message_page(request, site, 400, _("Link not valid"), error.message)
    text = (
        _("%(email)s will get an email each time %(site)s publishes a new list.")
        % {"email": subscriber.email, "site": site.name}
        if changed
        else _("Your subscription was already confirmed; nothing changed.")
    )
    return message_page(request, site, 200, _("Subscription confirmed"), text)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@in_page_language
def unsubscribe(request: HttpRequest, site_key: str, token: str) -> HttpResponse:
    """RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` here; GET shows a button."""
    site, refusal = token_link_view(request, site_key, token, "subproc-unsubscribe")
    if refusal is not None:
        return refusal
    assert site is not None
    if request.method != "POST":
        return _button_page(
            request,
            site,
            token,
            read=unsubscribe_token_read,
            title=_("Unsubscribe"),
            text=_("Stop receiving notices about %(site)s's sub-processors?") % {"site": site.name},
            button=_("Unsubscribe"),
        )
    try:
        subscriber, changed = subscriber_unsubscribe(site=site, token=token)
    except TokenError as error:
        return message_page(request, site, 400, _("Link not valid"), error.message)
    text = (
        _("You will get no more notices.") if changed else _("You had already unsubscribed; nothing changed.")
    )
    return message_page(request, site, 200, _("Unsubscribed"), text)
