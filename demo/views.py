"""The demo shop: a stand-in customer page with the banner, fake third-party tags and an embed."""

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from consent.sites.selectors import purpose_list, site_get_by_key

DEMO_SITE_KEY = "demo"


# Stand-ins for a customer's third-party tags, served from here so the demo needs no network.
# Each writes to the page when it runs and sets the first-party cookie its real namesake would.
DEMO_TAGS = {
    "analytics": ("_ga", "Analytics tag is running (it set the _ga cookie)."),
    "ads": ("_fbp", "Advertising pixel is running (it set the _fbp cookie)."),
}


DEMO_TAG_SCRIPT = """(function () {{
  document.cookie = "{cookie}=GA1.1.demo." + Date.now() + "; path=/; max-age=31536000; SameSite=Lax";
  var log = document.getElementById("tag-log");
  if (log) {{ var item = document.createElement("li"); item.textContent = {message}; log.appendChild(item); }}
  window.consentryDemoTags = (window.consentryDemoTags || []).concat([{name}]);
}})();
"""


@require_safe
def demo_embed(request: HttpRequest) -> HttpResponse:
    """A stand-in for a video player from another provider."""
    # The one inline style of the platform, allowed by this response's CSP nonce (edge/csp.py).
    response = HttpResponse(
        f"<!doctype html><title>Demo video</title><style nonce='{request.csp_nonce}'>body{{margin:0;"
        "font:14px sans-serif;background:#222;color:#fff;display:grid;place-items:center;height:100vh}"
        "</style><body>▶ Demo video player</body>"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@require_safe
def demo_tag(request: HttpRequest, name: str) -> HttpResponse:
    if name not in DEMO_TAGS:
        return HttpResponse("/* no such demo tag */", content_type="text/javascript", status=404)
    cookie, message = DEMO_TAGS[name]
    body = DEMO_TAG_SCRIPT.format(cookie=cookie, message=json.dumps(message), name=json.dumps(name))
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def demo_page(request: HttpRequest) -> HttpResponse:
    """A stand-in customer page for the demo site; the banner tag is embedded here."""
    site = site_get_by_key(key=DEMO_SITE_KEY)
    purposes = list(purpose_list(site=site)) if site else []
    response = render(
        request, "demo/shop.html", {"site": site, "site_key": DEMO_SITE_KEY, "purposes": purposes}
    )
    response["Cache-Control"] = "no-cache"
    return response
