"""The edge's limits: one per-address policy on every public path, bounded caches, failed logins."""

import base64
import logging
import random
import re
import string
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import AuditEntry
from consent.sites.selectors import (
    UNKNOWN_KEY_CACHE_SIZE,
    site_snapshot_cache_sizes,
)
from consent.sites.services import site_create
from cookies.banner.api import config_cache_size

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return site_create(name="Shop", key="shop", default_jurisdiction="EU", by=None)


@pytest.fixture
def tight(settings):
    settings.PUBLIC_RATE_LIMITS = {"banner": "3/day", "api": "3/day", "pages": "3/day"}


def test_an_ipv6_client_is_one_client_across_its_64(client, site, tight):
    path = "/api/public/v1/jurisdictions"
    for host in ("1", "2", "3"):  # three addresses of one /64, one request each
        assert client.get(path, REMOTE_ADDR=f"2001:db8:aa:bb::{host}").status_code == 200
    assert client.get(path, REMOTE_ADDR="2001:db8:aa:bb:ffff::9").status_code == 429
    assert client.get(path, REMOTE_ADDR="2001:db8:aa:cc::1").status_code == 200  # another /64


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/public/v1/sites/shop/config", "application/json"),
        ("/c/shop.js", "text/javascript"),
        ("/api/public/v1/jurisdictions", "application/json"),
        ("/api/public/v1/sites/shop/policies", "application/json"),
        ("/s/shop/policies/", "text/html"),
        ("/s/shop/subprocessors/", "text/html"),
        ("/r/", "text/html"),
    ],
)
def test_every_public_path_is_limited_per_address_and_says_so_in_its_own_form(
    client, site, tight, path, kind
):
    for _ in range(3):
        assert client.get(path).status_code != 429
    refused = client.get(path)
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith(kind)
    assert 0 < int(refused["Retry-After"]) <= 86400
    if kind == "application/json":
        assert refused.json()["error"]["code"] == "throttled"
    # Another address has its own allowance.
    assert client.get(path, REMOTE_ADDR="192.0.2.9").status_code != 429


def test_the_limit_keys_on_the_client_address_behind_the_trusted_proxies(client, site, tight, settings):
    settings.GEO_TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        client.get("/c/shop.js", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client.get("/c/shop.js", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert client.get("/c/shop.js", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


def test_the_consent_post_keeps_its_own_limits_only(client, site, tight):
    # Not counted against "api": the POST is limited per address and per site in its view.
    for _ in range(5):
        assert (
            client.post(
                "/api/public/v1/sites/shop/consents", "{}", content_type="application/json"
            ).status_code
            != 429
        )


def _cache_bytes() -> int:
    """The bytes the per-process caches of the public paths hold: their dicts, keys and entries."""
    from consent.sites import selectors
    from cookies.banner import api

    total = 0
    for cache in (selectors._snapshots, selectors._unknown_keys, api._configs):
        total += sys.getsizeof(cache._data)
        for key, entry in list(cache._data.items()):
            total += sys.getsizeof(key) + sys.getsizeof(entry)
    return total


def _random_key(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=22))


def test_a_flood_of_unknown_keys_costs_bounded_memory_and_no_query_for_impossible_keys(
    client, site, settings
):
    settings.PUBLIC_RATE_LIMITS = {"banner": "1000000/min", "api": "1000000/min", "pages": "1000000/min"}
    rng = random.Random(11)
    client.get("/api/public/v1/sites/shop/config")
    logging.disable(logging.WARNING)  # 10,000 "Not Found" lines would be kept by pytest's log capture
    before = _cache_bytes()
    try:
        for _ in range(5_000):
            assert client.get(f"/c/{_random_key(rng)}.js").status_code == 404
            assert client.get(f"/api/public/v1/sites/{_random_key(rng)}/config").status_code == 404
    finally:
        logging.disable(logging.NOTSET)
    after = _cache_bytes()
    sizes = site_snapshot_cache_sizes()
    assert sizes == {"sites": 1, "unknown_keys": UNKNOWN_KEY_CACHE_SIZE}
    assert config_cache_size() == 1
    # Full at 1,024 short keys (about 250 KB); the unbounded dict held 13 MB after 10,000.
    assert after - before < 512 * 1024, (before, after)
    # A key that cannot be one (too long, wrong characters) costs neither a query nor an entry.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/c/" + "x" * 3000 + ".js").status_code == 404
        assert client.get("/api/public/v1/sites/a.b/config").status_code == 404
        assert client.get("/api/public/v1/sites/" + "y" * 65 + "/jurisdiction").status_code == 404
    assert len(queries) == 0
    # A repeat of a recently seen unknown key is answered from the negative cache.
    key = _random_key(rng)
    client.get(f"/c/{key}.js")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/c/{key}.js").status_code == 404
    assert len(queries) == 0


@pytest.fixture
def user():
    return get_user_model().objects.create_user(username="dana", password="a-long-password-1", is_staff=True)


@pytest.fixture
def hashes(monkeypatch):
    """How many times a password is hashed (verify or encode), whatever the hasher."""
    calls = []
    for name in ("verify", "encode"):
        real = getattr(MD5PasswordHasher, name)

        def counted(self, *args, _real=real, **kwargs):
            calls.append(1)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(MD5PasswordHasher, name, counted)
    return calls


def test_the_management_api_takes_no_password_so_a_flood_of_wrong_credentials_hashes_nothing(
    client, user, hashes
):
    basic = "Basic " + base64.b64encode(b"dana:a-long-password-1").decode()
    for header in [basic, "Bearer cst_aaaaaaaa_" + "A" * 43] * 20:
        assert client.get("/api/v1/sites", HTTP_AUTHORIZATION=header).status_code == 401
    assert hashes == []  # tokens are SHA-256 lookups; Basic auth is not accepted at all


def test_one_address_guessing_many_usernames_is_locked_out_too(client, settings, hashes):
    settings.LOGIN_FAILURES_PER_ADDRESS = "10/15min"
    for n in range(10):
        answer = client.post("/admin/login/", {"username": f"user{n}", "password": "x"})
        assert answer.status_code == 200 and b"errornote" in answer.content
    hashed = len(hashes)
    assert client.post("/admin/login/", {"username": "user99", "password": "x"}).status_code == 429
    assert len(hashes) == hashed
    assert AuditEntry.objects.filter(action="auth.login_throttled", data__by="address").count() == 1


def test_the_admin_login_page_says_logins_are_locked(client, user, settings, hashes):
    settings.LOGIN_FAILURES_PER_USERNAME = "5/15min"
    for _ in range(5):
        page = client.post("/admin/login/", {"username": "dana", "password": "wrong"})
        assert page.status_code == 200 and b"Too many failed logins" not in page.content
    hashed = len(hashes)
    locked = client.post("/admin/login/", {"username": "dana", "password": "a-long-password-1"})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert re.search(rb"Logins are locked for \d+ minutes", locked.content)
    assert int(locked["Retry-After"]) > 0
    assert len(hashes) == hashed
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.login_throttled").count() == 1
    # A correct login before the lock works as ever.
    other = get_user_model().objects.create_user(username="finn", password="finn-password-3", is_staff=True)
    assert (
        client.post("/admin/login/", {"username": other.username, "password": "finn-password-3"}).status_code
        == 302
    )
