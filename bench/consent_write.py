"""Consent POST against a raw one-row insert of the same width, on SQLite and PostgreSQL.

    .venv/bin/python bench/consent_write.py [--seconds 6] [--runs 5] [--databases sqlite,postgres]

Per database: a fresh database, `migrate`, a site with one registered origin and two
purposes (created through the services), one gunicorn server (2 sync workers, see
bench.harness.SYNC_WORKERS), then wrk runs alternating
raw, consent, raw, consent, ... (a warm-up before each), the medians and the ratio
consent/raw. Afterwards `consent_seal` and `consent_verify` on the same database.
Goal: ratio >= 0.85 with zero errors, and the ledger verifies. A missed performance goal
still exits 0 (this is a measurement); a ledger that does not verify exits 1.
"""

import argparse
import json
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    GUNICORN_OVERRIDES,
    HOST,
    PG_PORT,
    SYNC_WORKERS,
    Run,
    Server,
    Summary,
    goal_line,
    install_sigterm_as_interrupt,
    manage,
    port_answers,
    postgres_database,
    server_env,
    wrk_ensure,
    wrk_run,
)

RATIO_GOAL = 0.85
WARMUP_SECONDS = 2


@contextmanager
def database_url(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        with postgres_database() as url:
            yield url


def bench_database(kind: str, *, seconds: float, runs: int, connections: int, redis_url: str = "") -> bool:
    """Measure one database; True if the ledger verified afterwards."""
    print(f"\n=== {kind} ===", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp_name,
        database_url(kind, Path(tmp_name)) as url,
    ):
        tmp = Path(tmp_name)
        env = server_env(url, redis_url)
        manage(env, "migrate", "--noinput")
        site = json.loads(manage(env, "bench_site"))
        print(f"site {site['site_key']}, origin {site['origin']}, purposes {site['purposes']}")
        paths = {
            "raw": f"/api/public/bench/sites/{site['site_key']}/raw-consents",
            "consent": f"/api/public/v1/sites/{site['site_key']}/consents",
        }
        results: dict[str, list[Run]] = {"raw": [], "consent": []}
        with Server(env, tmp / "gunicorn.log", shape=SYNC_WORKERS) as server:
            for number in range(1, runs + 1):
                for case in ("raw", "consent"):

                    def measure(duration: float, case: str = case) -> Run:
                        # A fresh prefix per wrk run: ids and Idempotency-Keys never repeat.
                        prefix = secrets.token_hex(4)
                        return wrk_run(
                            server=server,
                            case=case,
                            path=paths[case],
                            script="consent_post.lua",
                            script_args=(prefix, site["origin"]),
                            seconds=duration,
                            connections=connections,
                        )

                    measure(WARMUP_SECONDS)
                    run = measure(seconds)
                    results[case].append(run)
                    print(f"  run {number} {run.line()}", flush=True)
        raw, consent = Summary.of(results["raw"]), Summary.of(results["consent"])
        ratio = consent.rps / raw.rps
        # Each consent run against the raw run just before it: slow drifts of a shared
        # machine cancel out within a pair. Shown beside the goal figure, not instead of it.
        pairwise = statistics.median(
            c.rps / r.rps for r, c in zip(results["raw"], results["consent"], strict=True)
        )
        print(f"{kind}: {raw.line()}")
        print(f"{kind}: {consent.line()}")
        print(
            f"{kind}: ratio consent/raw = {ratio:.3f} (rps medians; median of pairs {pairwise:.3f}); "
            f"p99 ratio {consent.p99_ms / raw.p99_ms:.2f}; "
            f"CPU overhead {consent.cpu_us_per_request - raw.cpu_us_per_request:+.0f} us/req"
        )
        errors = raw.errors + consent.errors
        print(
            goal_line(
                ratio >= RATIO_GOAL and errors == 0,
                f"{kind} consent/raw {ratio:.3f} (goal >= {RATIO_GOAL}), errors {errors} (goal 0)",
            )
        )

        started = time.monotonic()
        sealed = manage(env, "consent_seal").strip()
        took = time.monotonic() - started
        last_line = sealed.splitlines()[-1] if sealed else "nothing to seal"
        print(f"{kind}: consent_seal ({took:.1f} s): {last_line}")
        started = time.monotonic()
        try:
            verified = manage(env, "consent_verify").strip()
            ok = verified.endswith("The ledger verifies.")
        except RuntimeError as error:
            verified, ok = str(error), False
        print(f"{kind}: consent_verify ({time.monotonic() - started:.1f} s): {verified}")
        print(goal_line(ok, f"{kind} ledger {'verifies' if ok else 'DOES NOT VERIFY'}"))
        if kind == "sqlite":
            with sqlite3.connect(tmp / "bench.sqlite3") as connection:
                check = connection.execute("PRAGMA integrity_check").fetchone()[0]
            print(f"{kind}: PRAGMA integrity_check: {check}")
            ok = ok and check == "ok"
        return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=6, help="length of each measured run (default 6)")
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="measured runs per case (default 5; more runs outvote a noisy machine)",
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument(
        "--redis",
        default="",
        help="a Redis URL to run with the shared cache, as production does (default: none)",
    )
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    if unknown := set(kinds) - {"sqlite", "postgres"}:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    install_sigterm_as_interrupt()
    wrk_ensure()
    print(
        f"server: gunicorn -c config/gunicorn.py config.wsgi {' '.join(GUNICORN_OVERRIDES + SYNC_WORKERS)}; "
        f"load: wrk -t2 -c{args.connections}, {args.seconds:g} s per run after a {WARMUP_SECONDS} s warm-up, "
        f"{args.runs} runs per case, alternating raw/consent; medians reported"
    )
    all_verified = True
    try:
        for kind in kinds:
            if kind == "postgres" and not port_answers(PG_PORT):
                print(f"\n=== postgres ===\nSKIPPED: nothing answers on {HOST}:{PG_PORT}.")
                continue
            all_verified &= bench_database(
                kind, seconds=args.seconds, runs=args.runs, connections=args.connections, redis_url=args.redis
            )
    except KeyboardInterrupt:
        print("\ninterrupted: every process started here has been stopped.")
        return 130
    return 0 if all_verified else 1


if __name__ == "__main__":
    sys.exit(main())
