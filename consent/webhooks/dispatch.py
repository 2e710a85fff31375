"""The webhook dispatcher: what `manage.py webhooks_dispatch --every N` does each round.

- **Consent events from the ledger.** The consent POST gains no write: the ledger is the outbox of
  consent events. Each round reads, per site with an active endpoint that wants consent events,
  the records after the site's cursor (created_at, id) and at least WEBHOOK_SETTLE_SECONDS old,
  and writes `consent.recorded` events (up to BATCH_SIZE records each) and one
  `consent.withdrawn` / `optout.signal` event per such record, moving the cursor in the same
  transaction. Sites without such an endpoint only have their cursor moved, in one UPDATE.
- **policy.effective.** Versions published for a later date whose time has come.
- **Detectors** registered by the packages that own other events (`webhook_detector_register`):
  the data-subject requests' deadline watch (request.due_soon, request.overdue, and the DPOs'
  reminders), registered in consent.apps so this module imports nothing above it.
- **The sweep.** Every pending delivery that is due is queued (consent.webhooks.services).

Late commits. A record's created_at is taken just before its one INSERT (consent.ledger.services),
so it commits milliseconds later, well within the settle lag. One that commits later still (a
database stalled mid-statement) appears behind the cursor: the late scan (`late=True`, once a
minute from the command) looks LATE_LOOK_BACK behind each cursor for records no event announced
yet, and announces them. A record that commits more than LATE_LOOK_BACK after its created_at is
never announced (it is still in the ledger, the exports and the receipts); the sealer tolerates
up to LATE_COMMIT_MARGIN, webhooks trade the rest of that hour for bounded work per minute.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from consent.keyset import row_compare
from consent.models import (
    CONSENT_EVENT_TYPES,
    ConsentAction,
    ConsentRecord,
    PolicyVersion,
    Site,
    WebhookCursor,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from consent.webhooks.events import optout_data, policy_version_data, record_data, record_is_opt_out
from consent.webhooks.services import webhook_deliveries_sweep, webhook_event_emit

BATCH_SIZE = 100
# Records read per site and round: a backlog drains over a few rounds, no round holds a long transaction.
ROUND_LIMIT = 2000
# A version that took effect longer ago than this is not announced (the dispatcher was down
# longer, or webhooks were switched on after it).
POLICY_EFFECTIVE_LOOK_BACK = timedelta(days=7)
# How far behind its cursor the late scan looks for records that committed late.
LATE_LOOK_BACK = timedelta(minutes=5)
LATE_LIMIT = 20000


# Called with `now` in the rounds that also run the late scan (once a minute from the command:
# what they watch moves by the day); each returns how many events (or reminders) it wrote.
_DETECTORS: list[Callable[..., int]] = []


def webhook_detector_register(detector: Callable[..., int]) -> None:
    """Run `detector(now=...)` in the dispatcher's once-a-minute rounds (once per function)."""
    if detector not in _DETECTORS:
        _DETECTORS.append(detector)


@dataclass(frozen=True)
class DispatchRound:
    events: int
    queued: int


def _settle() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_SETTLE_SECONDS)


def _active_endpoints() -> list[WebhookEndpoint]:
    """Every active endpoint with its site: read once per round, asked per event type below."""
    return list(WebhookEndpoint.objects.filter(is_active=True).select_related("site"))


def _active_endpoints_by_site(
    types: tuple[str, ...], active: list[WebhookEndpoint] | None = None
) -> dict[int, list[WebhookEndpoint]]:
    by_site: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in _active_endpoints() if active is None else active:
        if any(endpoint.wants(name) for name in types):
            by_site[endpoint.site_id].append(endpoint)
    return by_site


def webhook_consent_dispatch(
    *, now: datetime | None = None, active: list[WebhookEndpoint] | None = None
) -> int:
    """Turn ledger records into consent events for the sites that want them. Returns the events written."""
    horizon = (now or timezone.now()) - _settle()
    interested = _active_endpoints_by_site(CONSENT_EVENT_TYPES, active)
    # The other sites' cursors just follow the clock: an endpoint added later starts from now.
    WebhookCursor.objects.exclude(site_id__in=list(interested)).filter(record_created_at__lt=horizon).update(
        record_created_at=horizon, record_id=0
    )
    written = 0
    for endpoints in interested.values():
        written += _site_dispatch(endpoints, horizon)
    return written


@transaction.atomic
def _site_dispatch(endpoints: list[WebhookEndpoint], horizon: datetime) -> int:
    site = endpoints[0].site
    start = min(min(endpoint.created_at for endpoint in endpoints), horizon)
    WebhookCursor.objects.get_or_create(site=site, defaults={"record_created_at": start, "record_id": 0})
    # Locked: two dispatchers never read the same records for the same site.
    cursor = WebhookCursor.objects.select_for_update().get(site=site)
    records = list(
        ConsentRecord.objects.filter(site=site, created_at__lte=horizon)
        .filter(row_compare("created_at", "id", ">", (cursor.record_created_at, cursor.record_id)))
        .order_by("created_at", "id")[:ROUND_LIMIT]
    )
    if not records:
        return 0
    written = _records_announce(site, endpoints, records, recorded=records, known_keys=set())
    cursor.record_created_at, cursor.record_id = records[-1].created_at, records[-1].pk
    cursor.save(update_fields=["record_created_at", "record_id"])
    return written


def _records_announce(
    site: Site,
    endpoints: list[WebhookEndpoint],
    records: list[ConsentRecord],
    *,
    recorded: list[ConsentRecord],
    known_keys: set[str],
) -> int:
    """Write the events of `records`: `recorded` in consent.recorded batches, and a withdrawal or
    opt-out event for each record that is one (unless its dedupe key is in `known_keys`)."""
    written = 0
    for start_at in range(0, len(recorded), BATCH_SIZE):
        batch = recorded[start_at : start_at + BATCH_SIZE]
        emitted = webhook_event_emit(
            site=site,
            type=WebhookEventType.CONSENT_RECORDED,
            data={"records": [record_data(record) for record in batch]},
            dedupe_key=f"consent.recorded:{batch[0].receipt_id}",
            endpoints=endpoints,
        )
        written += emitted is not None
    for record in records:
        singles = []
        if record.action == ConsentAction.WITHDRAW:
            singles.append((WebhookEventType.CONSENT_WITHDRAWN, {"record": record_data(record)}))
        if record_is_opt_out(record):
            singles.append((WebhookEventType.OPTOUT_SIGNAL, optout_data(record)))
        for event_type, data in singles:
            key = f"{event_type}:{record.receipt_id}"
            if key in known_keys:
                continue
            emitted = webhook_event_emit(
                site=site, type=event_type, data=data, dedupe_key=key, endpoints=endpoints
            )
            written += emitted is not None
    return written


def webhook_consent_late_dispatch(*, active: list[WebhookEndpoint] | None = None) -> int:
    """Announce the records that committed after the cursor passed their time (see the module's
    docstring). Returns the events written."""
    written = 0
    for endpoints in _active_endpoints_by_site(CONSENT_EVENT_TYPES, active).values():
        written += _site_late_dispatch(endpoints)
    return written


@transaction.atomic
def _site_late_dispatch(endpoints: list[WebhookEndpoint]) -> int:
    site = endpoints[0].site
    cursor = WebhookCursor.objects.select_for_update().filter(site=site).first()
    if cursor is None:
        return 0
    # Not before the endpoints existed: they get the records from their creation on.
    since = max(cursor.record_created_at - LATE_LOOK_BACK, min(endpoint.created_at for endpoint in endpoints))
    records = list(
        ConsentRecord.objects.filter(site=site, created_at__gte=since)
        .filter(row_compare("created_at", "id", "<=", (cursor.record_created_at, cursor.record_id)))
        # Newest first: a late record is most likely just behind the cursor.
        .order_by("-created_at", "-id")[:LATE_LIMIT]
    )[::-1]
    if not records:
        return 0
    # What was announced: every event about these records was written after they were made.
    announced = set()
    for payload in WebhookEvent.objects.filter(
        site=site, type=WebhookEventType.CONSENT_RECORDED, created_at__gte=since
    ).values_list("payload", flat=True):
        announced.update(record["receipt_id"] for record in (payload or {"records": []})["records"])
    keys = [f"{kind}:{record.receipt_id}" for record in records for kind in CONSENT_EVENT_TYPES[1:]]
    known = set(
        WebhookEvent.objects.filter(site=site, dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    missing = [record for record in records if record.receipt_id not in announced]
    return _records_announce(site, endpoints, records, recorded=missing, known_keys=known)


def webhook_policy_effective_detect(
    *, now: datetime | None = None, active: list[WebhookEndpoint] | None = None
) -> int:
    """Announce each policy version published for a later date once its effective time has come."""
    now = now or timezone.now()
    interested = _active_endpoints_by_site((WebhookEventType.POLICY_EFFECTIVE,), active)
    if not interested:
        return 0
    versions = (
        PolicyVersion.objects.filter(
            document__site_id__in=list(interested),
            effective_at__lte=now,
            effective_at__gt=now - POLICY_EFFECTIVE_LOOK_BACK,
        )
        .filter(effective_at__gt=F("published_at"))
        .select_related("document__site")
        .order_by("effective_at", "pk")
    )
    written = 0
    for version in versions:
        site = version.document.site
        key = f"policy.effective:{version.document.slug}:{version.number}"
        if WebhookEvent.objects.filter(site=site, dedupe_key=key).exists():
            continue
        with transaction.atomic():
            emitted = webhook_event_emit(
                site=site,
                type=WebhookEventType.POLICY_EFFECTIVE,
                data=policy_version_data(version),
                dedupe_key=key,
                endpoints=interested[site.pk],
            )
        written += emitted is not None
    return written


def webhooks_dispatch_round(*, now: datetime | None = None, late: bool = False) -> DispatchRound:
    """One round of the dispatcher: consent events, policy.effective (with `late`, also the
    consent events that committed late and the registered detectors'), then the due deliveries."""
    active = _active_endpoints()
    events = webhook_consent_dispatch(now=now, active=active) + webhook_policy_effective_detect(
        now=now, active=active
    )
    if late:
        events += webhook_consent_late_dispatch(active=active)
        for detector in _DETECTORS:
            events += detector(now=now)
    return DispatchRound(events=events, queued=webhook_deliveries_sweep(now=now))
