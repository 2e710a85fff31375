"""The embeddable banner in Chromium, on a customer's page served from another origin.

Each test is one visitor in a fresh browser context, located by the edge headers the app trusts
(CF-IPCountry / CF-Region-Code), and checks what the page did (requests, tags run, cookies,
Consent Mode) and what the ledger recorded (the public receipt, or the database file).
"""

from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import AXE_SCRIPT, Visitor, browser_tests_unavailable

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect
except ImportError:
    browser_tests_unavailable("Python Playwright is missing: pip install -e '.[dev]'.", module=True)

pytestmark = pytest.mark.browser

OPTIONAL = ["analytics", "marketing", "preferences"]
CONSENT_MODE_TYPES = ["ad_storage", "analytics_storage", "ad_user_data", "ad_personalization"]


def all_denied(params: dict[str, Any]) -> bool:
    return all(params[kind] == "denied" for kind in CONSENT_MODE_TYPES)


def all_granted(params: dict[str, Any]) -> bool:
    return all(params[kind] == "granted" for kind in CONSENT_MODE_TYPES)


def updates(visitor: Visitor) -> list[dict[str, Any]]:
    return [params for command, params in visitor.consent_mode() if command == "update"]


def accept_all(visitor: Visitor) -> str:
    """Accept all on the first layer; the receipt id of the record it made."""
    response = visitor.click_and_wait_for_post(visitor.button("accept_all"))
    assert response.status == 201, response.text()
    return visitor.wait_saved()


def test_eu_first_layer_offers_equal_choices_and_rejecting_blocks_everything(visit):
    visitor = visit(country="DE")
    visitor.goto()

    visitor.expect_layer("first")
    buttons = [visitor.button(action) for action in ("accept_all", "reject_all", "preferences")]
    shapes = [
        button.evaluate("el => ({tag: el.tagName, cls: el.className, type: el.type})") for button in buttons
    ]
    assert all(shape == shapes[0] for shape in shapes), shapes
    boxes = [button.bounding_box() for button in buttons]
    for box in boxes[1:]:
        assert abs(box["width"] - boxes[0]["width"]) <= 0.1 * boxes[0]["width"], boxes
        assert abs(box["height"] - boxes[0]["height"]) <= 0.1 * boxes[0]["height"], boxes
    # Nothing ran before a choice, and Google's tags were told "denied" before any update.
    assert visitor.tag_requests() == []
    assert "_ga" not in visitor.cookie_names()
    commands = visitor.consent_mode()
    assert commands[0][0] == "default" and all_denied(commands[0][1]), commands
    first_update = next((i for i, (command, _) in enumerate(commands) if command == "update"), len(commands))
    assert all(command == "default" for command, _ in commands[:first_update])
    assert all(all_denied(params) for params in updates(visitor))  # any update before a choice denies

    response = visitor.click_and_wait_for_post(visitor.button("reject_all"))  # one click

    assert response.status == 201, response.text()
    assert visitor.clicks() == 1
    assert all_denied(updates(visitor)[-1])
    receipt_id = visitor.wait_saved()
    assert visitor.consent()["receipt"] == receipt_id
    assert "consentry" in visitor.cookie_names()  # the choice lives on the customer's own domain
    record = visitor.app.receipt(receipt_id)
    assert record["action"] == "reject_all"
    assert record["jurisdiction"] == "EU"
    assert record["granted"] == ["necessary"]
    assert visitor.tag_requests() == []
    assert visitor.ran_tags() == []

    visitor.reload()
    visitor.expect_layer("closed")
    expect(visitor.page.locator(".consentry .cs-panel")).to_have_count(0)
    expect(visitor.button("reopen")).to_be_visible()
    assert visitor.tag_requests() == []
    assert len(visitor.consent_posts) == 1


def test_eu_accept_all_runs_the_tags_and_loads_the_embed(visit):
    visitor = visit(country="DE")
    visitor.goto()
    visitor.expect_layer("first")

    receipt_id = accept_all(visitor)

    visitor.page.wait_for_function("() => (window.ranTags || []).length === 2")
    assert sorted(visitor.ran_tags()) == ["ads", "analytics"]
    assert {url.rsplit("/", 1)[-1] for url in visitor.tag_requests()} == {"analytics.js", "ads.js"}
    assert all_granted(updates(visitor)[-1])
    expect(visitor.page.locator("#video")).to_have_attribute("src", "/embed.html")
    assert {"_ga", "_fbp"} <= visitor.cookie_names()
    record = visitor.app.receipt(receipt_id)
    assert record["action"] == "accept_all"
    assert record["granted"] == ["analytics", "marketing", "necessary", "preferences"]
    visitor.expect_layer("closed")

    # The choice holds on the next page without asking again.
    visitor.goto("second.html")
    visitor.expect_layer("closed")
    visitor.page.wait_for_function("() => (window.ranTags || []).length === 2")
    assert len(visitor.consent_posts) == 1


def test_eu_custom_choice_runs_only_the_chosen_purpose(visit):
    visitor = visit(country="DE")
    visitor.goto()
    visitor.button("preferences").click()
    visitor.expect_layer("preferences")

    necessary = visitor.toggle("necessary")
    expect(necessary).to_have_attribute("aria-checked", "true")
    expect(necessary).to_be_disabled()
    for key in OPTIONAL:
        expect(visitor.toggle(key)).to_have_attribute("role", "switch")
        expect(visitor.toggle(key)).to_have_attribute("aria-checked", "false")
        expect(visitor.toggle(key)).to_be_enabled()
    visitor.toggle("analytics").click()
    expect(visitor.toggle("analytics")).to_have_attribute("aria-checked", "true")

    response = visitor.click_and_wait_for_post(visitor.button("save"))

    assert response.status == 201, response.text()
    visitor.page.wait_for_function("() => (window.ranTags || []).length >= 1")
    visitor.page.wait_for_timeout(200)  # room for a wrongly released second tag to show up
    assert visitor.ran_tags() == ["analytics"]
    assert [url.rsplit("/", 1)[-1] for url in visitor.tag_requests()] == ["analytics.js"]
    assert visitor.page.locator("#video").get_attribute("src") is None
    record = visitor.app.receipt(visitor.wait_saved())
    assert record["action"] == "custom"
    assert record["layer"] == "second_layer"
    assert record["granted"] == ["analytics", "necessary"]
    assert record["denied"] == ["marketing", "preferences"]
    consent = visitor.consent()
    assert sorted(consent["granted"]) == ["analytics", "necessary"]
    assert sorted(consent["denied"]) == ["marketing", "preferences"]


def test_eu_withdrawal_takes_two_clicks_and_deletes_the_tags_cookies(visit):
    visitor = visit(country="DE")
    visitor.goto()
    accept_all(visitor)
    visitor.page.wait_for_function("() => (window.ranTags || []).length === 2")
    assert {"_ga", "_fbp"} <= visitor.cookie_names()
    clicks_before = visitor.clicks()

    visitor.page.locator("#privacy-choices").click()  # the page's own [data-consentry-open] link
    visitor.expect_layer("preferences")
    # Scripts cannot be un-run: the banner reloads the page to stop them.
    with visitor.page.expect_navigation(wait_until="load"):
        visitor.button("reject_all").click()
    visitor.wait_ready()

    assert visitor.clicks() - clicks_before == 2
    withdrawal = visitor.consent_requests[-1]
    assert withdrawal["body"]["action"] in ("withdraw", "reject_all")
    rows = visitor.app.wait_ledger(visitor_id=visitor.visitor_id(), count=2)
    assert [row["action"] for row in rows] == ["accept_all", withdrawal["body"]["action"]]
    assert rows[-1]["idempotency_key"] == withdrawal["idempotency_key"]
    assert rows[-1]["purposes_granted"] == ["necessary"]
    assert all(post["status"] in (201, 409) for post in visitor.consent_posts), visitor.consent_posts
    assert not {"_ga", "_fbp"} & visitor.cookie_names()
    change = visitor.events("change")[-1]
    assert all_denied(change["update"])  # told to Google before the reload
    assert all_denied(updates(visitor)[-1])  # and again on the reloaded page
    visitor.page.wait_for_timeout(200)  # room for a wrongly released tag to run
    assert visitor.ran_tags() == []
    visitor.expect_layer("closed")
    expect(visitor.button("reopen")).to_be_visible()


def test_a_withdrawal_keeps_its_receipt_when_the_reload_beats_the_response(visit):
    visitor = visit(country="DE")
    held = []

    def record_but_hold_the_answer(route: Any) -> None:
        # The server records the withdrawal at once; its answer reaches the page only after the reload.
        if (
            route.request.method == "POST"
            and route.request.post_data_json["action"] != "accept_all"
            and not held
        ):
            held.append((route, route.fetch(headers={**route.request.headers, **visitor.edge_headers})))
        else:
            route.fallback()

    visitor.page.route("**/api/public/v1/sites/*/consents", record_but_hold_the_answer)
    visitor.goto()
    accept_all(visitor)
    visitor.page.locator("#privacy-choices").click()
    with visitor.page.expect_navigation(wait_until="load"):
        visitor.button("reject_all").click()
    visitor.wait_ready()
    rows = visitor.app.wait_ledger(visitor_id=visitor.visitor_id(), count=2)
    visitor.page.wait_for_timeout(500)  # the reloaded page resends the pending record
    route, response = held[0]
    route.fulfill(response=response)

    assert [row["action"] for row in rows] == ["accept_all", "withdraw"]
    assert len(visitor.app.ledger(visitor_id=visitor.visitor_id())) == 2  # the resend made no second row
    assert visitor.consent()["receipt"] == rows[-1]["receipt_id"]


def test_preferences_dialog_traps_focus_and_escape_returns_it(visit):
    visitor = visit(country="DE")
    visitor.goto()
    opener = visitor.button("preferences")
    opener.focus()
    visitor.page.keyboard.press("Enter")
    visitor.expect_layer("preferences")
    dialog = visitor.page.locator('.consentry [role="dialog"][aria-modal="true"]')
    expect(dialog).to_be_visible()
    focusable = dialog.locator("a[href], button:not([disabled]), summary").count()
    assert focusable > 3

    inside = []
    for _ in range(focusable + 2):
        visitor.page.keyboard.press("Tab")
        inside.append(dialog.evaluate("d => d.contains(document.activeElement)"))
    for _ in range(3):
        visitor.page.keyboard.press("Shift+Tab")
        inside.append(dialog.evaluate("d => d.contains(document.activeElement)"))
    assert all(inside), inside

    visitor.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    visitor.expect_layer("first")
    assert opener.evaluate("el => el === document.activeElement")
    assert visitor.consent_posts == []


def test_us_ca_without_gpc_is_a_notice_and_do_not_sell_stops_the_ads(visit):
    visitor = visit(country="US", region="CA")
    visitor.goto()

    visitor.expect_layer("notice")
    expect(visitor.button("accept_all")).to_have_count(0)  # a notice, not an opt-in wall
    visitor.page.wait_for_function("() => (window.ranTags || []).length === 2")  # opt-out: tags run
    assert visitor.consent_posts == []
    assert all_granted(updates(visitor)[-1])

    # One click opts out (CA: the fewest steps). The ads tag already ran and cannot be
    # un-run: the banner reloads the page to stop it.
    with visitor.page.expect_navigation(wait_until="load"):
        visitor.button("do_not_sell").click()
    visitor.wait_ready()

    opt_out = visitor.consent_requests[-1]
    assert opt_out["body"]["action"] == "do_not_sell_opt_out"
    assert opt_out["body"]["ui_layer"] == "opt_out_link"
    rows = visitor.app.wait_ledger(visitor_id=visitor.visitor_id(), count=1)
    assert [(row["action"], row["idempotency_key"]) for row in rows] == [
        ("do_not_sell_opt_out", opt_out["idempotency_key"])
    ]
    record = visitor.app.receipt(rows[0]["receipt_id"])
    assert record["jurisdiction"] == "US-CA"
    assert "marketing" in record["denied"]
    visitor.page.wait_for_function("() => (window.ranTags || []).includes('analytics')")
    visitor.page.wait_for_timeout(200)  # room for a wrongly released ads tag to run
    assert visitor.ran_tags() == ["analytics"]
    assert "_fbp" not in visitor.cookie_names()
    assert updates(visitor)[-1]["ad_storage"] == "denied"
    visitor.expect_layer("closed")


def test_us_ca_gpc_opts_out_of_sale_without_a_click_and_only_once(visit):
    visitor = visit(country="US", region="CA", gpc=True)
    visitor.goto()

    receipt_id = visitor.wait_saved()
    assert visitor.clicks() == 0
    assert [post["body"]["action"] for post in visitor.consent_posts] == ["gpc_opt_out"]
    assert visitor.consent_posts[0]["status"] == 201
    record = visitor.app.receipt(receipt_id)
    assert record["action"] == "gpc_opt_out"
    assert record["gpc"] is True
    assert record["jurisdiction"] == "US-CA"
    assert "marketing" in record["denied"]
    expect(visitor.page.locator('.consentry [data-consentry-gpc="honored"]').first).to_be_visible()
    visitor.page.wait_for_function("() => (window.ranTags || []).includes('analytics')")
    assert "ads" not in visitor.ran_tags()
    assert not any(url.endswith("/ads.js") for url in visitor.tag_requests())
    assert updates(visitor)[-1]["ad_storage"] == "denied"

    visitor.reload()
    visitor.page.wait_for_timeout(300)  # room for a wrong second record to be posted
    assert len(visitor.consent_posts) == 1
    assert [row["action"] for row in visitor.app.ledger(visitor_id=visitor.visitor_id())] == ["gpc_opt_out"]


def test_russia_asks_in_russian_with_the_consent_document_and_reject_works(visit):
    visitor = visit(country="RU", locale="ru-RU")
    visitor.goto(html_lang="ru")

    visitor.expect_layer("first")
    expect(visitor.banner).to_have_attribute("lang", "ru")
    text = visitor.banner.inner_text()
    assert sum("\u0400" <= char <= "\u04ff" for char in text) > 20, text  # Cyrillic, not English
    consent_document = visitor.banner.locator('a[href*="/policies/pd-consent/"]')
    expect(consent_document).to_have_count(1)
    assert visitor.tag_requests() == []

    response = visitor.click_and_wait_for_post(visitor.button("reject_all"))

    assert response.status == 201, response.text()
    record = visitor.app.receipt(visitor.wait_saved())
    assert record["action"] == "reject_all"
    assert record["jurisdiction"] == "RU"
    assert record["language"] == "ru"
    assert visitor.tag_requests() == []


def test_a_failed_ledger_write_keeps_the_choice_and_is_retried_once(visit):
    visitor = visit(country="DE")
    failures = []

    def fail_first_post(route: Any) -> None:
        if route.request.method == "POST" and not failures:
            failures.append(route.request.headers.get("idempotency-key"))
            route.fulfill(
                status=503,
                headers={
                    "Access-Control-Allow-Origin": visitor.customer.origin,
                    "Retry-After": "1",
                    "Content-Type": "application/json",
                },
                body='{"error": {"code": "unavailable"}}',
            )
        else:
            route.fallback()

    visitor.page.route("**/api/public/v1/sites/*/consents", fail_first_post)
    visitor.goto()
    visitor.button("accept_all").click()

    # The choice applies at once, before the ledger has it.
    visitor.page.wait_for_function("() => (window.ranTags || []).length === 2")
    visitor.expect_layer("closed")
    assert visitor.consent()["action"] == "accept_all"
    # The banner retries by itself after a backoff; a reload (which resends a pending record) also does.
    try:
        receipt_id = visitor.wait_saved()
    except PlaywrightTimeoutError:
        visitor.reload()
        receipt_id = visitor.wait_saved()

    assert len(failures) == 1
    statuses = [post["status"] for post in visitor.consent_posts]
    assert 201 in statuses, statuses
    keys = {post["idempotency_key"] for post in visitor.consent_posts}
    assert keys == set(failures), "the retry must reuse the first attempt's idempotency key"
    rows = visitor.app.ledger(visitor_id=visitor.visitor_id())
    assert [(row["action"], row["idempotency_key"]) for row in rows] == [("accept_all", failures[0])]
    assert visitor.app.receipt(receipt_id)["action"] == "accept_all"


def test_the_banner_works_under_a_strict_content_security_policy(visit):
    visitor = visit(country="DE")
    visitor.goto("csp.html")

    visitor.expect_layer("first")
    expect(visitor.button("accept_all")).to_be_visible()
    response = visitor.click_and_wait_for_post(visitor.button("accept_all"))

    assert response.status == 201, response.text()
    visitor.page.wait_for_function("() => (window.ranTags || []).length === 2")
    visitor.expect_layer("closed")
    assert visitor.csp_violations() == []
    assert not [line for line in visitor.console if "Content Security Policy" in line]
    assert visitor.app.receipt(visitor.wait_saved())["action"] == "accept_all"


def axe(visitor: Visitor) -> dict[str, Any]:
    """axe-core's WCAG 2.x A/AA rules on the banner's root (not on the gated embeds' placeholders,
    which share the .consentry class and come first in the document)."""
    visitor.page.add_script_tag(path=str(AXE_SCRIPT))
    return visitor.page.evaluate(
        """async () => {
          const result = await axe.run(document.querySelector('.consentry[data-consentry-layer]'),
            {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']});
          return {violations: result.violations, passes: result.passes.length,
                  incomplete: result.incomplete.map(rule => rule.id)};
        }"""
    )


def test_first_layer_and_preferences_pass_axe(visit, capsys):
    if not AXE_SCRIPT.exists():
        browser_tests_unavailable(f"{AXE_SCRIPT} is missing: run `npm ci` in the repository root.")
    visitor = visit(country="DE")
    visitor.goto()
    visitor.expect_layer("first")
    visitor.page.wait_for_timeout(300)  # the entrance animation: colours settle before contrast checks

    found = {"first layer": axe(visitor)}
    visitor.button("preferences").click()
    visitor.expect_layer("preferences")
    for details in visitor.page.locator(".consentry details").all():
        details.evaluate("el => { el.open = true; }")  # check the cookie tables too
    found["preferences"] = axe(visitor)

    blocking = []
    report = []
    for where, result in found.items():
        violations = result["violations"]
        counts = Counter(violation["impact"] for violation in violations)
        report.append(
            f"axe, {where}: violations by impact {dict(counts) or 'none'};"
            f" {result['passes']} rules passed; needs review: {result['incomplete'] or 'none'}"
        )
        report += [f"  {v['impact']}: {v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in violations]
        blocking += [
            (where, violation["id"], [node["target"] for node in violation["nodes"]])
            for violation in violations
            if violation["impact"] in ("serious", "critical")
        ]
    with capsys.disabled():  # the counts belong in every run's output, not only a failing one's
        print("\n" + "\n".join(report))  # noqa: T201
    assert all(result["passes"] > 10 for result in found.values()), "axe checked next to nothing"
    assert blocking == []


def test_right_to_left_language_sets_dir_on_the_banner(visit):
    visitor = visit(country="DE", locale="he-IL")
    visitor.goto(html_lang="he")

    visitor.expect_layer("first")
    expect(visitor.banner).to_have_attribute("dir", "rtl")
    expect(visitor.banner).to_have_attribute("lang", "he")
    box = visitor.button("accept_all").bounding_box()
    reject = visitor.button("reject_all").bounding_box()
    assert box["x"] > reject["x"], "in right-to-left the first button is on the right"


def test_a_real_cross_origin_preflight_lets_the_consent_through(browser, app_server, customer_server):
    # Every other test routes the app's requests through Playwright to add the edge headers,
    # and Playwright then answers CORS preflights itself. Here nothing is routed: Chromium
    # sends its own OPTIONS before the JSON POST, and only the app's answer lets it through.
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{customer_server.origin}/index.html", wait_until="load")
        with page.expect_response(lambda r: r.request.method == "POST" and "/consents" in r.url) as posted:
            page.locator("[data-consentry-action=accept_all]").click()
        assert posted.value.status == 201, posted.value.text()
        receipt_id = posted.value.json()["receipt_id"]
        assert app_server.receipt(receipt_id)["action"] == "accept_all"
        assert 'OPTIONS /api/public/v1/sites/demo/consents HTTP/1.1" 200' in app_server.log.read_text()
    finally:
        context.close()
