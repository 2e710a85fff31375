"""Reads of the cookie catalogue: each purpose's cookies grouped by the vendor that sets them."""

from dataclasses import dataclass

from consent.models import Site
from cookies.models import Cookie
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
