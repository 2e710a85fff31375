"""The DPO's request queue (admin changelist) with 100,000 requests in the database.

    .venv/bin/python bench/requests_queue.py [--requests 100000] [--times 40] [--databases sqlite,postgres]

For each database: a fresh one (SQLite in a temporary directory; PostgreSQL: DATABASE_URL when
set, else a fresh database dropped afterwards), migrated, filled with `--requests` data-subject
requests by bulk_create (40 sites, the largest holding a third of them; every type and status,
most of them answered or closed in the past two years, the open ones due from a month ago to six
weeks ahead), then the queue is fetched `--times` times each way as a logged-in DPO of three sites
(one of them the largest) through Django's test client, in process (no server, no network):
the default page, filtered by type, by jurisdiction with every state, and page 50. The baseline,
measured in the same run the same way, is the admin's index page for the same user.

Goal: the queue's p95 under 200 ms in every case. Prints p50/p95 and the ratio to the baseline.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import goal_line, postgres_database, server_env  # noqa: E402

GOAL_P95_MS = 200.0
SITES = 40
QUEUE = "/admin/consent/datasubjectrequest/"
CASES = {
    "baseline": "/admin/",
    "queue": QUEUE,
    "by type": QUEUE + "?type=deletion",
    "by law": QUEUE + "?state=all&jurisdiction=US-CA",
    "page 50": QUEUE + "?state=all&p=50",
}


def fill(count: int) -> str:
    """Sites, a DPO and `count` requests; returns the DPO's username."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import DataSubjectRequest, RequestStatus, RequestType, Role, SiteMembership
    from consent.models.requests import request_public_id_new
    from consent.sites.services import site_create

    rng = random.Random(15)
    sites = [
        site_create(
            name=f"Bench shop {number}", languages=["en"], origins=[f"https://shop{number}.example"], by=None
        )
        for number in range(SITES)
    ]
    user = get_user_model().objects.create_user("bench-dpo", "dpo@bench.example", "x", is_staff=True)
    for site in (sites[0], sites[1], sites[2]):
        SiteMembership.objects.create(site=site, user=user, role=Role.DPO)
    weights = [SITES] + [1] * (SITES - 1)  # site 0: about a third of everything (40 / 79)
    laws = ["EU", "EU-FR", "US-CA", "RU", "KZ", "US"]
    types = list(RequestType.values)
    open_statuses = [
        RequestStatus.AWAITING_VERIFICATION,
        RequestStatus.VERIFIED,
        RequestStatus.ACKNOWLEDGED,
        RequestStatus.INFO_REQUESTED,
        RequestStatus.EXTENDED,
    ]
    final_statuses = [RequestStatus.FULFILLED, RequestStatus.REFUSED, RequestStatus.CLOSED]
    now = timezone.now()
    batch: list[DataSubjectRequest] = []
    for number in range(count):
        is_open = rng.random() < 0.12
        filed = now - (
            timedelta(days=rng.uniform(0, 75)) if is_open else timedelta(days=rng.uniform(30, 730))
        )
        due = (filed + timedelta(days=rng.choice([15, 30, 45]))).date()
        status = rng.choice(open_statuses) if is_open else rng.choice(final_statuses)
        batch.append(
            DataSubjectRequest(
                site=rng.choices(sites, weights)[0],
                public_id=request_public_id_new(),
                type=rng.choice(types),
                status=status,
                email=f"person{number}@example.com",
                language="en",
                jurisdiction=rng.choice(laws),
                rules_version="2025.1",
                rules_sha256="0" * 64,
                resolved_by="header",
                filed_at=filed,
                verified_at=None if status == RequestStatus.AWAITING_VERIFICATION else filed,
                due_at=due,
                closed_at=None if is_open else filed + timedelta(days=rng.uniform(1, 40)),
            )
        )
        if len(batch) == 5000:
            DataSubjectRequest.objects.bulk_create(batch)
            batch = []
    DataSubjectRequest.objects.bulk_create(batch)
    return user.get_username()


def measure(username: str, times: int) -> dict[str, list[float]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    timings: dict[str, list[float]] = {case: [] for case in CASES}
    for case, path in CASES.items():  # warm-up: templates, translations, the database's cache
        for _ in range(3):
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{case}: GET {path} answered {response.status_code}")
    for _ in range(times):
        for case, path in CASES.items():  # interleaved, so a slow moment hits every case alike
            started = time.perf_counter()
            response = client.get(path)
            timings[case].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (case, response.status_code)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def inner(count: int, times: int) -> None:
    """One database's run, in its own process (the settings are read once per process)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    # No collectstatic for a benchmark: the admin's pages name their files without the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    username = fill(count)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"{connection.vendor}: {count} requests written in {time.perf_counter() - started:.1f} s", flush=True
    )
    timings = measure(username, times)
    base = statistics.median(timings["baseline"])
    met = True
    for case, values in timings.items():
        median, high = statistics.median(values), p95(values)
        ratio = "" if case == "baseline" else f"  ratio p50 {median / base:5.2f}"
        print(f"  {case:<9} p50 {median:7.1f} ms  p95 {high:7.1f} ms{ratio}")
        if case != "baseline":
            met = met and high < GOAL_P95_MS
    print(
        goal_line(
            met, f"{connection.vendor}: every queue case p95 < {GOAL_P95_MS:.0f} ms with {count} requests"
        )
    )


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="consentry-queue-") as tmp:
            yield f"sqlite:///{tmp}/queue.sqlite3"
    elif os.environ.get("DATABASE_URL", "").startswith("postgres"):
        yield os.environ["DATABASE_URL"]
    else:
        with postgres_database() as url:
            yield url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--times", type=int, default=40)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.requests, args.times)
        return
    for kind in args.databases.split(","):
        with database(kind) as url:
            env = server_env(url)
            env["ALLOWED_HOSTS"] = "testserver"
            command = [
                sys.executable,
                __file__,
                "--inner",
                f"--requests={args.requests}",
                f"--times={args.times}",
            ]
            subprocess.run(command, cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
