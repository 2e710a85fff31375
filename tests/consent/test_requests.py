"""Data-subject requests over HTTP: filing by the page and the API, the legal clock each answer
carries, email verification, the status page by link, retention, and the admin's tenancy."""

import hashlib
import re
import time
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from consent.models import (
    AuditEntry,
    DataSubjectRequest,
    ImmutableRowError,
    RequestEvent,
    RequestReminder,
    RequestStatus,
    Role,
)
from consent.requests.retention import requests_retention_apply
from consent.requests.services import request_note_add
from consent.requests.tokens import status_token_make, verify_token_make
from consent.sites.services import site_create
from cookies.banner.api import config_cache_forget
from tests.factories import SiteMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """The test client, each POST's after-commit work (the emails) run as on a real commit."""
    post = client.post

    def committed_post(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = committed_post
    return client


@pytest.fixture
def dpo():
    return UserFactory(username="dpo")


@pytest.fixture
def site(dpo):
    site = site_create(
        name="Shop", languages=["en", "de"], origins=[ORIGIN], owner=None, by=None, establishment_country="DE"
    )
    SiteMembershipFactory(site=site, user=dpo, role=Role.DPO)
    return site


def api_url(site):
    return reverse("public-v1:request-create", args=[site.key])


def file_api(client, site, body, *, on: date | None = None, **headers):
    with mock.patch("consent.requests.services.request_now", return_value=_at(on or date(2027, 3, 15))):
        return client.post(api_url(site), body, content_type="application/json", **headers)


def link_in(message, kind: str) -> str:
    """The path of the `kind` link ("verify" or the status page) in an email."""
    for url in re.findall(r"https?://\S+", message.body):
        path = url.split("://", 1)[1].split("/", 1)[1]
        if ("/verify/" in path) == (kind == "verify"):
            return "/" + path
    raise AssertionError(f"no {kind} link in {message.body}")


# --- Filing through the API, with the Done-when dates --------------------------------------------


def test_an_eu_access_request_filed_on_31_january_2027_is_due_monday_1_march(client, site, mailoutbox):
    response = file_api(
        client, site, {"type": "access", "email": "ana@example.org", "residence": "DE"}, on=date(2027, 1, 31)
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["due_at"] == "2027-03-01"
    assert body["acknowledge_by"] is None
    assert body["jurisdiction"] == "EU"
    assert body["status"] == "awaiting_verification"
    assert (
        "28 February 2027, a Sunday: moved to the next working day, 1 March 2027" in (body["due_explanation"])
    )
    token = status_token_make(public_id=body["id"])
    assert body["status_url"].endswith(f"/s/{site.key}/requests/{body['id']}/?t={token}")
    assert response["Cache-Control"] == "no-store"
    filed = DataSubjectRequest.objects.get(public_id=body["id"])
    assert filed.email == "ana@example.org"
    assert filed.rules_version and len(filed.rules_sha256) == 64
    assert filed.resolved_by == "residence"
    assert filed.establishment_country == "DE"
    assert filed.filed_at == _at(date(2027, 1, 31))
    assert list(filed.events.values_list("action", "to_status")) == [
        ("filed", "received"),
        ("verification_sent", "awaiting_verification"),
    ]
    audit = AuditEntry.objects.get(action="data_subject_request.file")
    assert audit.site == site
    assert audit.data["public_id"] == filed.public_id and audit.data["due_at"] == "2027-03-01"
    assert "ana@example.org" not in str(audit.data) + audit.target
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ana@example.org"]
    assert f"/s/{site.key}/requests/verify/" in mailoutbox[0].body


def test_a_russian_request_filed_on_26_december_2026_is_due_on_19_january_2027(client, site):
    response = file_api(
        client, site, {"type": "access", "email": "ivan@example.ru", "residence": "RU"}, on=date(2026, 12, 26)
    )

    assert response.status_code == 201, response.content
    assert response.json()["jurisdiction"] == "RU"
    assert response.json()["due_at"] == "2027-01-19"
    assert "Holidays not counted" in response.json()["due_explanation"]


def test_a_california_deletion_is_acknowledged_in_10_business_days_and_answered_in_45_days(client, site):
    body = {"type": "deletion", "email": "cal@example.com", "residence": "US-CA"}
    response = file_api(client, site, body, on=date(2027, 1, 4))

    body = response.json()
    assert response.status_code == 201, response.content
    assert body["jurisdiction"] == "US-CA"
    assert body["acknowledge_by"] == "2027-01-15"
    assert body["due_at"] == "2027-02-18"
    assert body["acknowledge_explanation"].startswith("10 business days after 4 January 2027")
    assert body["due_explanation"] == "45 calendar days from 4 January 2027 is 18 February 2027."


def test_a_california_opt_out_is_due_in_15_business_days_without_an_acknowledgement(client, site):
    response = file_api(
        client,
        site,
        {"type": "opt_out_sale_share", "email": "cal@example.com", "residence": "US-CA"},
        on=date(2027, 1, 4),
    )

    assert response.status_code == 201, response.content
    assert response.json()["acknowledge_by"] is None
    # 5-9 January (5), 11-16 January (11: Saturdays count, Civ. Code §9), not 18 January (King Day),
    # 19-22 January (15).
    assert response.json()["due_at"] == "2027-01-22"


def test_without_a_residence_the_site_default_law_applies_and_the_language_follows_accept_language(
    client, site, mailoutbox
):
    response = file_api(client, site, {"type": "access", "email": "x@example.org"}, HTTP_ACCEPT_LANGUAGE="de")

    filed = DataSubjectRequest.objects.get()
    assert response.status_code == 201
    assert (filed.jurisdiction, filed.resolved_by, filed.language) == ("EU", "site_default", "de")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "nonsense", "email": "a@example.org"}, "type"),
        ({"type": "access", "email": "not an address"}, "email"),
        ({"type": "access"}, "email"),
        ({"type": "access", "email": "a@example.org", "residence": "Germany"}, "residence"),
        ({"type": "access", "email": "a@example.org", "language": "xx"}, "language"),
        ({"type": "access", "email": "a@example.org", "visitor_id": "v" * 65}, "visitor_id"),
        # Blocking is the Russian law's; the GDPR has restriction instead.
        ({"type": "blocking", "email": "a@example.org", "residence": "DE"}, "type"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(client, site, mailoutbox, body, field):
    audit_before = AuditEntry.objects.count()

    response = file_api(client, site, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"]
    assert field in response.json()["error"]["fields"]
    assert DataSubjectRequest.objects.count() == 0
    assert RequestEvent.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    assert mailoutbox == []


def test_an_unknown_site_is_a_json_404(client):
    response = client.post(
        "/api/public/v1/sites/nosuchsite/requests",
        {"type": "access", "email": "a@example.org"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert "error" in response.json()


def test_the_api_is_rate_limited_per_address(client, site, settings):
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "requests": "2/hour"}
    body = {"type": "access", "email": "a@example.org"}

    statuses = [file_api(client, site, body).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert DataSubjectRequest.objects.count() == 2


def test_only_the_sites_origins_may_read_the_answer_cross_origin(client, site):
    body = {"type": "access", "email": "a@example.org"}
    own = file_api(client, site, body, HTTP_ORIGIN=ORIGIN)
    foreign = file_api(client, site, body, HTTP_ORIGIN="https://evil.example")
    preflight = client.options(
        api_url(site),
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )

    assert own["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Origin" not in foreign
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN


# --- The public page ------------------------------------------------------------------------------


def test_the_request_page_is_in_the_visitors_language_with_no_inline_script_or_style(client, site):
    response = client.get(reverse("request-form", args=[site.key]), {"lang": "de"})

    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert '<html lang="de"' in html
    # One script, from a file (it moves the banner's visitor id from the fragment into the form).
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/consent/request-form.js" defer>']
    assert "style=" not in html and "<style" not in html
    assert 'name="type"' in html and 'value="access"' in html and 'value="restriction"' in html
    # The Russian law's own types are not offered under the GDPR.
    assert 'value="blocking"' not in html
    assert "'unsafe-inline'" not in response.get("Content-Security-Policy", "")


def test_filing_through_the_page_emails_a_link_in_the_readers_language(client, site, mailoutbox):
    with mock.patch("consent.requests.services.request_now", return_value=_at(date(2027, 1, 31))):
        response = client.post(
            reverse("request-form", args=[site.key]) + "?lang=de",
            {"type": "access", "email": "ana@example.org", "country": "de"},
        )

    assert response.status_code == 201
    filed = DataSubjectRequest.objects.get()
    assert (filed.language, filed.residence_country, filed.due_at) == ("de", "DE", date(2027, 3, 1))
    assert filed.status == RequestStatus.AWAITING_VERIFICATION
    assert len(mailoutbox) == 1
    assert link_in(mailoutbox[0], "status") in response.content.decode().replace("&amp;", "&")


def test_a_bad_filing_on_the_page_shows_the_errors_and_writes_nothing(client, site, mailoutbox):
    response = client.post(
        reverse("request-form", args=[site.key]), {"type": "access", "email": "nope", "country": "Germany"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="email-error"' in html and 'aria-invalid="true"' in html
    assert 'value="nope"' in html
    assert DataSubjectRequest.objects.count() == 0 and mailoutbox == []


def test_the_page_keeps_the_banners_visitor_id_and_refuses_a_malformed_one(client, site, mailoutbox):
    form_url = reverse("request-form", args=[site.key])
    filing = {"type": "access", "email": "ana@example.org"}

    bad = client.post(form_url, {**filing, "visitor_id": "not an id!"})
    good = client.post(form_url, {**filing, "visitor_id": "v_0123456789abcdef"})

    assert bad.status_code == 400
    assert "visitor id" in bad.content.decode()
    assert good.status_code == 201
    assert DataSubjectRequest.objects.get().visitor_ids == ["v_0123456789abcdef"]
    assert len(mailoutbox) == 1


def test_the_page_is_linked_from_the_policy_pages_and_the_banner_config(client, site):
    form_url = reverse("request-form", args=[site.key])

    policies = client.get(reverse("policy-index", args=[site.key]))
    try:
        config = client.get(f"/api/public/v1/sites/{site.key}/config", HTTP_ORIGIN=ORIGIN)
    finally:
        config_cache_forget()  # the per-process cache must not carry this site into other tests

    assert f'href="{form_url}?lang=en"' in policies.content.decode()
    assert config.json()["requests_url"].endswith(f"{form_url}?lang=en")


# --- Verification and the status page -------------------------------------------------------------


@pytest.fixture
def filed(client, site, mailoutbox):
    response = file_api(
        client, site, {"type": "access", "email": "ana@example.org", "residence": "DE"}, on=date(2027, 1, 31)
    )
    assert response.status_code == 201
    return DataSubjectRequest.objects.get(public_id=response.json()["id"])


def test_opening_the_verification_link_shows_a_button_and_changes_nothing(client, filed, mailoutbox):
    response = client.get(link_in(mailoutbox[0], "verify"))

    assert response.status_code == 200
    assert b'<form method="post"' in response.content
    filed.refresh_from_db()
    assert filed.status == RequestStatus.AWAITING_VERIFICATION and filed.verified_at is None


def test_confirming_verifies_the_request_records_it_and_emails_the_requester(client, filed, mailoutbox):
    verify = link_in(mailoutbox[0], "verify")

    with mock.patch("consent.requests.services.request_now", return_value=_at(date(2027, 2, 2))):
        response = client.post(verify)
        again = client.post(verify)

    assert response.status_code == 200 and again.status_code == 200
    filed.refresh_from_db()
    assert filed.status == RequestStatus.VERIFIED
    assert filed.verified_at == _at(date(2027, 2, 2))
    # Verification does not pause the EU clock (off by default): the date stays.
    assert filed.due_at == date(2027, 3, 1)
    assert filed.events.filter(action="verified").count() == 1
    assert AuditEntry.objects.filter(action="data_subject_request.verify").count() == 1
    assert len(mailoutbox) == 2 and mailoutbox[1].to == ["ana@example.org"]


def test_a_forged_or_expired_verification_link_is_refused_and_changes_nothing(client, site, filed):
    forged = reverse("request-verify", args=[site.key, f"{filed.public_id}:forged"])
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 8 * 86400):
        old = reverse("request-verify", args=[site.key, verify_token_make(public_id=filed.public_id)])

    responses = [client.post(forged), client.get(forged), client.post(old)]

    assert [response.status_code for response in responses] == [400, 400, 400]
    assert b"not valid" in responses[0].content
    assert b"expired" in responses[2].content
    filed.refresh_from_db()
    assert filed.status == RequestStatus.AWAITING_VERIFICATION
    assert filed.events.count() == 2


def test_a_verification_link_of_one_site_does_nothing_on_another(client, filed, mailoutbox):
    other = site_create(name="Other", by=None)
    token = link_in(mailoutbox[0], "verify").rstrip("/").rsplit("/", 1)[1]

    response = client.post(reverse("request-verify", args=[other.key, token]))

    assert response.status_code == 404
    filed.refresh_from_db()
    assert filed.status == RequestStatus.AWAITING_VERIFICATION


def test_the_status_page_shows_type_status_dates_and_timeline_but_never_internal_notes(
    client, filed, mailoutbox, dpo
):
    request_note_add(request=filed, note="Looks like a fishing attempt", by=dpo)

    response = client.get(link_in(mailoutbox[0], "status"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 March 2027" in html and "Awaiting email verification" in html
    assert "Verification email sent" in html
    assert "fishing" not in html and "Internal note" not in html
    assert "ana@example.org" not in html
    assert response["Cache-Control"] == "no-store"


def test_the_status_page_without_the_links_signature_is_not_found(client, site, filed):
    url = reverse("request-status", args=[site.key, filed.public_id])

    for query in ({}, {"t": "forged"}, {"t": status_token_make(public_id="someoneelse")}):
        response = client.get(url, query)
        assert response.status_code == 404
        assert b"Awaiting" not in response.content


# --- History and retention ------------------------------------------------------------------------


def test_request_events_cannot_be_changed_or_deleted_even_bypassing_the_orm(filed):
    event = filed.events.first()
    with pytest.raises(ImmutableRowError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(RequestEvent).filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(RequestEvent).filter(pk=event.pk).delete()
    assert RequestEvent.objects.filter(pk=event.pk, note="").exists()


def test_retention_purges_requests_closed_more_than_24_months_ago_with_their_history(client, site, filed):
    kept = DataSubjectRequest.objects.get(pk=filed.pk)
    old = DataSubjectRequest.objects.get(
        public_id=file_api(client, site, {"type": "deletion", "email": "b@example.org"}).json()["id"]
    )
    now = timezone.now()
    DataSubjectRequest.objects.filter(pk=old.pk).update(
        status=RequestStatus.CLOSED, closed_at=now - timedelta(days=365 * 2 + 30)
    )
    DataSubjectRequest.objects.filter(pk=kept.pk).update(
        status=RequestStatus.CLOSED, closed_at=now - timedelta(days=365 * 2 - 30)
    )

    purged = requests_retention_apply()

    assert purged[site.key] == 1
    assert list(DataSubjectRequest.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not RequestEvent.objects.filter(request_id=old.pk).exists()
    assert RequestEvent.objects.filter(request_id=kept.pk).count() == 2
    audit = AuditEntry.objects.get(action="data_subject_request.retention")
    assert audit.site == site and audit.data["requests"] == 1 and audit.data["retention_months"] == 24


def test_retention_purges_a_request_that_had_a_reminder_with_its_reminders(filed):
    now = timezone.now()
    RequestReminder.objects.create(request=filed, due_at=filed.due_at, days=7, queued_at=now, sent_at=now)
    DataSubjectRequest.objects.filter(pk=filed.pk).update(
        status=RequestStatus.CLOSED, closed_at=now - timedelta(days=365 * 2 + 30)
    )
    if connection.vendor == "postgresql":
        # The foreign keys are checked at commit, which a test never reaches: check them now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert requests_retention_apply()[filed.site.key] == 1

    assert not DataSubjectRequest.objects.filter(pk=filed.pk).exists()
    assert not RequestReminder.objects.exists()


def test_the_retention_command_purges_an_unverified_request_filed_more_than_24_months_ago(filed):
    DataSubjectRequest.objects.filter(pk=filed.pk).update(filed_at=timezone.now() - timedelta(days=800))

    call_command("consent_retention", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert not DataSubjectRequest.objects.filter(pk=filed.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the function is PostgreSQL's")
def test_on_postgresql_events_are_deleted_only_from_inside_the_retention_function(filed):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_requestevent WHERE request_id = %s", [filed.pk])
    assert filed.events.count() == 2


# --- The admin ------------------------------------------------------------------------------------


def test_a_dpo_sees_their_sites_requests_and_another_sites_people_see_nothing(client, site, filed, dpo):
    other_owner = UserFactory(username="other-owner")
    site_create(name="Other", owner=other_owner, by=None)
    viewer = UserFactory(username="viewer")
    SiteMembershipFactory(site=site, user=viewer, role=Role.VIEWER)
    changelist = reverse("admin:consent_datasubjectrequest_changelist")
    change = reverse("admin:consent_datasubjectrequest_change", args=[filed.pk])

    client.force_login(dpo)
    listed = client.get(changelist)
    page = client.get(change)
    client.force_login(other_owner)
    foreign_list = client.get(changelist)
    foreign_page = client.get(change, follow=True)
    client.force_login(viewer)
    viewer_list = client.get(changelist)

    assert listed.status_code == 200
    assert filed.public_id[:8].encode() in listed.content and b"March 1, 2027" in listed.content
    assert page.status_code == 200 and b"ana@example.org" in page.content
    assert b"Verification email sent" in page.content
    assert filed.public_id[:8].encode() not in foreign_list.content
    assert b"ana@example.org" not in foreign_page.content
    assert viewer_list.status_code == 403


def test_the_admin_cannot_add_change_or_delete_a_request(client, filed, dpo):
    client.force_login(dpo)
    add = client.get(reverse("admin:consent_datasubjectrequest_add"))
    delete = client.post(reverse("admin:consent_datasubjectrequest_delete", args=[filed.pk]), {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert DataSubjectRequest.objects.filter(pk=filed.pk).exists()


# --- Widening: language, limits, visitor ids -----------------------------------------------------


def test_the_emails_and_the_clock_are_in_the_requesters_language(client, site, mailoutbox):
    response = file_api(
        client,
        site,
        {"type": "access", "email": "ana@example.org", "residence": "DE", "language": "de"},
        on=date(2027, 1, 31),
    )

    assert response.status_code == 201
    # Dates are written the German way: the requester reads them in their language.
    assert "1. März 2027" in mailoutbox[0].body or "1 März 2027" in mailoutbox[0].body
    assert "März" in response.json()["due_explanation"]
    assert DataSubjectRequest.objects.get().language == "de"


def test_a_visitor_id_from_the_banner_is_kept_with_the_request(client, site):
    visitor = "v_0123456789abcdef"

    response = file_api(client, site, {"type": "deletion", "email": "a@example.org", "visitor_id": visitor})

    assert response.status_code == 201
    assert DataSubjectRequest.objects.get().visitor_ids == [visitor]


def test_the_form_is_limited_per_address_and_says_so_on_a_page(client, site, monkeypatch):
    monkeypatch.setattr("consent.requests.views.FILE_RATE", "1/hour")
    url = reverse("request-form", args=[site.key])

    first = client.post(url, {"type": "access", "email": "a@example.org"})
    second = client.post(url, {"type": "access", "email": "b@example.org"})

    assert (first.status_code, second.status_code) == (201, 429)
    assert b"Too many requests" in second.content
    assert DataSubjectRequest.objects.count() == 1


def test_the_pages_of_an_unknown_site_are_not_found(client):
    assert client.get("/s/nosuchsite/requests/").status_code == 404
    filing = client.post("/s/nosuchsite/requests/", {"type": "access", "email": "a@example.org"})
    assert filing.status_code == 404
    assert DataSubjectRequest.objects.count() == 0


# --- Authorised agents: the permission document is kept ------------------------------------------

PDF = b"%PDF-1.4\n% a signed permission\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def agent_filing(client, site, document, **fields):
    with mock.patch("consent.requests.services.request_now", return_value=_at(date(2027, 1, 4))):
        return client.post(
            reverse("request-form", args=[site.key]),
            {
                "type": "deletion",
                "email": "consumer@example.com",
                "country": "US",
                "region": "CA",
                "agent_name": "Agent Smith",
                "agent_email": "agent@example.com",
                "agent_document": document,
                **fields,
            },
        )


def test_an_agent_files_with_the_consumers_signed_permission_which_the_consumer_confirms(
    client, site, media, mailoutbox
):
    response = agent_filing(client, site, SimpleUploadedFile("permission.pdf", PDF))

    assert response.status_code == 201, response.content
    filed = DataSubjectRequest.objects.get()
    assert (filed.agent_name, filed.agent_email, filed.jurisdiction) == (
        "Agent Smith",
        "agent@example.com",
        "US-CA",
    )
    assert filed.agent_document_sha256 == hashlib.sha256(PDF).hexdigest()
    stored = media / filed.agent_document.name
    assert stored.read_bytes() == PDF
    # The name says nothing of the consumer, and the verification link goes to the consumer.
    assert "permission" not in filed.agent_document.name and filed.public_id in filed.agent_document.name
    assert mailoutbox[0].to == ["consumer@example.com"]
    audit = AuditEntry.objects.get(action="data_subject_request.file")
    assert audit.data["agent_document_sha256"] == filed.agent_document_sha256


def test_an_agents_document_that_is_not_a_pdf_or_image_is_refused_and_nothing_is_kept(client, site, media):
    response = agent_filing(client, site, SimpleUploadedFile("permission.pdf", b"<html>not a scan</html>"))

    assert response.status_code == 400
    assert b'id="agent_document-error"' in response.content
    assert DataSubjectRequest.objects.count() == 0
    assert not any(path.is_file() for path in media.rglob("*"))


def test_an_agent_without_a_document_is_asked_for_it(client, site, media):
    response = agent_filing(client, site, "")

    assert response.status_code == 400
    assert b'id="agent_document-error"' in response.content
    assert DataSubjectRequest.objects.count() == 0


def test_the_document_is_downloaded_by_the_sites_dpo_only_and_purged_with_its_request(
    client, site, media, dpo
):
    agent_filing(client, site, SimpleUploadedFile("permission.pdf", PDF))
    filed = DataSubjectRequest.objects.get()
    url = reverse("admin:consent_datasubjectrequest_agent_document", args=[filed.pk])
    other_owner = UserFactory(username="another-owner")
    site_create(name="Other", owner=other_owner, by=None)

    client.force_login(dpo)
    download = client.get(url)
    client.force_login(other_owner)
    foreign = client.get(url)

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/octet-stream"
    assert "attachment" in download["Content-Disposition"]
    assert foreign.status_code == 404
    stored = media / filed.agent_document.name
    DataSubjectRequest.objects.filter(pk=filed.pk).update(
        status=RequestStatus.CLOSED, closed_at=timezone.now() - timedelta(days=800)
    )
    requests_retention_apply()
    assert not DataSubjectRequest.objects.exists()
    assert not stored.exists()
