"""What an export contains: the records in a date range, and their rendering as CSV or JSON Lines."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from consent.models import ConsentRecord, Site

EXPORT_FIELDS = (
    "receipt_id", "created_at", "action", "ui_layer", "purposes_granted", "purposes_denied", "jurisdiction",
    "rules_version", "resolved_by", "country", "region", "language", "versions", "gpc", "dnt", "page_url",
    "visitor_id", "ip_address", "user_agent", "leaf_sha256",
)  # fmt: skip


def consent_export_queryset(*, site: Site, date_from: date, date_to: date) -> QuerySet[ConsentRecord]:
    """The site's records made on date_from..date_to (inclusive, UTC days), oldest first."""
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return ConsentRecord.objects.filter(site=site, created_at__gte=start, created_at__lt=end).order_by(
        "created_at", "id"
    )


def consent_export_lines(*, records: QuerySet[ConsentRecord], fmt: str) -> Iterator[str]:
    """The export as text lines (CSV with a header, or one JSON object per line), in constant memory."""
    rows = records.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
    if fmt == "jsonl":
        for row in rows:
            item = dict(zip(EXPORT_FIELDS, row, strict=True))
            item["created_at"] = item["created_at"].isoformat()
            yield json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(EXPORT_FIELDS)
    for row in rows:
        yield line(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, list | dict)
            else value.isoformat() if isinstance(value, datetime) else value
            for value in row
        )  # fmt: skip
