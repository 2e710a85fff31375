"""Writes for the cookie catalogue."""

from django.db import transaction

from consent.models import Purpose, Site
from cookies.models import Cookie
from subprocessors.models import Vendor


@transaction.atomic
def cookie_create(
    *,
    site: Site,
    purpose: Purpose,
    name: str,
    description: str,
    vendor: Vendor | None = None,
    domain: str = "",
    duration_days: int | None = None,
    justification: str = "",
) -> Cookie:
    """Catalogue a cookie; purpose and vendor must belong to the same site."""
    cookie = Cookie(
        site=site,
        purpose=purpose,
        vendor=vendor,
        name=name,
        domain=domain,
        duration_days=duration_days,
        description=description,
        justification=justification,
    )
    cookie.full_clean()
    cookie.save()
    return cookie
