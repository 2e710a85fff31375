# ruff: noqa: F811 (the fixtures are the request tests', imported by name)
"""The yearly request report (CCPA 11 CCR §7102): the figures from real requests run through the
services, the admin page linked from the queue, its CSV download (audited), an empty year, and
tenancy (another site's DPO, a viewer)."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from consent.models import AuditEntry, Role
from consent.requests.selectors import RequestJurisdiction, request_report
from consent.requests.services import (
    request_close,
    request_file,
    request_fulfil,
    request_refuse,
    request_verify,
)
from consent.rules.jurisdictions import ruleset_get
from consent.sites.services import site_create
from tests.consent.test_requests import _at, dpo, site  # noqa: F401
from tests.factories import SiteMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REPORTS = reverse("admin:consent_datasubjectrequest_reports")


def filed(site, type, on, *, verified=True):
    jurisdiction = RequestJurisdiction(ruleset=ruleset_get("US-CA"), resolved_by="residence")
    request_row = request_file(
        site=site, type=type, email="cal@example.com", language="en", jurisdiction=jurisdiction, now=_at(on)
    )
    return request_verify(request=request_row, now=_at(on)) if verified else request_row


@pytest.fixture
def year_2026(site, dpo):
    """Requests of 2026: access answered after 5, 10 and 20 days (one then closed) and one open;
    deletions refused after 30 days, refused unverified after 2 days, and closed unverified;
    an access of 2025 answered in 2026, which counts for 2025."""
    for filed_on, answered_on in (
        (date(2026, 3, 1), date(2026, 3, 6)),
        (date(2026, 6, 10), date(2026, 6, 20)),
        (date(2026, 12, 20), date(2027, 1, 9)),
    ):
        request_row = request_fulfil(
            request=filed(site, "access", filed_on), text="Here.", by=dpo, now=_at(answered_on)
        )
    request_close(request=request_row, by=dpo, now=_at(date(2027, 1, 10)))
    filed(site, "access", date(2026, 11, 30))
    request_refuse(
        request=filed(site, "deletion", date(2026, 4, 1)), text="No.", by=dpo, now=_at(date(2026, 5, 1))
    )
    request_refuse(
        request=filed(site, "deletion", date(2026, 4, 2), verified=False),
        text="Unverified.",
        by=dpo,
        now=_at(date(2026, 4, 4)),
    )
    request_close(request=filed(site, "deletion", date(2026, 9, 9), verified=False), by=dpo)
    old = filed(site, "access", date(2025, 12, 31))
    request_fulfil(request=old, text="Here.", by=dpo, now=_at(date(2026, 1, 2)))


def test_the_report_counts_a_years_requests_by_type_with_the_median_and_90th_percentile(site, year_2026):
    report = request_report(site=site, year=2026)

    rows = {row.type: row for row in report.rows}
    access, deletion, total = rows["access"], rows["deletion"], report.total
    assert (access.received, access.fulfilled, access.denied, access.denied_unverifiable) == (4, 3, 0, 0)
    assert (access.median_days, access.p90_days) == (10, 20)
    counts = (deletion.received, deletion.fulfilled, deletion.denied, deletion.denied_unverifiable)
    assert counts == (3, 0, 3, 2)
    assert (deletion.median_days, deletion.p90_days) == (16, 30)
    assert (total.type, total.received, total.fulfilled, total.denied, total.denied_unverifiable) == (
        "",
        7,
        3,
        3,
        2,
    )
    # Nearest rank: the durations are 2, 5, 10, 20, 30.
    assert (total.median_days, total.p90_days) == (10, 30)
    assert rows["portability"].received == 0 and rows["portability"].median_days is None
    earlier = request_report(site=site, year=2025).total
    assert (earlier.received, earlier.fulfilled, earlier.median_days) == (1, 1, 2)


def test_the_queue_links_the_report_page_and_its_csv_has_the_same_figures_and_is_audited(
    client, site, dpo, year_2026
):
    client.force_login(dpo)
    queue = client.get(reverse("admin:consent_datasubjectrequest_changelist")).content.decode()
    page = client.get(REPORTS, {"site": site.key, "year": "2026"})
    download = client.get(REPORTS, {"site": site.key, "year": "2026", "format": "csv"})

    assert f'href="{REPORTS}"' in queue and ">Reports<" in queue
    assert page.status_code == 200
    html = page.content.decode()
    assert "Deletion of my data" in html and "Denied as unverifiable" in html
    assert f'<option value="{site.key}" selected>' in html and '<option value="2026" selected>' in html
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download["Content-Disposition"] == f'attachment; filename="{site.key}-requests-2026.csv"'
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:4] == ["Request type", "Received", "Complied with in whole or in part", "Denied"]
    assert len(rows) == 1 + 12 + 1
    by_type = {row[0]: row[1:] for row in rows[1:]}
    assert by_type["access"] == ["4", "3", "0", "0", "10", "20"]
    assert by_type["deletion"] == ["3", "0", "3", "2", "16", "30"]
    assert by_type["total"] == ["7", "3", "3", "2", "10", "30"]
    audit = AuditEntry.objects.get(action="data_subject_request.report_export")
    assert audit.site == site and audit.actor == dpo and audit.data["year"] == 2026
    # Only the download is audited, not looking at the page.
    assert AuditEntry.objects.filter(action="data_subject_request.report_export").count() == 1


def test_a_year_without_requests_is_all_zeros(client, site, dpo):
    client.force_login(dpo)
    page = client.get(REPORTS, {"site": site.key, "year": "2024"})
    download = client.get(REPORTS, {"site": site.key, "year": "2024", "format": "csv"})

    assert page.status_code == 200
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[-1] == ["total", "0", "0", "0", "0", "", ""]
    assert all(row[1:5] == ["0", "0", "0", "0"] for row in rows[1:])


def test_another_sites_dpo_and_a_viewer_see_no_report_of_the_site(client, site, year_2026):
    other = site_create(name="Other shop", languages=["en"], origins=["https://other.example"], by=None)
    stranger = UserFactory(username="stranger")
    SiteMembershipFactory(site=other, user=stranger, role=Role.DPO)
    viewer = UserFactory(username="viewer")
    SiteMembershipFactory(site=site, user=viewer, role=Role.VIEWER)

    client.force_login(stranger)
    own = client.get(REPORTS, {"year": "2026"})
    foreign = client.get(REPORTS, {"site": site.key, "year": "2026"})
    foreign_csv = client.get(REPORTS, {"site": site.key, "year": "2026", "format": "csv"})
    client.force_login(viewer)
    as_viewer = client.get(REPORTS, {"site": site.key, "year": "2026"})

    assert own.status_code == 200
    assert "Other shop" in own.content.decode() and ">Shop<" not in own.content.decode()
    assert own.context["report"].total.received == 0
    assert foreign.status_code == 404 and foreign_csv.status_code == 404
    assert as_viewer.status_code == 404
    assert not AuditEntry.objects.filter(action="data_subject_request.report_export").exists()


def test_a_bad_year_is_a_404(client, site, dpo):
    client.force_login(dpo)
    assert client.get(REPORTS, {"site": site.key, "year": "abc"}).status_code == 404
    assert client.get(REPORTS, {"site": site.key, "year": "3000"}).status_code == 404
