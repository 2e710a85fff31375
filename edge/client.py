"""Who is asking: the client's IP address, trusting only the configured number of proxies."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(request: HttpRequest) -> str:
    """The visitor's IP address in canonical form, or "" when there is no valid one.

    REMOTE_ADDR, unless settings.GEO_TRUSTED_PROXY_COUNT > 0: then the X-Forwarded-For entry that many
    hops from the right. Each trusted proxy appends the address it received the request from; entries
    further left arrived with the request, so the client may have forged them."""
    proxy_count: int = getattr(settings, "GEO_TRUSTED_PROXY_COUNT", 0)
    if proxy_count > 0:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")
        candidate = forwarded[-proxy_count] if len(forwarded) >= proxy_count else ""
    else:
        candidate = request.META.get("REMOTE_ADDR", "")
    address = ip_address_parse(candidate)
    return "" if address is None else str(address)


def ip_address_parse(value: str) -> _IPAddress | None:
    """`value` as an IP address (an IPv4-mapped IPv6 address as its IPv4 address), or None."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# IPv6 hosts usually get a whole /64: a client rotating addresses within it is still one client.
IPV6_LIMIT_PREFIX = 64


def address_limit_key(ip: str) -> str:
    """What a rate limit counts `ip` (from client_ip) as: the IPv4 address, the IPv6 /64, or "unknown"."""
    address = ip_address_parse(ip) if ip else None
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_LIMIT_PREFIX), strict=False))
    return str(address)
