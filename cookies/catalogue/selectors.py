"""Reads of the cookie catalogue: each purpose's cookies grouped by the vendor that sets them, and
their descriptions per language."""

from collections.abc import Iterable
from dataclasses import dataclass

from consent.content.selectors import MissingText
from consent.models import Site
from cookies.models import Cookie, CookieTranslation
from subprocessors.models import Vendor


@dataclass(frozen=True)
class VendorCookies:
    vendor: Vendor | None  # None: first-party
    cookies: tuple[Cookie, ...]


def cookie_vendors_by_purpose(*, site: Site) -> dict[str, list[VendorCookies]]:
    """Purpose key -> its vendors (first-party first) with their cookies, in banner order."""
    cookies = (
        Cookie.objects.filter(site=site)
        .select_related("purpose", "vendor")
        .order_by("purpose__position", "purpose__key", "vendor__name", "name")
    )
    grouped: dict[str, dict[int | None, list[Cookie]]] = {}
    vendors: dict[int | None, Vendor | None] = {None: None}
    for cookie in cookies:
        grouped.setdefault(cookie.purpose.key, {}).setdefault(cookie.vendor_id, []).append(cookie)
        vendors[cookie.vendor_id] = cookie.vendor
    return {
        purpose: [
            VendorCookies(vendor=vendors[vendor_id], cookies=tuple(items))
            for vendor_id, items in sorted(by_vendor.items(), key=lambda item: item[0] is not None)
        ]
        for purpose, by_vendor in grouped.items()
    }


def cookie_texts(*, site: Site) -> dict[int, dict[str, str]]:
    """Cookie id -> language -> its description in that language (non-empty texts only)."""
    texts: dict[int, dict[str, str]] = {}
    for cookie_id, language, description in CookieTranslation.objects.filter(cookie__site=site).values_list(
        "cookie_id", "language", "description"
    ):
        if description.strip():
            texts.setdefault(cookie_id, {})[language] = description
    return texts


def cookie_texts_missing(*, site: Site, languages: Iterable[str]) -> list[MissingText]:
    """The cookies whose description a visitor of the banner lacks in each of `languages`."""
    texts = cookie_texts(site=site)
    cookies = list(Cookie.objects.filter(site=site).order_by("purpose__position", "purpose__key", "name"))
    return [
        MissingText(kind="cookie", key=cookie.name, label=cookie.name, language=language, object_id=cookie.pk)
        for language in languages
        for cookie in cookies
        if language not in texts.get(cookie.pk, {})
    ]
