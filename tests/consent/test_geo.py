import ipaddress
import threading
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import geoip2fast
import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from consent.rules.geo import (
    EmbeddedLookup,
    MaxMindLookup,
    ResolutionMethod,
    country_lookup,
    jurisdiction_resolve,
)
from consent.rules.jurisdictions import GpcEffect
from edge.client import client_ip


@pytest.fixture(autouse=True)
def geo_settings(settings):
    """The documented defaults, whatever the environment says, and a fresh lookup per test."""
    settings.GEO_TRUSTED_PROXY_COUNT = 0
    settings.GEO_COUNTRY_HEADER = "CF-IPCountry"
    settings.GEO_REGION_HEADER = "CF-Region-Code"
    settings.GEOIP_DATABASE_PATH = ""
    country_lookup.cache_clear()
    yield settings
    country_lookup.cache_clear()


# --- client_ip ---------------------------------------------------------------------------


def test_client_ip_is_remote_addr_when_no_proxy_is_trusted(rf):
    request = rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="8.8.8.8")

    assert client_ip(request) == "203.0.113.7"


def test_client_ip_behind_one_trusted_proxy_is_the_rightmost_forwarded_address(rf, settings):
    settings.GEO_TRUSTED_PROXY_COUNT = 1
    # The visitor wrote "1.1.1.1"; the proxy appended the address it saw.
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 77.88.55.88")

    assert client_ip(request) == "77.88.55.88"


def test_client_ip_behind_two_trusted_proxies_is_two_hops_from_the_right(rf, settings):
    settings.GEO_TRUSTED_PROXY_COUNT = 2
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1,77.88.55.88 , 10.0.0.1")

    assert client_ip(request) == "77.88.55.88"


@pytest.mark.parametrize("forwarded", ["", "8.8.8.8", "1.1.1.1, not-an-ip, 10.0.0.1"])
def test_client_ip_is_empty_when_the_forwarded_chain_is_too_short_or_invalid(rf, settings, forwarded):
    settings.GEO_TRUSTED_PROXY_COUNT = 2

    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)) == ""


def test_client_ip_is_empty_without_a_valid_remote_addr(rf):
    assert client_ip(rf.get("/", REMOTE_ADDR="unknown")) == ""


def test_client_ip_unwraps_ipv4_mapped_ipv6_addresses(rf):
    assert client_ip(rf.get("/", REMOTE_ADDR="::ffff:8.8.8.8")) == "8.8.8.8"


# --- the resolver ------------------------------------------------------------------------


def test_the_edge_country_header_wins_over_geoip(rf):
    request = rf.get("/", REMOTE_ADDR="8.8.8.8", HTTP_CF_IPCOUNTRY="DE")

    resolution = jurisdiction_resolve(request=request, default_code="DEFAULT")

    assert resolution.ruleset.code == "EU"
    assert (resolution.country, resolution.region, resolution.method) == ("DE", "", ResolutionMethod.HEADER)


@pytest.mark.parametrize("region", ["CA", "us-ca"])
def test_the_edge_region_header_places_a_us_visitor_in_california(rf, region):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_CF_IPCOUNTRY="us", HTTP_CF_REGION_CODE=region)

    resolution = jurisdiction_resolve(request=request, default_code="EU")

    assert resolution.ruleset.code == "US-CA"
    assert (resolution.country, resolution.region) == ("US", "CA")


@pytest.mark.parametrize("header", ["XX", "T1", "", "USA", "--", "1"])
def test_an_unknown_or_tor_country_header_falls_through_to_geoip(rf, header):
    request = rf.get("/", REMOTE_ADDR="77.88.55.88", HTTP_CF_IPCOUNTRY=header)

    resolution = jurisdiction_resolve(request=request, default_code="EU")

    assert (resolution.ruleset.code, resolution.method) == ("RU", ResolutionMethod.GEOIP)


def test_a_disabled_country_header_is_ignored(rf, settings):
    settings.GEO_COUNTRY_HEADER = ""
    request = rf.get("/", REMOTE_ADDR="77.88.55.88", HTTP_CF_IPCOUNTRY="DE")

    resolution = jurisdiction_resolve(request=request, default_code="EU")

    assert (resolution.ruleset.code, resolution.method) == ("RU", ResolutionMethod.GEOIP)


def test_geoip_places_8_8_8_8_in_the_us_without_a_state(rf):
    resolution = jurisdiction_resolve(request=rf.get("/", REMOTE_ADDR="8.8.8.8"), default_code="EU")

    assert resolution.ruleset.code == "US"
    assert (resolution.country, resolution.region, resolution.method) == ("US", "", ResolutionMethod.GEOIP)


def test_geoip_places_77_88_55_88_in_russia(rf):
    resolution = jurisdiction_resolve(request=rf.get("/", REMOTE_ADDR="77.88.55.88"), default_code="EU")

    assert (resolution.ruleset.code, resolution.country) == ("RU", "RU")


def test_geoip_places_an_ipv6_address(rf):
    # Yandex's IPv6 network, allocated in Russia.
    resolution = jurisdiction_resolve(request=rf.get("/", REMOTE_ADDR="2a02:6b8::2:242"), default_code="EU")

    assert (resolution.ruleset.code, resolution.country) == ("RU", "RU")
    assert resolution.method == ResolutionMethod.GEOIP


def test_loopback_without_a_header_falls_back_to_the_site_default(rf):
    resolution = jurisdiction_resolve(request=rf.get("/", REMOTE_ADDR="127.0.0.1"), default_code="KZ")

    assert (resolution.ruleset.code, resolution.method) == ("KZ", ResolutionMethod.SITE_DEFAULT)
    assert (resolution.country, resolution.region) == ("", "")


def test_a_forced_code_wins_and_is_reported_as_an_override(rf):
    request = rf.get("/", REMOTE_ADDR="8.8.8.8", HTTP_CF_IPCOUNTRY="DE")

    resolution = jurisdiction_resolve(request=request, default_code="EU", forced_code="RU")

    assert (resolution.ruleset.code, resolution.method) == ("RU", ResolutionMethod.OVERRIDE)


def test_x_forwarded_for_is_honoured_only_behind_a_trusted_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="77.88.55.88, 8.8.8.8")

    untrusted = jurisdiction_resolve(request=request, default_code="KZ")
    settings.GEO_TRUSTED_PROXY_COUNT = 1
    trusted = jurisdiction_resolve(request=request, default_code="KZ")

    assert (untrusted.ruleset.code, untrusted.method) == ("KZ", ResolutionMethod.SITE_DEFAULT)
    # The spoofable leftmost entry (a Russian address) is ignored.
    assert (trusted.ruleset.code, trusted.country) == ("US", "US")


def test_the_site_overrides_for_the_resolved_ruleset_are_applied(rf):
    overrides = {"EU": {"reask_after_consent_days": 90}, "RU": {"age_threshold": 18}}

    resolution = jurisdiction_resolve(
        request=rf.get("/", HTTP_CF_IPCOUNTRY="DE"), default_code="EU", overrides=overrides
    )

    assert resolution.ruleset.code == "EU"
    assert resolution.ruleset.reask_after_consent_days == 90
    assert resolution.ruleset.age_threshold == 16


def test_site_overrides_also_apply_to_a_forced_code_and_to_the_site_default(rf):
    overrides = {"RU": {"age_threshold": 18}}
    request = rf.get("/", REMOTE_ADDR="127.0.0.1")

    forced = jurisdiction_resolve(request=request, default_code="EU", overrides=overrides, forced_code="RU")
    default = jurisdiction_resolve(request=request, default_code="RU", overrides=overrides)

    assert forced.ruleset.age_threshold == default.ruleset.age_threshold == 18


def test_invalid_site_overrides_are_skipped_and_logged_while_valid_ones_apply(rf, caplog):
    overrides = {"US-CA": {"gpc_effect": "none", "reject_on_first_layer": True}}
    request = rf.get("/", HTTP_CF_IPCOUNTRY="US", HTTP_CF_REGION_CODE="CA")

    resolution = jurisdiction_resolve(request=request, default_code="EU", overrides=overrides)

    assert resolution.ruleset.gpc_effect == GpcEffect.OPT_OUT_SALE_SHARE
    assert resolution.ruleset.reject_on_first_layer is True
    assert "Ignoring US-CA overrides: gpc_effect:" in caplog.text


def test_the_date_decides_whether_a_state_has_a_universal_opt_out_yet(rf):
    request = rf.get("/", HTTP_CF_IPCOUNTRY="US", HTTP_CF_REGION_CODE="CO")

    before = jurisdiction_resolve(request=request, default_code="EU", on=date(2024, 6, 30))
    after = jurisdiction_resolve(request=request, default_code="EU", on=date(2024, 7, 1))

    assert (before.ruleset.code, after.ruleset.code) == ("US", "US-UOOM")


# --- the embedded database ---------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "100.64.0.1", "192.0.2.1", "240.0.0.1", "224.0.0.1",
     "::1", "fe80::1", "2001:db8::1", "ff02::1", "", "junk"],
)  # fmt: skip
def test_the_embedded_lookup_places_no_private_reserved_or_invalid_address(ip):
    assert EmbeddedLookup().lookup(ip) == ("", "")


def test_the_embedded_lookup_places_ipv4_and_ipv6_addresses_but_never_a_region():
    assert EmbeddedLookup().lookup("8.8.8.8") == ("US", "")
    assert EmbeddedLookup().lookup("2001:4860:4860::8888") == ("US", "")


def test_the_embedded_database_is_loaded_once_even_by_concurrent_first_requests(monkeypatch):
    loads = []

    class SlowGeoIP2Fast:
        def __init__(self, geoip2fast_data_file: str) -> None:
            time.sleep(0.05)
            loads.append(geoip2fast_data_file)

        def lookup(self, ip: str) -> SimpleNamespace:
            return SimpleNamespace(country_code="US")

    monkeypatch.setattr(EmbeddedLookup, "_database", None)
    monkeypatch.setattr(geoip2fast, "GeoIP2Fast", SlowGeoIP2Fast)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(EmbeddedLookup().lookup("8.8.8.8"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [("US", "")] * 8
    assert len(loads) == 1
    # A full path, so a same-named file in the working directory is never picked up instead.
    assert Path(loads[0]).is_absolute()
    assert Path(loads[0]).name == "geoip2fast-ipv6.dat.gz"


def test_the_embedded_database_is_used_when_no_maxmind_file_is_configured():
    assert isinstance(country_lookup(), EmbeddedLookup)


# --- MaxMind -----------------------------------------------------------------------------


def test_a_maxmind_city_database_gives_country_and_region(tmp_path):
    lookup = MaxMindLookup(str(_tiny_city_database(tmp_path)))

    assert lookup.lookup("1.2.3.4") == ("US", "CA")
    assert lookup.lookup("5.6.7.8") == ("DE", "")


@pytest.mark.parametrize("ip", ["9.9.9.9", "10.0.0.1", "2a02:6b8::2:242", "junk"])
def test_a_maxmind_database_places_no_unknown_private_or_unsupported_address(tmp_path, ip):
    assert MaxMindLookup(str(_tiny_city_database(tmp_path))).lookup(ip) == ("", "")


def test_the_resolver_uses_the_maxmind_database_when_one_is_configured(rf, settings, tmp_path):
    settings.GEOIP_DATABASE_PATH = str(_tiny_city_database(tmp_path))

    resolution = jurisdiction_resolve(request=rf.get("/", REMOTE_ADDR="1.2.3.4"), default_code="EU")

    assert isinstance(country_lookup(), MaxMindLookup)
    assert (resolution.ruleset.code, resolution.region) == ("US-CA", "CA")
    assert resolution.method == ResolutionMethod.GEOIP


def test_a_missing_maxmind_database_is_improperly_configured(settings, tmp_path):
    settings.GEOIP_DATABASE_PATH = str(tmp_path / "missing.mmdb")

    with pytest.raises(ImproperlyConfigured, match="missing.mmdb"):
        country_lookup()


def test_a_file_that_is_not_a_maxmind_database_is_improperly_configured(settings, tmp_path):
    path = tmp_path / "not-a-database.mmdb"
    path.write_bytes(b"not a database" * 100)
    settings.GEOIP_DATABASE_PATH = str(path)

    with pytest.raises(ImproperlyConfigured, match="not a MaxMind DB file"):
        country_lookup()


def _tiny_city_database(directory: Path) -> Path:
    """A GeoIP2-City-shaped file with two networks: 1.2.3.0/24 in California, 5.6.7.0/24 in Germany."""
    path = directory / "tiny-city.mmdb"
    _mmdb_write(
        path,
        {
            "1.2.3.0/24": _mmdb_map(
                {
                    "country": _mmdb_map({"iso_code": _mmdb_string("US")}),
                    "subdivisions": _mmdb_array([_mmdb_map({"iso_code": _mmdb_string("CA")})]),
                }
            ),
            "5.6.7.0/24": _mmdb_map({"country": _mmdb_map({"iso_code": _mmdb_string("DE")})}),
        },
    )
    return path


# A minimal writer for the MaxMind DB format 2.0 (IPv4 tree, 24-bit records), so MaxMindLookup is
# tested against the real reader without adding a writer package to the project's dependencies.


def _mmdb_control(data_type: int, size: int) -> bytes:
    # Types above 7 are "extended": type 0 in the control byte, then the type minus 7.
    return bytes([data_type << 5 | size]) if data_type <= 7 else bytes([size, data_type - 7])


def _mmdb_string(text: str) -> bytes:
    return _mmdb_control(2, len(text.encode())) + text.encode()


def _mmdb_uint(data_type: int, width: int, number: int) -> bytes:
    return _mmdb_control(data_type, width) + number.to_bytes(width, "big")


def _mmdb_map(items: dict[str, bytes]) -> bytes:
    return _mmdb_control(7, len(items)) + b"".join(_mmdb_string(key) + value for key, value in items.items())


def _mmdb_array(items: list[bytes]) -> bytes:
    return _mmdb_control(11, len(items)) + b"".join(items)


def _mmdb_write(path: Path, records: dict[str, bytes]) -> None:
    """Write `records` ({IPv4 network: encoded record}) as a MaxMind DB file."""
    links: list[list[int | None]] = [[None, None]]  # per node: the child node for bit 0 and bit 1
    leaves: dict[tuple[int, int], int] = {}  # (node, bit) -> offset of a record in the data section
    data = b""
    for network_text, record in records.items():
        network = ipaddress.IPv4Network(network_text)
        bits = [int(bit) for bit in f"{int(network.network_address):032b}"[: network.prefixlen]]
        node = 0
        for bit in bits[:-1]:
            if links[node][bit] is None:
                links.append([None, None])
                links[node][bit] = len(links) - 1
            node = links[node][bit]
        leaves[(node, bits[-1])] = len(data)
        data += record
    node_count = len(links)
    tree = b""
    for node, children in enumerate(links):
        for bit, child in enumerate(children):
            if (node, bit) in leaves:
                value = node_count + 16 + leaves[(node, bit)]
            else:
                value = node_count if child is None else child  # node_count means "no data"
            tree += value.to_bytes(3, "big")
    metadata = _mmdb_map(
        {
            "node_count": _mmdb_uint(6, 4, node_count),
            "record_size": _mmdb_uint(5, 2, 24),
            "ip_version": _mmdb_uint(5, 2, 4),
            "database_type": _mmdb_string("Consentry-Test-City"),
            "languages": _mmdb_array([_mmdb_string("en")]),
            "binary_format_major_version": _mmdb_uint(5, 2, 2),
            "binary_format_minor_version": _mmdb_uint(5, 2, 0),
            "build_epoch": _mmdb_uint(9, 8, 1_767_225_600),  # libmaxminddb refuses 0
            "description": _mmdb_map({"en": _mmdb_string("test")}),
        }
    )
    path.write_bytes(tree + bytes(16) + data + b"\xab\xcd\xefMaxMind.com" + metadata)


# --- the edge header is trusted only when configured ---------------------------------------


def test_the_edge_header_is_ignored_unless_configured_explicitly_or_behind_a_proxy(rf, settings):
    settings.GEO_COUNTRY_HEADER_EXPLICIT = False
    request = rf.get("/", REMOTE_ADDR="77.88.55.88", HTTP_CF_IPCOUNTRY="US", HTTP_CF_REGION_CODE="CA")

    ignored = jurisdiction_resolve(request=request, default_code="EU")
    assert (ignored.method, ignored.country) == (ResolutionMethod.GEOIP, "RU")

    settings.GEO_TRUSTED_PROXY_COUNT = 1
    behind_proxy = jurisdiction_resolve(
        request=rf.get(
            "/", HTTP_X_FORWARDED_FOR="77.88.55.88", HTTP_CF_IPCOUNTRY="US", HTTP_CF_REGION_CODE="CA"
        ),
        default_code="EU",
    )
    assert (behind_proxy.method, behind_proxy.country, behind_proxy.region) == ("header", "US", "CA")

    settings.GEO_TRUSTED_PROXY_COUNT = 0
    settings.GEO_COUNTRY_HEADER_EXPLICIT = True
    explicit = jurisdiction_resolve(request=request, default_code="EU")
    assert (explicit.method, explicit.country) == (ResolutionMethod.HEADER, "US")


def _geo_deploy_errors():
    return [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "consentry.E013"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({}, True),
        ({"DEBUG": True}, False),
        ({"GEO_COUNTRY_HEADER_EXPLICIT": True}, False),
        ({"GEO_TRUSTED_PROXY_COUNT": 1}, False),
        ({"GEO_COUNTRY_HEADER": ""}, False),
    ],
)
def test_check_deploy_is_an_error_while_the_header_is_neither_configured_nor_behind_a_proxy(
    settings, overrides, error
):
    settings.DEBUG = False
    settings.GEO_COUNTRY_HEADER_EXPLICIT = False
    for name, value in overrides.items():
        setattr(settings, name, value)
    found = _geo_deploy_errors()
    assert bool(found) is error
    if error:
        assert found[0].is_serious()


@pytest.mark.parametrize(
    ("extra_env", "error"),
    [({}, True), ({"GEO_COUNTRY_HEADER": "CF-IPCountry"}, False), ({"GEO_TRUSTED_PROXY_COUNT": "1"}, False)],
)
def test_setting_the_header_in_the_environment_is_what_makes_it_explicit(extra_env, error):
    import os
    import subprocess
    import sys

    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GEO_", "DJANGO_")) and name not in {"DEBUG", "PYTEST_CURRENT_TEST"}
    }
    env.update(SECRET_KEY="geo-check", **extra_env)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ("consentry.E013" in done.stderr + done.stdout) is error, done.stderr
