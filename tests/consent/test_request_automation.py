"""What Consentry does itself for a data-subject request, over HTTP, in the admin and in the
database: the access package (JSON and page) of the account's and its visitors' consent history,
downloaded from the status link; a deletion's redaction (the ledger still verifies), its webhook
to the site's backend and the backend's confirmation through the management API; opt-outs and
withdrawals recorded in the ledger; the DPO's Automation panel; and tenancy throughout."""

import hashlib
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from consent.ledger.seal import ledger_seal
from consent.ledger.verify import ledger_verify
from consent.models import (
    AuditEntry,
    ConsentRecord,
    DataSubjectRequest,
    ImmutableRowError,
    RequestEvent,
    RequestPackage,
    RequestStatus,
    Role,
    SiteMembership,
    SubjectLink,
    WebhookEvent,
)
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.requests.retention import requests_retention_apply
from consent.requests.services import request_verify
from consent.requests.tokens import status_token_make, verify_token_make
from consent.sites.services import purpose_create, site_create
from consent.subjects.selectors import subject_ref
from consent.tokens.services import token_create
from consent.webhooks.services import webhook_endpoint_create
from tests.config.test_api_errors import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example"
ACCOUNT = "account-4711@crm"
VISITOR = "v-7f3a9c2e4b1d8a6f0c5e"  # named by the request
LINKED = "v-aa11bb22cc33dd44ee55"  # linked to the account
STRANGER = "v-00112233445566778899"  # another visitor of the same site
SCOPES = ["consents:read", "consents:write", "requests:read", "requests:write"]


def _site(key: str, origin: str, username: str):
    site = site_create(
        key=key,
        name=key.title(),
        languages=["en", "ru"],
        origins=[origin],
        default_jurisdiction="EU",
        by=None,
    )
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    purpose_create(
        site=site, key="marketing", texts={"en": ("Marketing", "Ads.")}, is_sale_or_share=True, by=None
    )
    dpo = UserFactory(username=username, is_staff=True)
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    document = policy_document_create(site=site, kind="pd_consent", languages=["ru"], by=None)
    policy_text_set(document=document, language="ru", title="Согласие", body="Я согласен.", by=None)
    policy_version_publish(document=document, effective_at=timezone.now(), by=dpo)
    site.dpo = dpo
    return site


@pytest.fixture
def shop():
    return _site("shop", ORIGIN, "dora")


@pytest.fixture
def other():
    return _site("other", "https://other.example", "otto")


def token(site, scopes=SCOPES):
    _, raw = token_create(site=site, name="backend", scopes=scopes, by=site.dpo)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def banner_post(client, site_key, origin, visitor_id, **changes):
    data = {
        "visitor_id": visitor_id,
        "action": "accept_all",
        "granted": ["analytics", "marketing"],
        "denied": [],
        "versions": {},
        "language": "en",
        "ui_layer": "first_layer",
        "page_url": f"{origin}/",
        **changes,
    }
    response = client.post(
        f"/api/public/v1/sites/{site_key}/consents",
        json.dumps(data),
        content_type="application/json",
        HTTP_ORIGIN=origin,
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT="Mozilla/5.0 (Test)",
    )
    assert response.status_code == 201, response.content
    return response.json()["receipt_id"]


def account_post(client, site, headers, visitor_id=LINKED):
    """The site's backend records a sign-up for the account, linking the browser `visitor_id`."""
    body = {
        "subject": ACCOUNT,
        "purposes_granted": ["analytics"],
        "purposes_denied": [],
        "versions": {"policies": {"pd-consent": 1}},
        "collection_method": "sign_up_form",
        "language": "ru",
        "jurisdiction": "RU",
        "visitor_id": visitor_id,
    }
    response = client.post(
        f"/api/v1/sites/{site.key}/consents", json.dumps(body), content_type="application/json", **headers
    )
    assert response.status_code == 201, response.content
    return response.json()["receipt_id"]


@pytest.fixture
def history(client, shop, other):
    """The shop's ledger: the request's visitor, the account (with a linked browser), a stranger,
    and the other site's record for the same visitor id (not the shop's to give)."""
    headers = token(shop)
    receipts = {
        "visitor": banner_post(client, "shop", ORIGIN, VISITOR),
        "account": account_post(client, shop, headers),
        "linked": banner_post(
            client, "shop", ORIGIN, LINKED, action="reject_all", granted=[], denied=["analytics", "marketing"]
        ),
        "stranger": banner_post(client, "shop", ORIGIN, STRANGER),
        "other_site": banner_post(client, "other", "https://other.example", VISITOR),
    }
    assert SubjectLink.objects.filter(site=shop, visitor_id=LINKED).exists()
    return receipts


def file(
    client, site, type_, *, residence="DE", visitor_id=VISITOR, account=True, language="ru", verify=True
):
    body = {"type": type_, "email": "ana@example.org", "residence": residence, "language": language}
    if visitor_id:
        body["visitor_id"] = visitor_id
    response = client.post(
        f"/api/public/v1/sites/{site.key}/requests", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    request_row = DataSubjectRequest.objects.get(public_id=response.json()["id"])
    if account:
        # As the management API's filing for a logged-in user leaves it: the account's keyed hash.
        DataSubjectRequest.objects.filter(pk=request_row.pk).update(
            subject_hmac=subject_ref(site=site, subject=ACCOUNT)
        )
        request_row.refresh_from_db()
    return request_verify(request=request_row) if verify else request_row


def automate(client, request_row, action, **fields):
    url = reverse("admin:consent_datasubjectrequest_automate", args=[request_row.pk])
    return client.post(url, {"action": action, **fields}, follow=True)


def act(client, request_row, action, text=""):
    url = reverse("admin:consent_datasubjectrequest_act", args=[request_row.pk])
    return client.post(url, {"action": action, "text": text}, follow=True)


def page(client, request_row):
    return client.get(
        reverse("admin:consent_datasubjectrequest_change", args=[request_row.pk])
    ).content.decode()


def package_url(request_row, fmt, public_id=None):
    public_id = public_id or request_row.public_id
    return (
        reverse("request-package", args=[request_row.site.key, public_id, fmt])
        + f"?t={status_token_make(public_id=request_row.public_id)}"
    )


def events(request_row):
    return list(RequestEvent.objects.filter(request=request_row).values_list("action", flat=True))


# --- Access and portability ------------------------------------------------------------------------


def test_the_access_package_holds_the_accounts_and_linked_visitors_records_and_no_one_elses(
    client, shop, history
):
    request_row = file(client, shop, "access")
    client.force_login(shop.dpo)

    response = automate(client, request_row, "generate_package")

    assert "Package generated: 3 records." in response.content.decode()
    package = RequestPackage.objects.get(request=request_row, format="json")
    data = json.loads(package.content)
    receipts = {record["receipt_id"] for record in data["records"]}
    assert receipts == {history["visitor"], history["account"], history["linked"]}
    assert data["schema"] == "consentry.consent-history/1" and data["record_count"] == 3
    assert set(data["subject"]["visitor_ids"]) == {VISITOR, LINKED} and data["subject"]["has_account"]
    visitor_record = next(record for record in data["records"] if record["receipt_id"] == history["visitor"])
    assert visitor_record["action"] == "accept_all" and visitor_record["source"] == "banner"
    assert {"analytics", "marketing"} <= set(visitor_record["purposes_granted"])
    assert visitor_record["receipt_url"].endswith(f"/api/public/v1/receipts/{history['visitor']}")
    account_record = next(record for record in data["records"] if record["receipt_id"] == history["account"])
    assert (
        account_record["source"] == "backend"
        and account_record["versions"]["policies"]["pd-consent"]["number"] == 1
    )
    html = RequestPackage.objects.get(request=request_row, format="html").content
    assert '<html lang="ru">' in html and history["account"] in html and history["stranger"] not in html
    assert "pd-consent 1" in html  # the policy edition the account's record pinned
    assert package.content_sha256 == hashlib.sha256(package.content.encode()).hexdigest()
    assert "package_generated" in events(request_row)
    audit = AuditEntry.objects.get(action="data_subject_request.package")
    assert audit.actor == shop.dpo and audit.data["records"] == 3
    panel = page(client, request_row)
    assert 'id="automation"' in panel and "Package generated" in panel and "3 records" in panel


def test_the_requester_downloads_the_package_from_the_status_page_once_fulfilled_and_never_another(
    client, shop, history, mailoutbox, django_capture_on_commit_callbacks
):
    request_row = file(client, shop, "portability")
    other_row = file(client, shop, "access", visitor_id=STRANGER, account=False)
    client.force_login(shop.dpo)
    before = client.get(package_url(request_row, "json"))

    with django_capture_on_commit_callbacks(execute=True):
        fulfilled = act(client, request_row, "fulfilled", "Your data is attached.")
    client.logout()

    with translation.override("ru"):  # the requester's language
        ready = gettext("Your consent history is ready to download from your request's page.")
    assert before.status_code == 404
    assert "Done: Fulfilled." in fulfilled.content.decode()
    assert ready in mailoutbox[-1].body and f"/requests/{request_row.public_id}/" in mailoutbox[-1].body
    status = client.get(
        reverse("request-status", args=["shop", request_row.public_id])
        + f"?t={status_token_make(public_id=request_row.public_id)}"
    ).content.decode()
    assert 'id="package"' in status and "package.json" in status and "package.html" in status
    download = client.get(package_url(request_row, "json"))
    assert download.status_code == 200 and download["Content-Type"].startswith("application/json")
    assert "attachment" in download["Content-Disposition"] and download["Cache-Control"] == "no-store"
    data = json.loads(download.content)
    assert {record["receipt_id"] for record in data["records"]} == {
        history["visitor"],
        history["account"],
        history["linked"],
    }
    readable = client.get(package_url(request_row, "html"))
    assert readable.status_code == 200 and readable["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in readable and history["visitor"] in readable.content.decode()
    # Another request's link (its own signature) never opens this request's package, nor the
    # other way round; nor does a format that is not one, nor a request not fulfilled.
    wrong_token = reverse("request-package", args=["shop", request_row.public_id, "json"]) + (
        f"?t={status_token_make(public_id=other_row.public_id)}"
    )
    assert client.get(wrong_token).status_code == 404
    assert client.get(package_url(other_row, "json")).status_code == 404
    assert client.get(package_url(request_row, "xml")).status_code == 404
    assert (
        client.get(reverse("request-package", args=["other", request_row.public_id, "json"])).status_code
        == 404
    )


def test_an_empty_history_is_a_package_that_says_so_generated_at_fulfilment(client, shop, history):
    request_row = file(client, shop, "access", visitor_id=None, account=False)
    client.force_login(shop.dpo)

    act(client, request_row, "fulfilled", "Nothing is held.")

    package = RequestPackage.objects.get(request=request_row, format="json")
    data = json.loads(package.content)
    assert data["record_count"] == 0 and data["records"] == []
    assert data["summary"]
    assert client.get(package_url(request_row, "json")).status_code == 200


def test_a_package_is_generated_only_for_a_verified_access_request(client, shop, history):
    unverified = file(client, shop, "access", verify=False)
    deletion = file(client, shop, "deletion")
    client.force_login(shop.dpo)

    first = automate(client, unverified, "generate_package").content.decode()
    second = automate(client, deletion, "generate_package").content.decode()

    assert "not verified" in first or "answered yet" in first
    assert "Only access and portability requests" in second
    assert RequestPackage.objects.count() == 0


# --- Deletion --------------------------------------------------------------------------------------


@pytest.fixture
def hooked(shop):
    endpoint, _secret = webhook_endpoint_create(
        site=shop, url="https://backend.shop.example/hooks", events=["request.erasure_requested"], by=None
    )
    return endpoint


def test_a_deletion_redacts_the_ledger_the_proofs_still_verify_and_the_backend_is_asked(
    client, shop, history, hooked
):
    ledger_seal(site=shop)
    request_row = file(client, shop, "deletion")
    client.force_login(shop.dpo)

    response = automate(client, request_row, "erase")

    assert "3 ledger records redacted." in response.content.decode()
    for key in ("visitor", "account", "linked"):
        record = ConsentRecord.objects.get(receipt_id=history[key])
        assert record.is_redacted and record.visitor_id is None and record.subject_hmac is None
    assert not ConsentRecord.objects.get(receipt_id=history["stranger"]).is_redacted
    assert not ConsentRecord.objects.get(receipt_id=history["other_site"]).is_redacted
    assert not SubjectLink.objects.filter(site=shop).exists()
    report = ledger_verify(site=shop)
    assert report.problems == [] and report.redacted == 3
    out = StringIO()
    call_command("consent_verify", site="shop", stdout=out)
    assert "The ledger verifies." in out.getvalue()
    event = WebhookEvent.objects.get(site=shop, type="request.erasure_requested")
    assert event.payload["id"] == request_row.public_id and event.payload["type"] == "deletion"
    assert set(event.payload["visitor_ids"]) == {VISITOR, LINKED}
    assert event.payload["subject_ref"] == subject_ref(site=shop, subject=ACCOUNT)
    assert "ana@example.org" not in json.dumps(event.payload)
    erased = RequestEvent.objects.get(request=request_row, action="erased")
    assert "3 ledger records redacted" in erased.note
    assert AuditEntry.objects.get(action="data_subject_request.erase").data["records"] == 3
    panel = page(client, request_row)
    assert (
        "Waiting for the site&#x27;s backend to confirm" in panel or "Waiting for the site's backend" in panel
    )
    # Fulfilling before the backend confirms is refused, with the reason.
    refused = act(client, request_row, "fulfilled", "Deleted.").content.decode()
    assert "has not confirmed its erasure yet" in refused
    request_row.refresh_from_db()
    assert request_row.status == RequestStatus.VERIFIED
    # Erasing twice is refused.
    assert "erased already" in automate(client, request_row, "erase").content.decode()
    # The backend got the event: it confirms itself, the DPO cannot do it for it.
    by_hand = automate(client, request_row, "confirm_erasure", note="I asked them.").content.decode()
    assert "confirms its erasure itself" in by_hand and 'value="confirm_erasure"' not in panel
    assert not RequestEvent.objects.filter(request=request_row, action="erasure_confirmed").exists()


def confirm(client, site_key, public_id, body, headers):
    return client.post(
        f"/api/v1/sites/{site_key}/requests/{public_id}/erasure-confirmation",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_the_backend_confirms_its_erasure_with_its_token_and_the_request_can_then_be_fulfilled(
    client, shop, history, hooked
):
    request_row = file(client, shop, "deletion")
    client.force_login(shop.dpo)
    automate(client, request_row, "erase")
    client.logout()
    headers = token(shop, ["requests:write"])

    response = confirm(
        client, "shop", request_row.public_id, {"note": "CRM rows and mailing list deleted."}, headers
    )

    assert response.status_code == 201, response.content
    assert response.json()["request"] == request_row.public_id
    confirmed = RequestEvent.objects.get(request=request_row, action="erasure_confirmed")
    assert confirmed.note == "CRM rows and mailing list deleted." and confirmed.actor == shop.dpo
    audit = AuditEntry.objects.get(action="data_subject_request.erasure_confirm")
    assert audit.data["token"].startswith("cst_") and audit.data["by_hand"] is False
    assert_error(confirm(client, "shop", request_row.public_id, {}, headers), 409, "erasure_not_awaited")
    client.force_login(shop.dpo)
    assert "Backend erasure confirmed" in page(client, request_row)
    assert "Done: Fulfilled." in act(client, request_row, "fulfilled", "Deleted.").content.decode()


def test_a_confirmation_with_another_sites_token_a_missing_scope_or_a_bad_body_writes_nothing(
    client, shop, other, history, hooked
):
    request_row = file(client, shop, "deletion")
    client.force_login(shop.dpo)
    automate(client, request_row, "erase")
    client.logout()
    before = (
        RequestEvent.objects.count(),
        AuditEntry.objects.filter(action__startswith="data_subject").count(),
    )

    foreign = confirm(client, "shop", request_row.public_id, {"note": "x"}, token(other))
    foreign_path = confirm(client, "other", request_row.public_id, {"note": "x"}, token(other))
    scopeless = confirm(client, "shop", request_row.public_id, {"note": "x"}, token(shop, ["consents:read"]))
    unknown = confirm(client, "shop", request_row.public_id, {"notes": "x"}, token(shop))
    not_text = confirm(client, "shop", request_row.public_id, {"note": ["x"]}, token(shop))
    too_long = confirm(client, "shop", request_row.public_id, {"note": "x" * 2001}, token(shop))
    missing = confirm(client, "shop", "no-such-request", {"note": "x"}, token(shop))

    assert_error(foreign, 404, "not_found")
    assert_error(foreign_path, 404, "not_found")
    assert_error(scopeless, 403, "scope_missing")
    assert_error(unknown, 400, "invalid")["fields"]["notes"]
    assert_error(not_text, 400, "invalid")["fields"]["note"]
    assert_error(too_long, 400, "invalid")["fields"]["note"]
    assert_error(missing, 404, "not_found")
    assert not RequestEvent.objects.filter(action="erasure_confirmed").exists()
    assert not AuditEntry.objects.filter(action="data_subject_request.erasure_confirm").exists()
    assert RequestEvent.objects.count() == before[0]


def test_without_a_webhook_endpoint_the_dpo_confirms_the_backends_erasure_by_hand_with_a_note(
    client, shop, history
):
    request_row = file(client, shop, "destruction", residence="RU")
    client.force_login(shop.dpo)

    automate(client, request_row, "erase")
    # An endpoint registered after the erasure never got the event: the DPO still confirms.
    webhook_endpoint_create(
        site=shop, url="https://backend.shop.example/hooks", events=["request.erasure_requested"], by=None
    )
    panel = page(client, request_row)
    without_note = automate(client, request_row, "confirm_erasure").content.decode()
    with_note = automate(
        client, request_row, "confirm_erasure", note="The DBA deleted the CRM rows, ticket 42."
    )

    assert not WebhookEvent.objects.filter(type="request.erasure_requested").exists()
    assert "confirm by hand" in panel and 'value="confirm_erasure"' in panel
    assert "Say how you know" in without_note
    assert "The backend&#x27;s erasure is confirmed." in with_note.content.decode()
    confirmed = RequestEvent.objects.get(request=request_row, action="erasure_confirmed")
    assert confirmed.actor == shop.dpo and "ticket 42" in confirmed.note
    assert "Done: Fulfilled." in act(client, request_row, "fulfilled", "Destroyed.").content.decode()


def test_a_deletion_cannot_be_fulfilled_before_consentrys_records_are_erased(client, shop, history):
    request_row = file(client, shop, "deletion")
    client.force_login(shop.dpo)

    refused = act(client, request_row, "fulfilled", "Deleted.").content.decode()

    assert "Erase what Consentry holds first" in refused
    assert "fulfilled" not in events(request_row)


def test_the_backend_cannot_confirm_an_erasure_it_was_not_asked_for(client, shop, history, hooked):
    request_row = file(client, shop, "deletion")

    response = confirm(client, "shop", request_row.public_id, {"note": "done"}, token(shop))

    assert_error(response, 409, "erasure_not_awaited")
    assert "erasure_confirmed" not in events(request_row)


# --- Opt-out and withdrawal ------------------------------------------------------------------------


def test_an_opt_out_is_recorded_in_the_ledger_for_the_visitors_and_the_account_when_verified(
    client, shop, history
):
    request_row = file(client, shop, "opt_out_sale_share", residence="US-CA", verify=False)
    # The link the verification email carries (its sending runs after commit, not in this test).
    verify_link = reverse("request-verify", args=["shop", verify_token_make(public_id=request_row.public_id)])

    response = client.post(verify_link)

    assert response.status_code == 200
    records = ConsentRecord.objects.filter(site=shop, collection_method="data_subject_request")
    assert {(record.visitor_id, bool(record.subject_hmac)) for record in records} == {
        (VISITOR, False),
        (LINKED, False),
        (None, True),
    }
    for record in records:
        assert record.action == "do_not_sell_opt_out" and record.ui_layer == "backend"
        assert record.purposes_denied == ["marketing"] and record.purposes_granted == ["necessary"]
    recorded = RequestEvent.objects.get(request=request_row, action="decisions_recorded")
    assert all(record.receipt_id in recorded.note for record in records)
    # The account's state as the management API reads it: marketing denied by the opt-out.
    state = client.get(f"/api/v1/sites/shop/subjects/{ACCOUNT}/consents", **token(shop)).json()
    assert state["state"]["marketing"]["granted"] is False
    assert any(signal["receipt_id"] in recorded.note for signal in state["optout_signals"])
    client.force_login(shop.dpo)
    panel = page(client, request_row)
    assert "Decisions recorded" in panel and 'value="apply_decisions"' not in panel


def test_a_withdrawal_denies_every_optional_purpose_and_one_naming_nobody_waits_on_the_dpo(
    client, shop, history
):
    named = file(client, shop, "withdraw_consent", account=False)
    nobody = file(client, shop, "withdraw_consent", visitor_id=None, account=False)
    client.force_login(shop.dpo)

    refused = automate(client, nobody, "apply_decisions").content.decode()

    record = ConsentRecord.objects.get(site=shop, collection_method="data_subject_request")
    assert record.visitor_id == VISITOR and record.action == "withdraw"
    assert sorted(record.purposes_denied) == ["analytics", "marketing"]
    assert "decisions_recorded" in events(named) and "decisions_recorded" not in events(nobody)
    assert "names no visitor and no account" in refused
    assert "the site&#x27;s backend must apply it" in page(client, nobody)


# --- Tenancy in the admin --------------------------------------------------------------------------


def test_another_sites_dpo_cannot_generate_download_or_erase(client, shop, other, history, hooked):
    access = file(client, shop, "access")
    deletion = file(client, shop, "deletion")
    client.force_login(shop.dpo)
    automate(client, access, "generate_package")
    package = RequestPackage.objects.filter(request=access).first()
    client.force_login(other.dpo)
    before = RequestEvent.objects.count(), RequestPackage.objects.count()

    generate = automate(client, access, "generate_package")
    erase = automate(client, deletion, "erase")
    download = client.get(reverse("admin:consent_datasubjectrequest_package", args=[access.pk, package.pk]))

    assert generate.status_code in (403, 404) and erase.status_code in (403, 404)
    assert download.status_code in (403, 404)
    assert (RequestEvent.objects.count(), RequestPackage.objects.count()) == before
    assert not ConsentRecord.objects.filter(site=shop, personal_salt__isnull=True).exists()
    assert not WebhookEvent.objects.filter(type="request.erasure_requested").exists()
    client.force_login(shop.dpo)
    own = client.get(reverse("admin:consent_datasubjectrequest_package", args=[access.pk, package.pk]))
    assert own.status_code == 200 and "attachment" in own["Content-Disposition"]


# --- Packages are history: never changed, purged with their request --------------------------------


def test_a_package_is_never_changed_and_goes_with_its_request_at_retention(client, shop, history):
    purged = file(client, shop, "access")
    kept = file(client, shop, "access", visitor_id=STRANGER, account=False)
    client.force_login(shop.dpo)
    for request_row in (purged, kept):
        act(client, request_row, "fulfilled", "Your data.")
    package = RequestPackage.objects.filter(request=purged).first()
    now = timezone.now()
    DataSubjectRequest.objects.filter(pk=purged.pk).update(
        status=RequestStatus.CLOSED, closed_at=now - timedelta(days=365 * 2 + 30)
    )

    with pytest.raises(ImmutableRowError):
        package.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(RequestPackage).filter(pk=package.pk).update(content="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(RequestPackage).filter(pk=package.pk).delete()
    result = requests_retention_apply()

    assert result["shop"] == 1
    assert not RequestPackage.objects.filter(request_id=purged.pk).exists()
    assert RequestPackage.objects.filter(request=kept).count() == 2
    assert client.get(package_url(purged, "json")).status_code == 404


def test_a_russian_withdrawal_is_recorded_at_once_and_destruction_follows_before_the_answer(
    client, shop, history
):
    request_row = file(client, shop, "withdraw_consent", residence="RU")
    client.force_login(shop.dpo)

    before_erasure = act(client, request_row, "fulfilled", "Done.").content.decode()
    automate(client, request_row, "erase")
    automate(client, request_row, "confirm_erasure", note="Backend rows destroyed, act no. 7.")
    answered = act(client, request_row, "fulfilled", "Withdrawn and destroyed.").content.decode()

    decisions = ConsentRecord.objects.filter(site=shop, collection_method="data_subject_request")
    assert decisions.count() == 3 and {record.action for record in decisions} == {"withdraw"}
    assert "Erase what Consentry holds first" in before_erasure
    assert "Done: Fulfilled." in answered
    assert events(request_row)[-4:] == ["decisions_recorded", "erased", "erasure_confirmed", "fulfilled"]
    # The decisions stay in the ledger; only their personal values went.
    assert all(record.is_redacted and record.action == "withdraw" for record in decisions)


def test_a_sites_backend_cannot_record_a_decision_as_a_data_subject_requests(client, shop):
    body = {
        "subject": ACCOUNT,
        "purposes_granted": ["analytics"],
        "collection_method": "data_subject_request",
        "language": "en",
    }

    response = client.post(
        "/api/v1/sites/shop/consents", json.dumps(body), content_type="application/json", **token(shop)
    )

    assert_error(response, 400, "invalid")["fields"]["collection_method"]
    assert not ConsentRecord.objects.exists()


def test_a_visitors_opt_out_by_request_is_their_current_consent_on_the_public_read(client, shop, history):
    file(client, shop, "opt_out_sale_share", residence="US-CA", account=False)

    current = client.get(
        f"/api/public/v1/sites/shop/consents/current?visitor_id={VISITOR}", HTTP_ORIGIN=ORIGIN
    )

    assert current.status_code == 200, current.content
    assert current.json()["action"] == "do_not_sell_opt_out"
    assert "marketing" in current.json()["denied"] and "marketing" not in current.json()["granted"]


def test_an_opt_out_filed_by_the_sites_backend_is_recorded_at_once(client, shop, history):
    body = {
        "type": "opt_out_sale_share",
        "subject": ACCOUNT,
        "email": "ana@example.org",
        "residence": "US-CA",
    }

    response = client.post(
        "/api/v1/sites/shop/requests", json.dumps(body), content_type="application/json", **token(shop)
    )

    assert response.status_code == 201, response.content
    request_row = DataSubjectRequest.objects.get(public_id=response.json()["id"])
    records = ConsentRecord.objects.filter(site=shop, collection_method="data_subject_request")
    assert {(record.visitor_id, bool(record.subject_hmac)) for record in records} == {
        (LINKED, False),
        (None, True),
    }
    assert "decisions_recorded" in events(request_row)


def test_a_package_for_visitor_ids_only_the_requester_named_leaves_out_their_network_identifiers(
    client, shop, history
):
    request_row = file(client, shop, "access", account=False)
    client.force_login(shop.dpo)

    automate(client, request_row, "generate_package")

    data = json.loads(RequestPackage.objects.get(request=request_row, format="json").content)
    [record] = data["records"]
    assert record["receipt_id"] == history["visitor"] and record["purposes_granted"]
    assert record["ip_address"] is None and record["user_agent"] is None and record["network_withheld"]
    # Reached through the account the site vouched for, they are given.
    vouched = file(client, shop, "access")
    automate(client, vouched, "generate_package")
    given = json.loads(RequestPackage.objects.get(request=vouched, format="json").content)["records"]
    assert any(record["ip_address"] for record in given)


def test_once_no_endpoint_takes_the_erasure_event_the_dpo_confirms_by_hand(client, shop, history, hooked):
    request_row = file(client, shop, "deletion")
    client.force_login(shop.dpo)
    automate(client, request_row, "erase")
    assert 'value="confirm_erasure"' not in page(client, request_row)

    hooked.is_active = False
    hooked.save()
    confirmed = automate(
        client, request_row, "confirm_erasure", note="The backend's endpoint is gone; done by hand."
    )

    assert RequestEvent.objects.filter(request=request_row, action="erasure_confirmed").exists(), (
        confirmed.content.decode()[:2000]
    )
    assert "Done: Fulfilled." in act(client, request_row, "fulfilled", "Deleted.").content.decode()
