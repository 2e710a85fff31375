"""Data-subject requests (access, deletion, opt-out, ...) and their append-only history.

A request pins the rules it was filed under (ruleset code, version and hash, as a consent record
does), so its deadlines never move when the rules table changes. Its status is the last event's
`to_status`, kept on the row for the queue; every change is also a `RequestEvent`.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.languages import LANGUAGE_CHOICES
from consent.models.immutable import ImmutableModel
from consent.models.sites import Site


def request_public_id_new() -> str:
    """The id in a request's status link: 128 random bits, URL-safe, unrelated to the row id."""
    return secrets.token_urlsafe(16)


# Where an authorised agent's permission document is kept (under MEDIA_ROOT; never served
# publicly: the admin streams it to the site's DPOs and owners).
AGENT_DOCUMENT_DIRECTORY = "request-documents"

# What a permission document may be, by its first bytes (never by the name or the browser's word).
AGENT_DOCUMENT_TYPES = {b"%PDF-": ".pdf", b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


# Where the requesters' reply attachments are kept (never served publicly, as the agents' documents).
REPLY_ATTACHMENT_DIRECTORY = "request-replies"


def reply_attachment_path(instance: "RequestEvent", filename: str) -> str:
    """A name that says nothing of the requester: the request's public id and random bits."""
    extension = filename[filename.rfind(".") :].lower() if "." in filename else ""
    if extension not in AGENT_DOCUMENT_TYPES.values():
        extension = ""
    return f"{REPLY_ATTACHMENT_DIRECTORY}/{instance.request.public_id}/{secrets.token_hex(8)}{extension}"


def agent_document_path(instance: "DataSubjectRequest", filename: str) -> str:
    """A name that says nothing of the requester: the request's public id and random bits."""
    extension = filename[filename.rfind(".") :].lower() if "." in filename else ""
    if extension not in AGENT_DOCUMENT_TYPES.values():
        extension = ""
    return f"{AGENT_DOCUMENT_DIRECTORY}/{instance.public_id}/{secrets.token_hex(8)}{extension}"


class RequestType(models.TextChoices):
    """What the requester asks for (GDPR Arts. 15-22, CCPA §1798.100-135, 152-FZ Arts. 14, 20-21)."""

    ACCESS = "access", _("Access to my data")
    PORTABILITY = "portability", _("A copy of my data to take elsewhere")
    DELETION = "deletion", _("Deletion of my data")
    CORRECTION = "correction", _("Correction of my data")
    RESTRICTION = "restriction", _("Restriction of processing")
    OBJECTION = "objection", _("Objection to processing")
    OPT_OUT_SALE_SHARE = "opt_out_sale_share", _("Do not sell or share my personal information")
    LIMIT_SENSITIVE = "limit_sensitive", _("Limit the use of my sensitive personal information")
    WITHDRAW_CONSENT = "withdraw_consent", _("Withdrawal of my consent")
    CLARIFICATION = "clarification", _("Clarification of my data")
    BLOCKING = "blocking", _("Blocking of my data")
    DESTRUCTION = "destruction", _("Destruction of my data")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting email verification")
    VERIFIED = "verified", _("Verified")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INFO_REQUESTED = "info_requested", _("More information requested")
    EXTENDED = "extended", _("Extended")
    FULFILLED = "fulfilled", _("Fulfilled")
    REFUSED = "refused", _("Refused")
    CLOSED = "closed", _("Closed")


# Statuses after which nothing is owed to the requester any more.
FINAL_STATUSES = frozenset({RequestStatus.FULFILLED, RequestStatus.REFUSED, RequestStatus.CLOSED})
# The same, in one fixed order: the queue's filter must say exactly what its partial index says
# (SQLite uses a partial index only for the same WHERE term).
FINAL_STATUS_LIST = tuple(sorted(FINAL_STATUSES))


class DataSubjectRequest(models.Model):
    """One request by a data subject to one site, with the clock the law gives its answer.

    `subject_hmac` is the keyed hash of the site's own account id for the requester: blank for a
    request filed on the public page or API (the requester is known by email only); a request a
    site's backend files for a logged-in user through the management API will carry it.
    """

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="data_subject_requests", verbose_name=_("site")
    )
    public_id = models.CharField(
        max_length=32, unique=True, default=request_public_id_new, editable=False, verbose_name=_("public id")
    )
    type = models.CharField(max_length=32, choices=RequestType.choices, verbose_name=_("type"))
    status = models.CharField(
        max_length=32,
        choices=RequestStatus.choices,
        default=RequestStatus.RECEIVED,
        verbose_name=_("status"),
    )
    email = models.EmailField(max_length=254, verbose_name=_("requester email"))
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("requester language"))
    residence_country = models.CharField(max_length=2, blank=True, verbose_name=_("declared country"))
    residence_region = models.CharField(max_length=3, blank=True, verbose_name=_("declared region"))
    visitor_ids = models.JSONField(default=list, blank=True, verbose_name=_("visitor ids"))
    # An authorised agent filing for the consumer (CCPA §1798.135(c), 11 CCR §7063): who, and the
    # consumer's signed permission. The verification link still goes to the consumer's `email`.
    agent_name = models.CharField(max_length=200, blank=True, verbose_name=_("authorised agent"))
    agent_email = models.EmailField(max_length=254, blank=True, verbose_name=_("agent's email"))
    agent_document = models.FileField(
        upload_to=agent_document_path,
        max_length=200,
        blank=True,
        verbose_name=_("agent's permission document"),
    )
    agent_document_sha256 = models.CharField(max_length=64, blank=True, verbose_name=_("document hash"))
    subject_hmac = models.CharField(max_length=64, blank=True, verbose_name=_("account subject (keyed hash)"))
    # Pinned at filing, as consent records pin them (consent/ledger/services.py).
    jurisdiction = models.CharField(max_length=16, verbose_name=_("jurisdiction"))
    rules_version = models.CharField(max_length=16, verbose_name=_("rules version"))
    rules_sha256 = models.CharField(max_length=64, verbose_name=_("rules hash"))
    resolved_by = models.CharField(max_length=16, verbose_name=_("jurisdiction resolved by"))
    establishment_country = models.CharField(
        max_length=2, blank=True, verbose_name=_("establishment country at filing")
    )
    filed_at = models.DateTimeField(verbose_name=_("filed at"))
    verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("verified at"))
    acknowledge_by = models.DateField(null=True, blank=True, verbose_name=_("acknowledge by"))
    acknowledge_explanation = models.TextField(
        blank=True, verbose_name=_("how the acknowledgement date is counted")
    )
    due_at = models.DateField(null=True, blank=True, verbose_name=_("due on"))
    due_explanation = models.TextField(blank=True, verbose_name=_("how the due date is counted"))
    is_due_provisional = models.BooleanField(default=False, verbose_name=_("due date provisional"))
    extended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("extended at"))
    extension_reason = models.TextField(blank=True, verbose_name=_("extension reason"))
    extension_notice_sent_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("extension notice sent at")
    )
    response_text = models.TextField(blank=True, verbose_name=_("response"))
    # The member of the site's staff handling it (the queue filters by it); nobody by default.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["due_at", "filed_at"]
        indexes = [
            models.Index(fields=["site", "status", "due_at"], name="dsr_site_status_due"),
            models.Index(fields=["closed_at"], name="dsr_closed_at"),
            # The queue's order (time left): read in index order and stopped at one page.
            models.Index(fields=["due_at", "filed_at"], name="dsr_due_filed"),
            # The queue's default view, the open requests of the user's sites by time left: read
            # in order from the open ones only (a tenth of the table; they are the latest due, so
            # dsr_due_filed walks past every answered one first), counted from them too.
            models.Index(
                fields=["due_at", "filed_at", "site"],
                condition=~models.Q(status__in=FINAL_STATUS_LIST),
                name="dsr_open_due_filed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({self.public_id[:8]})"

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL_STATUSES

    @property
    def is_awaiting_consumer(self) -> bool:
        """An authorised agent's request the consumer has not confirmed yet (11 CCR §7063(a))."""
        return bool(self.agent_name) and self.status in (
            RequestStatus.RECEIVED,
            RequestStatus.AWAITING_VERIFICATION,
        )


class RequestAction(models.TextChoices):
    """What a `RequestEvent` records."""

    FILED = "filed", _("Filed")
    VERIFICATION_SENT = "verification_sent", _("Verification email sent")
    VERIFIED = "verified", _("Email verified")
    NOTE = "note", _("Internal note")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INFO_REQUESTED = "info_requested", _("More information requested")
    EXTENDED = "extended", _("Extended with notice")
    FULFILLED = "fulfilled", _("Fulfilled")
    REFUSED = "refused", _("Refused")
    CLOSED = "closed", _("Closed")
    ASSIGNED = "assigned", _("Assigned")
    # A reminder emailed to the site's DPOs (written once it was sent; see RequestReminder).
    REMINDED = "reminded", _("Reminder sent")
    # An authorised agent's request: the consumer confirmed (or denied) that they authorised the agent.
    AGENT_CONFIRMED = "agent_confirmed", _("Consumer confirmed the agent")
    AGENT_DENIED = "agent_denied", _("Consumer denied the agent")
    # The requester's answer to "more information requested" (note: their text; maybe a file).
    REPLIED = "replied", _("Requester replied")
    PURGED = "purged", _("Purged")
    # What Consentry did itself for the request (consent/requests/automation.py).
    PACKAGE_GENERATED = "package_generated", _("Data package generated")
    ERASED = "erased", _("Consentry's records erased")
    ERASURE_CONFIRMED = "erasure_confirmed", _("Site's backend confirmed its erasure")
    DECISIONS_RECORDED = "decisions_recorded", _("Decisions recorded in the ledger")


class RequestEvent(ImmutableModel):
    """One step in a request's history: who (a user, or nobody for the requester and the system),
    when, what, and the status before and after. Notes (`action` "note") are internal: never shown
    to the requester. Purged with their request by retention (consent/requests/services.py)."""

    purgeable = True

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="events", verbose_name=_("request")
    )
    at = models.DateTimeField(verbose_name=_("at"))
    action = models.CharField(max_length=32, choices=RequestAction.choices, verbose_name=_("action"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    from_status = models.CharField(
        max_length=32, choices=RequestStatus.choices, blank=True, verbose_name=_("from status")
    )
    to_status = models.CharField(
        max_length=32, choices=RequestStatus.choices, blank=True, verbose_name=_("to status")
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    # A requester's reply may carry one file (PDF, PNG or JPEG by its first bytes): streamed to
    # the site's DPOs and owners only, deleted with the request by retention.
    attachment = models.FileField(
        upload_to=reply_attachment_path, max_length=200, blank=True, verbose_name=_("attachment")
    )
    attachment_sha256 = models.CharField(max_length=64, blank=True, verbose_name=_("attachment hash"))

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def is_internal(self) -> bool:
        return self.action in INTERNAL_ACTIONS


# Events the requester never sees on their status page: the staff's notes, assignments and reminders.
INTERNAL_ACTIONS = frozenset({RequestAction.NOTE, RequestAction.ASSIGNED, RequestAction.REMINDED})


class RequestReminder(models.Model):
    """One reminder to the site's DPOs that a request is due in `days` days or fewer, for one due
    date: claimed by the deadline watch (one row per request, due date and threshold: the unique
    constraint is the dedupe between watchers), sent by the worker, which sets `sent_at` and
    writes the REMINDED event only once the email went out. Deleted with its request."""

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("request")
    )
    due_at = models.DateField(verbose_name=_("due on"))
    days = models.PositiveSmallIntegerField(verbose_name=_("days before the due date"))
    queued_at = models.DateTimeField(verbose_name=_("queued at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("request reminder")
        verbose_name_plural = _("request reminders")
        constraints = [
            models.UniqueConstraint(fields=["request", "due_at", "days"], name="request_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.days} days before {self.due_at}"


class PackageFormat(models.TextChoices):
    """How an access or portability package is written: the machine-readable portability format,
    or a page a person reads."""

    JSON = "json", _("JSON (machine-readable)")
    HTML = "html", _("Readable page (HTML)")


class RequestPackage(ImmutableModel):
    """One generated copy of what Consentry holds about a request's subject (their consent history
    with receipts), in one format, as it was when generated: never changed, purged with its request.

    The package the requester downloads is the newest of each format generated up to the request's
    fulfilment (consent/requests/package.py); the others are the DPO's drafts."""

    purgeable = True

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="packages", verbose_name=_("request")
    )
    format = models.CharField(max_length=8, choices=PackageFormat.choices, verbose_name=_("format"))
    content = models.TextField(verbose_name=_("content"))
    content_sha256 = models.CharField(max_length=64, verbose_name=_("content hash"))
    records = models.PositiveIntegerField(verbose_name=_("records"))
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, verbose_name=_("language"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("request package")
        verbose_name_plural = _("request packages")
        ordering = ["request", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.created_at:%Y-%m-%d %H:%M}"
