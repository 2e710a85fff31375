"""Data-subject requests through the management API, over HTTP: a site's backend files for a
logged-in account (verified at once), retries with an Idempotency-Key, lists and reads its
requests; scopes and tenancy refuse everything else."""

import json
from datetime import UTC, datetime
from unittest import mock

import pytest

from consent.ledger.crypto import subject_hmac
from consent.models import AuditEntry, DataSubjectRequest, RequestEvent, Role
from consent.requests.services import request_note_add
from consent.sites.services import site_create
from consent.tokens.services import token_create
from tests.config.test_api_errors import assert_error
from tests.consent.test_requests import link_in
from tests.factories import SiteMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "crm-account-4711"
VISITOR = "v-4f1c2a9e7b3d5c8a0e6f"
FILED_ON = datetime(2027, 1, 31, 10, 30, tzinfo=UTC)


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
def owner():
    return UserFactory(username="olga")


@pytest.fixture
def site(owner):
    site = site_create(
        key="shop", name="Shop", languages=["en", "de"], owner=None, by=None, establishment_country="DE"
    )
    SiteMembershipFactory(site=site, user=owner, role=Role.OWNER)
    return site


def raw_token(site, owner, scopes, name="sign-up backend"):
    return token_create(site=site, name=name, scopes=scopes, by=owner)[1]


@pytest.fixture
def token(site, owner):
    return raw_token(site, owner, ["requests:read", "requests:write"])


def post(client, raw, body, site_key="shop", **headers):
    with mock.patch("consent.requests.services.request_now", return_value=FILED_ON):
        return client.post(
            f"/api/v1/sites/{site_key}/requests",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            **headers,
        )


def get(client, raw, path="", site_key="shop", **params):
    return client.get(f"/api/v1/sites/{site_key}/requests{path}", params, HTTP_AUTHORIZATION=f"Bearer {raw}")


BODY = {"type": "access", "subject": ACCOUNT, "email": "ana@example.org", "residence": "DE"}


def test_a_backend_files_for_an_account_verified_at_once_with_its_clock_from_filing(
    client, site, token, mailoutbox
):
    response = post(client, token, {**BODY, "visitor_ids": [VISITOR]})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "verified"
    assert body["due_at"] == "2027-03-01"  # EU: one month from 31 January, past the Sunday
    assert body["jurisdiction"] == "EU"
    assert f"/s/shop/requests/{body['id']}/?t=" in body["status_url"]
    assert ACCOUNT not in response.content.decode()
    filed = DataSubjectRequest.objects.get(public_id=body["id"])
    assert filed.subject_hmac == subject_hmac(secret=site.subject_secret, subject=ACCOUNT)
    assert filed.verified_at == filed.filed_at == FILED_ON
    assert filed.visitor_ids == [VISITOR]
    events = list(filed.events.order_by("pk").values_list("action", "to_status", "note"))
    assert [event[:2] for event in events] == [("filed", "received"), ("verified", "verified")]
    assert "site's backend" in events[1][2] and "sign-up backend" in events[1][2]
    audit = AuditEntry.objects.get(action="data_subject_request.file")
    assert audit.data["token"].startswith("cst_") and audit.data["verified_by"] == "site_backend"
    assert ACCOUNT not in str(audit.data) and "ana@example.org" not in str(audit.data)
    # No verification link: the requester is told it is confirmed, with the status link.
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ana@example.org"]
    assert "/verify/" not in mailoutbox[0].body
    status_page = client.get(link_in(mailoutbox[0], "status"))
    assert status_page.status_code == 200


def test_without_a_residence_the_sites_default_law_applies(client, site, token):
    response = post(client, token, {"type": "access", "subject": ACCOUNT, "email": "ana@example.org"})

    assert response.status_code == 201, response.content
    assert response.json()["jurisdiction"] == "EU"
    assert DataSubjectRequest.objects.get().resolved_by == "site_default"


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_files_nothing(
    client, site, token, mailoutbox
):
    first = post(client, token, BODY, HTTP_IDEMPOTENCY_KEY="file-1")
    again = post(client, token, BODY, HTTP_IDEMPOTENCY_KEY="file-1")
    other = post(client, token, {**BODY, "type": "deletion"}, HTTP_IDEMPOTENCY_KEY="file-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert DataSubjectRequest.objects.count() == 1 and len(mailoutbox) == 1
    assert_error(other, 422, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "type": "nonsense"}, "type"),
        ({**BODY, "type": "blocking"}, "type"),  # a Russian type, not offered under the GDPR
        ({**BODY, "email": "not-an-address"}, "email"),
        ({**BODY, "subject": ""}, "subject"),
        ({**BODY, "subject": "bad\nid"}, "subject"),
        ({**BODY, "residence": "Germany"}, "residence"),
        ({**BODY, "visitor_ids": ["no spaces allowed"]}, "visitor_ids"),
        ({**BODY, "language": "xx"}, "language"),
        ({**BODY, "agent_name": "Agent"}, "agent_name"),
        ({k: v for k, v in BODY.items() if k != "subject"}, "subject"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(client, site, token, mailoutbox, body, field):
    audits = AuditEntry.objects.count()

    error = assert_error(post(client, token, body), 400, "invalid")

    assert field in error["fields"]
    assert DataSubjectRequest.objects.count() == 0 and RequestEvent.objects.count() == 0
    assert AuditEntry.objects.count() == audits and mailoutbox == []


def test_a_token_without_the_scope_is_refused_and_another_sites_token_sees_a_404(client, site, owner):
    read_only = raw_token(site, owner, ["requests:read"])
    consents = raw_token(site, owner, ["consents:read", "consents:write"])
    other_owner = UserFactory(username="other-owner")
    other = site_create(key="other", name="Other", owner=other_owner, by=None)
    foreign = raw_token(other, other_owner, ["requests:read", "requests:write"])

    assert_error(post(client, read_only, BODY), 403, "scope_missing")
    assert_error(get(client, consents), 403, "scope_missing")
    assert_error(post(client, foreign, BODY), 404, "not_found")
    assert_error(get(client, foreign), 404, "not_found")
    assert DataSubjectRequest.objects.count() == 0


def test_the_list_pages_and_filters_by_status_type_and_account(client, site, token):
    for number in range(3):
        post(client, token, {**BODY, "subject": f"account-{number}"})
    post(client, token, {**BODY, "type": "deletion", "subject": "account-0"})

    first = get(client, token, limit=2)
    assert first.status_code == 200, first.content
    page = first.json()
    assert len(page["results"]) == 2 and page["next_cursor"]
    rest = get(client, token, limit=2, cursor=page["next_cursor"]).json()
    assert len(rest["results"]) == 2 and rest["next_cursor"] is None
    ids = {item["id"] for item in page["results"] + rest["results"]}
    assert ids == set(DataSubjectRequest.objects.values_list("public_id", flat=True))

    deletions = get(client, token, type="deletion").json()["results"]
    assert [item["type"] for item in deletions] == ["deletion"]
    account_0 = get(client, token, subject="account-0").json()["results"]
    assert sorted(item["type"] for item in account_0) == ["access", "deletion"]
    assert get(client, token, status="closed").json()["results"] == []
    assert get(client, token, subject="nobody").json()["results"] == []
    assert "fields" in assert_error(get(client, token, status="lost"), 400, "invalid")
    assert "type" in assert_error(get(client, token, type="lost"), 400, "invalid")["fields"]


def test_the_detail_has_status_clock_and_timeline_without_internal_notes(client, site, token, owner):
    filed = post(client, token, BODY).json()
    request = DataSubjectRequest.objects.get(public_id=filed["id"])
    request_note_add(request=request, note="Secret: the CRM has two accounts", by=owner)

    response = get(client, token, f"/{filed['id']}")

    assert response.status_code == 200, response.content
    assert response["ETag"]
    body = response.json()
    assert body["status"] == "verified" and body["due_at"] == "2027-03-01"
    assert body["clock"]["due_on"] == "2027-03-01" and body["clock"]["day_type"] == "calendar_days"
    assert [event["action"] for event in body["timeline"]] == ["filed", "verified"]
    assert "Secret" not in response.content.decode()
    assert_error(get(client, token, "/not-a-request"), 404, "not_found")


def test_another_sites_request_is_a_404_never_its_data(client, site, token, owner):
    other_owner = UserFactory(username="other-owner")
    other = site_create(key="other", name="Other", owner=other_owner, by=None)
    theirs = post(client, raw_token(other, other_owner, ["requests:write"]), BODY, site_key="other").json()

    response = get(client, token, f"/{theirs['id']}")

    assert_error(response, 404, "not_found")
    assert "ana@example.org" not in response.content.decode()
    assert get(client, token).json()["results"] == []
