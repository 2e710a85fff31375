"""The banner config's latency with and without a concurrent flood of wrong passwords, on SQLite.

    .venv/bin/python bench/login_flood.py [--seconds 10] [--runs 3] [--flooders 16] [--unthrottled]

A wrong password costs a PBKDF2 run (about a third of a second of CPU), so a login flood
could starve the public endpoints. One gunicorn server (production hasher); wrk measures
GET /api/public/v1/sites/<key>/config alone (the baseline), then again while `--flooders`
threads send Basic-auth requests with wrong passwords (random usernames) to /api/v1/sites.
The flooded case is measured once the flood is being refused (the window's allowance of
real password checks, per process without Redis, is spent first; its count is printed).
Printed: both p99s, their ratio (goal <= 2), and how the flood was answered (401 = a password
was hashed, 429 = refused before hashing). `--unthrottled` also measures a server whose
failed-login limits are out of reach, to show what the limits prevent.
"""

import argparse
import base64
import json
import secrets
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
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

GOAL_RATIO = 2.0
WARMUP_SECONDS = 2


class Flood:
    """Threads sending wrong Basic-auth passwords until stopped; counts the statuses."""

    def __init__(self, url: str, threads: int) -> None:
        self.url, self.stop, self.statuses = url + "/api/v1/sites", threading.Event(), Counter()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self.stop.is_set():
            credentials = base64.b64encode(
                f"user-{secrets.token_hex(4)}:wrong-{secrets.token_hex(4)}".encode()
            )
            request = urllib.request.Request(
                self.url, headers={"Authorization": "Basic " + credentials.decode()}
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            with self.lock:
                self.statuses[status] += 1

    def __enter__(self) -> "Flood":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=35)


def measure_server(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, label: str
) -> dict[str, Summary]:
    site = json.loads(manage(env, "bench_site"))
    path = f"/api/public/v1/sites/{site['site_key']}/config?lang=en"
    headers = [f"Origin: {site['origin']}", "CF-IPCountry: DE"]
    results: dict[str, list[Run]] = {"alone": [], "flooded": []}
    floods: Counter[int] = Counter()
    with Server(env, tmp / f"gunicorn-{label}.log") as server:
        for number in range(1, args.runs + 1):
            for case in results:
                flood = Flood(server.url, args.flooders if case == "flooded" else 0)
                with flood:
                    if case == "flooded":
                        # Measured once the lock holds: before it, each process grants the
                        # window's allowance (LOGIN_FAILURES_PER_ADDRESS) of real password checks.
                        deadline = time.monotonic() + 60
                        while not flood.statuses[429] and time.monotonic() < deadline:
                            time.sleep(0.1)
                        print(f"  {label}: before the lock held, {flood.statuses[401]} passwords were hashed")
                    for seconds in (WARMUP_SECONDS, args.seconds):
                        run = wrk_run(
                            server=server,
                            case=case,
                            path=path,
                            script="get.lua",
                            script_args=("200",),
                            headers=headers,
                            seconds=seconds,
                            connections=args.connections,
                        )
                floods.update(flood.statuses)
                results[case].append(run)
                print(f"  {label} run {number} {run.line()}", flush=True)
    answered = ", ".join(f"{status or 'socket error'}: {count}" for status, count in sorted(floods.items()))
    print(f"{label}: the flood was answered {answered}")
    return {case: Summary.of(runs) for case, runs in results.items()}


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
    parser.add_argument("--unthrottled", action="store_true", help="also measure without failed-login limits")
    args = parser.parse_args()
    install_sigterm_as_interrupt()
    wrk_ensure()
    print(
        f"server: gunicorn, 2 workers, SQLite, PBKDF2; load: wrk -c{args.connections} on the config, "
        f"{args.flooders} wrong-password threads; {args.runs} x {args.seconds} s per case; medians"
    )
    servers = {"limited": {}}
    if args.unthrottled:
        servers["unlimited"] = {
            "LOGIN_FAILURES_PER_ADDRESS": "100000000/min",
            "LOGIN_FAILURES_PER_USERNAME": "100000000/min",
        }
    try:
        for label, extra in servers.items():
            with tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp_name:
                tmp = Path(tmp_name)
                env = {**server_env(f"sqlite:///{tmp / 'bench.sqlite3'}"), **extra}
                manage(env, "migrate", "--noinput")
                summaries = measure_server(args, env, tmp, label)
            for summary in summaries.values():
                print(f"{label}: {summary.line()}")
            ratio = summaries["flooded"].p99_ms / summaries["alone"].p99_ms
            text = f"{label}: config p99 flooded / alone = {ratio:.2f} (goal <= {GOAL_RATIO})"
            print(goal_line(ratio <= GOAL_RATIO, text) if label == "limited" else text)
    except KeyboardInterrupt:
        print("\ninterrupted: every process started here has been stopped.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
