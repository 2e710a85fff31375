"""What an export contains: the records in a date range, and their rendering as CSV or JSON Lines."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from consent.models import ConsentRecord, Site

# The columns read from the ledger; `source` is computed from `ui_layer` ("backend": recorded by
# the site's own systems through the management API, else "banner"). `subject_ref` is the HMAC the
# ledger keeps of the site's account id: never the id itself; equal references are the same
# account, so a DPO can group an account's records (redaction clears it like the visitor id).
LEDGER_FIELDS = (
    "receipt_id", "created_at", "action", "ui_layer", "purposes_granted", "purposes_denied", "jurisdiction",
    "rules_version", "resolved_by", "country", "region", "language", "versions", "gpc", "dnt", "page_url",
    "visitor_id", "ip_address", "user_agent", "leaf_sha256", "collection_method", "subject_hmac",
)  # fmt: skip
EXPORT_FIELDS = (*LEDGER_FIELDS[:-1], "subject_ref", "source")
_UI_LAYER = LEDGER_FIELDS.index("ui_layer")


def consent_export_queryset(*, site: Site, date_from: date, date_to: date) -> QuerySet[ConsentRecord]:
    """The site's records made on date_from..date_to (inclusive, UTC days), oldest first."""
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return ConsentRecord.objects.filter(site=site, created_at__gte=start, created_at__lt=end).order_by(
        "created_at", "id"
    )


def consent_export_lines(*, records: QuerySet[ConsentRecord], fmt: str) -> Iterator[str]:
    """The export as text lines (CSV with a header, or one JSON object per line), in constant memory."""
    rows = (
        (*row, ConsentRecord.source_of(row[_UI_LAYER]))
        for row in records.values_list(*LEDGER_FIELDS).iterator(chunk_size=2000)
    )
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
