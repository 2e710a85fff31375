# ruff: noqa: F811 (the fixtures are the request tests', imported by name)
"""The requester answers "more information requested" from their status page, over HTTP: the
DPO's question and a reply form, the reply in the DPO's timeline with its file streamed to the
site's DPOs only, the status back to where it was, the DPOs emailed, and the bounds."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consent.models import AuditEntry, DataSubjectRequest, RequestEvent, RequestStatus
from consent.requests import services
from consent.requests.retention import requests_retention_apply
from consent.sites.services import site_create
from tests.consent.test_request_queue import act, page, verified  # noqa: F401
from tests.consent.test_requests import PDF, client, dpo, filed, link_in, media, site  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

QUESTION = "Please send the order number your account used."


@pytest.fixture
def asked(client, verified, dpo, mailoutbox, media):
    """The verified EU access request, acknowledged, then more information asked by the DPO."""
    client.force_login(dpo)
    act(client, verified, "acknowledged", on=date(2027, 2, 2))
    act(client, verified, "info_requested", on=date(2027, 2, 3), text=QUESTION)
    client.logout()
    verified.refresh_from_db()
    assert verified.status == RequestStatus.INFO_REQUESTED
    status_link = link_in(mailoutbox[-1], "status")
    mailoutbox.clear()
    return verified, status_link


def reply_url(status_link):
    path, query = status_link.split("?", 1)
    return f"{path}reply/?{query}"


def test_the_status_page_shows_the_question_and_a_reply_form(client, asked):
    request_row, status_link = asked

    shown = client.get(status_link).content.decode()

    assert QUESTION in shown and 'name="text"' in shown and 'name="attachment"' in shown
    assert f'action="{reply_url(status_link).replace("&", "&amp;")}"' in shown


def test_a_reply_returns_the_request_to_its_status_and_the_dpo_sees_it_and_its_file(
    client, asked, dpo, mailoutbox
):
    request_row, status_link = asked

    response = client.post(
        reply_url(status_link),
        {"text": "Order 4711.", "attachment": SimpleUploadedFile("receipt.pdf", PDF)},
    )

    assert response.status_code == 201, response.content
    request_row.refresh_from_db()
    assert request_row.status == RequestStatus.ACKNOWLEDGED  # where it was when the DPO asked
    reply = RequestEvent.objects.get(request=request_row, action="replied")
    assert (reply.note, reply.from_status, reply.to_status) == (
        "Order 4711.",
        "info_requested",
        "acknowledged",
    )
    assert reply.actor is None and reply.attachment_sha256
    assert "receipt" not in reply.attachment.name and request_row.public_id in reply.attachment.name
    assert AuditEntry.objects.filter(action="data_subject_request.replied").count() == 1
    assert [message.to for message in mailoutbox] == [[dpo.email]]
    assert request_row.public_id[:8] in mailoutbox[0].subject
    # The DPO sees the reply on the request page and downloads the file; no form any more.
    client.force_login(dpo)
    shown = page(client, request_row).content.decode()
    url = reverse("admin:consent_datasubjectrequest_reply_attachment", args=[request_row.pk, reply.pk])
    assert "Order 4711." in shown and url in shown
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/octet-stream"
    client.logout()
    assert 'name="text"' not in client.get(status_link).content.decode()


def test_another_sites_owner_and_the_public_cannot_download_the_file(client, asked):
    request_row, status_link = asked
    client.post(reply_url(status_link), {"text": "Here.", "attachment": SimpleUploadedFile("a.png", PNG)})
    reply = RequestEvent.objects.get(request=request_row, action="replied")
    url = reverse("admin:consent_datasubjectrequest_reply_attachment", args=[request_row.pk, reply.pk])
    other_owner = UserFactory(username="another-owner")
    site_create(name="Other", owner=other_owner, by=None)

    assert client.get(url).status_code == 302  # to the admin's login
    client.force_login(other_owner)
    assert client.get(url).status_code == 404


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_file_that_is_not_a_pdf_or_image_is_refused_and_nothing_is_written(
    client, asked, media, mailoutbox
):
    request_row, status_link = asked
    events = RequestEvent.objects.count()

    response = client.post(
        reply_url(status_link),
        {"text": "Order 4711.", "attachment": SimpleUploadedFile("receipt.pdf", b"<html>no</html>")},
    )

    assert response.status_code == 400 and b'id="attachment-error"' in response.content
    request_row.refresh_from_db()
    assert request_row.status == RequestStatus.INFO_REQUESTED and RequestEvent.objects.count() == events
    assert not any(path.is_file() for path in media.rglob("*")) and mailoutbox == []


def test_an_empty_reply_a_forged_link_or_a_request_not_asking_are_refused(client, asked):
    request_row, status_link = asked

    empty = client.post(reply_url(status_link), {"text": "  "})
    forged = client.post(reply_url(status_link).replace("?t=", "?t=x"), {"text": "Hello"})
    client.post(reply_url(status_link), {"text": "Order 4711."})
    again = client.post(reply_url(status_link), {"text": "And more."})

    assert empty.status_code == 400 and b'id="text-error"' in empty.content
    assert forged.status_code == 404
    assert again.status_code == 409
    assert RequestEvent.objects.filter(action="replied").count() == 1


def test_replies_are_bounded_per_request(client, asked, dpo, monkeypatch):
    request_row, status_link = asked
    monkeypatch.setattr(services, "REPLY_MAX_PER_REQUEST", 1)
    client.post(reply_url(status_link), {"text": "Order 4711."})
    client.force_login(dpo)
    act(client, request_row, "info_requested", on=date(2027, 2, 5), text="And the date?")
    client.logout()

    refused = client.post(reply_url(status_link), {"text": "2 February."})

    request_row.refresh_from_db()
    assert refused.status_code == 409 and b"the most it takes" in refused.content
    assert request_row.status == RequestStatus.INFO_REQUESTED
    assert RequestEvent.objects.filter(action="replied").count() == 1


def test_retention_deletes_the_reply_files_with_their_request(client, asked, media):
    request_row, status_link = asked
    client.post(reply_url(status_link), {"text": "Here.", "attachment": SimpleUploadedFile("a.pdf", PDF)})
    stored = media / RequestEvent.objects.get(action="replied").attachment.name
    assert stored.read_bytes() == PDF
    DataSubjectRequest.objects.filter(pk=request_row.pk).update(
        status=RequestStatus.CLOSED, closed_at=timezone.now() - timedelta(days=800)
    )

    requests_retention_apply()

    assert not DataSubjectRequest.objects.filter(pk=request_row.pk).exists()
    assert not stored.exists()
