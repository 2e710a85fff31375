"""The Content-Security-Policy in Chromium: every HTML page we serve works under it, with no
violation reported (a `securitypolicyviolation` event in any frame, or a CSP console error).

The pages: the admin's login, a site's change page, the banner settings page with its live
preview iframe (`/c/preview/<token>/`), a policy page, the receipt page with its proof checked
(Web Crypto), the sub-processor page and the demo shop."""

import re
from typing import Any

import pytest

from tests.e2e.conftest import TIMEOUT_MS, browser_tests_unavailable
from tests.e2e.test_receipt import check_proof, reject_all

try:
    from playwright.sync_api import expect
except ImportError:
    browser_tests_unavailable("Python Playwright is missing: pip install -e '.[dev]'.", module=True)

pytestmark = pytest.mark.browser

VIOLATION_RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push({directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
                     line: e.lineNumber, sample: e.sample, page: location.href});
});
"""


class CspWatch:
    """A browser context that records every CSP violation, in every frame and on the console."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.context.add_init_script(VIOLATION_RECORDER)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.headers: dict[str, str] = {}
        self.page.on(
            "console",
            lambda message: (
                self.console.append(message.text)
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
                else None
            ),
        )

    def goto(self, url: str) -> None:
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, (url, response and response.status)
        self.headers[url] = response.headers.get("content-security-policy", "")

    def violations(self) -> list[Any]:
        found: list[Any] = []
        for frame in self.page.frames:
            # A frame may navigate while we ask (an embed's about:blank becoming its document):
            # ask its new document again; a frame that is gone has nothing left to report.
            for attempt in range(3):
                try:
                    found += frame.evaluate("() => window.__csp || []")
                    break
                except Exception as error:
                    if frame.is_detached():
                        break
                    if attempt == 2:
                        found.append(f"could not read {frame.url}: {error}")
                    else:
                        self.page.wait_for_timeout(250)
        return found + self.console


@pytest.fixture
def watch(browser: Any) -> Any:
    watcher = CspWatch(browser)
    yield watcher
    watcher.context.close()


def admin_login(watch: CspWatch, origin: str, password: str) -> None:
    watch.goto(f"{origin}/admin/login/")
    watch.page.fill("#id_username", "admin")
    watch.page.fill("#id_password", password)
    with watch.page.expect_navigation():
        watch.page.click("input[type=submit]")
    expect(watch.page.locator("#site-name")).to_be_visible()


def test_the_admin_and_the_banner_preview_work_under_the_csp(watch, app_server):
    origin = app_server.origin
    password = (app_server.database.parent / "admin-password").read_text().strip()
    admin_login(watch, origin, password)
    assert "script-src 'self'" in watch.headers[f"{origin}/admin/login/"]
    assert "frame-ancestors 'none'" in watch.headers[f"{origin}/admin/login/"]

    watch.goto(f"{origin}/admin/consent/site/")
    watch.page.locator("#result_list tbody th a").first.click()
    watch.page.wait_for_load_state("load")
    expect(watch.page.locator("#site_form, form[id$=_form]").first).to_be_visible()
    # The admin's own scripts ran: the inline formsets got their "Add another" links.
    expect(watch.page.locator(".add-row a").first).to_be_attached(timeout=TIMEOUT_MS)

    watch.goto(f"{origin}/admin/cookies/bannersettings/")
    watch.page.locator("#result_list tbody th a").first.click()
    watch.page.wait_for_load_state("load")
    frame = watch.page.frame_locator("#consentry-preview")
    # The real banner, loaded by admin-preview.js inside the preview frame.
    expect(frame.locator('.consentry [data-consentry-action="accept_all"]').first).to_be_visible(
        timeout=TIMEOUT_MS
    )
    # The live preview: admin-banner.js posts the colour, the frame's script applies it.
    watch.page.fill("#id_color_accent", "#123456")
    expect(frame.locator(".consentry").first).to_have_attribute(
        "style", re.compile("--consentry-accent: #123456"), timeout=TIMEOUT_MS
    )
    assert watch.violations() == []
    assert "frame-ancestors 'self'" in watch.page.frames[1].evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')"
    )


def test_the_public_pages_and_the_receipt_check_work_under_the_csp(watch, visit, app_server):
    origin = app_server.origin
    receipt_id = reject_all(visit(country="DE"))
    app_server.manage("consent_seal")

    watch.goto(f"{origin}/s/demo/policies/")
    watch.page.locator("main a[href*='/policies/']").first.click()
    watch.page.wait_for_load_state("load")
    expect(watch.page.locator("h1")).to_be_visible()

    url = f"{origin}/r/{receipt_id}/"
    watch.goto(url)
    assert check_proof(watch.page, url)[-1] == ("summary", "verified")

    watch.goto(f"{origin}/s/demo/subprocessors/")
    expect(watch.page.locator("form input[type=email]")).to_be_visible()
    watch.goto(f"{origin}/r/")
    watch.goto(f"{origin}/")
    watch.goto(f"{origin}/api/docs/")  # Swagger UI from the sidecar, its one <style> by hash
    expect(watch.page.locator(".opblock").first).to_be_visible()
    assert watch.violations() == []
    assert all("default-src 'self'" in header for header in watch.headers.values()), watch.headers


def test_the_demo_shop_with_its_banner_and_embed_works_under_the_csp(watch, app_server):
    watch.goto(f"{app_server.origin}/demo/")
    accept = watch.page.locator('.consentry [data-consentry-action="accept_all"]').filter(visible=True).first
    expect(accept).to_be_visible(timeout=TIMEOUT_MS)
    accept.click()
    watch.page.wait_for_function("() => (window.consentryDemoTags || []).length > 0", timeout=TIMEOUT_MS)
    assert watch.violations() == []


def test_the_watch_sees_a_violation_when_there_is_one(watch, app_server):
    # The negative control: an inline script is refused, and reported.
    watch.goto(f"{app_server.origin}/s/demo/subprocessors/")
    watch.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.append(s); }"
    )
    watch.page.wait_for_function("() => window.__csp.length > 0", timeout=TIMEOUT_MS)
    assert watch.page.evaluate("() => window.ran") is None
    assert watch.violations()[0]["directive"].startswith("script-src")
