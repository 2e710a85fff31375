"""Browser tests of the embeddable banner: the real app, a customer page on another origin, Chromium.

The app runs as a subprocess (`manage.py runserver`) on a SQLite file of its own, set up with
the demo commands, rather than pytest-django's live_server: live_server's transactional flush
fights the append-only triggers on the ledger tables, and a separate database keeps this suite
independent of whichever database the rest of the tests use (SQLite locally, PostgreSQL in CI).

The customer's page is served by a small threaded HTTP server on `localhost:<port>`, a different
host name and port from the app's `127.0.0.1:<port>`, so every banner request is cross-origin and
cross-site, as on a real customer's site.

Every fixture that holds a server or the browser is package-scoped: Playwright's sync API keeps
an event loop in the main thread while it runs, and Django refuses ORM calls from a thread with
a running loop, so the browser must be gone before the next package's database tests start.
"""

import base64
import contextlib
import http.server
import json
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).parent / "pages"
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SITE_KEY = "demo"
# How long a test waits for the banner to react (it answers in well under a second here).
TIMEOUT_MS = 5_000


def browser_tests_unavailable(reason: str, *, module: bool = False) -> None:
    """Skip on a developer's machine without a browser; in CI (CI=true) a skip would pass as green."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} CI=true: the browser tests must run in CI, never skip.", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The browser ----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        browser_tests_unavailable(
            f"No Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium) "
            "to run the browser tests. Never `playwright install`: it downloads a browser."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_tests_unavailable("Python Playwright is missing: pip install -e '.[dev]'.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


# --- The app server -------------------------------------------------------------------------


class AppServer:
    """The Consentry app on 127.0.0.1, its database file, and ways to read what it recorded."""

    def __init__(self, *, port: int, database: Path, log: Path, env: dict[str, str]) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.database = database
        self.log = log
        self.env = env

    def manage(self, *args: str) -> str:
        """Run a management command against this server's database; its output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.fail(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
        return done.stdout

    def get_json(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.origin + path, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def receipt(self, receipt_id: str) -> dict[str, Any]:
        """The ledger's record for a receipt, as its public proof endpoint shows it."""
        status, body = self.get_json(f"/api/public/v1/receipts/{receipt_id}")
        assert status == 200, f"receipt {receipt_id}: HTTP {status} {body}"
        return body["record"]

    def ledger(self, *, visitor_id: str) -> list[dict[str, Any]]:
        """Every ledger row of one visitor, oldest first, read straight from the database file."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT r.receipt_id, r.action, r.ui_layer, r.jurisdiction, r.purposes_granted,"
                " r.purposes_denied, r.gpc, r.idempotency_key, r.visitor_id"
                " FROM consent_consentrecord r JOIN consent_site s ON s.id = r.site_id"
                " WHERE s.key = ? AND r.visitor_id = ? ORDER BY r.id",
                (SITE_KEY, visitor_id),
            ).fetchall()
        return [
            {
                **dict(row),
                "purposes_granted": sorted(json.loads(row["purposes_granted"])),
                "purposes_denied": sorted(json.loads(row["purposes_denied"])),
            }
            for row in rows
        ]

    def wait_ledger(self, *, visitor_id: str, count: int, seconds: float = 5) -> list[dict[str, Any]]:
        """The visitor's ledger rows once there are at least `count` (a retried write takes a moment)."""
        deadline = time.monotonic() + seconds
        while len(rows := self.ledger(visitor_id=visitor_id)) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return rows

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


SETUP_SCRIPT = """
from django.core.management import call_command
from consent.models import Site
from consent.sites.services import site_origin_add

call_command("consent_demo", admin_password_file={password_file!r})
call_command("subprocessors_demo")
call_command("cookies_demo")
site = Site.objects.get(key={site_key!r})
site_origin_add(site=site, origin={customer_origin!r}, by=None)
# A right-to-left language beside en and ru, for the RTL test.
site.languages = [*site.languages, "he"]
site.full_clean()
site.save()
"""


@pytest.fixture(scope="package")
def ports() -> dict[str, int]:
    return {"app": free_port(), "customer": free_port()}


@pytest.fixture(scope="package")
def app_server(ports: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with app_server_running(
        port=ports["app"],
        workdir=tmp_path_factory.mktemp("e2e-app"),
        customer_origin=f"http://localhost:{ports['customer']}",
    ) as server:
        yield server


@contextlib.contextmanager
def app_server_running(
    *, port: int, workdir: Path, customer_origin: str, **settings: str
) -> Iterator[AppServer]:
    """The app with the demo data on its own SQLite file, `customer_origin` registered for the
    demo site, until the block ends. `settings`: environment variables to override (rates)."""
    database = workdir / "e2e.sqlite3"
    env = {
        name: value
        for name, value in os.environ.items()
        # Our own SQLite file and process-local cache, whatever the rest of the suite runs on.
        if name not in {"DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DEBUG="true",
        # The banner tests place visitors with the edge header, which is trusted only when set.
        GEO_COUNTRY_HEADER="CF-IPCountry",
        SECRET_KEY="e2e",
        LEDGER_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CONSENT_RATE_PER_IP="100000/min",
        PUBLIC_API_RATE="100000/min",
        PUBLIC_BANNER_RATE="100000/min",
        PUBLIC_PAGES_RATE="100000/min",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    server = AppServer(port=port, database=database, log=workdir / "server.log", env=env)
    server.manage("migrate", "--no-input")
    server.manage(
        "shell",
        "-c",
        SETUP_SCRIPT.format(
            password_file=str(workdir / "admin-password"), site_key=SITE_KEY, customer_origin=customer_origin
        ),
    )
    with server.log.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{server.port}", "--noreload"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"The app server exited ({process.returncode}):\n{server.log_tail()}", pytrace=False
                )
            try:
                with urllib.request.urlopen(server.origin + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The app server did not answer /healthz in 30 s:\n{server.log_tail()}", pytrace=False
                )
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The customer's site, on another origin ---------------------------------------------------

# Stand-ins for third-party tags: each records that it ran and sets the cookie its namesake sets.
TAG_COOKIES = {"analytics": "_ga", "ads": "_fbp"}
TAG_SCRIPT = """(function () {{
  window.ranTags = (window.ranTags || []).concat([{name}]);
  document.cookie = "{cookie}=e2e." + Date.now() + "; path=/; max-age=31536000; SameSite=Lax";
}})();
"""
PAGE_NAMES = frozenset(path.name for path in PAGES.glob("*.html"))
LANGUAGE = re.compile(r"^[a-z]{2}$")


class CustomerServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, app_origin: str) -> None:
        super().__init__(("127.0.0.1", port), CustomerHandler)
        self.app_origin = app_origin
        self.origin = f"http://localhost:{port}"


class CustomerHandler(http.server.BaseHTTPRequestHandler):
    server: CustomerServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = "/index.html" if parts.path == "/" else parts.path
        if path.startswith("/tags/") and path.endswith(".js") and path[6:-3] in TAG_COOKIES:
            name = path[6:-3]
            body = TAG_SCRIPT.format(name=json.dumps(name), cookie=TAG_COOKIES[name])
            self._send(200, "text/javascript; charset=utf-8", body)
        elif path.lstrip("/") in PAGE_NAMES:
            language = parse_qs(parts.query).get("html_lang", ["en"])[0]
            if not LANGUAGE.match(language):
                language = "en"
            text = (PAGES / path.lstrip("/")).read_text()
            for placeholder, value in (
                ("{{APP}}", self.server.app_origin),
                ("{{CUST}}", self.server.origin),
                ("{{LANG}}", language),
            ):
                text = text.replace(placeholder, value)
            self._send(200, "text/html; charset=utf-8", text)
        else:
            self._send(404, "text/plain; charset=utf-8", "not found")

    def _send(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="package")
def customer_server(ports: dict[str, int]) -> Iterator[CustomerServer]:
    server = CustomerServer(ports["customer"], f"http://127.0.0.1:{ports['app']}")
    thread = threading.Thread(target=server.serve_forever, name="customer-site", daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- A visitor: one fresh browser context on the customer's site -------------------------------

# Runs before any page script (and outside the page's CSP): records CSP violations, the banner's
# DOM events with the Consent Mode command in force at each, and the visitor's real clicks. The
# log lives in sessionStorage so that it survives the reloads the banner itself makes.
PAGE_RECORDER = """
(function () {
  if (window !== window.top) return;  // embedded frames share sessionStorage: record the page only
  var KEY = "e2e-log";
  var state = JSON.parse(sessionStorage.getItem(KEY) || '{"load": 0, "events": [], "clicks": 0}');
  state.load += 1;
  var save = function () { sessionStorage.setItem(KEY, JSON.stringify(state)); };
  save();
  window.__e2e = state;
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", function (e) {
    window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI,
      source: e.sourceFile, line: e.lineNumber, sample: e.sample});
  });
  document.addEventListener("click", function (e) { if (e.isTrusted) { state.clicks += 1; save(); } }, true);
  ["ready", "shown", "change", "saved", "error"].forEach(function (name) {
    document.addEventListener("consentry:" + name, function (e) {
      var updates = (window.dataLayer || []).filter(function (entry) {
        return entry && entry[0] === "consent" && entry[1] === "update";
      });
      var last = updates.length ? updates[updates.length - 1][2] : null;
      state.events.push({load: state.load, name: name,
        detail: e.detail === undefined ? null : JSON.parse(JSON.stringify(e.detail)), update: last});
      save();
    });
  });
})();
"""
GPC_SIGNAL = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get() { return true; }});"
DATA_LAYER = """() => (window.dataLayer || []).map(function (entry) {
  return (entry && typeof entry === "object" && !Array.isArray(entry) && "length" in entry)
    ? Array.prototype.slice.call(entry) : entry;
})"""


def is_consent_post(response: Any) -> bool:
    return response.request.method == "POST" and urlsplit(response.url).path.endswith("/consents")


class Visitor:
    """One visitor in a fresh browser context, located by the edge headers the app trusts."""

    def __init__(self, *, context: Any, app: AppServer, customer: CustomerServer) -> None:
        self.context = context
        self.page = context.new_page()
        self.app = app
        self.customer = customer
        self.edge_headers: dict[str, str] = {}  # what the app's edge would add to its requests
        self.requests: list[str] = []
        # Consent POSTs as sent (a keepalive POST may outlive its page, whose response then never
        # reaches it) and as answered to the page.
        self.consent_requests: list[dict[str, Any]] = []
        self.consent_posts: list[dict[str, Any]] = []
        self.console: list[str] = []
        self.page.on("request", self._on_request)
        self.page.on("response", self._on_response)
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        self.page.set_default_timeout(TIMEOUT_MS)

    def _on_request(self, request: Any) -> None:
        self.requests.append(request.url)
        if request.method == "POST" and urlsplit(request.url).path.endswith("/consents"):
            self.consent_requests.append(
                {"body": request.post_data_json, "idempotency_key": request.headers.get("idempotency-key")}
            )

    def _on_response(self, response: Any) -> None:
        if is_consent_post(response):
            request = response.request
            self.consent_posts.append(
                {
                    "status": response.status,
                    "body": request.post_data_json,
                    "idempotency_key": request.headers.get("idempotency-key"),
                }
            )

    # Navigation and the banner's hooks

    def goto(self, page: str = "index.html", **query: str) -> None:
        url = f"{self.customer.origin}/{page}" + (f"?{urlencode(query)}" if query else "")
        self.page.goto(url, wait_until="load")
        self.wait_ready()

    def reload(self) -> None:
        self.page.reload(wait_until="load")
        self.wait_ready()

    def wait_ready(self) -> None:
        """Until the banner of the page now loaded has fired consentry:ready."""
        self.page.wait_for_function(
            "() => window.__e2e"
            " && window.__e2e.events.some(e => e.load === window.__e2e.load && e.name === 'ready')",
            timeout=TIMEOUT_MS,
        )

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The banner's DOM events since the context opened (across reloads), oldest first."""
        events = self.page.evaluate("() => window.__e2e.events")
        return [event for event in events if name is None or event["name"] == name]

    def clicks(self) -> int:
        """Real (trusted) clicks on the customer's page since the context opened."""
        return self.page.evaluate("() => window.__e2e.clicks")

    def wait_saved(self, count: int = 1) -> str:
        """Until `count` consentry:saved events have fired; the receipt id of the last."""
        self.page.wait_for_function(
            "n => window.__e2e.events.filter(e => e.name === 'saved').length >= n",
            arg=count,
            timeout=TIMEOUT_MS,
        )
        return self.events("saved")[-1]["detail"]["receipt"]

    @property
    def banner(self) -> Any:
        return self.page.locator(".consentry[data-consentry-layer]").first

    def expect_layer(self, layer: str) -> None:
        from playwright.sync_api import expect

        expect(self.banner).to_have_attribute("data-consentry-layer", layer, timeout=TIMEOUT_MS)

    def button(self, action: str) -> Any:
        return self.page.locator(f'.consentry [data-consentry-action="{action}"]').filter(visible=True).first

    def toggle(self, purpose: str) -> Any:
        return self.page.locator(f'.consentry [data-consentry-purpose="{purpose}"]').first

    def click_and_wait_for_post(self, locator: Any) -> Any:
        """Click, and return the response to the consent POST the click makes."""
        with self.page.expect_response(is_consent_post, timeout=TIMEOUT_MS) as posted:
            locator.click()
        return posted.value

    # What the page did

    def consent(self) -> dict[str, Any] | None:
        return self.page.evaluate("() => window.Consentry ? window.Consentry.getConsent() : null")

    def ran_tags(self) -> list[str]:
        return self.page.evaluate("() => window.ranTags || []")

    def tag_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).path.startswith("/tags/")]

    def consent_mode(self) -> list[tuple[str, dict[str, Any]]]:
        """The Consent Mode commands on window.dataLayer, in order: ("default"|"update", params)."""
        return [
            (entry[1], entry[2] if len(entry) > 2 else {})
            for entry in self.page.evaluate(DATA_LAYER)
            if isinstance(entry, list) and len(entry) >= 2 and entry[0] == "consent"
        ]

    def cookie_names(self) -> set[str]:
        return {cookie["name"] for cookie in self.context.cookies(self.customer.origin)}

    def csp_violations(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => window.__cspViolations || []")

    def visitor_id(self) -> str:
        ids = {post["body"]["visitor_id"] for post in self.consent_requests if post["body"]}
        assert len(ids) == 1, f"expected one visitor id in the consent POSTs, got {ids}"
        return ids.pop()


@pytest.fixture
def visit(
    browser: Any, app_server: AppServer, customer_server: CustomerServer
) -> Iterator[Callable[..., Visitor]]:
    """visit(country="DE", region="", gpc=False, locale="en-US") -> a Visitor in a fresh context.

    The location headers go only to the app's origin, added by request routing: as extra
    headers on every request they would turn the banner's simple cross-origin GET into one
    that needs a CORS preflight.
    """
    contexts: list[Any] = []
    visitors: list[Visitor] = []

    def make(*, country: str = "DE", region: str = "", gpc: bool = False, locale: str = "en-US") -> Visitor:
        context = browser.new_context(locale=locale)
        contexts.append(context)
        context.add_init_script(PAGE_RECORDER)
        edge_headers = {"cf-ipcountry": country}
        if region:
            edge_headers["cf-region-code"] = region
        if gpc:
            context.add_init_script(GPC_SIGNAL)
            edge_headers["sec-gpc"] = "1"

        def add_edge_headers(route: Any) -> None:
            route.continue_(headers={**route.request.headers, **edge_headers})

        context.route(f"{app_server.origin}/**", add_edge_headers)
        visitor = Visitor(context=context, app=app_server, customer=customer_server)
        visitor.edge_headers = edge_headers
        visitors.append(visitor)
        return visitor

    yield make
    for context in contexts:
        context.close()
