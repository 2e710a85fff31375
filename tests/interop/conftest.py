"""Live servers for the interoperability tests: the app as a subprocess on a SQLite file of its own
(tests/e2e/conftest.py's `app_server_running`), with consents recorded and sealed."""

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, SITE_KEY, AppServer, app_server_running, free_port

INTEROP = Path(__file__).resolve().parent
GO_ENV = {"GO111MODULE": "off", "GOPATH": "/usr/share/gocode"}

# Records made as the consent POST makes them (the service, at a given time), on the demo site.
RECORDS_SCRIPT = """
from datetime import timedelta
from django.test import RequestFactory
from django.utils import timezone
from consent.ledger.services import consent_record_create
from consent.ledger.validation import consent_input_parse
from consent.rules.geo import jurisdiction_resolve
from consent.sites.selectors import site_snapshot

snapshot = site_snapshot(key={site_key!r})
optional = [key for key in snapshot.purposes if key != "necessary"]
for n in range({start}, {end}):
    data = consent_input_parse(
        {{"visitor_id": f"interop-visitor-{{n:08d}}", "action": "reject_all", "granted": [],
          "denied": optional, "language": "en", "ui_layer": "first_layer"}},
        snapshot, gpc_header=False, idempotency_header=None,
    )
    record = consent_record_create(
        snapshot=snapshot, data=data,
        resolution=jurisdiction_resolve(request=RequestFactory().post("/"), default_code="EU"),
        ip="", user_agent="", now=timezone.now(),
    )
    print("receipt", record.receipt_id)
"""


def records_add(server: AppServer, start: int, end: int) -> list[str]:
    """Record consents start..end-1 on the server's demo site; their receipt ids."""
    script = RECORDS_SCRIPT.format(site_key=SITE_KEY, start=start, end=end)
    output = server.manage("shell", "-c", script).splitlines()
    return [line.split()[1] for line in output if line.startswith("receipt ")]


def go_available() -> bool:
    return (
        shutil.which("go") is not None and Path("/usr/share/gocode/src/golang.org/x/mod/sumdb/note").is_dir()
    )


def go_run(program: Path, *args: str, gocache: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **GO_ENV, "GOCACHE": str(gocache)}
    return subprocess.run(
        ["go", "run", str(program), *args],
        cwd=program.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="package")
def log_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with app_server_running(
        port=free_port(),
        workdir=tmp_path_factory.mktemp("interop-log"),
        customer_origin="http://localhost:9",
        PUBLIC_LOG_RATE="100000/min",
    ) as server:
        yield server


__all__ = ["REPO", "records_add", "go_available", "go_run", "INTEROP"]
