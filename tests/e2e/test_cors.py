"""CORS as Chromium enforces it, with no Playwright request routing anywhere.

Routing (as the banner tests use it to add edge headers) makes Playwright answer preflights
itself, which once hid a total failure. Here the page on the customer's origin calls every
public endpoint the banner calls with `fetch`, each with a header that forces a preflight, and
reads the JSON of the successes and of the errors (400, 404, 409, 429 with its Retry-After).
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import SITE_KEY, AppServer, CustomerServer, app_server_running, free_port

pytestmark = pytest.mark.browser

# A header Consentry allows that no browser sends by itself: a request carrying it needs a
# preflight (as a site's fetch wrapper or an extension adding one would).
FORCE_PREFLIGHT = {"X-Requested-With": "fetch"}

FETCH = """async ({url, init}) => {
  try {
    const response = await fetch(url, Object.assign({credentials: "omit"}, init));
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) {}
    return {ok: true, status: response.status, json: json, text: text.slice(0, 200),
            retryAfter: response.headers.get("Retry-After"), etag: response.headers.get("ETag")};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
}"""


class Page:
    """A page on `origin` that fetches from `app`."""

    def __init__(self, browser: Any, origin: str, app: AppServer) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.goto(f"{origin}/fetch.html", wait_until="load")
        self.app = app

    def fetch(self, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
              body: Any = None) -> dict[str, Any]:  # fmt: skip
        init: dict[str, Any] = {"method": method, "headers": {**FORCE_PREFLIGHT, **(headers or {})}}
        if body is not None:
            init["body"] = body if isinstance(body, str) else json.dumps(body)
            init["headers"]["Content-Type"] = "application/json"
        return self.page.evaluate(FETCH, {"url": self.app.origin + path, "init": init})

    def post_consent(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        return self.fetch(
            f"/api/public/v1/sites/{SITE_KEY}/consents", method="POST", headers={"Idempotency-Key": key},
            body=body,
        )  # fmt: skip


def consent_body(config: dict[str, Any], visitor_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "visitor_id": visitor_id,
        "action": "accept_all",
        "granted": [purpose["key"] for purpose in config["purposes"]],
        "denied": [],
        "language": "en",
        "ui_layer": "first_layer",
        **changes,
    }


def preflights_answered(server: AppServer) -> dict[str, set[str]]:
    """Path -> the statuses the app's log shows for its OPTIONS requests."""
    found: dict[str, set[str]] = {}
    for path, status in re.findall(r'"OPTIONS (\S+) HTTP/1\.1" (\d{3})', server.log.read_text()):
        found.setdefault(path.split("?")[0], set()).add(status)
    return found


def readable(answer: dict[str, Any], status: int) -> dict[str, Any]:
    assert answer["ok"], f"the browser refused the answer (CORS): {answer}"
    assert answer["status"] == status, answer
    return answer


def test_a_registered_origin_reads_every_answer_and_every_preflight_succeeds(
    browser, app_server, customer_server
):
    page = Page(browser, customer_server.origin, app_server)
    try:
        site = f"/api/public/v1/sites/{SITE_KEY}"
        loader = readable(page.fetch(f"/c/{SITE_KEY}.js"), 200)
        assert loader["text"]  # the script itself, readable cross-origin
        config = readable(page.fetch(f"{site}/config"), 200)
        assert config["json"]["purposes"] and config["etag"], "ETag is exposed to the page"
        visitor = "v-cors-e2e-0123456789"
        body = consent_body(config["json"], visitor)
        created = readable(page.post_consent(body, "cors-e2e-choice-1"), 201)
        receipt_id = created["json"]["receipt_id"]
        replay = readable(page.post_consent(body, "cors-e2e-choice-1"), 409)
        assert replay["json"]["receipt_id"] == receipt_id
        bad = readable(page.post_consent({**body, "action": "nonsense"}, "cors-e2e-choice-2"), 400)
        assert bad["json"]["error"]["fields"]["action"]
        current = readable(page.fetch(f"{site}/consents/current?visitor_id={visitor}"), 200)
        assert current["json"]["receipt_id"] == receipt_id
        unknown = readable(page.fetch(f"{site}/consents/current?visitor_id=v-nobody-0123456789"), 404)
        assert unknown["json"]["error"]["code"] == "not_found"
        invalid = readable(page.fetch(f"{site}/consents/current?visitor_id=x"), 400)
        assert invalid["json"]["error"]["fields"]["visitor_id"]
        receipt = readable(page.fetch(f"/api/public/v1/receipts/{receipt_id}"), 200)
        assert receipt["json"]["receipt_id"] == receipt_id
        missing = readable(page.fetch("/api/public/v1/receipts/no-such-receipt"), 404)
        assert missing["json"]["error"]["code"] == "not_found"
        readable(page.fetch(f"{site}/jurisdiction"), 200)
        readable(page.fetch(f"{site}/policies"), 200)
        readable(page.fetch(f"{site}/subprocessors"), 200)
    finally:
        page.context.close()
    answered = preflights_answered(app_server)
    for path in (
        f"/c/{SITE_KEY}.js",
        f"{site}/config",
        f"{site}/consents",
        f"{site}/consents/current",
        f"/api/public/v1/receipts/{receipt_id}",
        f"{site}/jurisdiction",
    ):
        assert answered.get(path) == {"200"}, f"{path}: preflights answered {answered.get(path)}"


def test_a_foreign_origin_is_refused_by_the_browser_but_reads_public_documents(
    browser, app_server, customer_server
):
    # The same server by address instead of name: another origin, not registered for the site.
    foreign = customer_server.origin.replace("localhost", "127.0.0.1")
    page = Page(browser, foreign, app_server)
    try:
        site = f"/api/public/v1/sites/{SITE_KEY}"
        for path in (f"{site}/config", f"/c/{SITE_KEY}.js", f"{site}/jurisdiction"):
            answer = page.fetch(path)
            assert not answer["ok"] and "Failed to fetch" in answer["error"], (path, answer)
        posted = page.post_consent({"visitor_id": "v-foreign-0123456789"}, "cors-e2e-foreign")
        assert not posted["ok"], posted
        assert readable(page.fetch(f"{site}/policies"), 200)["json"] is not None
        assert readable(page.fetch("/api/public/v1/receipts/no-such-receipt"), 404)["json"]["error"]
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def limited_server(customer_server: CustomerServer, tmp_path_factory) -> Iterator[AppServer]:
    """A second app with tiny rate limits, so that a 429 comes quickly."""
    with app_server_running(
        port=free_port(),
        workdir=tmp_path_factory.mktemp("e2e-limited"),
        customer_origin=customer_server.origin,
        CONSENT_RATE_PER_IP="2/hour",
        PUBLIC_API_RATE="2/hour",
    ) as server:
        yield server


def test_a_registered_origin_reads_a_429_and_its_retry_after(browser, limited_server, customer_server):
    page = Page(browser, customer_server.origin, limited_server)
    try:
        site = f"/api/public/v1/sites/{SITE_KEY}"
        config = readable(page.fetch(f"{site}/config"), 200)["json"]
        visitor = "v-cors-limited-0123456789"
        for number in (1, 2):
            readable(page.post_consent(consent_body(config, visitor), f"cors-limit-{number}"), 201)
        limited = readable(page.post_consent(consent_body(config, visitor), "cors-limit-3"), 429)
        assert limited["json"]["error"]["code"] == "throttled"
        assert int(limited["retryAfter"]) > 0, "Retry-After is exposed to the page"
        current = f"{site}/consents/current?visitor_id={visitor}"
        for _ in range(2):
            readable(page.fetch(current), 200)
        throttled = readable(page.fetch(current), 429)
        assert throttled["json"]["error"]["code"] == "throttled"
        assert int(throttled["retryAfter"]) > 0
    finally:
        page.context.close()
    answered = preflights_answered(limited_server)
    assert answered.get(f"{site}/consents") == {"200"}
    assert answered.get(f"{site}/consents/current") == {"200"}
