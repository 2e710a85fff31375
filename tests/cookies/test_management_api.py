"""The management API's cookies and banner through a token: the catalogue with its descriptions
per language, the banner settings and texts, publishing a banner version (with the publishing
service's refusals as the admin shows them), the version in force and the history; ETag/If-Match,
Idempotency-Key, scopes, tenants, and the token in every audit row."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from consent.models import AuditEntry, Role, SiteMembership
from consent.sites.services import purpose_create, purpose_translation_set, site_create
from consent.tokens.services import token_create
from cookies.banner.services import banner_version_publish
from cookies.models import BannerSettings, BannerText, BannerVersion, Cookie, CookieTranslation
from tests.config.test_api_errors import assert_error
from tests.consent.test_management_api import ALL, Api
from tests.factories import UserFactory
from tests.subprocessors.conftest import GOOGLE, vendor_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    site = site_create(
        key="shop", name="Shop", languages=["en", "de"], origins=["https://shop.example"], by=None
    )
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    vendor_make(site, GOOGLE)
    return site


@pytest.fixture
def owner(shop):
    user = UserFactory(username="olga", is_staff=True)
    SiteMembership.objects.create(site=shop, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def api(client, owner, shop):
    _, raw = token_create(site=shop, name="deploy", scopes=ALL, by=owner)
    return Api(client, raw)


GA = {"name": "_ga", "purpose": "analytics", "vendor": "google", "duration_days": 390,
      "description": "Tells visits apart.", "texts": {"de": "Unterscheidet Besuche."}}  # fmt: skip


def test_cookies_catalogued_once_per_key_listed_in_pages_edited_and_deleted_with_if_match(api, shop):
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    created = api.send("post", "shop/cookies", GA, HTTP_IDEMPOTENCY_KEY="c-1")
    assert created.status_code == 201, created.content
    cookie = created.json()
    assert cookie["vendor"] == "google" and cookie["purpose"] == "analytics" and not cookie["is_pattern"]
    assert cookie["texts"] == {"en": "Tells visits apart.", "de": "Unterscheidet Besuche."}
    again = api.send("post", "shop/cookies", GA, HTTP_IDEMPOTENCY_KEY="c-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and again.json() == cookie
    assert Cookie.objects.filter(site=shop).count() == 1
    assert_error(
        api.send("post", "shop/cookies", {**GA, "name": "_gid"}, HTTP_IDEMPOTENCY_KEY="c-1"),
        422,
        "idempotency_key_reused",
    )
    pattern = {"name": "_hjSession_*", "purpose": "analytics", "description": "Hotjar session."}
    assert api.send("post", "shop/cookies", pattern).json()["is_pattern"] is True

    first = api.get("shop/cookies?limit=1").json()
    assert [row["name"] for row in first["results"]] == ["_ga"]
    second = api.get(f"shop/cookies?limit=1&cursor={first['next_cursor']}").json()
    assert [row["name"] for row in second["results"]] == ["_hjSession_*"] and second["next_cursor"] is None
    assert api.get("shop/cookies?purpose=necessary").json()["results"] == []

    path = f"shop/cookies/{cookie['id']}"
    etag = api.get(path)["ETag"]
    assert_error(api.send("patch", path, {"domain": ".shop.example"}), 428, "precondition_required")
    changed = api.send(
        "patch",
        path,
        {"domain": ".shop.example", "texts": {"ru": "Различает посещения.", "de": None}},
        HTTP_IF_MATCH=etag,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["domain"] == ".shop.example"
    assert changed.json()["texts"] == {"en": "Tells visits apart.", "ru": "Различает посещения."}
    assert_error(
        api.send("patch", path, {"duration_days": 1}, HTTP_IF_MATCH=etag), 412, "precondition_failed"
    )
    assert_error(api.send("patch", path, {"site": "other"}, HTTP_IF_MATCH=changed["ETag"]), 400, "invalid")
    assert_error(api.send("delete", path, HTTP_IF_MATCH=etag), 412, "precondition_failed")
    assert api.send("delete", path, HTTP_IF_MATCH=changed["ETag"]).status_code == 204
    assert not Cookie.objects.filter(pk=cookie["id"]).exists()
    assert api.get(path).status_code == 404

    rows = AuditEntry.objects.filter(id__gt=before).order_by("id")
    assert {row.action for row in rows} == {
        "cookie.create",
        "cookie.change",
        "cookie.delete",
        "cookie_translation.add",
        "cookie_translation.delete",
    }
    assert all(row.data["token"].startswith("cst_") and row.actor.username == "olga" for row in rows)


def test_the_catalogue_services_refusals_come_back_as_the_admin_shows_them(client, api, shop):
    necessary = {"name": "sessionid", "purpose": "necessary", "description": "Keeps you signed in."}
    refused = assert_error(api.send("post", "shop/cookies", necessary), 400, "invalid")
    assert refused["fields"]["justification"] == [
        "Say why this cookie is strictly necessary: it is set without consent."
    ]
    other = site_create(key="other", name="Other", by=None)
    purpose_create(site=other, key="ads", texts={"en": ("Ads", "Ads.")}, by=None)
    foreign = assert_error(api.send("post", "shop/cookies", {**necessary, "purpose": "ads"}), 400, "invalid")
    assert list(foreign["fields"]) == ["purpose"]
    assert not Cookie.objects.exists()
    # A token whose creator is no longer an editor acts for no one.
    SiteMembership.objects.filter(site=shop, user__username="olga").update(role=Role.VIEWER)
    assert_error(api.send("post", "shop/cookies", GA), 401, "authentication_failed")


def test_banner_settings_and_texts_edited_with_if_match(api, shop):
    first = api.get("shop/banner/settings")
    assert first.json()["position"] == "bottom" and first.json()["consent_mode"] == {
        "analytics_storage": ["analytics"]
    }
    assert not BannerSettings.objects.filter(site=shop).exists()  # reading writes nothing
    assert_error(api.send("patch", "shop/banner/settings", {"radius": 4}), 428, "precondition_required")
    changed = api.send(
        "patch", "shop/banner/settings", {"radius": 4, "color_accent": "#112233"}, HTTP_IF_MATCH=first["ETag"]
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["radius"] == 4 and BannerSettings.objects.get(site=shop).color_accent == "#112233"
    late = api.send("patch", "shop/banner/settings", {"radius": 2}, HTTP_IF_MATCH=first["ETag"])
    assert_error(late, 412, "precondition_failed")
    for bad in (
        {"radius": 30},
        {"color_text": "red"},
        {"consent_mode": {"ad_storage": ["nope"]}},
        {"site": 1},
    ):
        assert_error(
            api.send("patch", "shop/banner/settings", bad, HTTP_IF_MATCH=changed["ETag"]), 400, "invalid"
        )
    assert AuditEntry.objects.get(action="banner_settings.change").data["token"].startswith("cst_")

    # A language not written yet needs no If-Match; replacing or deleting one does.
    created = api.send("put", "shop/banner/texts/en", {"title": "Cookies", "body": "We use a few."})
    assert created.status_code == 201, created.content
    assert api.get("shop/banner/texts").json() == {
        "texts": {"en": {"title": "Cookies", "body": "We use a few."}}
    }
    etag = api.get("shop/banner/texts/en")["ETag"]
    assert_error(api.send("put", "shop/banner/texts/en", {"title": "Hi"}), 428, "precondition_required")
    replaced = api.send("put", "shop/banner/texts/en", {"title": "Your choice"}, HTTP_IF_MATCH=etag)
    assert replaced.status_code == 200 and replaced.json() == {
        "language": "en",
        "title": "Your choice",
        "body": "",
    }
    assert_error(api.send("delete", "shop/banner/texts/en", HTTP_IF_MATCH=etag), 412, "precondition_failed")
    assert api.send("delete", "shop/banner/texts/en", HTTP_IF_MATCH=replaced["ETag"]).status_code == 204
    assert not BannerText.objects.filter(site=shop).exists()
    assert_error(api.get("shop/banner/texts/en"), 404, "not_found")
    assert_error(api.send("put", "shop/banner/texts/xx", {"title": "X"}), 404, "not_found")
    assert_error(api.send("put", "shop/banner/texts/de", {"colour": "X"}), 400, "invalid")


def test_a_banner_version_published_once_per_key_then_read_in_force_and_in_the_history(api, shop):
    assert_error(api.get("shop/banner/versions/current"), 404, "not_found")
    api.send("put", "shop/banner/texts/en", {"title": "Cookies"})
    api.send("put", "shop/banner/texts/de", {"title": "Cookies"})
    published = api.send(
        "post", "shop/banner/versions", {"change_note": "First."}, HTTP_IDEMPOTENCY_KEY="p-1"
    )
    assert published.status_code == 201, published.content
    version = published.json()
    assert version["number"] == 1 and version["change_note"] == "First."
    assert version["content"]["texts"]["en"] == {"title": "Cookies", "body": ""}
    again = api.send("post", "shop/banner/versions", {"change_note": "First."}, HTTP_IDEMPOTENCY_KEY="p-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == version
    assert BannerVersion.objects.filter(site=shop).count() == 1
    # Unchanged: the service's refusal, as the admin shows it.
    unchanged = assert_error(api.send("post", "shop/banner/versions", {}), 400, "invalid")
    assert unchanged["message"] == "Nothing changed since edition 1: there is nothing to publish."

    etag = api.get("shop/banner/settings")["ETag"]
    api.send("patch", "shop/banner/settings", {"layout": "box"}, HTTP_IF_MATCH=etag)
    second = api.send("post", "shop/banner/versions", {"change_note": "A box."})
    assert second.status_code == 201 and second.json()["number"] == 2
    current = api.get("shop/banner/versions/current")
    assert current.json()["number"] == 2 and current.json()["content"]["theme"]["layout"] == "box"
    assert current["ETag"]
    first = api.get("shop/banner/versions/1")
    assert first.json()["number"] == 1 and first.json()["content"]["theme"]["layout"] != "box"
    assert api.get("shop/banner/versions/2").json() == current.json()
    assert_error(api.get("shop/banner/versions/3"), 404, "not_found")
    page = api.get("shop/banner/versions?limit=1").json()
    assert [row["number"] for row in page["results"]] == [1]
    rest = api.get(f"shop/banner/versions?cursor={page['next_cursor']}").json()
    assert [row["number"] for row in rest["results"]] == [2] and rest["next_cursor"] is None
    assert api.get("shop/banner/versions?until=2000-01-01T00:00:00Z").json()["results"] == []
    assert_error(api.get("shop/banner/versions?since=later"), 400, "invalid")
    publish = AuditEntry.objects.filter(action="banner_version.publish").order_by("id")
    assert [row.data["number"] for row in publish] == [1, 2]
    assert all(row.data["token"].startswith("cst_") for row in publish)


def test_publishing_is_refused_with_the_services_message_while_a_required_language_lacks_texts(client):
    dpo = UserFactory(username="dora", is_staff=True)
    site = site_create(key="ru-shop", name="Ru", languages=["en", "ru"], default_jurisdiction="RU", by=None)
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    _, raw = token_create(site=site, name="ci", scopes=["read", "write", "publish"], by=dpo)
    api = Api(client, raw)
    with translation.override("en"), pytest.raises(ValidationError) as service:
        banner_version_publish(site=site, by=dpo)
    admin_message = " ".join(service.value.messages)
    assert admin_message.startswith("Русский (ru) is required by RU")
    refused = assert_error(
        api.send("post", "ru-shop/banner/versions", {}, HTTP_IDEMPOTENCY_KEY="r-1"), 400, "invalid"
    )
    assert refused["message"] == admin_message
    assert not BannerVersion.objects.exists()
    # The refusal kept nothing under the key: once the text is written, the same key publishes.
    for purpose in site.purposes.all():
        purpose_translation_set(
            purpose=purpose, language="ru", name=purpose.key, description="Описание.", by=None
        )
    published = api.send("post", "ru-shop/banner/versions", {}, HTTP_IDEMPOTENCY_KEY="r-1")
    assert published.status_code == 201, published.content


def test_a_token_without_the_scope_writes_nothing_and_another_sites_token_finds_nothing(client, shop, owner):
    cookie = Cookie.objects.create(site=shop, purpose=shop.purposes.get(key="analytics"), name="_ga")
    CookieTranslation.objects.create(cookie=cookie, language="en", description="Visits.")
    BannerText.objects.create(site=shop, language="en", title="Cookies")
    other = site_create(key="other", name="Other", by=None)
    _, reader = token_create(site=shop, name="ro", scopes=["read"], by=owner)
    _, writer = token_create(site=shop, name="rw", scopes=["read", "write"], by=owner)
    _, foreign = token_create(site=other, name="theirs", scopes=ALL, by=None)
    read_only, write_only, stranger = Api(client, reader), Api(client, writer), Api(client, foreign)
    assert_error(read_only.send("post", "shop/cookies", GA), 403, "scope_missing")
    assert_error(read_only.send("put", "shop/banner/texts/de", {"title": "X"}), 403, "scope_missing")
    assert_error(
        read_only.send("patch", "shop/banner/settings", {"radius": 1}, HTTP_IF_MATCH="*"),
        403,
        "scope_missing",
    )
    assert_error(write_only.send("post", "shop/banner/versions", {}), 403, "scope_missing")
    endpoints = [
        ("get", "shop/cookies", None),
        ("post", "shop/cookies", GA),
        ("get", f"shop/cookies/{cookie.pk}", None),
        ("patch", f"shop/cookies/{cookie.pk}", {"duration_days": 1}),
        ("delete", f"shop/cookies/{cookie.pk}", None),
        ("get", "shop/banner/settings", None),
        ("patch", "shop/banner/settings", {"radius": 1}),
        ("get", "shop/banner/texts", None),
        ("get", "shop/banner/texts/en", None),
        ("put", "shop/banner/texts/en", {"title": "Mine"}),
        ("delete", "shop/banner/texts/en", None),
        ("get", "shop/banner/versions", None),
        ("post", "shop/banner/versions", {}),
        ("get", "shop/banner/versions/current", None),
    ]
    for method, path, body in endpoints:
        answer = (
            stranger.get(path) if method == "get" else stranger.send(method, path, body, HTTP_IF_MATCH="*")
        )
        assert_error(answer, 404, "not_found")
    assert Cookie.objects.filter(site=shop).count() == 1 and not BannerVersion.objects.exists()
    assert BannerText.objects.get(site=shop).title == "Cookies" and not BannerSettings.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith=("cookie", "banner")).exists()


def test_a_shell_token_publishes_as_trusted_code_with_its_prefix_in_the_audit_row(client, shop):
    _, shell = token_create(site=shop, name="pipeline", scopes=["read", "publish"], by=None)
    published = Api(client, shell).send("post", "shop/banner/versions", {"change_note": "From CI."})
    assert published.status_code == 201, published.content
    row = AuditEntry.objects.get(action="banner_version.publish")
    assert row.actor is None and row.data["token"].startswith("cst_")
    assert BannerVersion.objects.get(site=shop).published_by is None
