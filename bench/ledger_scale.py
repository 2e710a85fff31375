"""The ledger at scale on PostgreSQL: seal, verify and the proof reads at 1M and 10M records.

    .venv/bin/python bench/ledger_scale.py --sizes 1000000,10000000 [--keep] [--reuse]

Per size, a database of its own (bench_scale_1m, bench_scale_10m, ...; --reuse takes one already filled by
an earlier --keep run), `migrate`, one site (bench_site), then:

1. fill: N records spread over the past 12 months, made and inserted as the write path
   makes them (bench_ledger_fill: consent_record_create's hashing, its compiled INSERT),
   in two processes;
2. seal: `consent_seal` once over everything; records/s of wall time and per CPU-second
   of the sealer process (the machine is shared: CPU time is the figure that travels);
   then the periodic job's hourly round with nothing new (`ledger_seal` with the whole
   look-back), timed inside one process;
3. verify: `consent_verify` in a child process: wall time, CPU time and its peak RSS
   (resource.getrusage of the child); and `--month` of one month;
4. reads over HTTP against gunicorn (bench.harness.Server: config/gunicorn.py, 2 workers,
   the shared Redis cache at db 4 as production has it): GET receipt with proof, current
   consent and the checkpoints list (limit 100) for random existing receipts and visitors,
   one keep-alive connection, requests one after another; p50 and p99.

The table prints each figure per size and the growth from the first size to the last.
Results are kept as JSON in var/bench-ledger-scale-<size>.json, so sizes can be run at
different times and printed together (--table-only). A missed goal still exits 0 (this is
a measurement); a ledger that does not verify exits 1.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    HOST,
    PG_PORT,
    PYTHON,
    ROOT,
    Server,
    goal_line,
    install_sigterm_as_interrupt,
    manage,
    server_env,
)

REDIS_URL = "redis://127.0.0.1:6379/4"
RESULTS = ROOT / "var"
READ_REQUESTS = 2000


def database_name(size: int) -> str:
    # BENCH_DB_PREFIX: runs beside each other (several checkouts, one server) keep their own databases.
    prefix = os.environ.get("BENCH_DB_PREFIX", "bench_scale")
    return f"{prefix}_{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{prefix}_{size}"


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@{HOST}:{PG_PORT}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def query(url: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as connection:
        return connection.execute(sql).fetchall()


def child_run(env: dict[str, str], *args: str) -> dict[str, float | str]:
    """Run manage.py in a child of a fresh wrapper process: wall time, CPU time, peak RSS."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "started = time.monotonic()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall_s': time.monotonic() - started, 'cpu_s': usage.ru_utime + usage.ru_stime,"
        " 'max_rss_mb': usage.ru_maxrss / 1024, 'rc': done.returncode, 'out': done.stdout + done.stderr}))\n"
    )
    result = subprocess.run(
        [str(PYTHON), "-c", wrapper, str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def fill(env: dict[str, str], site_key: str, size: int) -> dict[str, float]:
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [str(PYTHON), "manage.py", "bench_ledger_fill", "--site", site_key, "--count", str(size)]
            + ["--part", str(part), "--parts", "2"],
            cwd=ROOT,
            env=env,
        )
        for part in range(2)
    ]
    for process in processes:
        if process.wait() != 0:
            raise RuntimeError("bench_ledger_fill failed")
    took = time.monotonic() - started
    return {"fill_s": took, "fill_rate": size / took}


IDLE_ROUND = """
import json, time
from consent.ledger.crypto import LATE_COMMIT_MARGIN
from consent.ledger.seal import ledger_seal
from consent.models import Site
site = Site.objects.get(key={key!r})
ledger_seal(site=site, look_back=LATE_COMMIT_MARGIN)
wall, cpu = time.monotonic(), time.process_time()
result = ledger_seal(site=site, look_back=LATE_COMMIT_MARGIN)
print(json.dumps({{"idle_round_ms": (time.monotonic() - wall) * 1000,
                   "idle_round_cpu_ms": (time.process_time() - cpu) * 1000, "sealed": result is not None}}))
"""


def reads(env: dict[str, str], url: str, site_key: str, tmp: Path, *, pin: bool = True) -> dict[str, float]:
    """p50/p99 of the three reads, one keep-alive connection, one request after another."""
    receipts = [
        row[0]
        for row in query(
            url, "SELECT receipt_id FROM consent_consentrecord TABLESAMPLE SYSTEM (1) LIMIT 20000"
        )
    ]
    visitors = [
        row[0]
        for row in query(
            url, "SELECT visitor_id FROM consent_consentrecord TABLESAMPLE SYSTEM (1) LIMIT 20000"
        )
    ]
    rng = random.Random(12)
    cases = {
        "receipt": [f"/api/public/v1/receipts/{rng.choice(receipts)}" for _ in range(READ_REQUESTS)],
        "current": [
            f"/api/public/v1/sites/{site_key}/consents/current?visitor_id={rng.choice(visitors)}"
            for _ in range(READ_REQUESTS)
        ],
        "checkpoints": [f"/api/public/v1/sites/{site_key}/checkpoints?limit=100"] * (READ_REQUESTS // 4),
    }
    figures: dict[str, float] = {}
    # With two or more CPUs the client (this process: the visitors' machines) runs on CPU 1 and
    # gunicorn on CPU 0, so the figures are the server's and not the client's wait for a core;
    # PostgreSQL is not pinned (in production it has a machine of its own).
    pinned = pin and (os.cpu_count() or 1) >= 2
    own_cpus = os.sched_getaffinity(0)
    if pinned:
        os.sched_setaffinity(0, {1})
    server = Server(
        {**env, "DATABASE_CONN_MAX_AGE": "600"}, tmp / "gunicorn.log", cpus=(0,) if pinned else ()
    )
    try:
        figures.update(_reads_measure(server, cases))
    finally:
        if pinned:
            os.sched_setaffinity(0, own_cpus)
    return figures


def _reads_measure(server: Server, cases: dict[str, list[str]]) -> dict[str, float]:
    figures: dict[str, float] = {}
    with server:
        for case, paths in cases.items():
            connection = http.client.HTTPConnection(HOST, server.port, timeout=30)
            for path in paths[:50]:  # warm-up: connections, caches, the workers' first imports
                connection.request("GET", path)
                connection.getresponse().read()
            times = []
            ticks = server.cpu_ticks()
            for path in paths:
                started = time.perf_counter()
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                times.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
            connection.close()
            # The server's own CPU per request: what the figure would be on an idle machine,
            # less PostgreSQL's share (wall times here include waiting for a shared core).
            cpu_s = (server.cpu_ticks() - ticks) / os.sysconf("SC_CLK_TCK")
            figures[f"{case}_cpu_ms"] = cpu_s / len(paths) * 1000
            times.sort()
            figures[f"{case}_p50_ms"] = statistics.median(times)
            figures[f"{case}_p99_ms"] = times[int(len(times) * 0.99) - 1]
    return figures


PLANS = {
    "sealer page, mid-log": (
        "SELECT id, created_at, leaf_sha256 FROM consent_consentrecord WHERE site_id = {site} "
        "AND (created_at, id) > ('{middle}', 0) AND created_at >= '{middle}' "
        "ORDER BY created_at, id LIMIT 2000"
    ),
    "already sealed? (a page's time range)": (
        "SELECT record_id FROM consent_merklenode WHERE site_id = {site} AND level = 0 "
        "AND record_created_at >= '{middle}' "
        "AND record_created_at <= '{middle}'::timestamptz + interval '1 hour'"
    ),
}


def plans(url: str) -> None:
    """The plans of the sealer's two queries in the middle of the log, as the sealer runs them."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as connection:
        site, middle = connection.execute(
            "SELECT site_id, created_at FROM consent_consentrecord ORDER BY created_at OFFSET "
            "(SELECT count(*) / 2 FROM consent_consentrecord) LIMIT 1"
        ).fetchone()
        connection.execute("SET enable_sort = off")
        connection.execute("SET enable_bitmapscan = off")
        for label, sql in PLANS.items():
            rows = connection.execute("EXPLAIN (ANALYZE) " + sql.format(site=site, middle=middle)).fetchall()
            lines = [row[0].strip() for row in rows]
            shown = [line for line in lines if "Index" in line or "Removed" in line or "Execution" in line]
            print(f"plan of {label}: " + " | ".join(shown[:6]), flush=True)


def bench_size(
    size: int,
    *,
    reuse: bool,
    keep: bool,
    skip_seal: bool = False,
    skip_verify: bool = False,
    pin: bool = True,
) -> dict[str, float]:
    name = database_name(size)
    url = f"postgres://postgres@{HOST}:{PG_PORT}/{name}"
    env = {**server_env(url, REDIS_URL), "CACHE_KEY_PREFIX": name}
    # The log's signing key lives as long as its database: a --reuse run reads checkpoints
    # signed by the run that filled it.
    key_file = RESULTS / f"bench-ledger-scale-{size}.key"
    if reuse and key_file.exists():
        env["LEDGER_SIGNING_KEY"] = key_file.read_text().strip()
    else:
        RESULTS.mkdir(exist_ok=True)
        key_file.write_text(env["LEDGER_SIGNING_KEY"])
        key_file.chmod(0o600)
    results: dict[str, float] = {"records": size}
    print(f"\n=== {size:,} records asked for: database {name} ===", flush=True)
    if not reuse:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_sql(f'CREATE DATABASE "{name}"')
    try:
        if not reuse:
            manage(env, "migrate", "--noinput")
            site_key = json.loads(manage(env, "bench_site"))["site_key"]
            results.update(fill(env, site_key, size))
            print(
                f"fill: {size:,} records in {results['fill_s']:.0f} s ({results['fill_rate']:.0f}/s)",
                flush=True,
            )
        site_key = query(url, "SELECT key FROM consent_site ORDER BY id LIMIT 1")[0][0]
        results["records"] = query(url, "SELECT count(*) FROM consent_consentrecord")[0][0]
        if not skip_seal:
            before = query(url, "SELECT coalesce(max(tree_size), 0) FROM consent_checkpoint")[0][0]
            seal = child_run(env, "consent_seal", "--site", site_key)
            if seal["rc"] != 0:
                raise RuntimeError(f"consent_seal failed: {seal['out']}")
            sealed = query(url, "SELECT coalesce(max(tree_size), 0) FROM consent_checkpoint")[0][0] - before
            if sealed:
                results["seal_records"] = sealed
                results["seal_wall_s"] = seal["wall_s"]
                results["seal_rate"] = sealed / seal["wall_s"]
                results["seal_rate_per_cpu"] = sealed / seal["cpu_s"]
            print(
                f"seal: {sealed:,} records, {seal['wall_s']:.1f} s wall, {seal['cpu_s']:.1f} s CPU",
                flush=True,
            )
            idle = json.loads(
                manage(env, "shell", "-c", IDLE_ROUND.format(key=site_key)).strip().splitlines()[-1]
            )
            results["idle_round_ms"] = idle["idle_round_ms"]
            results["idle_round_cpu_ms"] = idle["idle_round_cpu_ms"]
        ok = True
        if not skip_verify:
            verify = child_run(env, "consent_verify", "--site", site_key)
            ok = verify["rc"] == 0 and str(verify["out"]).rstrip().endswith("The ledger verifies.")
            print(f"verify: {str(verify['out']).strip().splitlines()[0]}", flush=True)
            results.update(
                verify_ok=ok,
                verify_wall_s=verify["wall_s"],
                verify_cpu_s=verify["cpu_s"],
                verify_rss_mb=verify["max_rss_mb"],
                verify_us_per_record=verify["cpu_s"] / results["records"] * 1e6,
            )
            month = query(
                url,
                "SELECT to_char(min(created_at) + interval '40 days', 'YYYY-MM') FROM consent_consentrecord",
            )
            one_month = child_run(env, "consent_verify", "--site", site_key, "--month", month[0][0])
            results.update(month_wall_s=one_month["wall_s"], month_rss_mb=one_month["max_rss_mb"])
            ok = ok and one_month["rc"] == 0
        with tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp:
            results.update(reads(env, url, site_key, Path(tmp), pin=pin))
        plans(url)
    finally:
        if not keep:
            admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / f"bench-ledger-scale-{size}.json"
    if reuse and saved.exists():  # a figure left out this time keeps its value from before
        results = {**json.loads(saved.read_text()), **results}
    saved.write_text(json.dumps(results, indent=1))
    return results


ROWS = [
    ("records", "records", "{:,.0f}"),
    ("fill_rate", "fill, records/s (wall, 2 processes)", "{:,.0f}"),
    ("seal_rate", "seal, records/s (wall)", "{:,.0f}"),
    ("seal_rate_per_cpu", "seal, records per CPU-second of the sealer", "{:,.0f}"),
    ("idle_round_ms", "hourly seal round, nothing new, ms", "{:,.1f}"),
    ("verify_wall_s", "consent_verify, s (wall)", "{:,.1f}"),
    ("verify_cpu_s", "consent_verify, s CPU", "{:,.1f}"),
    ("verify_us_per_record", "consent_verify, CPU us per record", "{:,.1f}"),
    ("verify_rss_mb", "consent_verify, peak RSS MB", "{:,.0f}"),
    ("month_wall_s", "consent_verify --month, s (wall)", "{:,.1f}"),
    ("month_rss_mb", "consent_verify --month, peak RSS MB", "{:,.0f}"),
    ("receipt_p50_ms", "GET receipt with proof p50 ms", "{:,.2f}"),
    ("receipt_p99_ms", "GET receipt with proof p99 ms", "{:,.2f}"),
    ("current_p50_ms", "GET current consent p50 ms", "{:,.2f}"),
    ("current_p99_ms", "GET current consent p99 ms", "{:,.2f}"),
    ("checkpoints_p50_ms", "GET checkpoints (100) p50 ms", "{:,.2f}"),
    ("checkpoints_p99_ms", "GET checkpoints (100) p99 ms", "{:,.2f}"),
    ("receipt_cpu_ms", "GET receipt, gunicorn CPU ms per request", "{:,.2f}"),
    ("current_cpu_ms", "GET current consent, gunicorn CPU ms per request", "{:,.2f}"),
    ("checkpoints_cpu_ms", "GET checkpoints, gunicorn CPU ms per request", "{:,.2f}"),
]


def table(results: list[dict[str, float]]) -> None:
    labels = [f"{int(result['records']):,}" for result in results]
    print(f"\n{'':<50}" + "".join(f"{label:>14}" for label in labels) + f"{'growth':>10}")
    for key, label, form in ROWS:
        values = [result.get(key) for result in results]
        cells = "".join(f"{form.format(value) if value is not None else '-':>14}" for value in values)
        growth = (
            f"{values[-1] / values[0]:>9.2f}x"
            if len(values) > 1 and values[0] and values[-1] is not None
            else f"{'':>10}"
        )
        print(f"{label:<50}{cells}{growth}")
    last = results[-1]
    print(goal_line(last.get("seal_rate_per_cpu", 0) >= 20000, "seal >= 20,000 records per CPU-second"))
    print(
        goal_line(
            last.get("receipt_p99_ms", 1e9) <= 5 and last.get("current_p99_ms", 1e9) <= 5,
            "receipt and current consent p99 <= 5 ms at the largest size",
        )
    )
    print(goal_line(last.get("checkpoints_p99_ms", 1e9) <= 50, "checkpoints list (100) p99 <= 50 ms"))
    if len(results) > 1:
        growth = last["verify_rss_mb"] / results[0]["verify_rss_mb"]
        print(goal_line(growth <= 1.25, f"verify peak memory flat (growth {growth:.2f}x)"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated record counts")
    parser.add_argument("--keep", action="store_true", help="keep the databases (bench_scale_1m, ...)")
    parser.add_argument("--reuse", action="store_true", help="use databases an earlier --keep run filled")
    parser.add_argument("--table-only", action="store_true", help="print the table of saved results")
    parser.add_argument("--skip-seal", action="store_true", help="with --reuse: the log is sealed already")
    parser.add_argument("--skip-verify", action="store_true", help="leave out consent_verify")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="reads: share every CPU (default: client on CPU 1, gunicorn on CPU 0)",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    install_sigterm_as_interrupt()
    results = []
    try:
        for size in sizes:
            saved = RESULTS / f"bench-ledger-scale-{size}.json"
            if args.table_only:
                results.append(json.loads(saved.read_text()))
            else:
                results.append(
                    bench_size(
                        size,
                        reuse=args.reuse,
                        keep=args.keep,
                        skip_seal=args.skip_seal,
                        skip_verify=args.skip_verify,
                        pin=not args.no_pin,
                    )
                )
    except KeyboardInterrupt:
        print("\ninterrupted: every process started here has been stopped.")
        return 130
    table(results)
    return 0 if all(result.get("verify_ok", True) for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
