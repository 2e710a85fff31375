"""Fill one site's ledger with N records spread over past months, through the write path's INSERT.

Each record is built as consent.ledger.services.consent_record_create builds it (a fresh
salt, the personal commitment, the leaf hash from consent.ledger.crypto) and inserted with
the statement that function compiles (`_ledger_insert_statement`), its values converted the
same way, sent with psycopg's executemany (pipelined single-row INSERTs, one transaction per
batch). Only created_at is chosen here: evenly spread, ascending, from `--days` ago to an
hour ago, as a live site would have written them. Months get their partitions first, so no
row lands in the DEFAULT partition.
"""

import random
import secrets
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from consent.ledger.crypto import leaf_hash_hex, personal_commitment, salt_new
from consent.ledger.partitions import LEDGER_TABLE, month_after, partition_name
from consent.ledger.services import _ledger_insert_statement
from consent.models import Site

GRANTS = [(["necessary", "analytics", "marketing"], []), (["necessary"], ["analytics", "marketing"])]
GRANTS += [(["necessary", "analytics"], ["marketing"])]


class Command(BaseCommand):
    help = "Insert N ledger records for one site, spread over past months, with the write path's INSERT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True)
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--part", type=int, default=0, help="This process's share (0-based).")
        parser.add_argument("--parts", type=int, default=1, help="How many processes share the range.")
        parser.add_argument("--batch", type=int, default=1000)

    def handle(
        self, *args: Any, site: str, count: int, days: int, part: int, parts: int, batch: int, **options: Any
    ) -> None:
        one = Site.objects.get(key=site)
        end = timezone.now().replace(microsecond=0) - timedelta(hours=1)
        start = end - timedelta(days=days)
        month = start.date().replace(day=1)
        # Parts start together: one at a time creates the past months' partitions, as the
        # owner role (the bench connects as it). consentry_ledger_partitions_ensure() makes only
        # this month's and later ones, from the database's clock.
        with transaction.atomic(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            if cursor.db.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(4242)")
                while month <= end.date():
                    name = partition_name(month)
                    cursor.execute("SELECT to_regclass(%s)", [name])
                    if cursor.fetchone()[0] is None:
                        cursor.execute(
                            f'CREATE TABLE "{name}" PARTITION OF {LEDGER_TABLE} FOR VALUES FROM (%s) TO (%s)',
                            [f"{month.isoformat()} 00:00+00", f"{month_after(month).isoformat()} 00:00+00"],
                        )
                    month = month_after(month)
        step = (end - start) / count
        database = connections[DEFAULT_DB_ALIAS]
        sql, fields, passed_as_is = _ledger_insert_statement(database.vendor)
        rng = random.Random(part)
        # About two decisions per visitor: current consent finds visitors with a history.
        visitors = max(count // 2, 1)
        first, last = count * part // parts, count * (part + 1) // parts
        started = time.monotonic()
        convert = [(field.attname, field.attname not in passed_as_is and field) for field in fields]
        constant: dict[str, dict[tuple[str, str], Any]] = {
            "purposes_granted": {},
            "purposes_denied": {},
            "versions": {},
        }
        for batch_start in range(first, last, batch):
            rows: list[list[Any]] = []
            numbers = range(batch_start, min(batch_start + batch, last))
            for number in numbers:
                granted, denied = rng.choice(GRANTS)
                salt = salt_new()
                visitor_id = f"v{rng.randrange(visitors):012d}{site[:8]}"
                ip_address = f"198.51.{rng.randrange(256)}.0"
                agent = "Mozilla/5.0 (X11; Linux x86_64) bench"
                # The attributes consent_record_create sets on its ConsentRecord; leaf_hash_hex
                # and the field conversions read only these.
                record = SimpleNamespace(
                    site_id=one.pk,
                    receipt_id=secrets.token_urlsafe(16),
                    created_at=start + step * number + timedelta(microseconds=rng.randrange(1000)),
                    action="accept_all" if len(granted) == 3 else "custom",
                    ui_layer="banner",
                    purposes_granted=granted,
                    purposes_denied=denied,
                    jurisdiction="EU",
                    rules_version="2025.1",
                    rules_sha256="0" * 64,
                    resolved_by="header",
                    country="DE",
                    region="",
                    language="en",
                    versions={"banner": {"number": 1, "sha256": "1" * 64}},
                    gpc=False,
                    dnt=False,
                    page_url="https://shop.example/",
                    idempotency_key=None,
                    visitor_id=visitor_id,
                    ip_address=ip_address,
                    user_agent=agent,
                    personal_salt=salt,
                    # A banner's record: no account behind it, no collection method (migration 0017).
                    subject_hmac=None,
                    collection_method=None,
                    personal_sha256=personal_commitment(
                        salt=salt, visitor_id=visitor_id, ip_address=ip_address, user_agent=agent
                    ),
                )
                record.leaf_sha256 = leaf_hash_hex(record, one.key)  # type: ignore[arg-type]
                row = []
                for attname, field in convert:
                    value = getattr(record, attname)
                    if field and attname in constant:
                        # The same few lists and dicts every time: converted once, sent as converted.
                        key = (attname, repr(value))
                        if key not in constant[attname]:
                            constant[attname][key] = field.get_db_prep_save(value, database)
                        value = constant[attname][key]
                    elif field:
                        value = field.get_db_prep_save(value, database)
                    row.append(value)
                rows.append(row)
            with transaction.atomic(), database.cursor() as cursor:
                cursor.executemany(sql, rows)
            done = numbers.stop - first
            if done % (batch * 50) == 0:
                rate = done / (time.monotonic() - started)
                self.stderr.write(f"part {part}: {done}/{last - first} records, {rate:.0f}/s")
        self.stdout.write(f"{last - first} records in {time.monotonic() - started:.1f} s")
