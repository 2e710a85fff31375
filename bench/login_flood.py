"""The banner config's latency with and without a concurrent flood of wrong passwords.

    .venv/bin/python bench/login_flood.py [--seconds 10] [--runs 3] [--flooders 16] [--direct] [--unthrottled]

A wrong password costs a PBKDF2 run (about a third of a second of CPU), so a login flood
could starve the public endpoints. The production shape: Debian's nginx with the reference
config (deploy/nginx-consentry.conf, TLS) in front of gunicorn (production hasher, SQLite).
wrk measures GET /api/public/v1/sites/<key>/config through nginx alone (the baseline), then
again while `--flooders` threads send wrong passwords as fast as they are answered, over
kept-alive TLS connections from another loopback address (127.0.0.2): half wrong API tokens
on /api/v1/sites (Bearer; a token costs a SHA-256 lookup, never a password hash: the API takes
no password), half admin login form posts (with a valid CSRF token, random usernames).

On a machine with two or more CPUs, the flood's threads run on CPU 1 (they stand for the
attacker's machine, whose CPU is not the server's) and nginx, gunicorn and wrk on CPU 0,
in both cases alike; `--no-pin` shares every CPU instead.

Printed: both p99s, their ratio (goal <= 2), and how the flood was answered (by whom: nginx's
limit, the app's failed-login lock before hashing, or a hashed password). `--direct` also
measures the flood straight at gunicorn (no nginx), `--unthrottled` a server whose
failed-login limits are out of reach: both reported, to show what each layer prevents.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    ROOT,
    Run,
    Server,
    Summary,
    goal_line,
    install_sigterm_as_interrupt,
    manage,
    server_env,
    wrk_ensure,
    wrk_run,
)
from deploy.nginx_local import LocalNginx, tls_context_unverified  # noqa: E402

GOAL_RATIO = 2.0
WARMUP_SECONDS = 2
FLOOD_SOURCE = "127.0.0.2"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Target:
    """Where wrk and the flood send requests: nginx in front of the server, or the server itself."""

    def __init__(self, server: Server, nginx: LocalNginx | None) -> None:
        self.server, self.nginx = server, nginx

    @property
    def url(self) -> str:
        return self.nginx.origin if self.nginx else self.server.url

    def cpu_ticks(self) -> int:
        return self.server.cpu_ticks() + (self.nginx.cpu_ticks() if self.nginx else 0)

    @property
    def referer(self) -> str:
        """The admin login page as the app names it (nginx passes Host without the port)."""
        host = "localhost" if self.nginx else urllib.parse.urlsplit(self.server.url).netloc
        return f"https://{host}/admin/login/"

    def connection(self) -> http.client.HTTPConnection:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(
                parts.hostname,
                parts.port,
                timeout=30,
                source_address=(FLOOD_SOURCE, 0),
                context=tls_context_unverified(),
            )
        return http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=30, source_address=(FLOOD_SOURCE, 0)
        )


def answered_by(status: int, body: bytes) -> str:
    """Who answered a flood request: nginx's limit, the app's lock, or a hashed password."""
    if status == 429:
        return "nginx limit (429)" if b"nginx" in body or b"from this address" in body else "app lock (429)"
    if status == 401:
        return "wrong token refused, nothing hashed (401)"
    if status == 200:
        return "password hashed (200)"
    return f"other ({status})"


class Flood:
    """Threads sending wrong passwords until stopped, over kept-alive connections; counts who answered."""

    def __init__(self, target: Target, threads: int) -> None:
        self.target, self.stop, self.answers = target, threading.Event(), Counter()
        self.unexpected = ""  # the first answer that is neither a refusal nor a failed login
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(number,), daemon=True) for number in range(threads)
        ]

    def _login_form(self, connection: http.client.HTTPConnection) -> tuple[str, str]:
        """The CSRF cookie and form token of the admin login page (an attacker reads them once)."""
        connection.request("GET", "/admin/login/", headers={"X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        body = response.read()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        match = CSRF_FIELD.search(body)
        return cookie, match.group(1).decode() if match else ""

    def _run(self, number: int) -> None:
        connection = self.target.connection()
        cookie = token = ""
        while not self.stop.is_set():
            username, password = f"user-{secrets.token_hex(4)}", f"wrong-{secrets.token_hex(4)}"
            try:
                if number % 2:
                    if not token:
                        cookie, token = self._login_form(connection)
                    body = urllib.parse.urlencode(
                        {
                            "csrfmiddlewaretoken": token,
                            "username": username,
                            "password": password,
                            "next": "/admin/",
                        }
                    )
                    connection.request(
                        "POST",
                        "/admin/login/",
                        body=body,
                        headers={
                            "Content-Type": "application/x-www-form-urlencoded",
                            "Cookie": cookie,
                            "Referer": self.target.referer,
                            "X-Forwarded-Proto": "https",
                        },
                    )
                else:
                    guess = f"cst_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
                    connection.request(
                        "GET",
                        "/api/v1/sites",
                        headers={"Authorization": "Bearer " + guess, "X-Forwarded-Proto": "https"},
                    )
                response = connection.getresponse()
                body = response.read()
                answer = answered_by(response.status, body)
                if answer.startswith("other") and not self.unexpected:
                    reason = re.search(rb"Reason given for failure:</p>\s*<pre>\s*([^<]+)", body)
                    kind = "admin form" if number % 2 else "API token"
                    self.unexpected = (
                        f"{kind}: {response.status} {(reason.group(1) if reason else body[:200])!r}"
                    )
            except (OSError, http.client.HTTPException, ssl.SSLError):
                answer = "socket error"
                connection.close()
                connection = self.target.connection()
            with self.lock:
                self.answers[answer] += 1
        connection.close()

    def __enter__(self) -> "Flood":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=35)

    def refused(self) -> int:
        with self.lock:
            return sum(count for answer, count in self.answers.items() if "429" in answer)

    def hashed(self) -> int:
        with self.lock:
            return sum(
                count for answer, count in self.answers.items() if answer.startswith("password hashed")
            )

    def wait_until_refused(self, *, quiet_seconds: float, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            hashed = self.hashed()
            if hashed != last:
                last, quiet_since = hashed, time.monotonic()
            elif self.refused() and time.monotonic() - quiet_since >= quiet_seconds:
                return
            time.sleep(0.1)


def measure(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, label: str, through_nginx: bool
) -> dict:
    site = json.loads(manage(env, "bench_site"))
    path = f"/api/public/v1/sites/{site['site_key']}/config?lang=en"
    headers = [f"Origin: {site['origin']}", "CF-IPCountry: DE"]
    server_cpus = (0,) if args.pin else ()
    results: dict[str, list[Run]] = {"alone": [], "flooded": []}
    floods: Counter[str] = Counter()
    with Server(env, tmp / f"gunicorn-{label}.log", cpus=server_cpus) as server:
        static = tmp / "static"
        static.mkdir(exist_ok=True)
        nginx = LocalNginx(tmp, server.port, static, cpus=server_cpus) if through_nginx else None
        with nginx or _nothing():
            target = Target(server, nginx)
            for number in range(1, args.runs + 1):
                for case in results:
                    flood = Flood(target, args.flooders if case == "flooded" else 0)
                    with flood:
                        if case == "flooded":
                            # Measured once the flood is refused and no password has been hashed for
                            # 2 s: before that, each process grants the window's allowance
                            # (LOGIN_FAILURES_PER_ADDRESS) of real password checks.
                            flood.wait_until_refused(quiet_seconds=2, timeout=90)
                            print(f"  {label}: before the lock held, {flood.hashed()} passwords were hashed")
                        for seconds in (WARMUP_SECONDS, args.seconds):
                            run = wrk_run(
                                server=target,
                                case=case,
                                path=path,
                                script="get.lua",
                                script_args=("200",),
                                headers=headers,
                                seconds=seconds,
                                connections=args.connections,
                                cpus=server_cpus,
                            )
                    floods.update(flood.answers)
                    results[case].append(run)
                    print(f"  {label} run {number} {run.line()}", flush=True)
                    if flood.unexpected:
                        print(f"  {label}: first unexpected flood answer: {flood.unexpected}")
    total = sum(floods.values())
    answered = ", ".join(f"{answer}: {count}" for answer, count in sorted(floods.items()))
    print(f"{label}: {total} flood requests answered: {answered}")
    return {case: Summary.of(runs) for case, runs in results.items()}


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per case (default 3)")
    parser.add_argument(
        "--connections", type=int, default=4, help="wrk connections on the config (default 4)"
    )
    parser.add_argument(
        "--flooders", type=int, default=16, help="threads sending wrong passwords (default 16)"
    )
    parser.add_argument("--direct", action="store_true", help="also flood gunicorn straight, without nginx")
    parser.add_argument("--unthrottled", action="store_true", help="also measure without failed-login limits")
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin server and flood to CPUs"
    )
    args = parser.parse_args()
    args.pin = args.pin and len(os.sched_getaffinity(0)) >= 2
    install_sigterm_as_interrupt()
    wrk_ensure()
    if args.pin:
        os.sched_setaffinity(0, {1})  # this process is the flood client: the attacker's CPU
    pinning = "flood on CPU 1, server and wrk on CPU 0" if args.pin else "no CPU pinning"
    print(
        f"server: nginx (reference config, TLS) -> gunicorn, 2 workers, SQLite, PBKDF2; "
        f"load: wrk -c{args.connections} on the config, {args.flooders} wrong-password threads "
        f"from {FLOOD_SOURCE}; {pinning}; "
        f"{args.runs} x {args.seconds} s per case; medians"
    )
    cases = [("nginx", {}, True)]
    if args.direct:
        cases.append(("direct", {}, False))
    if args.unthrottled:
        limits_off = {
            "LOGIN_FAILURES_PER_ADDRESS": "100000000/min",
            "LOGIN_FAILURES_PER_USERNAME": "100000000/min",
        }
        cases.append(("direct-unthrottled", limits_off, False))
    try:
        for label, extra, through_nginx in cases:
            with tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp_name:
                tmp = Path(tmp_name)
                env = {**server_env(f"sqlite:///{tmp / 'bench.sqlite3'}"), **extra}
                # As deploy/consentry.env.example: nginx is the one trusted proxy and says https.
                env.update(
                    ALLOWED_HOSTS="localhost,127.0.0.1",
                    GEO_TRUSTED_PROXY_COUNT="1" if through_nginx else "0",
                    SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
                )
                manage(env, "migrate", "--noinput")
                # The admin's login page (where the flood reads its CSRF token) needs the static
                # manifest when DEBUG is off, as in production.
                if not (ROOT / "staticfiles" / "staticfiles.json").exists():
                    manage(env, "collectstatic", "--noinput")
                summaries = measure(args, env, tmp, label, through_nginx)
            for summary in summaries.values():
                print(f"{label}: {summary.line()}")
            ratio = summaries["flooded"].p99_ms / summaries["alone"].p99_ms
            text = f"{label}: config p99 flooded / alone = {ratio:.2f} (goal <= {GOAL_RATIO})"
            print(goal_line(ratio <= GOAL_RATIO, text) if label == "nginx" else text, flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: every process started here has been stopped.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
