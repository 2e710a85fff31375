# ruff: noqa: F811 (the fixtures are the request tests', imported by name)
"""An authorised agent's request over HTTP (CCPA, 11 CCR §7063): the consumer is asked by email to
confirm or deny the agent, the agent gets a copy with the status link only, and until the consumer
confirms the status page and the DPO's page say so and the DPO can only refuse, close or note."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from consent.models import AuditEntry, DataSubjectRequest, RequestStatus
from tests.consent.test_request_queue import act, page
from tests.consent.test_requests import PDF, agent_filing, client, dpo, link_in, media, site  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_request(client, site, media, mailoutbox):
    response = agent_filing(client, site, SimpleUploadedFile("permission.pdf", PDF))
    assert response.status_code == 201, response.content
    return DataSubjectRequest.objects.get()


def emails_to(mailoutbox, address):
    return [message for message in mailoutbox if message.to == [address]]


def test_the_consumer_is_asked_about_the_agent_and_the_agent_gets_the_status_link_only(
    client, agent_request, mailoutbox
):
    (consumer,) = emails_to(mailoutbox, "consumer@example.com")
    (agent,) = emails_to(mailoutbox, "agent@example.com")

    assert "Agent Smith" in consumer.subject and "Agent Smith" in consumer.body
    assert "/verify/" in link_in(consumer, "verify")
    assert "/verify/" not in agent.body
    assert link_in(agent, "status") == link_in(consumer, "status")
    status = client.get(link_in(agent, "status")).content.decode()
    assert 'id="awaiting-consumer"' in status and "waiting for the consumer's confirmation" in status


def test_opening_the_link_asks_and_changes_nothing_confirming_verifies_and_records_it(
    client, agent_request, mailoutbox
):
    (consumer,) = emails_to(mailoutbox, "consumer@example.com")
    link = link_in(consumer, "verify")

    shown = client.get(link)
    agent_request.refresh_from_db()
    assert (
        shown.status_code == 200 and b'value="confirm"' in shown.content and b'value="deny"' in shown.content
    )
    assert b"Agent Smith" in shown.content
    assert agent_request.status == RequestStatus.AWAITING_VERIFICATION

    confirmed = client.post(link, {"decision": "confirm"})

    agent_request.refresh_from_db()
    assert confirmed.status_code == 200 and b"Agent confirmed" in confirmed.content
    assert agent_request.status == RequestStatus.VERIFIED and agent_request.verified_at is not None
    assert list(agent_request.events.order_by("pk").values_list("action", flat=True))[-2:] == [
        "agent_confirmed",
        "verified",
    ]
    assert AuditEntry.objects.filter(action="data_subject_request.agent_confirm").count() == 1
    status = client.get(link_in(consumer, "status")).content.decode()
    assert 'id="awaiting-consumer"' not in status and "Consumer confirmed the agent" in status
    # A second press does nothing more.
    client.post(link, {"decision": "deny"})
    agent_request.refresh_from_db()
    assert agent_request.status == RequestStatus.VERIFIED
    assert AuditEntry.objects.filter(action="data_subject_request.agent_deny").count() == 0


def test_denying_closes_the_request_with_an_event(client, agent_request, mailoutbox):
    (consumer,) = emails_to(mailoutbox, "consumer@example.com")

    denied = client.post(link_in(consumer, "verify"), {"decision": "deny"})

    agent_request.refresh_from_db()
    assert denied.status_code == 200 and b"Agent denied" in denied.content
    assert agent_request.status == RequestStatus.CLOSED and agent_request.closed_at is not None
    assert agent_request.verified_at is None
    assert agent_request.events.order_by("pk").last().action == "agent_denied"
    assert AuditEntry.objects.filter(action="data_subject_request.agent_deny").count() == 1
    again = client.get(link_in(consumer, "verify"))
    assert b"You denied this agent" in again.content


def test_a_post_without_a_decision_changes_nothing(client, agent_request, mailoutbox):
    (consumer,) = emails_to(mailoutbox, "consumer@example.com")

    response = client.post(link_in(consumer, "verify"), {})

    agent_request.refresh_from_db()
    assert response.status_code == 400 and agent_request.status == RequestStatus.AWAITING_VERIFICATION


def test_until_the_consumer_confirms_the_dpo_may_only_refuse_close_or_note(
    client, agent_request, dpo, mailoutbox
):
    client.force_login(dpo)
    shown = page(client, agent_request).content.decode()
    assert 'id="dsr-awaiting-consumer"' in shown and "waiting for the consumer" in shown
    assert 'value="refused"' in shown and 'value="closed"' in shown
    assert 'value="acknowledged"' not in shown and 'value="assigned"' not in shown
    events = agent_request.events.count()

    for action in ("acknowledged", "info_requested", "extended", "fulfilled", "assigned"):
        refused = act(client, agent_request, action, on=date(2027, 1, 5), text="Something.")
        assert b"Waiting for the consumer" in refused.content, action

    agent_request.refresh_from_db()
    assert agent_request.status == RequestStatus.AWAITING_VERIFICATION
    assert agent_request.events.count() == events
    refused = act(
        client, agent_request, "refused", on=date(2027, 1, 5), text="We could not verify the agent."
    )
    agent_request.refresh_from_db()
    assert b"Done: Refused." in refused.content and agent_request.status == RequestStatus.REFUSED
