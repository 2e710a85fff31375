"""A data-subject request end to end in Chromium, as its people meet it: a visitor files from the
banner's link on a customer's page (another origin, no request routing), confirms by the link in
the email the app really sent (the file backend is the test's outbox), the DPO acts in the admin,
and the requester follows it on their status page.

The app runs on its own server here, with emails written to files and background jobs run at
once, so that every email the flow depends on exists by the time the next step needs it.
"""

import email
import json
import re
import threading
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    PAGE_RECORDER,
    TIMEOUT_MS,
    AppServer,
    CustomerServer,
    Visitor,
    app_server_running,
    browser_tests_unavailable,
    free_port,
)

try:
    from playwright.sync_api import expect
except ImportError:
    browser_tests_unavailable("Python Playwright is missing: pip install -e '.[dev]'.", module=True)

pytestmark = pytest.mark.browser


class Outbox:
    """The emails the app sent, read from the file backend's directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def messages(self) -> list[Message]:
        found = []
        for path in sorted(self.directory.glob("*.log"), key=lambda p: p.stat().st_mtime):
            # The file backend appends each message followed by a line of 79 dashes.
            for chunk in path.read_text().split("-" * 79 + "\n"):
                if chunk.strip():
                    found.append(email.message_from_string(chunk))
        return found

    def wait_for(self, *, to: str, subject: str, seconds: float = 10) -> str:
        """The body of the newest message to `to` whose subject contains `subject`."""
        deadline = time.monotonic() + seconds
        while True:
            for message in reversed(self.messages()):
                if to in message["To"] and subject in str(
                    email.header.make_header(email.header.decode_header(message["Subject"]))
                ):
                    payload = message.get_payload(decode=True)
                    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())
            if time.monotonic() > deadline:
                subjects = [(m["To"], m["Subject"]) for m in self.messages()]
                pytest.fail(f"No email to {to} about {subject!r}; sent: {subjects}", pytrace=False)
            time.sleep(0.1)


@pytest.fixture(scope="module")
def flow_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AppServer, CustomerServer, Outbox]]:
    app_port, customer_port = free_port(), free_port()
    workdir = tmp_path_factory.mktemp("e2e-requests")
    mail = workdir / "mail"
    mail.mkdir()
    customer = CustomerServer(customer_port, f"http://127.0.0.1:{app_port}")
    thread = threading.Thread(target=customer.serve_forever, name="customer-site", daemon=True)
    thread.start()
    try:
        with app_server_running(
            port=app_port,
            workdir=workdir,
            customer_origin=customer.origin,
            # django-environ drops the first slash after the scheme: four make an absolute path.
            EMAIL_URL=f"filemail:///{mail}",
            TASKS_BACKEND="immediate",
            PUBLIC_REQUESTS_RATE="100000/min",
        ) as app:
            yield app, customer, Outbox(mail)
    finally:
        customer.shutdown()
        customer.server_close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(locale="en-US")
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def link_in(body: str, path_part: str) -> str:
    match = re.search(r"https?://\S*" + re.escape(path_part) + r"\S*", body)
    assert match, f"no link with {path_part!r} in:\n{body}"
    return match.group(0)


def admin_login(page: Any, app: AppServer) -> None:
    """Log in as the demo site's DPO (the superuser may look at requests, never act on them)."""
    password = (app.database.parent / "admin-password").read_text().strip()
    page.goto(f"{app.origin}/admin/login/")
    page.fill("#id_username", "dpo@demo.example")
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def dpo_act(page: Any, app: AppServer, public_id: str, action: str, text: str = "") -> None:
    """On the request's admin page, take `action` (a RequestAction value) with `text`."""
    page.goto(f"{app.origin}/admin/consent/datasubjectrequest/?q={public_id}")
    page.locator("#result_list tbody th a, #result_list tbody td a").first.click()
    page.wait_for_load_state("load")
    form = page.locator(f"form.dsr-action:has(input[name=action][value={action}])")
    if text:
        form.locator("textarea, input[name=text], input[name=note]").fill(text)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def file_from_banner(
    context: Any, customer: CustomerServer, app: AppServer, *, type: str, email_to: str
) -> tuple[Any, str, str]:
    """The visitor accepts all on the customer's page, reopens the preferences, follows the rights
    link and files a request: the page they end on, their visitor id and their choice's receipt."""
    context.add_init_script(PAGE_RECORDER)
    visitor = Visitor(context=context, app=app, customer=customer)
    visitor.goto()
    visitor.expect_layer("first")
    response = visitor.click_and_wait_for_post(visitor.button("accept_all"))
    assert response.status == 201, response.text()
    receipt_id = visitor.wait_saved()
    visitor_id = response.request.post_data_json["visitor_id"]
    visitor.button("reopen").click()
    link = visitor.page.locator("[data-consentry-requests]").filter(visible=True).first
    expect(link).to_be_visible(timeout=TIMEOUT_MS)
    with context.expect_page() as opened:
        link.click()
    form = opened.value
    form.wait_for_load_state("load")
    assert form.url.startswith(f"{app.origin}/s/demo/requests/"), form.url
    # The banner handed the form this browser's id (in the fragment, gone from the address now).
    expect(form.locator("#visitor_id")).to_have_value(visitor_id)
    assert "#" not in form.url
    form.select_option("#type", type)
    form.fill("#email", email_to)
    with form.expect_navigation():
        form.get_by_role("button", name="Send the request").click()
    return form, visitor_id, receipt_id


def verify_by_email(page: Any, outbox: Outbox, requester: str) -> tuple[str, str]:
    """Open the emailed link and press its button: the status page's link and the request's id."""
    body = outbox.wait_for(to=requester, subject="confirm your request")
    verify = link_in(body, "/requests/verify/")
    status = next(
        match.group(0)
        for match in re.finditer(r"https?://\S+", body)
        if "/verify/" not in match.group(0) and "/requests/" in match.group(0)
    )
    public_id = re.search(r"/requests/([^/?]+)", status).group(1)
    # The link alone changes nothing (mail scanners open links): the button confirms.
    page.goto(verify)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    outbox.wait_for(to=requester, subject="your request is confirmed")
    return status, public_id


def test_a_visitor_files_from_the_banner_verifies_by_email_and_the_dpo_acknowledges(
    flow_servers, new_context
):
    app, customer, outbox = flow_servers
    requester = "ada@example.com"
    page, visitor_id, receipt_id = file_from_banner(
        new_context(), customer, app, type="access", email_to=requester
    )
    expect(page.locator("main")).to_contain_text(requester)

    status, public_id = verify_by_email(page, outbox, requester)

    page.goto(status)
    expect(page.locator("main")).to_contain_text("Email verified")

    dpo = new_context().new_page()
    admin_login(dpo, app)
    dpo_act(dpo, app, public_id, "acknowledged")
    expect(dpo.locator(".messagelist")).to_be_visible()
    outbox.wait_for(to=requester, subject=":")  # the acknowledgement email
    page.goto(status)
    expect(page.locator("main")).to_contain_text("Acknowledged")

    # The DPO generates the package of what Consentry holds, checks it, and answers with it.
    dpo_act(dpo, app, public_id, "generate_package")
    expect(dpo.locator("#automation")).to_contain_text("1")
    dpo_act(dpo, app, public_id, "fulfilled")
    expect(dpo.locator(".messagelist .error, .errornote")).to_have_count(0)

    # The requester reads it from their status page: their own choice, with its receipt.
    page.goto(status)
    expect(page.locator("main")).to_contain_text("Fulfilled")
    with page.context.expect_page() as opened:
        page.locator("#package a").first.click(modifiers=["Shift"])
    readable = opened.value
    readable.wait_for_load_state("load")
    expect(readable.locator("main")).to_contain_text(receipt_id)
    with page.expect_download() as downloaded:
        page.locator("#package a[download]").click()
    package = json.loads(Path(downloaded.value.path()).read_text())
    assert receipt_id in json.dumps(package)
    assert visitor_id in json.dumps(package)


def test_a_deletion_redacts_the_ledger_and_the_log_still_verifies(flow_servers, new_context):
    app, customer, outbox = flow_servers
    requester = "bob@example.com"
    page, visitor_id, receipt_id = file_from_banner(
        new_context(), customer, app, type="deletion", email_to=requester
    )
    app.manage("consent_seal")
    status, public_id = verify_by_email(page, outbox, requester)
    assert len(app.ledger(visitor_id=visitor_id)) == 1

    dpo = new_context().new_page()
    admin_login(dpo, app)
    dpo_act(dpo, app, public_id, "erase")
    expect(dpo.locator("#automation")).to_contain_text("Waiting")
    # No backend listens for request.erasure_requested here: the DPO confirms by hand, with a note.
    dpo_act(dpo, app, public_id, "confirm_erasure", "The shop's database has no account for this address.")
    dpo_act(dpo, app, public_id, "fulfilled")

    # The visitor id is gone from the ledger; the receipt and every proof still verify.
    assert app.ledger(visitor_id=visitor_id) == []
    assert app.get_json(f"/api/public/v1/receipts/{receipt_id}")[0] == 200
    app.manage("consent_seal")
    verified = app.manage("consent_verify", "--site", "demo")  # manage() fails the test on a non-zero exit
    assert "The ledger verifies." in verified and " 0 unsealed, 1 redacted" in verified, verified
    page.goto(status)
    expect(page.locator("main")).to_contain_text("Fulfilled")


def request_page(page: Any, app: AppServer, public_id: str) -> None:
    page.goto(f"{app.origin}/admin/consent/datasubjectrequest/?q={public_id}")
    page.locator("#result_list tbody th a, #result_list tbody td a").first.click()
    page.wait_for_load_state("load")


def test_an_authorised_agents_request_waits_for_the_consumers_confirmation(flow_servers, new_context):
    app, customer, outbox = flow_servers
    consumer, agent = "carol@example.com", "agent@privacy-agents.example"
    page = new_context().new_page()
    page.goto(f"{app.origin}/s/demo/requests/?lang=en")
    page.select_option("#type", "deletion")
    page.fill("#email", consumer)
    page.fill("#country", "US")
    page.fill("#region", "CA")
    page.fill("#agent_name", "Privacy Agents Inc.")
    page.fill("#agent_email", agent)
    page.set_input_files(
        "#agent_document",
        files=[{"name": "permission.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% signed\n"}],
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Send the request").click()

    # The agent's copy has the status link, never the consumer's confirmation link.
    copy = outbox.wait_for(to=agent, subject="the request you filed for a consumer")
    assert "/verify/" not in copy
    status = link_in(copy, "/requests/")
    public_id = re.search(r"/requests/([^/?]+)", status).group(1)
    page.goto(status)
    expect(page.locator("#awaiting-consumer")).to_be_visible()

    # The DPO sees why nothing can be done yet: acknowledging is not offered.
    dpo = new_context().new_page()
    admin_login(dpo, app)
    request_page(dpo, app, public_id)
    expect(dpo.locator("#dsr-awaiting-consumer")).to_be_visible()
    expect(dpo.locator("form.dsr-action:has(input[name=action][value=acknowledged])")).to_have_count(0)
    expect(dpo.locator("form.dsr-action:has(input[name=action][value=refused])")).to_have_count(1)

    # The consumer confirms from their own email; then the request is the DPO's to answer.
    asked = outbox.wait_for(to=consumer, subject="did you authorise")
    consumer_page = new_context().new_page()
    consumer_page.goto(link_in(asked, "/requests/verify/"))
    expect(consumer_page.locator("main")).to_contain_text("Privacy Agents Inc.")
    with consumer_page.expect_navigation():
        consumer_page.get_by_role("button", name="Yes, I authorised them").click()
    page.goto(status)
    expect(page.locator("#awaiting-consumer")).to_have_count(0)
    request_page(dpo, app, public_id)
    expect(dpo.locator("#dsr-awaiting-consumer")).to_have_count(0)
    expect(dpo.locator("form.dsr-action:has(input[name=action][value=acknowledged])")).to_have_count(1)
