"""Pages about the banner: the home page and the demo customer page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from consent.selectors import purpose_list, site_get_by_key

DEMO_SITE_KEY = "demo"


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@require_safe
def demo_page(request: HttpRequest) -> HttpResponse:
    """A stand-in customer page for the demo site; the banner tag is embedded here."""
    site = site_get_by_key(key=DEMO_SITE_KEY)
    purposes = list(purpose_list(site=site)) if site else []
    response = render(request, "demo.html", {"site": site, "purposes": purposes})
    response["Cache-Control"] = "no-cache"
    return response
