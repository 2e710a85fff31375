"""Pages about the banner: the home page and the demo customer page."""

import json
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from config.exceptions import json_error
from consent.jurisdictions import RULESETS
from consent.models import Site
from consent.selectors import purpose_list, site_get_by_key, site_snapshot
from cookies.selectors import banner_config
from cookies.services import banner_content

DEMO_SITE_KEY = "demo"


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


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
    response = HttpResponse(
        "<!doctype html><title>Demo video</title><body style='margin:0;font:14px sans-serif;background:#222;"
        "color:#fff;display:grid;place-items:center;height:100vh'>▶ Demo video player</body>"
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
    response = render(request, "demo.html", {"site": site, "site_key": DEMO_SITE_KEY, "purposes": purposes})
    response["Cache-Control"] = "no-cache"
    return response


# The loader's values are JSON, not formatted into the script: a quote in a value cannot end
# its string. `<`, `>` and `&` are escaped too (no `</script>` or `<!--` if the loader is ever
# inlined in a page); json.dumps already escapes everything non-ASCII, U+2028/U+2029 included.
_JS_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _js(value: object) -> str:
    """A value safe anywhere in the loader's script: JSON, escaped, marked safe for the template."""
    return mark_safe(json.dumps(value).translate(_JS_UNSAFE))  # noqa: S308 - JSON-encoded and escaped


LOADER_MAX_AGE = 300


@require_safe
def loader(request: HttpRequest, site_key: str) -> HttpResponse:
    """`/c/<site_key>.js`: the one tag a site owner pastes. Small, the same for every visitor,
    cached briefly (so a new banner build reaches sites within minutes); it loads the
    content-hashed, immutable banner files."""
    site = site_snapshot(key=site_key)  # the write path's cached view: no query per request
    if site is None:
        response = HttpResponse(
            "/* Consentry: no site with this key. */\n", content_type="text/javascript", status=404
        )
        response["Cache-Control"] = "public, max-age=60"
        return response
    base = f"{request.scheme}://{request.get_host()}"
    values = {
        "site_key": site_key,
        "config_url": f"{base}/api/public/v1/sites/{site_key}/config",
        "css_url": base + static("cookies/banner.css"),
        "js_url": base + static("cookies/banner.js"),
        "opt_out_regions": OPT_OUT_REGIONS,
    }
    body = render_to_string("cookies/loader.js", {name: _js(value) for name, value in values.items()})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={LOADER_MAX_AGE}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Where Consent Mode may start granted: the United States, whose state laws are opt-out.
OPT_OUT_REGIONS = ["US"]


# --- The admin's live preview: the real banner, fed the unpublished working copy ---------------

PREVIEW_SALT = "consentry.banner-preview"
PREVIEW_MAX_AGE = 3600


def banner_preview_token(*, site: Site) -> str:
    """A signed, expiring token naming the site: the preview needs no session (the banner
    fetches its config without cookies), and a token cannot be turned into another site's."""
    return signing.dumps(site.pk, salt=PREVIEW_SALT, compress=True)


def _preview_site(token: str) -> Site | None:
    try:
        site_id = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return None
    return Site.objects.filter(pk=site_id).first()


@require_safe
def banner_preview_page(request: HttpRequest, token: str) -> HttpResponse:
    site = _preview_site(token)
    if site is None:
        return HttpResponse("This preview link has expired: reload the banner page in the admin.", status=400)
    language = request.GET.get("lang", site.default_language)
    jurisdiction = request.GET.get("jurisdiction", site.default_jurisdiction)
    query = urlencode({"lang": language, "jurisdiction": jurisdiction})
    response = render(
        request,
        "cookies/preview.html",
        {
            "site_key": site.key,
            "language": language,
            "jurisdiction": jurisdiction,
            "config_url": reverse("banner-preview-config", args=[token]) + "?" + query,
        },
    )
    response["X-Frame-Options"] = "SAMEORIGIN"  # shown inside the admin
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def banner_preview_config(request: HttpRequest, token: str) -> HttpResponse:
    site = _preview_site(token)
    if site is None:
        return json_error(400, "expired", "This preview link has expired.")
    language = (
        request.GET.get("lang")
        if request.GET.get("lang") in site.enabled_languages
        else site.default_language
    )
    ruleset = RULESETS.get(request.GET.get("jurisdiction", ""), RULESETS[site.default_jurisdiction])
    config = banner_config(
        site=site,
        ruleset=ruleset,
        language=language,
        base_url=request.build_absolute_uri("/").rstrip("/"),
        gpc_header=False,
        content=banner_content(site=site),
    )
    config["endpoint"] = ""  # a preview records nothing
    response = JsonResponse(config)
    response["Cache-Control"] = "no-store"
    return response
