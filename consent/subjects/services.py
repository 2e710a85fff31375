"""Writes about a site's accounts (subjects): a decision its systems recorded, links to banner
visitors, and erasure. Each writes its audit row in its transaction; no audit row holds a
subject or a visitor id, only hashes that can confirm one (as redaction's do)."""

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils.translation import gettext as _

from consent.audit.services import audit_record
from consent.editions import sha256_hex
from consent.ledger.retention import consent_receipts_redact
from consent.ledger.services import consent_record_create
from consent.models import ConsentRecord, Site, SubjectLink
from consent.rules.geo import jurisdiction_stated
from consent.sites.selectors import SiteSnapshot
from consent.subjects.selectors import subject_link_count, subject_link_get, subject_records, subject_ref
from consent.subjects.validation import SubjectConsentInput

# How many browsers one account may be linked to: enough for a person's devices over years,
# not a way to tie a site's whole audience to one account.
LINKS_PER_SUBJECT_MAX = 100


class LinkLimitReached(Exception):
    """The subject already has LINKS_PER_SUBJECT_MAX links: nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            _("This account is already linked to %(limit)s browsers; remove a link first.")
            % {"limit": LINKS_PER_SUBJECT_MAX}
        )


def _hashes(subject_hmac: str, visitor_id: str | None = None) -> dict[str, str]:
    data = {"subject_sha256": sha256_hex(subject_hmac.encode())}
    if visitor_id is not None:
        data["visitor_sha256"] = sha256_hex(visitor_id.encode())
    return data


def _target(reference: str) -> str:
    """How an audit row names an account: the start of the hash of its HMAC, never the id."""
    return f"subject {sha256_hex(reference.encode())[:12]}"


@transaction.atomic
def subject_consent_record(
    *,
    snapshot: SiteSnapshot,
    data: SubjectConsentInput,
    by: AbstractUser | None,
    ip: str | None = None,
    token: str = "",
) -> ConsentRecord:
    """Append a decision the site's systems collected to the site's ledger (the banner's table,
    the same INSERT), for the account `data.subject`; with a visitor id, also link that browser.

    The record keeps no address or browser of the request (it comes from the site's server,
    not the person's device), and the account only as its HMAC, under the personal commitment.
    """
    site = snapshot.site
    reference = subject_ref(site=site, subject=data.subject)
    resolution = jurisdiction_stated(
        code=data.jurisdiction, default_code=site.default_jurisdiction, overrides=site.jurisdiction_overrides
    )
    record = consent_record_create(
        snapshot=snapshot,
        data=data.consent,
        resolution=resolution,
        ip="",
        user_agent="",
        subject_hmac=reference,
        collection_method=data.collection_method,
    )
    linked = False
    if data.consent.visitor_id is not None:
        _, linked = _link(site, reference, data.consent.visitor_id, by, ip, token)
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="consent.record_backend",
        target=record.receipt_id,
        data={
            **_hashes(reference),
            "action": record.action,
            "collection_method": data.collection_method,
            "linked_visitor": linked,
        },
    )
    return record


@transaction.atomic
def subject_link_create(
    *,
    site: Site,
    subject: str,
    visitor_id: str,
    by: AbstractUser | None,
    ip: str | None = None,
    token: str = "",
) -> tuple[SubjectLink, bool]:
    """Link a banner visitor to the account (once); return the link and whether it is new.
    LinkLimitReached past LINKS_PER_SUBJECT_MAX."""
    return _link(site, subject_ref(site=site, subject=subject), visitor_id, by, ip, token)


def _link(
    site: Site, reference: str, visitor_id: str, by: AbstractUser | None, ip: str | None, token: str
) -> tuple[SubjectLink, bool]:
    # The site row is locked so two links made at once cannot both pass the cap.
    Site.objects.select_for_update().filter(pk=site.pk).values_list("pk").get()
    existing = subject_link_get(site=site, subject_hmac=reference, visitor_id=visitor_id)
    if existing is not None:
        return existing, False
    if subject_link_count(site=site, subject_hmac=reference) >= LINKS_PER_SUBJECT_MAX:
        raise LinkLimitReached()
    link = SubjectLink.objects.create(
        site=site,
        subject_hmac=reference,
        visitor_id=visitor_id,
        created_by=by if by is not None and by.is_authenticated else None,
        token_prefix=token,
    )
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="subject.link",
        target=_target(reference),
        data=_hashes(reference, visitor_id),
    )
    return link, True


@transaction.atomic
def subject_link_remove(*, link: SubjectLink, by: AbstractUser | None, ip: str | None = None) -> None:
    """Unlink the visitor: from now on its decisions no longer count in the account's state.
    The link is locked first: of two removals at once, the second finds it gone (a 404)."""
    link = SubjectLink.objects.select_for_update().get(pk=link.pk)
    audit_record(
        site=link.site,
        actor=by,
        actor_ip=ip,
        action="subject.unlink",
        target=_target(link.subject_hmac),
        data=_hashes(link.subject_hmac, link.visitor_id),
    )
    link.delete()


@transaction.atomic
def subject_redact(
    *, site: Site, subject: str, by: AbstractUser | None, ip: str | None = None, reason: str = ""
) -> int:
    """Erase an account from the site's ledger: the personal data of the records the site
    recorded for it (their subject HMAC included; proofs stay valid) and its links to
    visitors. The linked visitors' own records are theirs: redact them by visitor id.
    Returns how many records changed."""
    reference = subject_ref(site=site, subject=subject)
    receipts = list(
        subject_records(site=site, subject_hmac=reference)
        .filter(personal_salt__isnull=False)
        .values_list("receipt_id", flat=True)
    )
    count = (
        consent_receipts_redact(site=site, receipt_ids=receipts, by=by, ip=ip, reason=reason)
        if receipts
        else 0
    )
    links = SubjectLink.objects.filter(site=site, subject_hmac=reference)
    removed = links.count()
    links.delete()
    audit_record(
        site=site,
        actor=by,
        actor_ip=ip,
        action="subject.redact",
        target=_target(reference),
        data={**_hashes(reference), "records": count, "links": removed, "reason": reason},
    )
    return count
