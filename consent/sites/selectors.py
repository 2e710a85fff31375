"""Reads for sites: by public key, their purposes, and the cached snapshot public paths use."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from consent.models import PolicyVersion, Purpose, Site
from consent.models.sites import SITE_KEY_PATTERN
from consent.pins import pin_kinds
from edge.memo import BoundedTTLCache

_site_key = re.compile(SITE_KEY_PATTERN)


def site_key_valid(key: str) -> bool:
    """Whether `key` could be a site key at all (its pattern, at most 64 characters).

    Checked before any cache or database access: a key from a URL that cannot exist costs
    neither a query nor a cache entry."""
    return len(key) <= 64 and _site_key.fullmatch(key) is not None


def site_get_by_key(*, key: str) -> Site | None:
    if not site_key_valid(key):
        return None
    return Site.objects.filter(key=key).first()


def purpose_list(*, site: Site) -> QuerySet[Purpose]:
    """The site's purposes in banner order, with their translations loaded."""
    return Purpose.objects.filter(site=site).prefetch_related("translations").order_by("position", "key")


@dataclass(frozen=True)
class SiteSnapshot:
    """What validating a consent needs about a site, loaded in a handful of queries and cached.

    `policies` maps document slug -> {number: content SHA-256}; `pins` the same for every
    other registered edition kind. Changes in the admin are seen within SNAPSHOT_TTL_SECONDS.
    """

    site: Site
    origins: frozenset[str]
    purposes: tuple[str, ...]
    sale_or_share_purposes: frozenset[str]
    policies: Mapping[str, Mapping[int, str]]
    pins: Mapping[str, Mapping[int, str]]


SNAPSHOT_TTL_SECONDS = 5.0
# Bounds of the per-process caches: every site a process serves fits in the first; unknown
# keys (a typo, a deleted site, a flood of random keys) share the second, smaller one.
SNAPSHOT_CACHE_SIZE = 4096
UNKNOWN_KEY_CACHE_SIZE = 1024


_snapshots: BoundedTTLCache[str, SiteSnapshot] = BoundedTTLCache(
    maxsize=SNAPSHOT_CACHE_SIZE, ttl=SNAPSHOT_TTL_SECONDS
)
_unknown_keys: BoundedTTLCache[str, bool] = BoundedTTLCache(
    maxsize=UNKNOWN_KEY_CACHE_SIZE, ttl=SNAPSHOT_TTL_SECONDS
)


def site_snapshot(*, key: str) -> SiteSnapshot | None:
    """The site with this public key as the write path sees it, or None; cached per process.

    Per process on purpose: the write path then costs one INSERT and no reads, and a
    few seconds of staleness after an admin edit cannot let a wrong version be pinned,
    because editions, once published, never change.
    """
    cached = _snapshots.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    if not site_key_valid(key) or key in _unknown_keys:
        return None
    snapshot = _site_snapshot_load(key)
    if snapshot is None:
        _unknown_keys.set(key, True)
    else:
        _snapshots.set(key, snapshot)
    return snapshot


def site_snapshot_cache_sizes() -> dict[str, int]:
    """How many entries the per-process site caches hold (tests and benchmarks read it)."""
    return {"sites": len(_snapshots), "unknown_keys": len(_unknown_keys)}


def site_snapshot_forget() -> None:
    _snapshots.clear()
    _unknown_keys.clear()


def _site_snapshot_load(key: str) -> SiteSnapshot | None:

    site = Site.objects.filter(key=key).first()
    if site is None:
        return None
    purposes = list(
        Purpose.objects.filter(site=site).order_by("position", "key").values_list("key", "is_sale_or_share")
    )
    policies: dict[str, dict[int, str]] = {}
    for slug, number, sha in PolicyVersion.objects.filter(document__site=site).values_list(
        "document__slug", "number", "content_sha256"
    ):
        policies.setdefault(slug, {})[number] = sha
    return SiteSnapshot(
        site=site,
        origins=frozenset(site.origins.values_list("origin", flat=True)),
        purposes=tuple(key for key, _ in purposes),
        sale_or_share_purposes=frozenset(key for key, is_sale in purposes if is_sale),
        policies=policies,
        pins={kind: dict(resolver(site)) for kind, resolver in pin_kinds().items()},
    )
