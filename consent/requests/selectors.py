"""Reads of data-subject requests: which law a filing falls under, a request by its link, its timeline."""

import logging
import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from consent.models import (
    INTERNAL_ACTIONS,
    DataSubjectRequest,
    RequestAction,
    RequestEvent,
    RequestStatus,
    RequestType,
    Site,
)
from consent.rules.geo import jurisdiction_resolve
from consent.rules.jurisdictions import RuleSet, ruleset_for_location, ruleset_get
from consent.rules.overrides import ruleset_with_overrides

logger = logging.getLogger(__name__)

# How a request's jurisdiction was decided when the requester declared where they live (the
# other values are consent.rules.geo.ResolutionMethod's).
RESOLVED_BY_RESIDENCE = "residence"


@dataclass(frozen=True)
class RequestJurisdiction:
    """The rules a request is filed under (with the site's overrides) and how they were chosen."""

    ruleset: RuleSet
    resolved_by: str


def request_jurisdiction_resolve(
    *, site: Site, country: str, region: str, http_request: HttpRequest | None, on: date
) -> RequestJurisdiction:
    """The declared residence's rules, else the requester's location as the banner resolves it
    (edge header, GeoIP, the site's default): someone may file from abroad about where they live."""
    if country:
        base = ruleset_for_location(country=country, region=region, on=on)
        overrides = (site.jurisdiction_overrides or {}).get(base.code) or {}
        try:
            ruleset = ruleset_with_overrides(base, overrides) if overrides else base
        except ValueError as error:
            # Checked when saved; a later, stricter table may refuse some: the table's row still applies.
            logger.warning("Ignoring %s overrides of site %s: %s", base.code, site.key, error)
            ruleset = base
        return RequestJurisdiction(ruleset=ruleset, resolved_by=RESOLVED_BY_RESIDENCE)
    if http_request is None:
        return RequestJurisdiction(ruleset=ruleset_get(site.default_jurisdiction), resolved_by="site_default")
    resolution = jurisdiction_resolve(
        request=http_request,
        default_code=site.default_jurisdiction,
        overrides=site.jurisdiction_overrides,
        on=on,
    )
    return RequestJurisdiction(ruleset=resolution.ruleset, resolved_by=str(resolution.method))


def request_get_by_public_id(*, site: Site, public_id: str) -> DataSubjectRequest | None:
    """The site's request with this public id, or None (an impossible id is never looked up)."""
    if not public_id or len(public_id) > 32:
        return None
    return DataSubjectRequest.objects.filter(site=site, public_id=public_id).first()


def request_timeline(
    *, request: DataSubjectRequest, include_internal: bool = False
) -> QuerySet[RequestEvent]:
    """The request's events, oldest first; internal notes only when asked (never for the requester)."""
    events = RequestEvent.objects.filter(request=request).order_by("at", "pk")
    return events if include_internal else events.exclude(action__in=INTERNAL_ACTIONS)


def request_list(
    *, site: Site, status: str | None = None, type: str | None = None, subject_hmac: str | None = None
) -> QuerySet[DataSubjectRequest]:
    """The site's requests (the management API's list), optionally of one status, type or account."""
    requests = DataSubjectRequest.objects.filter(site=site).select_related("site")
    if status:
        requests = requests.filter(status=status)
    if type:
        requests = requests.filter(type=type)
    if subject_hmac:
        requests = requests.filter(subject_hmac=subject_hmac)
    return requests


# --- Yearly metrics (CCPA 11 CCR §7102) -------------------------------------------------------


# An answer to the requester, for the report: what "days to respond" ends at.
_ANSWERS = (RequestAction.FULFILLED, RequestAction.REFUSED)
# Refused from these: the requester never proved the address was theirs ("unverifiable").
_UNVERIFIED = (RequestStatus.RECEIVED, RequestStatus.AWAITING_VERIFICATION)


@dataclass(frozen=True)
class RequestReportRow:
    """One request type's figures for a year (`type` "" for the total)."""

    type: str
    label: str
    received: int
    fulfilled: int
    denied: int
    #: Of `denied`: refused before the requester verified their address, or closed unverified.
    denied_unverifiable: int
    #: Calendar days from filing to the answer (fulfilled or refused); None with no answer.
    median_days: float | None
    p90_days: int | None


@dataclass(frozen=True)
class RequestReport:
    site: Site
    year: int
    rows: list[RequestReportRow]

    @property
    def total(self) -> RequestReportRow:
        return self.rows[-1]


def _percentile_90(values: list[int]) -> int | None:
    """The nearest-rank 90th percentile: the smallest value at least 90 % of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _report_row(type: str, label: str, counts: dict[str, int], days: list[int]) -> RequestReportRow:
    return RequestReportRow(
        type=type,
        label=label,
        received=counts.get("received", 0),
        fulfilled=counts.get("fulfilled", 0),
        denied=counts.get("denied", 0),
        denied_unverifiable=counts.get("unverifiable", 0),
        median_days=statistics.median(days) if days else None,
        p90_days=_percentile_90(days),
    )


def request_report(*, site: Site, year: int) -> RequestReport:
    """The §7102 metrics of the requests `site` received in calendar `year` (the site's time zone):
    per type, how many were received, complied with in whole or in part (fulfilled), denied
    (refused, or closed never verified: of which "unverifiable", also those refused before
    verification), and the median and 90th percentile (nearest rank) of the calendar days from
    filing to the answer. Counted by year of receipt, so a year's figures are final once its
    requests are answered. Counts in SQL; the durations of the year's answers in Python."""
    zone = timezone.get_current_timezone()
    requests = DataSubjectRequest.objects.filter(
        site=site,
        filed_at__gte=datetime(year, 1, 1, tzinfo=zone),
        filed_at__lt=datetime(year + 1, 1, 1, tzinfo=zone),
    )
    refused = Q(events__action=RequestAction.REFUSED)
    closed_unverified = Q(status=RequestStatus.CLOSED, verified_at__isnull=True) & ~Q(
        Exists(RequestEvent.objects.filter(request=OuterRef("pk"), action__in=_ANSWERS))
    )
    counts: dict[str, dict[str, int]] = {}
    for row in requests.values("type").annotate(
        received=Count("pk", distinct=True),
        fulfilled=Count("pk", filter=Q(events__action=RequestAction.FULFILLED), distinct=True),
        refused=Count("pk", filter=refused, distinct=True),
        refused_unverified=Count(
            "pk", filter=refused & Q(events__from_status__in=_UNVERIFIED), distinct=True
        ),
        closed_unverified=Count("pk", filter=closed_unverified, distinct=True),
    ):
        counts[row["type"]] = {
            "received": row["received"],
            "fulfilled": row["fulfilled"],
            "denied": row["refused"] + row["closed_unverified"],
            "unverifiable": row["refused_unverified"] + row["closed_unverified"],
        }
    days: dict[str, list[int]] = {}
    answers = RequestEvent.objects.filter(request__in=requests, action__in=_ANSWERS)
    for type, filed_at, answered_at in answers.values_list("request__type", "request__filed_at", "at"):
        elapsed = timezone.localtime(answered_at, zone).date() - timezone.localtime(filed_at, zone).date()
        days.setdefault(type, []).append(elapsed.days)
    rows = [
        _report_row(value, str(label), counts.get(value, {}), days.get(value, []))
        for value, label in RequestType.choices
    ]
    totals = {
        key: sum(row[key] for row in counts.values())
        for key in ("received", "fulfilled", "denied", "unverifiable")
    }
    rows.append(
        _report_row("", gettext("Total"), totals, [day for values in days.values() for day in values])
    )
    return RequestReport(site=site, year=year, rows=rows)
