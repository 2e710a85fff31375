"""The management API's sub-processor resources through a token: vendors with their purposes per
language, publishing a list version, the version in force and the history, objections and their
answers; ETag/If-Match, Idempotency-Key, cursor pages, scopes, tenants, the services' refusals."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from consent.models import AuditEntry, Site
from consent.sites.services import site_create
from consent.tokens.services import token_create
from subprocessors.lists.services import subprocessor_list_publish
from subprocessors.models import Objection, ObjectionAnswer, SubprocessorListVersion, Subscriber, Vendor
from tests.config.test_api_errors import assert_error
from tests.consent.test_management_api import ALL, Api
from tests.subprocessors.conftest import GOOGLE, HOTJAR, vendor_make

pytestmark = pytest.mark.django_db

HOTJAR_BODY = {
    "key": "hotjar",
    "name": "Hotjar",
    "legal_entity": "Hotjar Ltd",
    "address": "St Julian's, Malta",
    "contact": "https://www.hotjar.com/legal/policies/privacy/",
    "locations": ["mt"],
    "category": "analytics",
    "texts": {"en": {"purpose": "Heatmaps."}, "ru": {"purpose": "Тепловые карты."}},
}


@pytest.fixture
def api(client, owner, site):
    """A client with the owner's all-scopes token of the shop."""
    _, raw = token_create(site=site, name="deploy", scopes=ALL, by=owner)
    return Api(client, raw)


def test_vendors_created_once_per_key_edited_with_if_match_per_language_and_deleted(api, site):
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    first = api.send("post", "shop/vendors", HOTJAR_BODY, HTTP_IDEMPOTENCY_KEY="v-1")
    assert first.status_code == 201, first.content
    assert first.json()["locations"] == ["MT"] and set(first.json()["texts"]) == {"en", "ru"}
    again = api.send("post", "shop/vendors", HOTJAR_BODY, HTTP_IDEMPOTENCY_KEY="v-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and Vendor.objects.filter(site=site).count() == 1
    assert [vendor["key"] for vendor in api.get("shop/vendors").json()["vendors"]] == ["hotjar"]

    read = api.get("shop/vendors/hotjar")
    assert read.json() == first.json() and read["ETag"] == first["ETag"]
    change = {"name": "Hotjar Insights", "texts": {"ru": {"purpose": "Карты кликов."}, "en": None}}
    assert_error(api.send("patch", "shop/vendors/hotjar", change), 428, "precondition_required")
    assert_error(
        api.send("patch", "shop/vendors/hotjar", change, HTTP_IF_MATCH='"0"'), 412, "precondition_failed"
    )
    changed = api.send("patch", "shop/vendors/hotjar", change, HTTP_IF_MATCH=read["ETag"])
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Hotjar Insights"
    assert changed.json()["texts"] == {"ru": {"purpose": "Карты кликов."}}
    # The second editor read before the change: refused, nothing written.
    late = api.send("patch", "shop/vendors/hotjar", {"name": "Mine"}, HTTP_IF_MATCH=read["ETag"])
    assert_error(late, 412, "precondition_failed")
    assert_error(
        api.send("patch", "shop/vendors/hotjar", {"key": "x"}, HTTP_IF_MATCH=changed["ETag"]), 400, "invalid"
    )
    assert_error(
        api.send("delete", "shop/vendors/hotjar", HTTP_IF_MATCH=read["ETag"]), 412, "precondition_failed"
    )
    assert api.send("delete", "shop/vendors/hotjar", HTTP_IF_MATCH=changed["ETag"]).status_code == 204
    assert not Vendor.objects.filter(site=site).exists()
    rows = AuditEntry.objects.filter(id__gt=before).order_by("id")
    assert [row.action for row in rows] == [
        "vendor.create",
        "vendor_translation.add",
        "vendor_translation.add",
        "vendor.change",
        "vendor_translation.change",
        "vendor_translation.delete",
        "vendor.delete",
    ]
    assert all(row.data["token"].startswith("cst_") and row.actor.username == "dpo-owner" for row in rows)


def test_a_vendor_the_service_refuses_is_a_400_with_the_admins_message(api, site):
    no_purpose = {**HOTJAR_BODY, "texts": {"ru": {"purpose": "Тепловые карты."}}}
    error = assert_error(api.send("post", "shop/vendors", no_purpose), 400, "invalid")
    assert error["fields"]["purpose"] == ["This field is required for a sub-processor."]
    abroad = {**HOTJAR_BODY, "locations": ["US"]}
    error = assert_error(api.send("post", "shop/vendors", abroad), 400, "invalid")
    assert error["fields"]["transfer_mechanisms"] == [
        "Processing outside the EEA (US) needs a transfer mechanism."
    ]
    unknown = {**HOTJAR_BODY, "texts": {"en": {"purpose": "Heatmaps."}, "xx": {"purpose": "?"}}}
    error = assert_error(api.send("post", "shop/vendors", unknown), 400, "invalid")
    assert "language" in error["fields"]
    assert not Vendor.objects.filter(site=site).exists()


def test_publishing_needs_the_publish_scope_and_refuses_as_the_admin_does(client, api, owner, site):
    Site.objects.filter(pk=site.pk).update(default_jurisdiction="RU")
    vendor_make(site, HOTJAR)
    _, raw = token_create(site=site, name="editor", scopes=["read", "write"], by=owner)
    body = {"effective_at": timezone.now().isoformat(), "change_note": "First list."}
    assert_error(Api(client, raw).send("post", "shop/subprocessors/versions", body), 403, "scope_missing")

    refused = assert_error(api.send("post", "shop/subprocessors/versions", body), 400, "invalid")
    assert refused["message"].startswith("Русский (ru) is required by RU")
    assert "purpose of sub-processor Hotjar" in refused["message"]
    assert not SubprocessorListVersion.objects.exists()

    etag = api.get("shop/vendors/hotjar")["ETag"]
    texts = {"texts": {"ru": {"purpose": "Тепловые карты."}}}
    assert api.send("patch", "shop/vendors/hotjar", texts, HTTP_IF_MATCH=etag).status_code == 200
    published = api.send("post", "shop/subprocessors/versions", body, HTTP_IDEMPOTENCY_KEY="p-1")
    assert published.status_code == 201, published.content
    assert published.json()["number"] == 1 and published.json()["entries"][0]["key"] == "hotjar"
    assert published.json()["entries"][0]["texts"]["ru"] == {"purpose": "Тепловые карты."}
    replay = api.send("post", "shop/subprocessors/versions", body, HTTP_IDEMPOTENCY_KEY="p-1")
    assert replay["Idempotent-Replayed"] == "true" and SubprocessorListVersion.objects.count() == 1
    row = AuditEntry.objects.get(action="subprocessor_list.publish")
    assert row.data["token"].startswith("cst_") and row.actor == owner

    # An addition needs the notice period: the service's refusal names the earliest date.
    late = api.send("post", "shop/vendors", {**HOTJAR_BODY, "key": "hotjar-eu"})
    assert late.status_code == 201, late.content
    refused = assert_error(api.send("post", "shop/subprocessors/versions", body), 400, "invalid")
    assert "adds Hotjar" in refused["fields"]["effective_at"][0]


def test_the_version_in_force_and_the_history_in_cursor_pages(api, site, owner):
    assert api.get("shop/subprocessors/in-force").json()["in_force"] is None
    vendor_make(site, HOTJAR)
    vendor_make(site, GOOGLE)
    past = timezone.now() - timedelta(days=60)
    subprocessor_list_publish(site=site, effective_at=past, change_note="First.", by=owner, ip=None, now=past)
    Vendor.objects.filter(key="google").update(is_listed=False)
    subprocessor_list_publish(
        site=site, effective_at=timezone.now(), change_note="Google gone.", by=owner, ip=None
    )
    Vendor.objects.filter(key="google").update(is_listed=True)
    soon = timezone.now() + timedelta(days=site.notice_period_days + 1)
    subprocessor_list_publish(site=site, effective_at=soon, change_note="Google back.", by=owner, ip=None)

    current = api.get("shop/subprocessors/in-force")
    data = current.json()
    assert current["ETag"] and data["in_force"]["number"] == 2
    assert [entry["key"] for entry in data["in_force"]["entries"]] == ["hotjar"]
    assert [version["number"] for version in data["upcoming"]] == [3]
    second = api.get("shop/subprocessors/versions/2")
    assert second["ETag"] and second.json()["number"] == 2
    assert [entry["key"] for entry in second.json()["entries"]] == ["hotjar"]
    assert [entry["key"] for entry in second.json()["diff"]["removed"]] == ["google"]
    assert_error(api.get("shop/subprocessors/versions/4"), 404, "not_found")
    assert data["upcoming"][0]["diff"]["summary"] == "Added: Google Analytics."

    first = api.get("shop/subprocessors/versions?limit=2").json()
    assert [(v["number"], v["is_in_force"], v["is_upcoming"]) for v in first["results"]] == [
        (1, False, False),
        (2, True, False),
    ]
    assert first["results"][1]["diff"]["summary"] == "Removed: Google Analytics."
    second = api.get(f"shop/subprocessors/versions?limit=2&cursor={first['next_cursor']}").json()
    assert [v["number"] for v in second["results"]] == [3] and second["next_cursor"] is None
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert [v["number"] for v in api.get(f"shop/subprocessors/versions?since={since}").json()["results"]] == [
        2,
        3,
    ]
    assert_error(api.get("shop/subprocessors/versions?limit=500"), 400, "invalid")


@pytest.fixture
def objection(site, owner):
    vendor_make(site, HOTJAR)
    version = subprocessor_list_publish(
        site=site, effective_at=timezone.now() + timedelta(days=40), change_note="", by=owner, ip=None
    )
    subscriber = Subscriber.objects.create(
        site=site, email="dpo@client.example", language="en", status="confirmed"
    )
    return Objection.objects.create(
        site=site,
        version=version,
        vendor_key="hotjar",
        vendor_name="Hotjar",
        subscriber=subscriber,
        email=subscriber.email,
        reason="Our data must stay in Germany.",
    )


def test_objections_read_and_answered_once_per_key(api, objection, django_capture_on_commit_callbacks):
    page = api.get("shop/objections").json()
    assert [row["id"] for row in page["results"]] == [objection.pk] and page["next_cursor"] is None
    assert page["results"][0]["version"] == 1 and page["results"][0]["answers"] == []
    read = api.get(f"shop/objections/{objection.pk}")
    assert read.json()["reason"] == "Our data must stay in Germany." and read["ETag"]

    empty = assert_error(
        api.send("post", f"shop/objections/{objection.pk}/answers", {"text": " "}), 400, "invalid"
    )
    assert empty["fields"]["text"] == ["Write the answer to send."]
    body = {"text": "We use Hotjar's EU hosting only."}
    with django_capture_on_commit_callbacks(execute=True):
        answered = api.send(
            "post", f"shop/objections/{objection.pk}/answers", body, HTTP_IDEMPOTENCY_KEY="a-1"
        )
    assert answered.status_code == 201, answered.content
    assert answered.json()["text"] == body["text"] and answered.json()["answered_by"]
    replay = api.send("post", f"shop/objections/{objection.pk}/answers", body, HTTP_IDEMPOTENCY_KEY="a-1")
    assert replay["Idempotent-Replayed"] == "true" and ObjectionAnswer.objects.count() == 1
    assert [message.to for message in mail.outbox] == [["dpo@client.example"]]
    assert body["text"] in mail.outbox[0].body
    again = api.get(f"shop/objections/{objection.pk}")
    assert again["ETag"] != read["ETag"] and len(again.json()["answers"]) == 1
    row = AuditEntry.objects.get(action="subprocessor_objection.answer")
    assert row.data["token"].startswith("cst_")


def test_a_shell_token_cannot_answer_since_an_answer_names_a_person(client, site, objection):
    _, raw = token_create(site=site, name="shell", scopes=ALL, by=None)
    refused = Api(client, raw).send("post", f"shop/objections/{objection.pk}/answers", {"text": "No."})
    assert assert_error(refused, 403, "permission_denied")["message"].startswith("An answer to an objection")
    assert not ObjectionAnswer.objects.exists()


def test_a_read_token_changes_nothing_and_another_sites_token_finds_nothing(client, site, owner, objection):
    other = site_create(key="other", name="Other", origins=["https://other.example"], by=None)
    _, reader = token_create(site=site, name="ro", scopes=["read"], by=owner)
    _, foreign = token_create(site=other, name="theirs", scopes=ALL, by=None)
    read_only, stranger = Api(client, reader), Api(client, foreign)
    endpoints = [
        ("get", "shop/vendors", None),
        ("post", "shop/vendors", HOTJAR_BODY),
        ("get", "shop/vendors/hotjar", None),
        ("patch", "shop/vendors/hotjar", {"name": "x"}),
        ("delete", "shop/vendors/hotjar", None),
        ("get", "shop/subprocessors/in-force", None),
        ("get", "shop/subprocessors/versions", None),
        ("post", "shop/subprocessors/versions", {"effective_at": timezone.now().isoformat()}),
        ("get", "shop/objections", None),
        ("get", f"shop/objections/{objection.pk}", None),
        ("post", f"shop/objections/{objection.pk}/answers", {"text": "x"}),
    ]
    for method, path, body in endpoints:
        if method == "get":
            assert read_only.get(path).status_code == 200
        else:
            answer = read_only.send(method, path, body, HTTP_IF_MATCH="*")
            assert_error(answer, 403, "scope_missing")
        answer = (
            stranger.get(path) if method == "get" else stranger.send(method, path, body, HTTP_IF_MATCH="*")
        )
        assert_error(answer, 404, "not_found")
    assert Vendor.objects.get(site=site).name == "Hotjar"
    assert SubprocessorListVersion.objects.count() == 1 and not ObjectionAnswer.objects.exists()
