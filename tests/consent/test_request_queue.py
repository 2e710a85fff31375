# ruff: noqa: F811 (the fixtures are the request tests', imported by name)
"""The DPO's queue over HTTP in the admin: the actions a request's status and law allow, the emails
the requester gets at each step, the request webhooks at a real receiver, and the DPOs' reminders."""

import secrets
import smtplib
from datetime import date, timedelta
from unittest import mock

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consent.models import (
    AuditEntry,
    DataSubjectRequest,
    RequestEvent,
    RequestReminder,
    RequestStatus,
    Role,
    WebhookEvent,
)
from consent.requests.services import request_reminder_send, request_verify, requests_deadlines_watch
from consent.requests.tokens import status_token_make
from consent.sites.services import site_create
from consent.webhooks.dispatch import webhooks_dispatch_round
from consent.webhooks.services import webhook_endpoint_create
from tests.consent.test_requests import _at, client, dpo, file_api, filed, site  # noqa: F401
from tests.consent.test_webhooks import Receiver, receiver  # noqa: F401
from tests.factories import SiteMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def act(client, request_row, action, *, on: date, text: str = "", **fields):
    url = reverse("admin:consent_datasubjectrequest_act", args=[request_row.pk])
    with mock.patch("consent.requests.services.request_now", return_value=_at(on)):
        return client.post(url, {"action": action, "text": text, **fields}, follow=True)


def page(client, request_row):
    return client.get(reverse("admin:consent_datasubjectrequest_change", args=[request_row.pk]))


@pytest.fixture
def verified(filed):
    """The EU access request filed on 31 January 2027 (due Monday 1 March), its address verified."""
    return request_verify(request=filed, now=_at(date(2027, 2, 1)))


def file_ca_deletion(client, site):
    body = {"type": "deletion", "email": "cal@example.com", "residence": "US-CA"}
    response = file_api(client, site, body, on=date(2027, 1, 4))
    request_row = DataSubjectRequest.objects.get(public_id=response.json()["id"])
    return request_verify(request=request_row, now=_at(date(2027, 1, 5)))


def test_the_dpo_acknowledges_and_fulfils_from_the_request_page_and_the_requester_hears_of_each_step(
    client, site, verified, dpo, mailoutbox
):
    client.force_login(dpo)
    before = page(client, verified).content.decode()
    mailoutbox.clear()

    acknowledged = act(client, verified, "acknowledged", on=date(2027, 2, 2))
    fulfilled = act(client, verified, "fulfilled", on=date(2027, 2, 10), text="Here is your data: attached.")

    verified.refresh_from_db()
    assert 'name="action" value="acknowledged"' in before and "We have completed your request" in before
    assert "Clock" in before and "1 calendar month" in before
    assert acknowledged.status_code == 200 and b"Done: Acknowledged." in acknowledged.content
    assert b"Done: Fulfilled." in fulfilled.content
    assert (
        verified.status == RequestStatus.FULFILLED
        and verified.response_text == "Here is your data: attached."
    )
    actions = list(RequestEvent.objects.filter(request=verified).values_list("action", "actor__username"))
    # An access request answered without a package gets one (consent/requests/package.py).
    assert actions[-3:] == [("acknowledged", "dpo"), ("package_generated", "dpo"), ("fulfilled", "dpo")]
    audits = AuditEntry.objects.filter(action__startswith="data_subject_request.").values_list(
        "action", flat=True
    )
    assert {"data_subject_request.acknowledged", "data_subject_request.fulfilled"} <= set(audits)
    assert [message.to for message in mailoutbox] == [["ana@example.org"], ["ana@example.org"]]
    assert "working on it" in mailoutbox[0].body and "/requests/" in mailoutbox[0].body
    assert "Here is your data: attached." in mailoutbox[1].body
    # Fulfilled: only closing is left.
    after = page(client, verified).content.decode()
    assert 'value="closed"' in after and 'value="acknowledged"' not in after


def test_a_refusal_carries_the_jurisdictions_right_to_complain(client, site, verified, dpo, mailoutbox):
    client.force_login(dpo)
    mailoutbox.clear()

    act(client, verified, "refused", on=date(2027, 2, 3), text="We hold no data about this address.")

    verified.refresh_from_db()
    assert verified.status == RequestStatus.REFUSED
    [message] = mailoutbox
    assert "We hold no data about this address." in message.body
    assert "supervisory authority" in message.body


def test_an_extension_before_the_first_deadline_moves_it_once_and_after_it_is_refused(
    client, site, dpo, mailoutbox
):
    early = file_ca_deletion(client, site)
    late = file_ca_deletion(client, site)
    client.force_login(dpo)
    mailoutbox.clear()

    extended = act(
        client, early, "extended", on=date(2027, 2, 10), text="Our archive must be searched by hand."
    )
    again = act(client, early, "extended", on=date(2027, 2, 11), text="Still searching.")
    too_late = act(client, late, "extended", on=date(2027, 2, 19), text="Sorry, we forgot.")
    no_reason = act(client, late, "extended", on=date(2027, 2, 1), text=" ")

    early.refresh_from_db()
    late.refresh_from_db()
    assert early.due_at == date(2027, 4, 4) and early.status == RequestStatus.EXTENDED
    assert early.extension_reason == "Our archive must be searched by hand."
    assert "Extended with notice from the first deadline" in early.due_explanation
    assert b"Done: Extended with notice." in extended.content
    assert b"This cannot be done on a request that is Extended." in again.content
    assert b"The deadline of 18 February 2027 has passed" in too_late.content
    assert b"An extension needs the reasons" in no_reason.content
    assert late.due_at == date(2027, 2, 18) and late.status == RequestStatus.VERIFIED
    [notice] = mailoutbox
    assert notice.to == ["cal@example.com"] and "Our archive must be searched by hand." in notice.body
    assert "4 April 2027" in notice.body


def test_acting_on_a_closed_request_is_refused_and_writes_nothing(client, site, verified, dpo, mailoutbox):
    client.force_login(dpo)
    act(client, verified, "closed", on=date(2027, 2, 3), text="Duplicate of another request.")
    events = RequestEvent.objects.count()
    mailoutbox.clear()

    refusals = [
        act(client, verified, action, on=date(2027, 2, 4), text="Something.")
        for action in (
            "acknowledged",
            "info_requested",
            "extended",
            "fulfilled",
            "refused",
            "closed",
            "assigned",
        )
    ]

    verified.refresh_from_db()
    assert verified.status == RequestStatus.CLOSED and verified.closed_at is not None
    assert all(b"This request is closed" in response.content for response in refusals)
    assert RequestEvent.objects.count() == events and mailoutbox == []
    assert b'name="action"' not in page(client, verified).content


def test_an_unverified_request_can_only_be_refused_or_closed(client, site, filed, dpo):
    client.force_login(dpo)

    response = act(client, filed, "acknowledged", on=date(2027, 2, 1))

    filed.refresh_from_db()
    assert b"has not verified their email address yet" in response.content
    assert filed.status == RequestStatus.AWAITING_VERIFICATION


def test_a_request_is_assigned_to_a_member_and_the_queue_filters_by_assignee(client, site, verified, dpo):
    colleague = UserFactory(username="colleague")
    SiteMembershipFactory(site=site, user=colleague, role=Role.OWNER)
    stranger = UserFactory(username="stranger")
    client.force_login(dpo)

    refused = act(client, verified, "assigned", on=date(2027, 2, 2), assignee=stranger.pk)
    act(client, verified, "assigned", on=date(2027, 2, 2), assignee=colleague.pk)
    changelist = reverse("admin:consent_datasubjectrequest_changelist")
    mine = client.get(changelist, {"assignee": str(colleague.pk)})
    nobodys = client.get(changelist, {"assignee": "none"})

    verified.refresh_from_db()
    assert b"Assign it to an owner or DPO of the site." in refused.content
    assert verified.assignee == colleague
    assert verified.public_id[:8].encode() in mine.content
    assert verified.public_id[:8].encode() not in nobodys.content
    assert b"stranger" not in mine.content
    assert RequestEvent.objects.filter(request=verified, action="assigned", note="colleague").exists()
    # An assignment is internal: never on the requester's status page.
    status = client.get(
        reverse("request-status", args=[site.key, verified.public_id]),
        {"t": status_token_make(public_id=verified.public_id)},
    )
    assert status.status_code == 200 and b"Verified" in status.content and b"Assigned" not in status.content


def test_asking_for_more_information_emails_the_dpos_text_and_a_viewer_cannot_act(
    client, site, verified, dpo, mailoutbox
):
    viewer = UserFactory(username="viewer")
    SiteMembershipFactory(site=site, user=viewer, role=Role.VIEWER)
    mailoutbox.clear()
    client.force_login(viewer)
    as_viewer = act(client, verified, "info_requested", on=date(2027, 2, 2), text="Send your order number.")
    client.force_login(dpo)
    empty = act(client, verified, "info_requested", on=date(2027, 2, 2), text="  ")
    asked = act(client, verified, "info_requested", on=date(2027, 2, 2), text="Send your order number.")

    verified.refresh_from_db()
    assert as_viewer.status_code == 404
    assert b"Write what the requester should send." in empty.content
    assert b"Done: More information requested." in asked.content
    assert verified.status == RequestStatus.INFO_REQUESTED
    [message] = mailoutbox
    assert message.to == ["ana@example.org"] and "Send your order number." in message.body


def test_the_queue_lists_open_requests_by_time_left_with_overdue_and_due_soon_marked(client, site, dpo):
    soon = file_ca_deletion(client, site)
    overdue = file_ca_deletion(client, site)
    later = file_ca_deletion(client, site)
    closed = file_ca_deletion(client, site)
    today = date(2027, 2, 16)
    DataSubjectRequest.objects.filter(pk=soon.pk).update(due_at=date(2027, 2, 18))
    DataSubjectRequest.objects.filter(pk=overdue.pk).update(due_at=date(2027, 2, 10))
    DataSubjectRequest.objects.filter(pk=later.pk).update(due_at=date(2027, 3, 30))
    DataSubjectRequest.objects.filter(pk=closed.pk).update(status=RequestStatus.CLOSED)
    client.force_login(dpo)

    with mock.patch("django.utils.timezone.localdate", return_value=today):
        html = client.get(reverse("admin:consent_datasubjectrequest_changelist")).content.decode()

    ids = [row.public_id[:8] for row in (overdue, soon, later)]
    positions = [html.index(short) for short in ids]
    assert positions == sorted(positions)
    assert closed.public_id[:8] not in html
    assert '<span class="dsr-overdue">6 days overdue</span>' in html
    assert '<span class="dsr-due-soon">2 days</span>' in html
    assert "admin-requests.css" in html and "style=" not in html.split("<body", 1)[1]
    changelist = reverse("admin:consent_datasubjectrequest_changelist")
    eu_only = client.get(changelist, {"jurisdiction": "EU"}).content.decode()
    ca_only = client.get(changelist, {"jurisdiction": "US-CA", "type": "deletion"}).content.decode()
    assert soon.public_id[:8] not in eu_only and soon.public_id[:8] in ca_only


def test_another_sites_dpo_sees_nothing_and_cannot_act(client, site, verified):
    other = UserFactory(username="other-dpo")
    other_site = site_create(name="Other", owner=None, by=None)
    SiteMembershipFactory(site=other_site, user=other, role=Role.DPO)
    client.force_login(other)

    listed = client.get(reverse("admin:consent_datasubjectrequest_changelist"), {"state": "all"})
    response = act(client, verified, "acknowledged", on=date(2027, 2, 2))

    verified.refresh_from_db()
    assert verified.public_id[:8].encode() not in listed.content
    assert response.status_code == 404
    assert verified.status == RequestStatus.VERIFIED


def test_an_action_needs_a_post_with_the_csrf_token(client, site, verified, dpo):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(dpo)
    url = reverse("admin:consent_datasubjectrequest_act", args=[verified.pk])

    assert strict.get(url).status_code == 405
    assert strict.post(url, {"action": "acknowledged"}).status_code == 403
    verified.refresh_from_db()
    assert verified.status == RequestStatus.VERIFIED


# --- Webhooks and reminders ----------------------------------------------------------------------


def test_request_webhooks_arrive_at_the_receiver_without_the_requesters_email(
    client,
    site,
    dpo,
    receiver,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    endpoint, secret = webhook_endpoint_create(
        site=site,
        url=receiver.url,
        events=["request.created", "request.due_soon", "request.overdue", "request.closed"],
        by=None,
    )
    request_row = file_ca_deletion(client, site)  # due 18 February 2027
    for day in (
        date(2027, 2, 14),
        date(2027, 2, 16),
        date(2027, 2, 17),
        date(2027, 2, 19),
        date(2027, 2, 20),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_dispatch_round(now=_at(day), late=True)
    client.force_login(dpo)
    act(client, request_row, "closed", on=date(2027, 2, 21))

    events = receiver.events(secret)
    assert [event["type"] for event in events] == [
        "request.created",
        "request.due_soon",
        "request.overdue",
        "request.closed",
    ]
    data = events[0]["data"]
    assert data["id"] == request_row.public_id and data["type"] == "deletion"
    assert data["jurisdiction"] == "US-CA" and data["due_at"] == "2027-02-18"
    assert events[3]["data"]["status"] == "closed" and events[3]["data"]["closed_at"]
    assert all("cal@example.com" not in str(event) for event in events)
    assert WebhookEvent.objects.filter(type__startswith="request.").count() == 4


def test_the_dpos_get_each_reminder_once(
    client, site, dpo, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REQUEST_REMINDER_DAYS = (7, 2)
    dpo.email = "dpo@shop.example"
    dpo.save()
    request_row = file_ca_deletion(client, site)  # due 18 February 2027
    mailoutbox.clear()
    sent = []
    for day in (
        date(2027, 2, 10),
        date(2027, 2, 11),
        date(2027, 2, 12),
        date(2027, 2, 16),
        date(2027, 2, 17),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            sent.append(requests_deadlines_watch(now=_at(day)))

    assert sent == [0, 1, 0, 1, 0]
    assert [message.to for message in mailoutbox] == [["dpo@shop.example"], ["dpo@shop.example"]]
    assert "due on 18 February 2027" in mailoutbox[0].subject
    assert reverse("admin:consent_datasubjectrequest_change", args=[request_row.pk]) in mailoutbox[0].body
    # Never on the requester's status page.
    assert RequestEvent.objects.filter(request=request_row, action="reminded").count() == 2


def test_a_watch_that_was_down_sends_one_reminder_not_several(
    client, site, dpo, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REQUEST_REMINDER_DAYS = (7, 2)
    dpo.email = "dpo@shop.example"
    dpo.save()
    file_ca_deletion(client, site)
    mailoutbox.clear()

    for _round in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            requests_deadlines_watch(now=_at(date(2027, 2, 17)))

    assert len(mailoutbox) == 1


def test_the_queue_page_costs_the_same_few_queries_with_four_requests_or_forty(
    client, site, dpo, django_assert_max_num_queries
):
    # The user's sites are read once per request, not once per model of the sidebar and per row.
    client.force_login(dpo)
    changelist = reverse("admin:consent_datasubjectrequest_changelist")
    template = file_ca_deletion(
        client, site
    )  # filed once; the others copy it (the filing limit is per address)
    for count in (4, 40):
        while DataSubjectRequest.objects.filter(site=site).count() < count:
            template.pk, template.public_id = None, secrets.token_urlsafe(16)
            template.save(force_insert=True)
        with django_assert_max_num_queries(12):  # 9 at the time of writing, whatever the count
            assert client.get(changelist).status_code == 200


class RefusingMailServer(BaseEmailBackend):
    """A mail server that is down: every send raises, as smtplib's does."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("down")


def test_a_reminder_is_recorded_only_once_its_email_was_sent_and_a_failed_send_is_queued_again(
    client, site, dpo, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REQUEST_REMINDER_DAYS = (7,)
    dpo.email = "dpo@shop.example"
    dpo.save()
    request_row = file_ca_deletion(client, site)  # due 18 February 2027
    mailoutbox.clear()
    claimed_at = _at(date(2027, 2, 11))

    settings.EMAIL_BACKEND = "tests.consent.test_request_queue.RefusingMailServer"
    with django_capture_on_commit_callbacks(execute=True):
        requests_deadlines_watch(now=claimed_at)
    reminder = RequestReminder.objects.get(request=request_row)
    failed_events = RequestEvent.objects.filter(request=request_row, action="reminded").count()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        soon = requests_deadlines_watch(now=claimed_at + timedelta(minutes=5))
    still_unsent = RequestReminder.objects.get(request=request_row).sent_at
    with django_capture_on_commit_callbacks(execute=True):
        requests_deadlines_watch(now=claimed_at + timedelta(minutes=20))

    assert (reminder.days, reminder.due_at, reminder.sent_at) == (7, date(2027, 2, 18), None)
    assert failed_events == 0  # the send failed: no "Reminder sent" in the history
    assert soon == 0 and still_unsent is None  # not queued again at once
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["dpo@shop.example"]
    assert RequestReminder.objects.get(request=request_row).sent_at is not None
    assert RequestEvent.objects.filter(request=request_row, action="reminded").count() == 1


def test_two_workers_with_the_same_reminder_job_send_it_once(
    client, site, dpo, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REQUEST_REMINDER_DAYS = (7,)
    dpo.email = "dpo@shop.example"
    dpo.save()
    request_row = file_ca_deletion(client, site)
    RequestReminder.objects.create(
        request=request_row, due_at=request_row.due_at, days=7, queued_at=_at(date(2027, 2, 11))
    )
    mailoutbox.clear()

    first = request_reminder_send(request=request_row, days=7)
    second = request_reminder_send(request=request_row, days=7)

    assert (first, second) == (True, False)
    assert len(mailoutbox) == 1
    assert RequestEvent.objects.filter(request=request_row, action="reminded").count() == 1


def test_a_watch_round_reads_the_sent_reminders_in_one_query_whatever_the_number_of_candidates(
    client, site, dpo, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    settings.REQUEST_REMINDER_DAYS = (7,)
    template = file_ca_deletion(client, site)  # due 18 February 2027
    queries = {}
    for count in (3, 12):
        while DataSubjectRequest.objects.filter(site=site).count() < count:
            template.pk, template.public_id = None, secrets.token_urlsafe(16)
            template.save(force_insert=True)
        with django_capture_on_commit_callbacks(execute=True):
            requests_deadlines_watch(now=_at(date(2027, 2, 11)))  # claims each one's reminder
        with CaptureQueriesContext(connection) as captured:
            assert requests_deadlines_watch(now=_at(date(2027, 2, 12))) == 0
        queries[count] = len(captured)

    assert queries[3] == queries[12] <= 4


def test_the_request_page_says_the_days_left_in_the_deadlines_kind_of_day(client, site, dpo):
    body = {"type": "access", "email": "ivan@example.ru", "residence": "RU"}
    response = file_api(client, site, body, on=date(2026, 12, 26))  # due 19 January 2027
    request_row = request_verify(
        request=DataSubjectRequest.objects.get(public_id=response.json()["id"]), now=_at(date(2026, 12, 27))
    )
    client.force_login(dpo)

    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 12, 30)):
        html = page(client, request_row).content.decode()
    with mock.patch("django.utils.timezone.localdate", return_value=date(2027, 1, 18)):
        last_day = page(client, request_row).content.decode()

    assert "7 working days left: due on 19 January 2027." in html
    assert "1 working day left: due on 19 January 2027." in last_day
