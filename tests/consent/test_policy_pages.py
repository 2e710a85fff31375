"""Policies as the public, customers and DPOs see them: pages, JSON twins and the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import AuditEntry, PolicyText, PolicyVersion, Role, SiteMembership
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.sites.services import site_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo():
    return UserFactory(username="dora")


@pytest.fixture
def site(dpo):
    site = site_create(name="Shop", key="shop", languages=["en", "ru"], by=None)
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    return site


@pytest.fixture
def document(site, dpo):
    """Two published versions (v2 in force) and an upcoming material v3."""
    now = timezone.now()
    document = policy_document_create(site=site, kind="privacy_policy", by=None)
    for number, (en, ru) in enumerate(
        [("We collect little.", "Мы собираем мало."), ("We collect less.", "Мы собираем меньше.")], start=1
    ):
        policy_text_set(document=document, language="en", title="Privacy policy", body=en, by=None)
        policy_text_set(
            document=document, language="ru", title="Политика конфиденциальности", body=ru, by=None
        )
        policy_version_publish(
            document=document, effective_at=now - timedelta(days=30 - number), by=dpo,
            now=now - timedelta(days=30 - number), summary=f"Edition {number}",
        )  # fmt: skip
    policy_text_set(
        document=document,
        language="en",
        title="Privacy policy",
        body="We collect less. We share with Acme.",
        by=None,
    )
    policy_text_set(
        document=document,
        language="ru",
        title="Политика конфиденциальности",
        body="Мы делимся с Acme.",
        by=None,
    )
    policy_version_publish(
        document=document,
        effective_at=now + timedelta(days=31),
        by=dpo,
        is_material=True,
        summary="New recipient",
    )
    return document


def test_the_page_shows_the_version_in_force_the_upcoming_one_and_the_history(client, document):
    response = client.get("/s/shop/policies/privacy-policy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "We collect less." in html and "Acme" not in html.split("<article")[1].split("</article>")[0]
    assert 'data-upcoming="3"' in html
    assert "/s/shop/policies/privacy-policy/diff/2..3/" in html
    for number in (1, 2, 3):
        assert f"/s/shop/policies/privacy-policy/v{number}/" in html
    assert "the English text prevails" in html
    assert response["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response["Vary"]
    assert not response.cookies


def test_the_page_speaks_the_readers_language(client, document):
    by_header = client.get("/s/shop/policies/privacy-policy/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9,en;q=0.5")
    assert '<html lang="ru"' in by_header.content.decode()
    assert "Мы собираем меньше." in by_header.content.decode()
    by_parameter = client.get("/s/shop/policies/privacy-policy/?lang=en", HTTP_ACCEPT_LANGUAGE="ru")
    assert "We collect less." in by_parameter.content.decode()
    unknown = client.get("/s/shop/policies/privacy-policy/?lang=xx", HTTP_ACCEPT_LANGUAGE="de")
    assert '<html lang="en"' in unknown.content.decode()  # the prevailing language


def test_a_repeat_request_with_the_etag_is_answered_304(client, document):
    first = client.get("/s/shop/policies/privacy-policy/")
    again = client.get("/s/shop/policies/privacy-policy/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    other_language = client.get("/s/shop/policies/privacy-policy/?lang=ru", HTTP_IF_NONE_MATCH=first["ETag"])
    assert other_language.status_code == 200


def test_any_edition_has_its_own_page(client, document):
    old = client.get("/s/shop/policies/privacy-policy/v1/").content.decode()
    assert "We collect little." in old
    upcoming = client.get("/s/shop/policies/privacy-policy/v3/").content.decode()
    assert "We share with Acme." in upcoming and "Takes effect on" in upcoming


def test_the_diff_page_marks_words_added_and_removed(client, document):
    response = client.get("/s/shop/policies/privacy-policy/diff/2..3/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "We collect less.<ins> We share with Acme.</ins>" in html
    assert "Мы<del> собираем меньше.</del><ins> делимся с Acme.</ins>" in html


@pytest.mark.parametrize(
    "path",
    [
        "/s/nope/policies/privacy-policy/",
        "/s/shop/policies/terms/",
        "/s/shop/policies/privacy-policy/v9/",
        "/s/shop/policies/privacy-policy/diff/1..9/",
    ],
)
def test_unknown_sites_documents_and_versions_are_404(client, document, path):
    assert client.get(path).status_code == 404


def test_the_json_twins_carry_the_same_facts(client, document):
    listing = client.get("/api/public/v1/sites/shop/policies").json()
    (entry,) = listing["documents"]
    assert entry["in_force"]["number"] == 2 and [v["number"] for v in entry["upcoming"]] == [3]

    detail = client.get("/api/public/v1/sites/shop/policies/privacy-policy")
    body = detail.json()
    assert body["in_force"]["texts"]["ru"]["body"] == "Мы собираем меньше.\n"
    assert [v["number"] for v in body["history"]] == [3, 2, 1]
    assert body["upcoming"][0]["is_material"] is True
    assert (
        client.get(
            "/api/public/v1/sites/shop/policies/privacy-policy", HTTP_IF_NONE_MATCH=detail["ETag"]
        ).status_code
        == 304
    )

    version = client.get("/api/public/v1/sites/shop/policies/privacy-policy/versions/1").json()
    assert version["texts"]["en"]["html"] == "<p>We collect little.</p>"
    assert version["content_sha256"] == PolicyVersion.objects.get(document=document, number=1).content_sha256

    diff = client.get("/api/public/v1/sites/shop/policies/privacy-policy/diff/2..3").json()
    english = next(language for language in diff["languages"] if language["language"] == "en")
    inserted = [w["text"] for b in english["blocks"] for w in b["words"] if w["op"] == "insert"]
    assert "We share with Acme." in "".join(inserted)


def test_json_errors_for_unknown_documents(client, document):
    response = client.get("/api/public/v1/sites/shop/policies/privacy-policy/versions/42")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- The DPO in the admin --------------------------------------------------------------------


def test_a_dpo_drafts_previews_diffs_and_publishes_in_the_admin(client, site, dpo):
    client.force_login(dpo)
    add = client.post(
        reverse("admin:consent_policydocument_add"),
        {
            "site": site.pk,
            "kind": "cookie_policy",
            "slug": "cookies",
            "prevailing_language": "en",
            "languages": ["en", "ru"],
            "texts-TOTAL_FORMS": 2,
            "texts-INITIAL_FORMS": 0,
            "texts-0-language": "en",
            "texts-0-title": "Cookie policy",
            "texts-0-body": "## Cookies we use\n\n- `_ga`: analytics",
            "texts-1-language": "ru",
            "texts-1-title": "Политика cookie",
            "texts-1-body": "## Какие cookie мы используем\n\n- `_ga`: аналитика",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    document = site.policy_documents.get(slug="cookies")
    change_page = client.get(reverse("admin:consent_policydocument_change", args=[document.pk]))
    assert b"Preview and publish" in change_page.content

    publish_url = reverse("admin:consent_policydocument_publish", args=[document.pk])
    preview = client.get(publish_url)
    assert preview.status_code == 200
    assert "<h2>Cookies we use</h2>" in preview.content.decode()
    assert "first edition" in preview.content.decode()

    too_soon = client.post(
        publish_url,
        {"effective_at": timezone.now().strftime("%Y-%m-%dT%H:%M"), "summary": "First", "is_material": "on"},
        REMOTE_ADDR="198.51.100.4",
    )
    assert too_soon.status_code == 200
    assert "30 days&#x27; notice" in too_soon.content.decode()
    assert not PolicyVersion.objects.filter(document=document).exists()

    published = client.post(
        publish_url,
        {
            "effective_at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
            "summary": "First",
            "change_kinds": ["editorial"],
        },
        REMOTE_ADDR="198.51.100.4",
    )
    assert published.status_code == 302
    version = PolicyVersion.objects.get(document=document)
    assert version.number == 1 and version.published_by == dpo
    audit = AuditEntry.objects.get(action="policy_version.publish")
    assert (audit.actor, audit.actor_ip) == (dpo, "198.51.100.4")

    PolicyText.objects.filter(document=document, language="en").update(
        body="## Cookies we use\n\n- `_ga`: statistics"
    )
    diff = client.get(publish_url).content.decode()
    assert "<del> analytics</del><ins> statistics</ins>" in diff


def test_an_owner_without_the_dpo_role_cannot_publish(client, site, document):
    owner = UserFactory(username="owen")
    SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    client.force_login(owner)
    url = reverse("admin:consent_policydocument_publish", args=[document.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"effective_at": "2030-01-01T00:00", "summary": "x"}).status_code == 403
    assert (
        b"Preview and publish"
        not in client.get(reverse("admin:consent_policydocument_change", args=[document.pk])).content
    )


def test_published_versions_are_read_only_in_the_admin_and_hidden_from_other_tenants(
    client, site, document, dpo
):
    version = PolicyVersion.objects.get(document=document, number=1)
    client.force_login(dpo)
    page = client.get(reverse("admin:consent_policyversion_change", args=[version.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert b"We collect little." in page.content
    client.post(
        reverse("admin:consent_policyversion_change", args=[version.pk]), {"change_note": "rewritten"}
    )
    assert (
        client.post(
            reverse("admin:consent_policyversion_delete", args=[version.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    version.refresh_from_db()
    assert version.change_note == "Edition 1"

    stranger = UserFactory(username="eve")
    other = site_create(name="Other", by=None)
    SiteMembership.objects.create(site=other, user=stranger, role=Role.DPO)
    client.force_login(stranger)
    assert b"We collect" not in client.get(reverse("admin:consent_policyversion_changelist")).content
    assert client.get(reverse("admin:consent_policydocument_publish", args=[document.pk])).status_code == 404
