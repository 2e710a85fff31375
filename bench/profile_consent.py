"""Where the consent POST spends its time: in-process, Django's test client, no server, no wrk.

    .venv/bin/python bench/profile_consent.py [--database sqlite|postgres] [--rows 3000] [--requests 1000]

On a fresh database (migrated, one benchmark site): `--rows` consents are posted first, so
the ledger has a realistic size, then `--requests` raw inserts and `--requests` consents are
timed, each SQL statement is timed (with its query plan), and one cProfile pass over the
consent POST prints the top functions. Same bodies and headers as consent_write.py.
"""

import argparse
import collections
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import HOST, manage, postgres_database, server_env  # noqa: E402


@contextmanager
def database_url(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="consentry-profile-") as tmp:
            yield f"sqlite:///{tmp}/profile.sqlite3"
    else:
        with postgres_database() as url:
            yield url


def poster(site: dict[str, Any]) -> Callable[[str], None]:
    from django.test import Client

    client = Client(HTTP_ORIGIN=site["origin"], HTTP_CF_IPCOUNTRY="DE", HTTP_USER_AGENT="Mozilla/5.0")
    paths = {
        "raw": f"/api/public/bench/sites/{site['site_key']}/raw-consents",
        "consent": f"/api/public/v1/sites/{site['site_key']}/consents",
    }
    counter = iter(range(10**12))

    def post(case: str) -> None:
        number = next(counter)
        body = {
            "visitor_id": f"v{number:020d}",
            "action": "custom",
            "granted": ["necessary", "analytics"],
            "denied": ["marketing"],
            "versions": {},
            "language": "en",
            "ui_layer": "second_layer",
            "gpc": False,
            "dnt": False,
            "page_url": f"{site['origin']}/products/42?utm_source=news",
        }
        response = client.post(
            paths[case],
            json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"k{number:020d}",
        )
        if response.status_code != 201:
            raise RuntimeError(f"{case}: {response.status_code} {response.content[:300]!r}")

    return post


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=3000, help="consents posted before measuring")
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per case")
    parser.add_argument("--redis", default="", help="a Redis URL: profile with the shared cache")
    args = parser.parse_args()

    with database_url(args.database) as url:
        env = server_env(url, args.redis)
        env["ALLOWED_HOSTS"] = f"{HOST},testserver"
        manage(env, "migrate", "--noinput")
        site = json.loads(manage(env, "bench_site"))
        os.environ.update(env)
        import django

        django.setup()
        from django.db import connection

        post = poster(site)
        for _ in range(args.rows):
            post("consent")
        for _ in range(args.rows):
            post("raw")

        timings: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
        statements: dict[str, tuple[str, Any]] = {}

        def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                key = sql[:70]
                timings[key][0] += 1
                timings[key][1] += time.perf_counter() - started
                statements[key] = (sql, params)

        for case in ("raw", "consent", "raw", "consent"):
            timings.clear()
            with connection.execute_wrapper(timed):
                started = time.perf_counter()
                for _ in range(args.requests):
                    post(case)
                elapsed = time.perf_counter() - started
            print(f"\n{case}: {elapsed / args.requests * 1e6:.0f} us/request (wall, in-process)")
            for key, (count, seconds) in sorted(timings.items(), key=lambda item: -item[1][1]):
                print(f"  {count:6d} x {seconds / count * 1e6:7.0f} us  {key}")

        print("\nQuery plans of the consent POST's reads:")
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
        for sql, params in statements.values():
            if sql.lstrip().upper().startswith("SELECT"):
                print(f"\n{sql % tuple(repr(p) for p in params) if params else sql}")
                with connection.cursor() as cursor:
                    cursor.execute(explain + sql, params)
                    for row in cursor.fetchall():
                        print("   ", row[-1] if connection.vendor == "sqlite" else row[0])

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            post("consent")
        profile.disable()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(30)
            print(f"\ncProfile of {args.requests} consent POSTs, by {order}:")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:8000])
        connection.close()


if __name__ == "__main__":
    main()
