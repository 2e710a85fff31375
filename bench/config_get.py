"""Banner config GET (200 and 304) against a bare JSON view of the same size, on SQLite.

    .venv/bin/python bench/config_get.py [--seconds 10] [--runs 3] [--path TEMPLATE]

The endpoint is GET /api/public/v1/sites/<site_key>/config?lang=en (cookies app). If no view
answers that URL yet, this says so and exits 0. Otherwise: a fresh database and site, one
gunicorn server, a first GET for the body size and the ETag, then wrk runs alternating
bare, config (200), config with If-None-Match (304), a warm-up before each; medians and
ratios to the bare view. Goals: 200 >= 0.90 and 304 >= 0.95 of the bare view, zero errors.
Every request carries `CF-IPCountry: DE` and the Origin of the site's registered origin.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    GUNICORN_OVERRIDES,
    PYTHON,
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

DEFAULT_PATH = "/api/public/v1/sites/{site_key}/config?lang=en"
GOALS = {"config_200": 0.90, "config_304": 0.95}
WARMUP_SECONDS = 2

# Run under bench.settings: does a view other than the JSON catch-all answer the path?
_RESOLVES = """
import sys, django
django.setup()
from django.urls import Resolver404, resolve
from edge.errors import api_not_found
try:
    match = resolve(sys.argv[1].split("?")[0])
except Resolver404:
    sys.exit(1)
sys.exit(1 if match.func is api_not_found else 0)
"""


def endpoint_exists(env: dict[str, str], path: str) -> bool:
    probe = path.format(site_key="bench-probe")
    result = subprocess.run([str(PYTHON), "-c", _RESOLVES, probe], cwd=ROOT, env=env, capture_output=True)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"could not load the URLconf:\n{result.stderr.decode()}")
    return result.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per case (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--path", default=DEFAULT_PATH, help=f"URL template (default {DEFAULT_PATH})")
    args = parser.parse_args()
    install_sigterm_as_interrupt()

    with tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = server_env(f"sqlite:///{tmp / 'bench.sqlite3'}")
        if not endpoint_exists(env, args.path):
            print(f"SKIPPED: no view answers {args.path} yet (only the /api/ JSON 404); nothing measured.")
            return 0
        wrk_ensure()
        try:
            return measure(args, env, tmp)
        except KeyboardInterrupt:
            print("\ninterrupted: every process started here has been stopped.")
            return 130


def measure(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> int:
    manage(env, "migrate", "--noinput")
    site = json.loads(manage(env, "bench_site"))
    config_path = args.path.format(site_key=site["site_key"])
    common = [f"Origin: {site['origin']}", "CF-IPCountry: DE"]
    print(
        f"server: gunicorn -c config/gunicorn.py config.wsgi {' '.join(GUNICORN_OVERRIDES)} "
        "(gthread), SQLite; "
        f"load: wrk -t2 -c{args.connections}, {args.seconds} s per run after a {WARMUP_SECONDS} s warm-up, "
        f"{args.runs} runs per case; medians reported"
    )
    with Server(env, tmp / "gunicorn.log") as server:
        request = urllib.request.Request(
            server.url + config_path, headers=dict(header.split(": ", 1) for header in common)
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body, etag = response.read(), response.headers.get("ETag")
        except urllib.error.HTTPError as error:
            print(f"NOT MEASURED: the first GET {config_path} answered {error.code}: {error.read()[:300]!r}")
            return 0
        if not etag:
            print(f"GOAL MISSED: {config_path} answered without an ETag; the 304 case cannot be measured.")
            return 0
        print(f"config: {len(body)} B body, ETag {etag}; bare view sized to match")
        cases = {
            "bare": (f"/api/public/bench/bare?bytes={len(body)}", [], "200"),
            "config_200": (config_path, [], "200"),
            "config_304": (config_path, [f"If-None-Match: {etag}"], "304"),
        }
        results: dict[str, list[Run]] = {case: [] for case in cases}
        for number in range(1, args.runs + 1):
            for case, (path, extra, expected) in cases.items():
                for seconds in (WARMUP_SECONDS, args.seconds):
                    run = wrk_run(
                        server=server,
                        case=case,
                        path=path,
                        script="get.lua",
                        script_args=(expected,),
                        headers=[*common, *extra],
                        seconds=seconds,
                        connections=args.connections,
                    )
                results[case].append(run)
                print(f"  run {number} {run.line()}", flush=True)
    summaries = {case: Summary.of(runs) for case, runs in results.items()}
    for summary in summaries.values():
        print(summary.line())
    bare = summaries["bare"]
    for case, goal in GOALS.items():
        summary = summaries[case]
        ratio = summary.rps / bare.rps
        errors = summary.errors + bare.errors
        print(
            goal_line(
                ratio >= goal and errors == 0,
                f"{case} / bare = {ratio:.3f} (goal >= {goal}), "
                f"p99 ratio {summary.p99_ms / bare.p99_ms:.2f}, "
                f"errors {errors} (goal 0)",
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
