"""Where the banner keeps what: the decision in a small first-party cookie, the consent POST not
yet acknowledged by the server in localStorage (a cookie would travel on every request to the
customer's server, and browsers drop one past 4 KB)."""

import base64
import json
import time
from typing import Any

import pytest

from tests.e2e.conftest import Visitor, browser_tests_unavailable

try:
    from playwright.sync_api import expect
except ImportError:
    browser_tests_unavailable("Python Playwright is missing: pip install -e '.[dev]'.", module=True)

pytestmark = pytest.mark.browser
PENDING_KEY = "consentry:pending"


def consent_cookie(visitor: Visitor) -> str:
    cookies = visitor.context.cookies(visitor.customer.origin)
    return next(cookie["value"] for cookie in cookies if cookie["name"] == "consentry")


def decode(value: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def pending(visitor: Visitor) -> dict[str, Any] | None:
    stored = visitor.page.evaluate("key => localStorage.getItem(key)", PENDING_KEY)
    return json.loads(stored) if stored else None


def test_a_failed_post_waits_in_local_storage_not_the_cookie_and_a_reload_resends_it(visit):
    visitor = visit(country="DE")
    failures = []

    def fail_posts_until_told(route: Any) -> None:
        if route.request.method == "POST" and not failures:
            failures.append(route.request.headers.get("idempotency-key"))
            route.fulfill(
                status=503,
                headers={"Access-Control-Allow-Origin": visitor.customer.origin},
                body='{"error": {"code": "unavailable"}}',
                content_type="application/json",
            )
        else:
            route.fallback()

    visitor.page.route("**/api/public/v1/sites/*/consents", fail_posts_until_told)
    visitor.goto()
    with visitor.page.expect_response(lambda r: r.request.method == "POST" and r.status == 503):
        visitor.button("accept_all").click()

    value = consent_cookie(visitor)
    stored = decode(value)
    assert "p" not in stored and "page_url" not in json.dumps(stored)
    assert len(value) < 400, f"the consent cookie is {len(value)} characters"
    assert (stored["a"], stored["r"]) == ("accept_all", None)
    body = pending(visitor)
    assert body is not None and body["idempotency_key"] == failures[0]
    assert body["visitor_id"] == stored["id"]

    visitor.reload()  # before the banner's own retry (2 s): the new page resends from storage
    receipt_id = visitor.wait_saved()

    visitor.page.wait_for_function("key => localStorage.getItem(key) === null", arg=PENDING_KEY)
    assert decode(consent_cookie(visitor))["r"] == receipt_id
    rows = visitor.app.ledger(visitor_id=stored["id"])
    assert [(row["action"], row["idempotency_key"]) for row in rows] == [("accept_all", failures[0])]
    expect(visitor.button("reopen")).to_be_visible()


def test_an_old_cookie_with_the_pending_body_is_moved_to_storage_and_sent(visit):
    visitor = visit(country="DE")
    visitor.goto()  # the customer's origin, for its cookie
    visitor.page.wait_for_function("() => !!window.Consentry")
    visitor.page.evaluate("() => { document.cookie = 'consentry=; path=/; max-age=0'; }")
    visitor_id = "e2e-old-cookie-visitor-01"
    status, config = visitor.app.get_json("/api/public/v1/sites/demo/config?lang=en")
    assert status == 200
    denied = ["analytics", "marketing", "preferences"]
    body = {
        "visitor_id": visitor_id,
        "action": "reject_all",
        "granted": ["necessary"],
        "denied": denied,
        "versions": config["versions"],
        "language": "en",
        "ui_layer": "first_layer",
        "gpc": False,
        "dnt": False,
        "page_url": visitor.customer.origin + "/" + "long-path/" * 200,
        "idempotency_key": "e2e-old-cookie-key-0001",
    }
    now_ms = int(time.time() * 1000)
    old = {"v": 1, "id": visitor_id, "at": now_ms, "a": "reject_all", "g": ["necessary"], "d": denied}
    old |= {"vs": config["versions"], "j": "EU", "gpc": False, "n": 1, "p": body, "r": None}
    value = base64.urlsafe_b64encode(json.dumps(old).encode()).decode().rstrip("=")
    assert len(value) > 2500
    visitor.context.add_cookies([{"name": "consentry", "value": value, "url": visitor.customer.origin}])

    visitor.reload()
    visitor.wait_saved()

    stored = decode(consent_cookie(visitor))
    assert "p" not in stored and stored["id"] == visitor_id and stored["a"] == "reject_all"
    assert [post["idempotency_key"] for post in visitor.consent_requests] == [body["idempotency_key"]]
    visitor.page.wait_for_function("key => localStorage.getItem(key) === null", arg=PENDING_KEY)
    assert [row["action"] for row in visitor.app.ledger(visitor_id=visitor_id)] == ["reject_all"]
