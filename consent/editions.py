"""Published editions: the one pattern behind policy versions, banner versions and
sub-processor list versions.

A working copy is edited freely; publishing freezes its content as edition `number`
(max + 1 within its parent), with the SHA-256 of its canonical content, when it was
published, when it takes effect, who published it and a note. Editions never change
(see consent/immutability.py). The edition in force at time T is the newest one with
`effective_at <= T`; a later one is "upcoming". Effective dates never go backwards
from one edition to the next, so "newest" by number and by date always agree.
"""

import hashlib
import json
import unicodedata
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from consent.models.editions import Edition

E = TypeVar("E", bound="Edition")


def canonical_json(value: Any) -> bytes:
    r"""The JSON Canonicalization Scheme (RFC 8785, JCS) of `value`, UTF-8: the hash input of
    editions and of ledger leaves.

    No whitespace; object members sorted by the UTF-16 code units of their names; strings
    escaped as ECMAScript's JSON.stringify does (only '"', '\\' and control characters:
    \b \t \n \f \r, others as lowercase \u00XX; everything else as UTF-8); integers in
    decimal; true, false, null. Our hashed data holds no non-integer numbers, which is the
    one part of JCS not implemented here (a float would be written as Python's repr). Values
    JSON cannot hold (datetimes) are written as their str().
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    if text.isascii():
        # ASCII-only keys: code-point order (Python's sort) is UTF-16 order. The hot path.
        return text.encode()
    return json.dumps(_utf16_ordered(value), separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _utf16_ordered(value: Any) -> Any:
    """`value` with every object's members in UTF-16 code-unit order (JCS, RFC 8785 3.2.3),
    which differs from code-point order for names with characters beyond U+FFFF."""
    if isinstance(value, dict):
        return {
            key: _utf16_ordered(value[key])
            for key in sorted(value, key=lambda name: str(name).encode("utf-16-be"))
        }
    if isinstance(value, list | tuple):
        return [_utf16_ordered(item) for item in value]
    return value


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_normalise(text: str) -> str:
    """The form of a text that is hashed and compared: NFC, LF line ends, no trailing spaces.

    Two texts that differ only in invisible ways hash the same, so publishing a
    "change" that changes nothing a reader can see is refused as unchanged.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip() + "\n"


def edition_in_force(editions: QuerySet[E], at: datetime) -> E | None:
    """The newest edition of `editions` (one parent's) that has taken effect at `at`."""
    return editions.filter(effective_at__lte=at).order_by("-number").first()


def editions_upcoming(editions: QuerySet[E], at: datetime) -> QuerySet[E]:
    """Published editions not yet in effect at `at`, soonest first."""
    return editions.filter(effective_at__gt=at).order_by("number")


def edition_next_fields(
    *,
    editions: QuerySet[E],
    content_sha256: str,
    published_at: datetime,
    effective_at: datetime,
) -> int:
    """Check the publishing rules common to every edition and return the next number.

    Call it inside the publishing transaction after locking the parent row, so two
    publishers cannot take the same number. Only a first edition may take effect before it
    is published: that records a document the site already had before it came to us.
    """
    latest = editions.order_by("-number").first()
    if latest is not None:
        if latest.content_sha256 == content_sha256:
            raise ValidationError(
                f"Nothing changed since edition {latest.number}: there is nothing to publish."
            )
        if effective_at < latest.effective_at:
            raise ValidationError(
                {
                    "effective_at": (
                        f"Edition {latest.number} takes effect on {latest.effective_at:%Y-%m-%d %H:%M} UTC; "
                        "a later edition cannot take effect before it."
                    )
                }
            )
    if latest is not None and effective_at < published_at.replace(microsecond=0):
        raise ValidationError({"effective_at": "An edition cannot take effect before it is published."})
    return (latest.number if latest is not None else 0) + 1


def edition_publish(
    *,
    editions: QuerySet[E],
    content_sha256: str,
    published_at: datetime,
    effective_at: datetime,
    published_by: Any,
    change_note: str = "",
    **fields: Any,
) -> E:
    """Number and create the next edition of `editions` (one parent's), after the common rules.

    `fields` are the concrete model's own: its parent and its frozen content. Call it inside
    the publishing transaction, after locking the parent row.
    """
    number = edition_next_fields(
        editions=editions, content_sha256=content_sha256, published_at=published_at, effective_at=effective_at
    )
    return editions.model.objects.create(
        number=number,
        content_sha256=content_sha256,
        published_at=published_at,
        effective_at=effective_at,
        published_by=published_by if published_by is not None and published_by.is_authenticated else None,
        change_note=change_note.strip(),
        **fields,
    )
