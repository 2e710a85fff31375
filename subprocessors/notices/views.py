"""The links in our emails: confirming and ending a subscription (CSRF-exempt: signed tokens decide)."""

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from consent.models import Site
from edge.client import address_limit_key, client_ip
from edge.ratelimit import rate_limits_exceeded
from subprocessors.lists.pages import message_page, site_or_404
from subprocessors.notices.services import subscriber_confirm, subscriber_unsubscribe
from subprocessors.notices.tokens import TokenError, confirm_token_read, unsubscribe_token_read

TOKEN_FORM_RATE = "60/hour"


def token_link_view(
    request: HttpRequest, site_key: str, token: str, scope: str
) -> tuple[Site | None, HttpResponse | None]:
    try:
        site = site_or_404(site_key)
    except Http404:
        return None, message_page(request, None, 404, "Site not found", "There is no site with this key.")
    if len(token) > 500:
        return site, message_page(request, site, 400, "Link not valid", "This link is not valid.")
    address = address_limit_key(client_ip(request))
    if (
        request.method == "POST"
        and rate_limits_exceeded([(f"{scope}:{address}", TOKEN_FORM_RATE)]) is not None
    ):
        return site, message_page(
            request, site, 429, "Too many requests", "Too many requests. Try again in an hour."
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
        return message_page(request, site, 400, "Link not valid", error.message)
    return message_page(request, site, 200, title, text, action=request.path, button=button)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
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
            title="Confirm your subscription",
            text="Press the button to start receiving notices.",
            button="Confirm subscription",
        )
    try:
        subscriber, changed = subscriber_confirm(site=site, token=token)
    except TokenError as error:
        return message_page(request, site, 400, "Link not valid", error.message)
    text = (
        f"{subscriber.email} will get an email each time {site.name} publishes a new list."
        if changed
        else "Your subscription was already confirmed; nothing changed."
    )
    return message_page(request, site, 200, "Subscription confirmed", text)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
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
            title="Unsubscribe",
            text=f"Stop receiving notices about {site.name}'s sub-processors?",
            button="Unsubscribe",
        )
    try:
        subscriber, changed = subscriber_unsubscribe(site=site, token=token)
    except TokenError as error:
        return message_page(request, site, 400, "Link not valid", error.message)
    text = "You will get no more notices." if changed else "You had already unsubscribed; nothing changed."
    return message_page(request, site, 200, "Unsubscribed", text)
