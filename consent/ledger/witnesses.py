"""Witnesses: the cosignatures of configured witness keys on a site's checkpoints (service and reads).

A witness (the `consentry-witness` package in witness/, or any C2SP tlog-witness) checks that
the log only grew since the checkpoint it saw last, then cosigns the new one. Consentry keeps
each valid cosignature by a key in settings.LEDGER_WITNESS_KEYS and appends it as a signature
line to the checkpoint's note wherever the note is served, so a reader holding the witness's
key can require it.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.audit.services import audit_record
from consent.ledger.cosign import CosignatureVerifier, cosignature_verify, cosigner_from_vkey
from consent.ledger.note import NoteError, note_split
from consent.models import Checkpoint, Cosignature, Site

# A cosignature dated later than this ahead of our clock is refused (C2SP allows refusing any
# future time; a little slack absorbs clock skew between the witness and us).
FUTURE_SLACK = timedelta(minutes=5)


def witness_verifiers() -> list[CosignatureVerifier]:
    """The witness keys this deployment trusts (settings.LEDGER_WITNESS_KEYS)."""
    return list(_witness_verifiers(tuple(settings.LEDGER_WITNESS_KEYS)))


def witness_keys_problems() -> list[str]:
    """What is wrong with settings.LEDGER_WITNESS_KEYS (the system check consentry.E024 says it)."""
    problems = []
    for vkey in settings.LEDGER_WITNESS_KEYS:
        try:
            cosigner_from_vkey(vkey)
        except NoteError as error:
            problems.append(str(error))
    return problems


@cache
def _witness_verifiers(vkeys: tuple[str, ...]) -> tuple[CosignatureVerifier, ...]:
    # A malformed key trusts no one (the system check names it); it never makes a request fail.
    verifiers = []
    for vkey in vkeys:
        try:
            verifiers.append(cosigner_from_vkey(vkey))
        except NoteError:
            continue
    return tuple(verifiers)


def checkpoint_note_cosigned(
    checkpoint: Checkpoint, cosignatures: Iterable[Cosignature] | None = None
) -> str:
    """The checkpoint's signed note with every stored cosignature appended as a signature line.

    Empty for a checkpoint from before the C2SP format (it has no note to add lines to).
    Pass the cosignatures when they were prefetched; otherwise they are read.
    """
    if not checkpoint.note:
        return ""
    lines = cosignatures if cosignatures is not None else checkpoint.cosignatures.all()
    return checkpoint.note + "".join(cosignature.signature_line for cosignature in lines)


def cosignature_add(
    *, site: Site, tree_size: int, signature_line: str, by: AbstractUser | None, ip: str | None
) -> tuple[Cosignature, bool]:
    """Store a witness's cosignature of the site's checkpoint at `tree_size`; (row, created).

    Refused (ValidationError, nothing written) unless the checkpoint exists in the C2SP format
    and the line is a valid cosignature/v1 over its body by a configured witness key, dated no
    later than a few minutes ahead. A witness's second cosignature of the same checkpoint
    returns the first one unchanged: one per witness per checkpoint is what readers need.
    """
    checkpoint = Checkpoint.objects.filter(site=site, tree_size=tree_size).first()
    if checkpoint is None or not checkpoint.note:
        raise ValidationError(_("No checkpoint of this size in the C2SP format to cosign."), code="not_found")
    body, _log_signatures = note_split(checkpoint.note.encode())
    try:
        verifier, timestamp = cosignature_verify(signature_line, body, witness_verifiers())
    except NoteError as error:
        raise ValidationError(str(error), code="invalid") from error
    witnessed_at = datetime.fromtimestamp(timestamp, tz=UTC)
    if witnessed_at > timezone.now() + FUTURE_SLACK:
        raise ValidationError(_("The cosignature is dated in the future."), code="invalid")
    existing = Cosignature.objects.filter(checkpoint=checkpoint, witness_name=verifier.name).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            cosignature = Cosignature.objects.create(
                checkpoint=checkpoint,
                witness_name=verifier.name,
                witnessed_at=witnessed_at,
                created_at=timezone.now(),
                signature_line=signature_line.rstrip("\n") + "\n",
            )
            audit_record(
                action="ledger.cosignature_add",
                target=f"checkpoint {site.key}/{tree_size}",
                site=site,
                actor=by,
                actor_ip=ip,
                data={"witness": verifier.name, "witnessed_at": witnessed_at.isoformat()},
            )
    except IntegrityError:
        # The same witness, at the same moment, on another connection: its row stands.
        return Cosignature.objects.get(checkpoint=checkpoint, witness_name=verifier.name), False
    return cosignature, True
