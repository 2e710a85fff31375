"""HTTP helpers for the public sub-processor pages and API: the list's ETag and cache headers."""

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from consent.editions import canonical_json, sha256_hex
from consent.models import Site
from subprocessors.models import SubprocessorListVersion

PUBLIC_CACHE_CONTROL = "public, max-age=300"


def list_etag(*, site: Site, variant: str = "") -> str:
    """A strong ETag for everything public about the site's list at this moment.

    It covers which versions exist and which are in force now, so it changes both when a
    version is published and when an upcoming one takes effect.
    """
    now = timezone.now()
    rows = SubprocessorListVersion.objects.filter(site=site).values_list(
        "number", "content_sha256", "effective_at"
    )
    state = [site.key, site.name, variant, [(n, sha, effective <= now) for n, sha, effective in rows]]
    return '"' + sha256_hex(canonical_json(state))[:32] + '"'


def _etag_matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    candidates: Iterable[str] = (part.strip().removeprefix("W/") for part in header.split(","))
    return header.strip() == "*" or etag in candidates


def not_modified(request: HttpRequest, etag: str) -> HttpResponseBase | None:
    if request.method in ("GET", "HEAD") and _etag_matches(request, etag):
        response = HttpResponseNotModified()
        cacheable(response, etag)
        return response
    return None


def cacheable(response: HttpResponseBase, etag: str, *, cors: bool = False) -> HttpResponseBase:
    response["ETag"] = etag
    response["Cache-Control"] = PUBLIC_CACHE_CONTROL
    if cors:
        # Public, read-only, no credentials: any page may read it.
        response["Access-Control-Allow-Origin"] = "*"
    return response


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ["Cookie"])
    return response
