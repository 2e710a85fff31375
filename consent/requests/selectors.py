"""Reads of data-subject requests: which law a filing falls under, a request by its link, its timeline."""

import logging
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import HttpRequest

from consent.models import INTERNAL_ACTIONS, DataSubjectRequest, RequestEvent, Site
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
