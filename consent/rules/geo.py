"""Where a visitor is, and which row of the rules table applies to them.

No model is imported here: callers pass the site's default jurisdiction and its overrides. Settings
are read with defaults so this works before they are declared:

- GEO_TRUSTED_PROXY_COUNT (0): how many proxies in front of Django append to X-Forwarded-For.
- GEO_COUNTRY_HEADER ("CF-IPCountry") and GEO_REGION_HEADER ("CF-Region-Code"): location headers set
  by a trusted edge; an empty name disables the header. They are read only when trusted
  (`geo_headers_trusted`): GEO_COUNTRY_HEADER_EXPLICIT (the name was set in the environment) or
  GEO_TRUSTED_PROXY_COUNT > 0.
- GEOIP_DATABASE_PATH (""): a MaxMind DB file to use instead of the database embedded in geoip2fast.
"""

import functools
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

import maxminddb
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import TextChoices
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from consent.rules.jurisdictions import RuleSet, ruleset_for_location, ruleset_get
from consent.rules.overrides import overrides_validate, ruleset_with_overrides
from edge.client import client_ip, ip_address_parse

if TYPE_CHECKING:
    from geoip2fast import GeoIP2Fast


logger = logging.getLogger(__name__)


_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


# "XX" is how an edge says it does not know; other junk (Cloudflare's "T1" for Tor, geoip2fast's "--"
# for private networks) is caught by the two-letter pattern.
_UNKNOWN_COUNTRY_CODES = frozenset({"XX"})


# The part of an ISO 3166-2 code after "CC-".
_REGION_CODE = re.compile(r"[A-Z0-9]{1,3}")


class CountryLookup(Protocol):
    """Something that places an IP address on the map."""

    def lookup(self, ip: str) -> tuple[str, str]:
        """(country, region) for `ip`: ISO 3166-1 alpha-2 and the ISO 3166-2 part after "CC-", both
        uppercase, "" where unknown. Never raises for a bad, private or unknown address."""
        ...


class EmbeddedLookup:
    """Countries from the IPv4 + IPv6 file bundled with the geoip2fast package. It has no regions,
    so a US visitor placed by it alone gets the generic US row."""

    # Shared by all instances: geoip2fast keeps its tables in module globals, so a process can only
    # hold one database anyway.
    _database: ClassVar["GeoIP2Fast | None"] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def lookup(self, ip: str) -> tuple[str, str]:
        address = _public_address(ip)
        if not address:
            return "", ""
        return _country_code(self._database_get().lookup(address).country_code), ""

    @classmethod
    def _database_get(cls) -> "GeoIP2Fast":
        # Loading takes about 0.2 s: it must happen once per process, never per request, and never
        # twice when several threads serve the first requests together (a second load would also
        # rewrite geoip2fast's global tables under a running lookup).
        if cls._database is None:
            with cls._lock:
                if cls._database is None:
                    # Imported here because importing geoip2fast rewrites os.environ (PYTHONWARNINGS),
                    # which processes using a MaxMind file should not pay for.
                    import geoip2fast

                    # A full path: given a bare file name, geoip2fast looks in the working directory first.
                    path = Path(geoip2fast.__file__).with_name("geoip2fast-ipv6.dat.gz")
                    cls._database = geoip2fast.GeoIP2Fast(geoip2fast_data_file=str(path))
        return cls._database


class MaxMindLookup:
    """Countries, and regions where the file has them, from a MaxMind DB file: GeoLite2 or GeoIP2,
    Country or City."""

    def __init__(self, path: str) -> None:
        if not Path(path).is_file():
            raise ImproperlyConfigured(f"GeoIP database {path!r} (GEOIP_DATABASE_PATH) is not a file")
        try:
            self._reader = maxminddb.open_database(path)
        except maxminddb.InvalidDatabaseError as error:
            raise ImproperlyConfigured(
                f"GeoIP database {path!r} (GEOIP_DATABASE_PATH) is not a MaxMind DB file: {error}"
            ) from error

    def lookup(self, ip: str) -> tuple[str, str]:
        address = _public_address(ip)
        if not address:
            return "", ""
        try:
            record = self._reader.get(address)
        except ValueError:
            # An IPv6 address asked of an IPv4-only file.
            return "", ""
        if not isinstance(record, dict):
            return "", ""
        country = _country_code(_iso_code(record.get("country")))
        if not country:
            return "", ""
        subdivisions = record.get("subdivisions")
        region = _iso_code(subdivisions[0]) if isinstance(subdivisions, list) and subdivisions else ""
        return country, _region_code(region, country)


@functools.cache
def country_lookup() -> CountryLookup:
    """The process's lookup: MaxMind when settings.GEOIP_DATABASE_PATH is set, else the embedded
    database. Built once; tests that change the setting call `country_lookup.cache_clear()`.
    Raises ImproperlyConfigured when the MaxMind file is missing or unreadable."""
    path = getattr(settings, "GEOIP_DATABASE_PATH", "")
    if path:
        return MaxMindLookup(str(path))
    return EmbeddedLookup()


class ResolutionMethod(TextChoices):
    """How a request's jurisdiction was decided."""

    HEADER = "header", _("Edge location header")
    GEOIP = "geoip", _("GeoIP lookup")
    SITE_DEFAULT = "site_default", _("Site default")
    OVERRIDE = "override", _("Forced (preview or test)")
    SITE_STATED = "site_stated", _("Stated by the site's own systems")


@dataclass(frozen=True)
class Resolution:
    """The row that applies to one request, where the visitor was placed ("" when unknown) and how
    that was decided. `ruleset` already has the site's overrides applied."""

    ruleset: RuleSet
    country: str
    region: str
    method: ResolutionMethod


def jurisdiction_resolve(
    *,
    request: HttpRequest,
    default_code: str,
    overrides: Mapping[str, Mapping[str, object]] | None = None,
    forced_code: str | None = None,
    on: date | None = None,
) -> Resolution:
    """Which row applies to `request`, first match wins: `forced_code` (admin preview, tests), the
    trusted edge's location headers, GeoIP on `client_ip`, then the site's `default_code`.
    `overrides` maps ruleset codes to the site's overrides for that row; `on` is the day the rules
    are taken at (default today). An unknown `forced_code` or `default_code` is a ValueError."""
    if forced_code:
        return _resolution(ruleset_get(forced_code), "", "", ResolutionMethod.OVERRIDE, overrides)
    country, region = _location_from_headers(request)
    if country:
        ruleset = ruleset_for_location(country=country, region=region, on=on)
        return _resolution(ruleset, country, region, ResolutionMethod.HEADER, overrides)
    country, region = country_lookup().lookup(client_ip(request))
    if country:
        ruleset = ruleset_for_location(country=country, region=region, on=on)
        return _resolution(ruleset, country, region, ResolutionMethod.GEOIP, overrides)
    return _resolution(ruleset_get(default_code), "", "", ResolutionMethod.SITE_DEFAULT, overrides)


def jurisdiction_stated(
    *, code: str | None, default_code: str, overrides: Mapping[str, Mapping[str, object]] | None = None
) -> Resolution:
    """The row for a decision the site's own systems record (management API): the jurisdiction
    they state, else the site's default. Never located from the request: it comes from the
    site's server, not the person's browser. An unknown code is a ValueError."""
    if code:
        return _resolution(ruleset_get(code), "", "", ResolutionMethod.SITE_STATED, overrides)
    return _resolution(ruleset_get(default_code), "", "", ResolutionMethod.SITE_DEFAULT, overrides)


def _resolution(
    ruleset: RuleSet,
    country: str,
    region: str,
    method: ResolutionMethod,
    overrides: Mapping[str, Mapping[str, object]] | None,
) -> Resolution:
    site_overrides = (overrides or {}).get(ruleset.code)
    if site_overrides:
        # Overrides were checked when the site was saved, but a later rules table may be stricter:
        # apply what is still allowed rather than fail the visitor's request, and say what was skipped.
        errors = overrides_validate(ruleset.code, site_overrides)
        if errors:
            logger.warning("Ignoring %s overrides: %s", ruleset.code, "; ".join(errors.values()))
        allowed = {field: value for field, value in site_overrides.items() if field not in errors}
        ruleset = ruleset_with_overrides(ruleset, allowed)
    return Resolution(ruleset=ruleset, country=country, region=region, method=method)


def geo_headers_trusted() -> bool:
    """Whether the edge's location headers are read: only when configured, never by default, since
    without a trusted edge in front anyone can send them and choose the law that applies to them."""
    if not getattr(settings, "GEO_COUNTRY_HEADER", "CF-IPCountry"):
        return False
    return bool(getattr(settings, "GEO_COUNTRY_HEADER_EXPLICIT", False)) or (
        getattr(settings, "GEO_TRUSTED_PROXY_COUNT", 0) > 0
    )


def _location_from_headers(request: HttpRequest) -> tuple[str, str]:
    if not geo_headers_trusted():
        return "", ""
    country_header: str = getattr(settings, "GEO_COUNTRY_HEADER", "CF-IPCountry")
    country = _country_code(request.headers.get(country_header))
    if not country:
        return "", ""
    region_header: str = getattr(settings, "GEO_REGION_HEADER", "CF-Region-Code")
    region = request.headers.get(region_header) if region_header else ""
    return country, _region_code(region, country)


def _public_address(ip: str) -> str:
    """`ip` in canonical form if it can be placed on the map: valid, globally routable, not multicast."""
    address = ip_address_parse(ip)
    if address is None or not address.is_global or address.is_multicast:
        return ""
    return str(address)


def _iso_code(value: object) -> object:
    return value.get("iso_code") if isinstance(value, dict) else None


def _country_code(value: object) -> str:
    """`value` as an uppercase ISO 3166-1 alpha-2 code, or "" when it is anything else."""
    if not isinstance(value, str):
        return ""
    code = value.strip().upper()
    return code if _COUNTRY_CODE.fullmatch(code) and code not in _UNKNOWN_COUNTRY_CODES else ""


def _region_code(value: object, country: str) -> str:
    """`value` ("CA" or "US-CA", any case) as the part after "CC-", or "" when it is not one."""
    if not isinstance(value, str):
        return ""
    code = value.strip().upper().removeprefix(f"{country}-")
    return code if _REGION_CODE.fullmatch(code) else ""
