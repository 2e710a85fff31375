"""Screenshots of the back office in Russian and a public page in Kazakh (issue 13's closing note).

Run by hand, not in CI:  .venv/bin/python docs/screenshots/take.py  (from the repository root).

A fresh demo database in a temporary directory (migrate, then the `make demo` commands), one
consent record sealed into the log, `runserver` on a free port; then Chromium (Debian's
/usr/bin/chromium, driven by Playwright: never `playwright install`, it downloads a browser)
logs in as the demo site's DPO, chooses Russian in the admin's language switcher, and saves
1280x900 PNGs next to this file:

  admin-index.ru.png            the admin index
  site-change.ru.png            the demo site's change page
  policy-publish.ru.png         the privacy policy's preview-and-publish page
  consent-record.ru.png         a consent record's page
  receipt.ru.png                the record's public receipt page
  subprocessors.kk.png          the public sub-processor page in Kazakh
"""

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
VIEWPORT = {"width": 1280, "height": 900}

SETUP = """
import json
from django.core.management import call_command
from django.test import RequestFactory
from consent.ledger.services import consent_record_create
from consent.ledger.validation import consent_input_parse
from consent.models import PolicyDocument, Site, SiteMembership
from consent.rules.geo import jurisdiction_resolve
from consent.sites.selectors import site_snapshot

call_command("consent_demo", admin_password_file={password_file!r})
call_command("subprocessors_demo")
call_command("cookies_demo")
site = Site.objects.get(key="demo")
site.languages = [*site.languages, "kk"]  # the public pages in Kazakh too
site.full_clean()
site.save()
snapshot = site_snapshot(key="demo")
optional = [key for key in snapshot.purposes if key != "necessary"]
data = consent_input_parse(
    {{"visitor_id": "screenshot-visitor-0001", "action": "custom", "granted": optional[:1],
      "denied": optional[1:], "language": "ru", "ui_layer": "second_layer"}},
    snapshot, gpc_header=False, idempotency_header=None,
)
record = consent_record_create(
    snapshot=snapshot, data=data,
    resolution=jurisdiction_resolve(
        request=RequestFactory().post("/", HTTP_CF_IPCOUNTRY="RU"), default_code="EU"
    ),
    ip="", user_agent="",
)
call_command("consent_seal")
dpo = SiteMembership.objects.filter(site=site, role="dpo").select_related("user").get().user
print("SCREENSHOTS", json.dumps({{
    "site": site.pk,
    "policy": PolicyDocument.objects.filter(site=site, kind="privacy_policy").get().pk,
    "record": record.pk,
    "receipt": record.receipt_id,
    "dpo": dpo.get_username(),
}}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="consentry-screenshots-") as workdir:
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(
            DATABASE_URL=f"sqlite:///{workdir}/screenshots.sqlite3",
            DEBUG="true",
            SECRET_KEY="screenshots",
            LEDGER_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
            ALLOWED_HOSTS="127.0.0.1",
            PUBLIC_BASE_URL=origin,
            PYTHONUNBUFFERED="1",
        )
        manage(env, "migrate", "--no-input")
        password_file = Path(workdir, "admin-password")
        output = manage(env, "shell", "-c", SETUP.format(password_file=str(password_file)))
        ids = json.loads(next(line for line in output.splitlines() if line.startswith("SCREENSHOTS "))[12:])
        password = password_file.read_text().strip()
        with open(Path(workdir, "server.log"), "w") as log:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(origin + "/healthz", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        sys.exit("The server did not start:\n" + Path(workdir, "server.log").read_text())
                    time.sleep(0.2)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                page = browser.new_context(viewport=VIEWPORT, locale="en-GB").new_page()
                page.goto(origin + "/admin/login/")
                page.fill("#id_username", ids["dpo"])
                page.fill("#id_password", password)
                page.click("input[type=submit]")
                page.wait_for_url(origin + "/admin/")
                # Russian chosen in the switcher: kept on the user, not only in this browser.
                page.select_option("#language-switcher-select", "ru")
                page.click("#language-switcher button[type=submit]")
                page.wait_for_load_state()
                shots = {
                    "admin-index.ru.png": "/admin/",
                    "site-change.ru.png": f"/admin/consent/site/{ids['site']}/change/",
                    "policy-publish.ru.png": f"/admin/consent/policydocument/{ids['policy']}/publish/",
                    "consent-record.ru.png": f"/admin/consent/consentrecord/{ids['record']}/change/",
                    "receipt.ru.png": f"/r/{ids['receipt']}/",
                    "subprocessors.kk.png": "/s/demo/subprocessors/?lang=kk",
                }
                for name, path in shots.items():
                    response = page.goto(origin + path)
                    assert response is not None and response.ok, (path, response and response.status)
                    page.screenshot(path=str(OUT / name))
                    print("saved", OUT / name)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
