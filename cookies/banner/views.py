"""Non-API HTTP of the banner: the loader a site pastes (`/c/<key>.js`) and the admin's live preview."""

import json
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from consent.models import Site
from consent.rules.jurisdictions import RULESETS
from consent.sites.selectors import site_snapshot
from cookies.banner.selectors import banner_config
from cookies.banner.services import banner_content
from edge.errors import json_error

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
        return json_error(400, "expired", _("This preview link has expired."))
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
