"""The ETag of the public sub-processor pages and API (their caching is edge.http's)."""

from django.utils import timezone

from consent.editions import canonical_json, sha256_hex
from consent.models import Site
from subprocessors.models import SubprocessorListVersion

# How long a cache may keep a page or an answer before revalidating it by its ETag.
LIST_MAX_AGE = 300


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
