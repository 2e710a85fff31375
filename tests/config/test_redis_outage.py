"""With Redis (the cache) gone, every public endpoint still answers as it did: never a 500.

A redis-server of the test's own on a free port is the cache; the test warms every endpoint
up, stops that server, and calls every endpoint again. The shared Redis is never touched.
"""

import json
import shutil
import socket
import subprocess
import time

import pytest
from django.core.management import call_command

from consent.models import Site
from consent.sites.selectors import site_snapshot_forget
from cookies.banner.api import config_cache_forget

pytestmark = pytest.mark.django_db

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(settings):
    """A redis-server of this test's own as the project's cache; stopped by the test (or after it)."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    port = _free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "outage-test",
        }
    }
    settings.RATE_LIMIT_SYNC_SECONDS = 0  # every request tries Redis: the harshest case

    def stop():
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)

    yield stop
    stop()


ORIGIN = None  # set from the demo site's registered origins


def _demo(tmp_path):
    for command in ("consent_demo", "subprocessors_demo", "cookies_demo"):
        kwargs = {"admin_password_file": str(tmp_path / "pw")} if command == "consent_demo" else {}
        call_command(command, stdout=open("/dev/null", "w"), **kwargs)
    return Site.objects.get(key="demo")


def _consent(client, site, config, n):
    origin = sorted(site.origins.values_list("origin", flat=True))[0]
    body = {
        "visitor_id": f"0b0e5c1a-7d2b-4c59-9f3e-00000000000{n}",
        "action": "accept_all",
        "granted": [p["key"] for p in config["purposes"] if p["key"] != "necessary"],
        "denied": [],
        "versions": config["versions"],
        "language": "en",
        "ui_layer": "first_layer",
        "gpc": False,
        "dnt": False,
        "page_url": f"{origin}/",
    }
    return client.post(
        "/api/public/v1/sites/demo/consents",
        json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=origin,
        HTTP_IDEMPOTENCY_KEY=f"outage-{n}-{time.time_ns()}",
    )


def _every_public_endpoint(client, receipt_id):
    """(method, path, data, the statuses that are its normal answer)."""
    key = "demo"
    return [
        ("get", f"/c/{key}.js", None, {200}),
        ("get", "/c/no-such-site.js", None, {404}),
        ("get", f"/api/public/v1/sites/{key}/config?lang=en", None, {200}),
        ("get", "/api/public/v1/sites/unknown-key/config", None, {404}),
        (
            "get",
            f"/api/public/v1/sites/{key}/consents/current?visitor_id=0b0e5c1a-7d2b-4c59-9f3e-000000000001",
            None,
            {200, 404},
        ),
        ("get", f"/api/public/v1/sites/{key}/checkpoints", None, {200}),
        ("get", f"/api/public/v1/receipts/{receipt_id}", None, {200}),
        ("get", "/api/public/v1/jurisdictions", None, {200}),
        ("get", "/api/public/v1/jurisdictions/lookup?country=DE", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/jurisdiction", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/policies", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/policies/privacy-policy", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/policies/privacy-policy/versions/1", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/policies/privacy-policy/diff/1..2", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/subprocessors", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/subprocessors/versions", None, {200}),
        ("get", f"/api/public/v1/sites/{key}/subprocessors/versions/1", None, {200}),
        ("get", "/r/", None, {200}),
        ("get", f"/r/{receipt_id}/", None, {200}),
        ("get", f"/s/{key}/policies/", None, {200}),
        ("get", f"/s/{key}/policies/privacy-policy/", None, {200}),
        ("get", f"/s/{key}/policies/privacy-policy/v1/", None, {200}),
        ("get", f"/s/{key}/policies/privacy-policy/diff/1..2/", None, {200}),
        ("get", f"/s/{key}/subprocessors/", None, {200}),
        ("get", f"/s/{key}/subprocessors/feed.atom", None, {200}),
        ("post", f"/s/{key}/subprocessors/", {"email": "someone@example.org"}, {200, 302}),
        ("get", f"/s/{key}/subprocessors/confirm/not-a-token/", None, {400, 404}),
        ("get", f"/s/{key}/subprocessors/unsubscribe/not-a-token/", None, {400, 404}),
        ("get", f"/s/{key}/subprocessors/object/not-a-token/", None, {400, 404}),
        ("get", "/healthz", None, {200}),
    ]


def _call(client, method, path, data):
    if method == "post":
        return client.post(path, data)
    return client.get(path, HTTP_CF_IPCOUNTRY="DE")


def test_with_redis_stopped_every_public_endpoint_gives_its_normal_answer(client, tmp_path, own_redis):
    site = _demo(tmp_path)
    config = client.get("/api/public/v1/sites/demo/config?lang=en", HTTP_CF_IPCOUNTRY="DE").json()
    first = _consent(client, site, config, 1)
    assert first.status_code == 201, first.content
    receipt_id = first.json()["receipt_id"]
    # Sealed, so the checkpoints page is not empty (an empty page is another issue's 500).
    call_command("consent_seal", stdout=open("/dev/null", "w"))
    client.raise_request_exception = False  # a 500 is an answer to count here, not an exception
    endpoints = _every_public_endpoint(client, receipt_id)
    warm = {path: _call(client, method, path, data).status_code for method, path, data, _ in endpoints}
    assert all(status < 500 for status in warm.values()), warm

    own_redis()  # Redis is gone from here on
    site_snapshot_forget()  # and nothing is cached in the process either: the coldest case
    config_cache_forget()
    answers = {}
    for method, path, data, normal in endpoints:
        response = _call(client, method, path, data)
        answers[path] = (response.status_code, normal, warm[path])
    wrong = {path: got for path, got in answers.items() if got[0] not in got[1] or got[0] != got[2]}
    assert not wrong, wrong
    again = _consent(client, site, config, 2)
    assert again.status_code == 201, again.content
    # The management API and the admin login, whose failed-login limits live on the limiter too.
    wrong_token = "Bearer cst_aaaaaaaa_" + "A" * 43
    assert client.get("/api/v1/sites", HTTP_AUTHORIZATION=wrong_token).status_code == 401
    assert client.post("/admin/login/", {"username": "admin", "password": "wrong"}).status_code == 200
