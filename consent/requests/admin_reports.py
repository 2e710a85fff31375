"""The DPO's yearly request report (CCPA 11 CCR §7102 metrics) in the admin, beside the queue:
a page per site and calendar year, and the same figures as a CSV download (audited).

Only the sites the user is an owner or DPO of are offered (superusers: every site); any other
site asked for in the address is refused as not found.
"""

import csv
import io
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.models import DataSubjectRequest, Site
from consent.requests.selectors import RequestReport, request_report
from consent.requests.services import request_report_export_record
from consent.tenancy.scoping import request_site_ids
from consent.tenancy.selectors import EDITOR_ROLES
from edge.client import client_ip


def _days(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def report_csv(report: RequestReport) -> str:
    """The report as CSV: a header row, one row per request type, then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            gettext("Request type"),
            gettext("Received"),
            gettext("Complied with in whole or in part"),
            gettext("Denied"),
            gettext("Denied as unverifiable"),
            gettext("Median days to respond"),
            gettext("90th percentile days to respond"),
        ]
    )
    for row in report.rows:
        writer.writerow(
            [
                row.type or "total",
                row.received,
                row.fulfilled,
                row.denied,
                row.denied_unverifiable,
                _days(row.median_days),
                _days(row.p90_days),
            ]
        )
    return buffer.getvalue()


class RequestReportsAdminMixin:
    """Adds the report page to the requests' ModelAdmin (mixed in before it)."""

    admin_site: Any

    def get_urls(self) -> list[Any]:
        return [
            path(
                "reports/",
                self.admin_site.admin_view(self.reports_view),
                name="consent_datasubjectrequest_reports",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _report_sites(self, request: HttpRequest) -> list[Site]:
        sites = Site.objects.order_by("name", "pk")
        if not request.user.is_superuser:
            sites = sites.filter(pk__in=request_site_ids(request, EDITOR_ROLES))
        return list(sites)

    def reports_view(self, request: HttpRequest) -> HttpResponse:
        sites = self._report_sites(request)
        if not sites:
            raise Http404
        this_year = timezone.localdate().year
        site_key = request.GET.get("site") or sites[0].key
        site = next((candidate for candidate in sites if candidate.key == site_key), None)
        year_text = request.GET.get("year") or str(this_year - 1)
        if site is None or not year_text.isdigit() or not 2000 <= int(year_text) <= this_year:
            raise Http404
        year = int(year_text)
        report = request_report(site=site, year=year)
        if request.GET.get("format") == "csv":
            request_report_export_record(site=site, year=year, by=request.user, ip=client_ip(request))
            response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{site.key}-requests-{year}.csv"'
            response["Cache-Control"] = "private, no-store"
            return response
        first = DataSubjectRequest.objects.filter(site__in=sites).order_by("filed_at").first()
        first_year = min(timezone.localtime(first.filed_at).year if first else this_year, this_year - 1)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Request report (CCPA §7102)"),
            "opts": DataSubjectRequest._meta,
            "report": report,
            "sites": sites,
            "site": site,
            "year": year,
            "years": list(range(this_year, first_year - 1, -1)),
        }
        return TemplateResponse(request, "admin/consent/datasubjectrequest/reports.html", context)
