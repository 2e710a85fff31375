"""Reads for sites: by public key, their purposes, and the cached snapshot public paths use."""

import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from consent.models import PolicyVersion, Purpose, Site
from consent.pins import pin_kinds


def site_get_by_key(*, key: str) -> Site | None:
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


_snapshots: dict[str, tuple[float, SiteSnapshot | None]] = {}


def site_snapshot(*, key: str) -> SiteSnapshot | None:
    """The site with this public key as the write path sees it, or None; cached per process.

    Per process on purpose: the write path then costs one INSERT and no reads, and a
    few seconds of staleness after an admin edit cannot let a wrong version be pinned,
    because editions, once published, never change.
    """
    now = time.monotonic()
    cached = _snapshots.get(key)
    if cached is not None and now - cached[0] < SNAPSHOT_TTL_SECONDS:
        return cached[1]
    snapshot = _site_snapshot_load(key)
    _snapshots[key] = (now, snapshot)
    return snapshot


def site_snapshot_forget() -> None:
    _snapshots.clear()


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
