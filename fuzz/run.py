"""The fuzzer: schemathesis against a live Consentry, every operation of the OpenAPI contract.

    .venv/bin/python fuzz/run.py            # SQLite, a fresh file in a temporary folder
    DATABASE_URL=postgres://... fuzz/run.py  # PostgreSQL: a fresh database beside that one's name
    # with DATABASE_OWNER_URL too: the owner creates and migrates it, the server runs as DATABASE_URL's role

Sets up a fresh database (migrate, the three demo commands), starts gunicorn on a free port of
127.0.0.1 with DEBUG off, then runs schemathesis against `/api/schema/` with the checks
not_a_server_error, status_code_conformance, content_type_conformance and
response_schema_conformance, a fixed number of examples per operation and a fixed seed, with an
API token of the demo superuser holding every scope (so the management API is fuzzed too) and from
the demo site's own origin (so the consent POST reaches its validator). Exits non-zero on any
failure, or when the run takes longer than FUZZ_TIMEOUT.
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
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
SEED = int(os.environ.get("FUZZ_SEED", "20261111"))
TIMEOUT = float(os.environ.get("FUZZ_TIMEOUT", "420"))
DEMO_ORIGIN = "http://127.0.0.1:8000"  # one of the demo site's registered origins (consent_demo)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_fresh(url: str) -> tuple[str, str]:
    """A new, empty database named after the one in `url`: its URL and its name."""
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'consentry'}_fuzz_{os.getpid()}"
    admin = urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), name


def postgres_drop(url: str, name: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def same_place(url: str, like: str) -> str:
    """`url` (its role) pointed at the database `like` names."""
    parts, there = urlsplit(url), urlsplit(like)
    return urlunsplit((parts.scheme, parts.netloc, there.path, parts.query, ""))


def run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


# Real values the generated requests draw from half of the time (schemathesis dictionaries), so
# operations behind an id (a receipt, a visitor's current consent, a policy's versions) are
# reached with ids that exist, and consent bodies name the site's real purposes; the other half
# stays random, so unknown ids and malformed values are still tried.
KNOWN_VALUES = """
import json
from consent.models import Checkpoint, ConsentRecord, DataSubjectRequest, PolicyDocument, Purpose
records = ConsentRecord.objects.filter(site__key="demo").order_by("-id")[:20]
sizes = sorted(Checkpoint.objects.filter(site__key="demo").values_list("tree_size", flat=True))
print(json.dumps({
    "tree_sizes": sizes,
    "tile_levels": ["0", "entries"],
    # C2SP tile paths below /tile/<L>/ (the log is under 256 leaves: tile 0, partial).
    "tile_paths": [f"000.p/{size}" for size in sizes[-2:]],
    "site_keys": ["demo"],
    "receipt_ids": [record.receipt_id for record in records],
    "visitor_ids": sorted({record.visitor_id for record in records if record.visitor_id}),
    "purposes": sorted(Purpose.objects.filter(site__key="demo").values_list("key", flat=True)),
    "policy_slugs": sorted(PolicyDocument.objects.filter(site__key="demo").values_list("slug", flat=True)),
    "numbers": [1, 2],
    "languages": ["en", "ru", "de"],
    "subjects": ["fuzz-account-1", "fuzz/account 2"],
    "request_ids": list(
        DataSubjectRequest.objects.filter(site__key="demo").values_list("public_id", flat=True)
    ),
}))
"""
# An account of the demo site with a consent its systems recorded and a linked browser, so the
# subject and visitor operations are reached with ones that exist.
SUBJECTS_SEED = """
from consent.models import ConsentRecord
from consent.sites.selectors import site_snapshot
from consent.subjects.services import subject_consent_record
from consent.subjects.validation import subject_consent_parse
snapshot = site_snapshot(key="demo")
records = ConsentRecord.objects.filter(site__key="demo", visitor_id__isnull=False)
visitor = records.values_list("visitor_id", flat=True).first()
for subject, linked in (("fuzz-account-1", visitor), ("fuzz/account 2", None)):
    body = {"subject": subject, "action": "accept_all", "collection_method": "sign_up_form", "language": "en"}
    data = subject_consent_parse({**body, **({"visitor_id": linked} if linked else {})}, snapshot)
    subject_consent_record(snapshot=snapshot, data=data, by=None)
# A data-subject request of the account's, so the request operations are reached with one that exists.
from django.utils import timezone
from consent.requests.selectors import request_jurisdiction_resolve
from consent.requests.services import request_file_verified
jurisdiction = request_jurisdiction_resolve(
    site=snapshot.site, country="DE", region="", http_request=None, on=timezone.localdate()
)
request_file_verified(
    site=snapshot.site, type="access", subject="fuzz-account-1", email="fuzz@example.org", language="en",
    jurisdiction=jurisdiction, token_name="fuzz seed",
)
"""
DICTIONARY_PARAMETERS = {
    "path.site_key": "site_keys",
    "path.receipt_id": "receipt_ids",
    "query.visitor_id": "visitor_ids",
    "body.visitor_id": "visitor_ids",
    "path.visitor_id": "visitor_ids",
    "path.subject": "subjects",
    "body.subject": "subjects",
    "body.purposes_granted[*]": "purposes",
    "body.purposes_denied[*]": "purposes",
    "path.slug": "policy_slugs",
    "path.number": "numbers",
    "path.a": "numbers",
    "path.b": "numbers",
    "body.granted[*]": "purposes",
    "body.denied[*]": "purposes",
    "body.language": "languages",
    "path.tree_size": "tree_sizes",
    "path.level": "tile_levels",
    "path.rest": "tile_paths",
    "path.public_id": "request_ids",
}


def known_values(env: dict[str, str]) -> dict[str, list]:
    known = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", KNOWN_VALUES], cwd=REPO, env=env, capture_output=True, text=True
    )
    if known.returncode != 0:
        sys.exit(f"Reading the known values failed:\n{known.stderr}")
    return json.loads(known.stdout.strip().splitlines()[-1])


SEED_CONSENTS = 6


def consents_seed(origin: str, purposes: list[str]) -> None:
    """A few real consents through the write path (a custom choice each, every purpose once)."""
    optional = [purpose for purpose in purposes if purpose != "necessary"]
    for number in range(SEED_CONSENTS):
        granted = ["necessary", *optional[: number % (len(optional) + 1)]]
        body = {
            "visitor_id": f"fuzz-visitor-{number:04d}-{secrets.token_hex(4)}",
            "action": "custom",
            "granted": granted,
            "denied": [purpose for purpose in purposes if purpose not in granted],
            "language": "en",
            "ui_layer": "second_layer",
            "page_url": f"{DEMO_ORIGIN}/",
        }
        request = urllib.request.Request(
            f"{origin}/api/public/v1/sites/demo/consents",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Origin": DEMO_ORIGIN,
                "Idempotency-Key": secrets.token_hex(16),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except urllib.error.HTTPError as error:
            sys.exit(f"Seeding a consent answered {error.code}: {error.read()[:500]!r}")


def config_write(path: Path, known: dict[str, list]) -> dict[str, int]:
    """schemathesis.toml binding parameters to the known values; how many values each has."""
    lines = []
    for name, values in known.items():
        if values:
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for parameter, dictionary in DICTIONARY_PARAMETERS.items():
        if known.get(dictionary):
            lines.append(f'"{parameter}" = {{ dictionary = "{dictionary}", probability = 0.5 }}')
    path.write_text("\n".join(lines) + "\n")
    return {name: len(values) for name, values in known.items()}


def wait_healthy(origin: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"The server exited ({server.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(origin + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    sys.exit(f"The server did not answer /healthz in 30 s:\n{log.read_text(errors='replace')[-3000:]}")


def main() -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="consentry-fuzz-"))
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    given = os.environ.get("DATABASE_URL", "")
    postgres = given.startswith(("postgres://", "postgresql://"))
    # Two roles: the owner makes the database (and `migrate` runs as it), the rest as the application.
    owner_given = os.environ.get("DATABASE_OWNER_URL", "") if postgres else ""
    creator = owner_given or given
    owner_url, pg_name = (
        postgres_fresh(creator) if postgres else (f"sqlite:///{workdir / 'fuzz.sqlite3'}", "")
    )
    database_url = same_place(given, owner_url) if owner_given else owner_url
    env = {
        name: value
        for name, value in os.environ.items()
        # A process-local cache: the fuzzer's traffic never meets another run's counters.
        if name not in {"DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "CACHE_KEY_PREFIX"}
    }
    if owner_given:
        env["DATABASE_OWNER_URL"] = owner_url
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        DEMO="true",
        SECRET_KEY=secrets.token_urlsafe(40),
        LEDGER_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        # The fuzzer is one client sending thousands of requests: the limits are not under test here.
        CONSENT_RATE_PER_IP="1000000/min",
        CONSENT_RATE_PER_SITE="1000000/min",
        PUBLIC_API_RATE="1000000/min",
        PUBLIC_REQUESTS_RATE="1000000/min",
        # Filed data-subject requests email their requester: nowhere, here.
        EMAIL_URL="dummymail://",
        API_TOKEN_RATE="1000000/min",
        TASKS_BACKEND="immediate",
        PYTHONUNBUFFERED="1",
    )
    password_file = workdir / "admin-password"
    where = (
        f"PostgreSQL {pg_name}{' as the application role' if owner_given else ''}" if postgres else "SQLite"
    )
    print(f"== fuzz: {where}, server on {origin}", flush=True)
    server = None
    try:
        run([PYTHON, "manage.py", "migrate", "--no-input"], env)
        demo_env = {**env, "DEBUG": "true"}  # the demo commands create a known account: DEBUG only
        run([PYTHON, "manage.py", "consent_demo", "--admin-password-file", str(password_file)], demo_env)
        run([PYTHON, "manage.py", "subprocessors_demo"], demo_env)
        run([PYTHON, "manage.py", "cookies_demo"], demo_env)
        log = workdir / "server.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [
                    *(PYTHON, "-m", "gunicorn", "config.wsgi:application"),
                    *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "30"),
                    # As config/gunicorn.py: request lines as long as nginx passes.
                    *("--limit-request-line", "8190", "--limit-request-field_size", "8190"),
                    *("--access-logfile", "-", "--error-logfile", "-"),
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_healthy(origin, server, log)
        # Real consents through the write path, sealed, so receipts have proofs and ids to find.
        consents_seed(origin, known_values(env)["purposes"])
        run([PYTHON, "manage.py", "shell", "-c", SUBJECTS_SEED], env)
        run([PYTHON, "manage.py", "consent_seal"], env)
        config = workdir / "schemathesis.toml"
        counts = config_write(config, known_values(env))
        print(f"== known values, drawn half of the time: {counts}", flush=True)
        scopes = "read,write,publish,consents:read,consents:write,export,requests:read,requests:write"
        token = subprocess.run(
            # The demo superuser's token: every operation is allowed to it, the owners' (origins,
            # settings) and the DPO's (publishing a policy version) alike.
            [PYTHON, "manage.py", "token_create", "--site", "demo", "--scopes", scopes, "--name", "fuzzer"]
            + ["--user", "admin"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        command = [
            *(str(Path(PYTHON).parent / "schemathesis"), "--config-file", str(config)),
            *("run", f"{origin}/api/schema/?format=json"),
            *("--checks", CHECKS),
            *("--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED)),
            *("--phases", "examples,coverage,fuzzing"),
            *("--header", f"Authorization: Bearer {token}", "--header", f"Origin: {DEMO_ORIGIN}"),
            # One worker: with two threads, hypothesis's ast.parse of its own lambdas races in
            # CPython 3.11.7 ("AST constructor recursion depth mismatch", python/cpython#106905)
            # and fails the run as a schemathesis error though the server answered correctly.
            *("--request-timeout", "20", "--workers", "1", "--no-color"),
            *("--report", "junit", "--report-junit-path", str(workdir / "junit.xml")),
        ]
        print("== " + " ".join(command).replace(token, "cst_***"), flush=True)
        try:
            fuzz = subprocess.run(command, cwd=REPO, env=env, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"== fuzz: not finished after {TIMEOUT:.0f} s: failing", flush=True)
            return 1
        errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
        print(
            f"== fuzz: schemathesis exit {fuzz.returncode}, {len(errors)} tracebacks in the server log, "
            f"{time.monotonic() - started:.0f} s in all",
            flush=True,
        )
        if errors:
            print(log.read_text(errors="replace")[-6000:])
        return fuzz.returncode or (1 if errors else 0)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if postgres:
            postgres_drop(creator, pg_name)


if __name__ == "__main__":
    sys.exit(main())
