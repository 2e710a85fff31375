"""The management API's policy resources through a token: documents, working-copy texts per
language, publishing a version (scope `publish`, a DPO behind the token), the version in force
and the history; ETag/If-Match, Idempotency-Key, scopes, tenants and the admin's refusals."""

from datetime import UTC, datetime, timedelta

import pytest

from consent.models import AuditEntry, PolicyDocument, PolicyText, PolicyVersion, Role, SiteMembership
from consent.policies.services import policy_document_create, policy_text_set
from consent.sites.services import site_create
from consent.tokens.services import token_create
from tests.config.test_api_errors import assert_error
from tests.consent.test_management_api import ALL, Api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DPO_ONLY = "Only the site's data protection officer can publish its documents."


@pytest.fixture
def shop():
    return site_create(
        key="shop", name="Shop", languages=["en", "ru"], origins=["https://shop.example"], by=None
    )


@pytest.fixture
def dpo(shop):
    user = UserFactory(username="dora", is_staff=True)
    SiteMembership.objects.create(site=shop, user=user, role=Role.DPO)
    return user


@pytest.fixture
def owner(shop):
    user = UserFactory(username="olga", is_staff=True)
    SiteMembership.objects.create(site=shop, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def api(client, dpo, shop):
    """A client with the DPO's all-scopes token of the shop."""
    _, raw = token_create(site=shop, name="deploy", scopes=ALL, by=dpo)
    return Api(client, raw)


@pytest.fixture
def document(shop):
    document = policy_document_create(site=shop, kind="privacy_policy", by=None)
    policy_text_set(document=document, language="en", title="Privacy", body="We collect little.\n", by=None)
    policy_text_set(document=document, language="ru", title="Политика", body="Мы собираем мало.\n", by=None)
    return document


def now_iso(days=0):
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def test_documents_listed_created_once_per_key_and_changed_with_if_match(api, shop):
    assert api.get("shop/policies").json() == {"documents": []}
    body = {"kind": "pd_consent", "jurisdictions": ["RU"]}
    created = api.send("post", "shop/policies", body, HTTP_IDEMPOTENCY_KEY="d-1")
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "pd-consent" and created.json()["prevailing_language"] == "ru"
    again = api.send("post", "shop/policies", body, HTTP_IDEMPOTENCY_KEY="d-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == created.json()
    assert PolicyDocument.objects.filter(site=shop).count() == 1
    assert_error(
        api.send("post", "shop/policies", {"kind": "terms"}, HTTP_IDEMPOTENCY_KEY="d-1"),
        422,
        "idempotency_key_reused",
    )
    # The service's refusal: the slug is taken on this site.
    assert_error(api.send("post", "shop/policies", body), 400, "invalid")
    assert [doc["slug"] for doc in api.get("shop/policies").json()["documents"]] == ["pd-consent"]

    read = api.get("shop/policies/pd-consent")
    assert read.json()["required_languages"][0] == "ru"
    assert_error(
        api.send("patch", "shop/policies/pd-consent", {"languages": ["en"]}), 428, "precondition_required"
    )
    changed = api.send(
        "patch", "shop/policies/pd-consent", {"languages": ["en", "kk"]}, HTTP_IF_MATCH=read["ETag"]
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["languages"] == ["en", "kk"] and changed["ETag"] != read["ETag"]
    late = api.send("patch", "shop/policies/pd-consent", {"languages": []}, HTTP_IF_MATCH=read["ETag"])
    assert_error(late, 412, "precondition_failed")
    # The model's rule, as in the admin: a document for Russia prevails in Russian.
    refused = api.send(
        "patch", "shop/policies/pd-consent", {"prevailing_language": "en"}, HTTP_IF_MATCH=changed["ETag"]
    )
    assert "Russian" in assert_error(refused, 400, "invalid")["fields"]["prevailing_language"][0]
    assert_error(
        api.send("patch", "shop/policies/pd-consent", {"slug": "x"}, HTTP_IF_MATCH=changed["ETag"]),
        400,
        "invalid",
    )
    rows = AuditEntry.objects.filter(site=shop, action__startswith="policy_document").order_by("id")
    assert [row.action for row in rows] == ["policy_document.create", "policy_document.change"]
    assert all(row.data["token"].startswith("cst_") and row.actor.username == "dora" for row in rows)


def test_working_copy_texts_written_per_language_with_if_match(api, document):
    listed = api.get("shop/policies/privacy-policy/texts").json()["texts"]
    assert [text["language"] for text in listed] == ["en", "ru"]
    assert_error(api.get("shop/policies/privacy-policy/texts/de"), 404, "not_found")
    added = api.send(
        "put", "shop/policies/privacy-policy/texts/de", {"title": "Datenschutz", "body": "Wenig."}
    )
    assert added.status_code == 201, added.content
    read = api.get("shop/policies/privacy-policy/texts/en")
    assert read.json()["title"] == "Privacy"
    new = {"title": "Privacy policy", "body": "We collect almost nothing.\n"}
    assert_error(api.send("put", "shop/policies/privacy-policy/texts/en", new), 428, "precondition_required")
    replaced = api.send("put", "shop/policies/privacy-policy/texts/en", new, HTTP_IF_MATCH=read["ETag"])
    assert replaced.status_code == 200 and replaced.json()["body"] == new["body"]
    assert_error(
        api.send("put", "shop/policies/privacy-policy/texts/en", new, HTTP_IF_MATCH=read["ETag"]),
        412,
        "precondition_failed",
    )
    # The service validates the language, as the admin's form does.
    assert_error(api.send("put", "shop/policies/privacy-policy/texts/xx", new), 400, "invalid")
    de = api.get("shop/policies/privacy-policy/texts/de")
    assert_error(api.send("delete", "shop/policies/privacy-policy/texts/de"), 428, "precondition_required")
    assert (
        api.send("delete", "shop/policies/privacy-policy/texts/de", HTTP_IF_MATCH=de["ETag"]).status_code
        == 204
    )
    assert sorted(PolicyText.objects.filter(document=document).values_list("language", flat=True)) == [
        "en",
        "ru",
    ]
    actions = list(
        AuditEntry.objects.filter(action__startswith="policy_text", data__token__startswith="cst_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["policy_text.add", "policy_text.change", "policy_text.delete"]


def test_a_dpo_publishes_once_per_key_and_reads_the_version_in_force_and_the_history(api, document):
    assert_error(api.get("shop/policies/privacy-policy/versions/in-force"), 404, "not_found")
    body = {"effective_at": now_iso(), "summary": "First edition.", "change_kinds": ["editorial"]}
    published = api.send("post", "shop/policies/privacy-policy/versions", body, HTTP_IDEMPOTENCY_KEY="p-1")
    assert published.status_code == 201, published.content
    version = published.json()
    assert version["number"] == 1 and version["document"] == "privacy-policy"
    assert set(version["texts"]) == {"en", "ru"} and version["texts"]["en"]["html"]
    again = api.send("post", "shop/policies/privacy-policy/versions", body, HTTP_IDEMPOTENCY_KEY="p-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == version
    assert PolicyVersion.objects.filter(document=document).count() == 1
    row = AuditEntry.objects.get(action="policy_version.publish")
    assert row.actor.username == "dora" and row.data["token"].startswith("cst_")

    in_force = api.get("shop/policies/privacy-policy/versions/in-force")
    assert in_force.status_code == 200 and in_force.json() == version and in_force["ETag"]
    assert api.get("shop/policies/privacy-policy/versions/1").json() == version
    assert_error(api.get("shop/policies/privacy-policy/versions/2"), 404, "not_found")

    # A material change later, with the notice period, then the history page by page.
    etag = api.get("shop/policies/privacy-policy/texts/en")["ETag"]
    api.send(
        "put",
        "shop/policies/privacy-policy/texts/en",
        {"title": "Privacy", "body": "We now share with partners.\n"},
        HTTP_IF_MATCH=etag,
    )
    second = api.send(
        "post",
        "shop/policies/privacy-policy/versions",
        {"effective_at": now_iso(days=40), "summary": "Partners.", "change_kinds": ["new_recipient"]},
    )
    assert second.status_code == 201, second.content
    assert second.json()["is_material"] is True
    assert api.get("shop/policies/privacy-policy/versions/in-force").json()["number"] == 1
    first_page = api.get("shop/policies/privacy-policy/versions?limit=1").json()
    assert [v["number"] for v in first_page["results"]] == [1] and first_page["next_cursor"]
    rest = api.get(f"shop/policies/privacy-policy/versions?limit=1&cursor={first_page['next_cursor']}").json()
    assert [v["number"] for v in rest["results"]] == [2] and rest["next_cursor"] is None
    assert_error(api.get("shop/policies/privacy-policy/versions?cursor=nonsense"), 400, "invalid")


def test_publishing_refusals_are_the_services_own(api, document, shop):
    # Nothing changed since v1, or the notice period is too short for a material change: 400s.
    api.send("post", "shop/policies/privacy-policy/versions", {"effective_at": now_iso(), "summary": "v1"})
    same = api.send(
        "post", "shop/policies/privacy-policy/versions", {"effective_at": now_iso(), "summary": "v2"}
    )
    assert_error(same, 400, "invalid")
    policy_text_set(document=document, language="en", title="Privacy", body="Changed.\n", by=None)
    early = api.send(
        "post",
        "shop/policies/privacy-policy/versions",
        {"effective_at": now_iso(days=1), "summary": "v2", "is_material": True},
    )
    error = assert_error(early, 400, "invalid")
    assert error["fields"]["effective_at"][0].startswith(
        f"A material change needs {shop.notice_period_days} days' notice"
    )
    unknown = api.send(
        "post",
        "shop/policies/privacy-policy/versions",
        {
            "effective_at": now_iso(),
            "summary": "v2",
            "change_kinds": ["whim"],
            "affected_purposes": ["ghosts"],
        },
    )
    fields = assert_error(unknown, 400, "invalid")["fields"]
    assert fields["change_kinds"] == ["Unknown change kinds: whim."]
    assert fields["affected_purposes"] == ["Not purposes of this site: ghosts."]
    assert PolicyVersion.objects.filter(document=document).count() == 1


def test_an_owners_publish_token_is_refused_with_the_dpo_rule_and_a_shell_token_too(client, owner, document):
    _, raw = token_create(site=document.site, name="owner", scopes=ALL, by=owner)
    body = {"effective_at": now_iso(), "summary": "v1"}
    refused = Api(client, raw).send("post", "shop/policies/privacy-policy/versions", body)
    assert assert_error(refused, 403, "permission_denied")["message"] == DPO_ONLY
    _, shell = token_create(site=document.site, name="shell", scopes=ALL, by=None)
    refused = Api(client, shell).send("post", "shop/policies/privacy-policy/versions", body)
    assert assert_error(refused, 403, "permission_denied")["message"] == DPO_ONLY
    assert not PolicyVersion.objects.exists()


def test_without_the_publish_scope_or_write_scope_nothing_changes(client, dpo, document):
    _, writer = token_create(site=document.site, name="rw", scopes=["read", "write"], by=dpo)
    _, reader = token_create(site=document.site, name="ro", scopes=["read"], by=dpo)
    body = {"effective_at": now_iso(), "summary": "v1"}
    assert_error(
        Api(client, writer).send("post", "shop/policies/privacy-policy/versions", body), 403, "scope_missing"
    )
    read_only = Api(client, reader)
    assert read_only.get("shop/policies/privacy-policy").status_code == 200
    for method, path, payload in [
        ("post", "shop/policies", {"kind": "terms"}),
        ("patch", "shop/policies/privacy-policy", {"languages": []}),
        ("put", "shop/policies/privacy-policy/texts/en", {"title": "T", "body": "B"}),
        ("delete", "shop/policies/privacy-policy/texts/en", None),
        ("post", "shop/policies/privacy-policy/versions", body),
    ]:
        assert_error(read_only.send(method, path, payload, HTTP_IF_MATCH="*"), 403, "scope_missing")
    assert not PolicyVersion.objects.exists() and PolicyDocument.objects.count() == 1


def test_another_sites_token_finds_none_of_the_policy_endpoints(client, api, document):
    api.send("post", "shop/policies/privacy-policy/versions", {"effective_at": now_iso(), "summary": "v1"})
    other = site_create(key="other", name="Other", origins=["https://other.example"], by=None)
    _, foreign = token_create(site=other, name="theirs", scopes=ALL, by=None)
    stranger = Api(client, foreign)
    before = AuditEntry.objects.count()
    for method, path, body in [
        ("get", "shop/policies", None),
        ("post", "shop/policies", {"kind": "terms"}),
        ("get", "shop/policies/privacy-policy", None),
        ("patch", "shop/policies/privacy-policy", {"languages": []}),
        ("get", "shop/policies/privacy-policy/texts", None),
        ("get", "shop/policies/privacy-policy/texts/en", None),
        ("put", "shop/policies/privacy-policy/texts/en", {"title": "T", "body": "B"}),
        ("delete", "shop/policies/privacy-policy/texts/en", None),
        ("get", "shop/policies/privacy-policy/versions", None),
        ("post", "shop/policies/privacy-policy/versions", {"effective_at": now_iso(), "summary": "x"}),
        ("get", "shop/policies/privacy-policy/versions/in-force", None),
        ("get", "shop/policies/privacy-policy/versions/1", None),
    ]:
        answer = (
            stranger.get(path) if method == "get" else stranger.send(method, path, body, HTTP_IF_MATCH="*")
        )
        assert_error(answer, 404, "not_found")
    assert AuditEntry.objects.count() == before
    assert PolicyVersion.objects.count() == 1 and PolicyDocument.objects.count() == 1
