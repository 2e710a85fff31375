"""The consent receipt page in Chromium: a real choice made in the banner, sealed, then its
proof checked by the page's script with the browser's own Web Crypto, and caught when forged."""

import base64
import json

import pytest

from tests.e2e.conftest import AXE_SCRIPT, TIMEOUT_MS, Visitor, browser_tests_unavailable

try:
    from playwright.sync_api import expect
except ImportError:
    browser_tests_unavailable("Python Playwright is missing: pip install -e '.[dev]'.", module=True)

pytestmark = pytest.mark.browser


def reject_all(visitor: Visitor) -> str:
    """Reject all in the banner; the receipt id of the record it made."""
    visitor.goto()
    visitor.expect_layer("first")
    response = visitor.click_and_wait_for_post(visitor.button("reject_all"))
    assert response.status == 201, response.text()
    receipt_id = visitor.wait_saved()
    assert response.json()["receipt_page_url"] == f"/r/{receipt_id}/"
    return receipt_id


def axe(page) -> dict:
    """axe-core's WCAG 2.x A/AA rules on the whole receipt page."""
    # Evaluated through the DevTools protocol: the page's CSP refuses an injected inline <script>.
    page.evaluate(AXE_SCRIPT.read_text())
    return page.evaluate(
        """async () => {
          const result = await axe.run(document,
            {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']});
          return {violations: result.violations, passes: result.passes.length};
        }"""
    )


def check_proof(page, url: str) -> list[tuple[str, str]]:
    page.goto(url)
    page.get_by_role("button", name="Check the proof in this browser").click()
    summary = page.locator("#receipt-check .checks .summary")
    expect(summary).to_be_visible(timeout=TIMEOUT_MS)
    steps = page.locator("#receipt-check .checks li:not(.summary)")
    return [(item.get_attribute("class"), item.text_content()) for item in steps.all()] + [
        ("summary", summary.get_attribute("data-verdict"))
    ]


def test_a_receipt_page_proves_the_choice_in_the_browser_and_catches_a_forged_record(visit, app_server):
    visitor = visit(country="DE")
    receipt_id = reject_all(visitor)
    # The visitor finds it in the banner: reopen the preferences, follow "Receipt of your choice".
    visitor.button("reopen").click()
    link = visitor.page.locator("[data-consentry-receipt]")
    expect(link).to_have_text("Receipt of your choice")
    url = f"{app_server.origin}/r/{receipt_id}/"
    assert link.get_attribute("href").startswith(url + "#promise=")  # the promise rides in the fragment
    with visitor.context.expect_page() as opened:
        link.click()
    page = opened.value
    page.wait_for_load_state()
    assert page.url.startswith(url + "#promise=")

    # Before sealing: the record matches its leaf, and the page says it is not sealed yet.
    results = check_proof(page, url)
    assert results[-1] == ("summary", "pending"), results
    assert all(kind == "passed" for kind, _ in results[:-1]), results
    expect(page.locator("[data-field=action]")).to_have_text("Reject all")

    app_server.manage("consent_seal")
    results = check_proof(page, url)
    assert results[-1] == ("summary", "verified"), results
    assert [kind for kind, _ in results[:-1]] == ["passed"] * 5, results
    assert "inclusion proof leads to the root" in results[2][1]
    expect(page.locator("pre.canonical")).to_contain_text('"action":"reject_all"')

    # A forged answer (a refusal rewritten into a consent) no longer hashes to its leaf.
    def forge(route):
        receipt = route.fetch().json()
        receipt["record"]["action"] = "accept_all"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(receipt))

    page.route(f"**/api/public/v1/receipts/{receipt_id}", forge)
    results = check_proof(page, url)
    assert results[-1] == ("summary", "failed"), results
    assert results[0][0] == "failed" and "not to the leaf" in results[0][1], results
    assert results[2][0] == "failed", results  # nor does its inclusion proof reach the root

    # A forged signature line on the C2SP checkpoint note: the signature step fails, alone.
    def forge_signature(route):
        receipt = route.fetch().json()
        text, signatures = receipt["checkpoint"]["note"].split("\n\n")
        name, encoded = signatures.rstrip("\n").rsplit(" ", 1)
        raw = bytearray(base64.b64decode(encoded))
        raw[10] ^= 1
        receipt["checkpoint"]["note"] = f"{text}\n\n{name} {base64.b64encode(raw).decode()}\n"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(receipt))

    page.unroute(f"**/api/public/v1/receipts/{receipt_id}")
    page.route(f"**/api/public/v1/receipts/{receipt_id}", forge_signature)
    results = check_proof(page, url)
    assert results[-1] == ("summary", "failed"), results
    assert [kind for kind, _ in results[:-1]] == ["passed"] * 4 + ["failed"], results


def test_a_verified_receipt_page_passes_axe(visit, app_server):
    # Apart from the proof test, so a machine without axe-core (no `npm ci`) still runs that one.
    if not AXE_SCRIPT.exists():
        browser_tests_unavailable(f"{AXE_SCRIPT} is missing: run `npm ci` in the repository root.")
    receipt_id = reject_all(visit(country="DE"))
    app_server.manage("consent_seal")
    page = visit(country="DE").page
    assert check_proof(page, f"{app_server.origin}/r/{receipt_id}/")[-1] == ("summary", "verified")
    page.locator("details").evaluate("el => { el.open = true; }")
    found = axe(page)
    assert found["passes"] > 10, "axe checked next to nothing"
    assert [v["id"] for v in found["violations"]] == [], found["violations"]


DELETE_BEHIND_THE_TRIGGERS = """
from django.db import connection
from consent.immutability import triggers_install, triggers_remove
from consent.models import ConsentRecord
table = ConsentRecord._meta.db_table
triggers_remove(connection, table)
with connection.cursor() as cursor:
    cursor.execute(f"DELETE FROM {{table}} WHERE receipt_id = %s", [{receipt_id!r}])
triggers_install(connection, table, ConsentRecord.mutable_columns, ConsentRecord.purgeable)
print(ConsentRecord.objects.filter(receipt_id={receipt_id!r}).count())
"""


def promise_verdict(page, url: str) -> tuple[list[tuple[str, str]], str, str]:
    """Open the receipt page with the kept promise; its checks, the summary's state and text."""
    page.goto("about:blank")  # else a second visit to the same URL is a same-document fragment move
    page.goto(url)
    summary = page.locator("#receipt-promise .checks .summary")
    expect(summary).to_be_visible(timeout=TIMEOUT_MS)
    steps = page.locator("#receipt-promise .checks li:not(.summary)")
    checks = [(item.get_attribute("class"), item.text_content()) for item in steps.all()]
    return checks, summary.get_attribute("data-state"), summary.text_content()


def test_the_receipt_page_reports_a_deleted_record_as_evidence_of_removal_from_the_kept_promise(
    visit, app_server
):
    visitor = visit(country="DE")
    receipt_id = reject_all(visitor)
    visitor.button("reopen").click()
    url = visitor.page.locator("[data-consentry-receipt]").get_attribute("href")
    assert url.startswith(f"{app_server.origin}/r/{receipt_id}/#promise=")
    page = visit(country="DE").page  # another tab: the link is all it has

    checks, state, text = promise_verdict(page, url)
    assert state == "pending" and "not yet included, due by" in text, (checks, text)
    assert [kind for kind, _ in checks] == ["passed", "passed"], checks
    assert "signed (Ed25519) by the site's log key" in checks[0][1]  # Web Crypto in Chromium

    # The owner of the tables deletes the unsealed row; the ledger itself keeps no trace of it.
    assert (
        app_server.manage("shell", "-c", DELETE_BEHIND_THE_TRIGGERS.format(receipt_id=receipt_id)).split()[-1]
        == "0"
    )
    app_server.manage("consent_seal")
    checks, state, text = promise_verdict(page, url)
    assert state == "removed", (checks, text)
    assert text.startswith("Evidence of removal") and receipt_id in text
    assert [kind for kind, _ in checks] == ["passed", "passed"], checks
    expect(page.locator("h1")).to_have_text("No record with this receipt id")

    # A forged promise (another receipt id under the same signature) is refused in the browser.
    note = base64.urlsafe_b64decode(url.split("#promise=")[1] + "==").decode()
    forged = note.replace(f"\n{receipt_id}\n", "\nAAAAAAAAAAAAAAAAAAAAAA\n")
    fragment = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    page.goto(f"{app_server.origin}/r/AAAAAAAAAAAAAAAAAAAAAA/#promise={fragment}")
    failed = page.locator("#receipt-promise .checks li.failed").first
    expect(failed).to_contain_text("not validly signed")
    assert page.locator("#receipt-promise .checks .summary").count() == 0


def test_a_kept_promise_of_a_sealed_record_shows_included(visit, app_server):
    visitor = visit(country="DE")
    receipt_id = reject_all(visitor)
    visitor.button("reopen").click()
    url = visitor.page.locator("[data-consentry-receipt]").get_attribute("href")
    assert url.startswith(f"{app_server.origin}/r/{receipt_id}/#promise=")
    app_server.manage("consent_seal")
    page = visit(country="DE").page
    checks, state, text = promise_verdict(page, url)
    assert state == "included" and "included at index" in text, (checks, text)
    expect(page.locator("[data-promise-state=included]")).to_contain_text("included at index")


def test_the_preferences_link_the_sites_request_form_which_opens_in_the_visitors_language(visit, app_server):
    visitor = visit(country="DE")
    reject_all(visitor)
    visitor.button("reopen").click()
    link = visitor.page.locator("[data-consentry-requests]")
    expect(link).to_have_text("Your privacy rights: make a request")
    # The visitor's id rides in the fragment, which no server sees; the form takes it and drops it.
    visitor_id = visitor.consent_requests[-1]["body"]["visitor_id"]
    assert link.get_attribute("href") == f"{app_server.origin}/s/demo/requests/?lang=en#visitor={visitor_id}"
    with visitor.context.expect_page() as opened:
        link.click()
    page = opened.value
    page.wait_for_load_state()
    expect(page.locator("form")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#visitor_id")).to_have_value(visitor_id)
    assert page.url == f"{app_server.origin}/s/demo/requests/?lang=en"
