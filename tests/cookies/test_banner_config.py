"""What the banner is fed: the loader, the config per jurisdiction and language, publishing."""

import json
import shutil
import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import brotli
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentRecord, Role, SiteMembership
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.sites.services import purpose_create, site_create
from cookies.banner.api import config_cache_forget
from cookies.banner.services import banner_settings_ensure, banner_text_set, banner_version_publish
from cookies.catalogue.services import cookie_create, cookie_translation_set
from cookies.models import BannerVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example"


@pytest.fixture(autouse=True)
def _fresh_configs():
    config_cache_forget()
    yield
    config_cache_forget()


@pytest.fixture
def dpo():
    return UserFactory(username="dora")


@pytest.fixture
def site(dpo):
    site = site_create(
        key="shop", name="Shop", languages=["en", "ru"], origins=[ORIGIN], default_jurisdiction="EU", by=None
    )
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    analytics = purpose_create(
        site=site,
        key="analytics",
        texts={"en": ("Analytics", "Counts visits."), "ru": ("Аналитика", "Считает.")},
        by=None,
    )
    purpose_create(
        site=site,
        key="marketing",
        texts={"en": ("Marketing", "Ads."), "ru": ("Маркетинг", "Реклама.")},
        is_sale_or_share=True,
        by=None,
    )
    # The RU consent document makes Russian required: every text a visitor sees is written in it.
    ga = cookie_create(
        site=site, purpose=analytics, name="_ga", description="Visit counter.", duration_days=395, by=None
    )
    cookie_translation_set(cookie=ga, language="ru", description="Счётчик посещений.", by=None)
    ga_star = cookie_create(
        site=site, purpose=analytics, name="_ga_*", description="Session state.", duration_days=395, by=None
    )
    cookie_translation_set(cookie=ga_star, language="ru", description="Состояние сеанса.", by=None)
    for kind, jurisdictions in (("privacy_policy", []), ("cookie_policy", []), ("pd_consent", ["RU"]),
                                ("california_notice", ["US-CA", "US"])):  # fmt: skip
        document = policy_document_create(
            site=site, kind=kind, jurisdictions=jurisdictions, languages=["en"], by=None
        )
        for language in {"en", document.prevailing_language} | (
            {"ru"} if kind != "california_notice" else set()
        ):
            policy_text_set(document=document, language=language, title=kind, body=f"The {kind}.", by=None)
        policy_version_publish(document=document, effective_at=timezone.now() - timedelta(days=1), by=dpo,
                               now=timezone.now() - timedelta(days=1))  # fmt: skip
    banner_settings_ensure(site=site)
    banner_version_publish(site=site, by=dpo)
    return site


def config(client, **headers):
    headers.setdefault("HTTP_ORIGIN", ORIGIN)
    query = headers.pop("query", "")
    response = client.get(f"/api/public/v1/sites/shop/config{query}", **headers)
    assert response.status_code == 200, response.content
    return response


def test_the_loader_is_small_cached_briefly_and_points_at_hashed_files(client, site):
    response = client.get("/c/shop.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "public, max-age=300"
    body = response.content.decode()
    assert '"consent", "default"' in body and "wait_for_update: 500" in body
    assert body.index('"consent", "default"') < body.index("cookies/banner")  # defaults before the banner
    assert "/api/public/v1/sites/shop/config" in body
    assert len(brotli.compress(response.content)) < 700
    assert not response.cookies
    missing = client.get("/c/nope.js")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("text/javascript")


def test_an_eu_visitor_gets_opt_in_rules_links_and_versions(client, site):
    body = config(client, HTTP_CF_IPCOUNTRY="DE").json()
    assert body["jurisdiction"]["code"] == "EU" and body["jurisdiction"]["model"] == "opt_in"
    assert body["jurisdiction"]["reject_first_layer"] is True
    assert set(body["links"]) == {"privacy_policy", "cookie_policy", "vendor_list"}
    assert body["versions"]["banner"] == 1
    assert body["versions"]["policies"] == {"privacy-policy": 1, "cookie-policy": 1}
    assert [p["key"] for p in body["purposes"]] == ["necessary", "analytics", "marketing"]
    analytics = body["purposes"][1]
    assert [c["name"] for c in analytics["cookies"]] == ["_ga", "_ga_*"]
    assert body["purposes"][0]["locked"] is True and body["purposes"][2]["sale"] is True
    assert body["consent_mode"]["analytics_storage"] == ["analytics"]
    assert body["consent_mode"]["ad_storage"] == ["marketing"]
    assert body["endpoint"] == "http://testserver/api/public/v1/sites/shop"


def test_a_californian_gets_opt_out_gpc_and_the_notice_at_collection(client, site):
    body = config(client, HTTP_CF_IPCOUNTRY="US", HTTP_CF_REGION_CODE="CA", HTTP_SEC_GPC="1").json()
    assert body["jurisdiction"] == {**body["jurisdiction"], "code": "US-CA", "model": "opt_out",
                                    "gpc": "opt_out_sale_share", "gpc_status": True}  # fmt: skip
    assert body["gpc_header"] is True
    assert "notice_at_collection" in body["links"]


def test_a_russian_visitor_gets_the_separate_consent_document_in_russian(client, site):
    body = config(client, HTTP_CF_IPCOUNTRY="RU", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert body["jurisdiction"]["code"] == "RU"
    assert body["lang"] == "ru"
    assert "consent_document" in body["links"]
    assert body["purposes"][1]["name"] == "Аналитика"
    assert body["texts"]["accept_all"] != config(client, query="?lang=en").json()["texts"]["accept_all"]


def test_languages_come_from_the_parameter_then_the_browser_then_the_site(client, site):
    assert config(client, query="?lang=ru").json()["lang"] == "ru"
    assert config(client, HTTP_ACCEPT_LANGUAGE="de-DE,ru;q=0.5").json()["lang"] == "ru"
    assert config(client, HTTP_ACCEPT_LANGUAGE="ja").json()["lang"] == "en"


def test_site_texts_replace_the_built_in_title_and_body_once_published(client, site, dpo):
    banner_text_set(site=site, language="en", title="Cookies at the shop", body="Short and honest.", by=None)
    assert config(client, query="?lang=en").json()["texts"]["title"] != "Cookies at the shop"
    # Russian is required here (RU): the site's own wording must be there too before visitors get it.
    with pytest.raises(ValidationError) as refused:
        banner_version_publish(site=site, by=dpo)
    assert (
        "(ru) is required by RU" in refused.value.messages[0] and "banner title" in refused.value.messages[0]
    )
    banner_text_set(site=site, language="ru", title="Cookie в магазине", body="Коротко и честно.", by=None)
    banner_version_publish(site=site, by=dpo)
    config_cache_forget()
    body = config(client, query="?lang=en").json()
    assert body["texts"]["title"] == "Cookies at the shop" and body["versions"]["banner"] == 2


def test_the_config_revalidates_by_http_s_rules_not_by_substring(client, site):
    etag = config(client, HTTP_CF_IPCOUNTRY="DE")["ETag"]
    path = "/api/public/v1/sites/shop/config"

    def status(if_none_match: str) -> int:
        return client.get(path, HTTP_CF_IPCOUNTRY="DE", HTTP_IF_NONE_MATCH=if_none_match).status_code

    assert status(f'"other", {etag}') == 304  # one of a list
    assert status(f"W/{etag}") == 304  # a weak validator matches for GET
    assert status("*") == 304
    assert status(f"{etag}-gzip") == 200  # contains the tag, but is no valid tag at all
    assert status('"unrelated"') == 200


def test_the_config_answers_304_to_a_repeat_and_varies_on_what_it_depends_on(client, site):
    first = config(client, HTTP_CF_IPCOUNTRY="DE")
    vary = first["Vary"].lower()
    for header in ("Origin", "Accept-Language", "Sec-GPC", "CF-IPCountry", "CF-Region-Code"):
        assert header.lower() in vary
    assert first["Access-Control-Allow-Origin"] == ORIGIN
    again = client.get("/api/public/v1/sites/shop/config", HTTP_CF_IPCOUNTRY="DE", HTTP_ORIGIN=ORIGIN,
                       HTTP_IF_NONE_MATCH=first["ETag"])  # fmt: skip
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    other = config(client, HTTP_CF_IPCOUNTRY="FR")
    assert other["ETag"] != first["ETag"]
    foreign = client.get("/api/public/v1/sites/shop/config", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in foreign
    assert client.get("/api/public/v1/sites/nope/config").status_code == 404


def test_a_material_policy_change_moves_the_epoch_from_its_effective_date(client, site, dpo):
    assert config(client, HTTP_CF_IPCOUNTRY="DE").json()["epoch"] is None
    document = site.policy_documents.get(slug="privacy-policy")
    policy_text_set(document=document, language="en", title="privacy", body="Now with partners.", by=None)
    published = timezone.now() - timedelta(days=31)
    effective = published + timedelta(days=30, minutes=1)
    version = policy_version_publish(
        document=document, effective_at=effective, by=dpo, now=published, is_material=True
    )
    config_cache_forget()
    body = config(client, HTTP_CF_IPCOUNTRY="DE").json()
    assert body["epoch"] == version.effective_at.isoformat().replace("+00:00", "Z")
    assert body["versions"]["policies"]["privacy-policy"] == 2


def test_an_unchanged_banner_cannot_be_published_again_and_viewers_cannot_publish(site, dpo):
    with pytest.raises(ValidationError, match="Nothing changed"):
        banner_version_publish(site=site, by=dpo)
    viewer = UserFactory(username="vic")
    SiteMembership.objects.create(site=site, user=viewer, role=Role.VIEWER)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        banner_version_publish(site=site, by=viewer)
    assert BannerVersion.objects.filter(site=site).count() == 1


def test_consent_records_pin_the_banner_version(client, site):
    response = client.post(
        "/api/public/v1/sites/shop/consents",
        json.dumps(
            {
                "visitor_id": "visitor-0000000000001",
                "action": "reject_all",
                "granted": [],
                "denied": ["analytics", "marketing"],
                "versions": {"banner": 1},
                "language": "en",
                "ui_layer": "first_layer",
            }
        ),  # fmt: skip
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
    )
    assert response.status_code == 201, response.content
    pinned = ConsentRecord.objects.get().versions["banner"]
    assert pinned == {"number": 1, "sha256": BannerVersion.objects.get(site=site).content_sha256}


def test_the_admin_shows_the_install_tag_a_live_preview_and_publishes(client, site, dpo):
    client.force_login(dpo)
    settings_row = site.banner_settings
    page = client.get(reverse("admin:cookies_bannersettings_change", args=[settings_row.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "/c/shop.js" in html and 'data-copy-target="consentry-install-tag"' in html
    assert 'id="consentry-preview"' in html
    token = page.context["preview_token"]
    preview = client.get(f"/c/preview/{token}/config?lang=ru&jurisdiction=RU").json()
    assert preview["jurisdiction"]["code"] == "RU" and preview["endpoint"] == ""
    assert client.get("/c/preview/forged-token/config").status_code == 400
    form = {
        "position": "center", "layout": "box", "color_background": "#101820", "color_text": "#f2f2f2",
        "color_accent": "#ffb000", "color_accent_text": "#101820", "radius": 12,
        "consent_mode": json.dumps({"analytics_storage": ["analytics"], "ad_storage": ["marketing"]}),
    }  # fmt: skip
    saved = client.post(reverse("admin:cookies_bannersettings_change", args=[settings_row.pk]), form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert client.get(f"/c/preview/{token}/config").json()["theme"]["position"] == "center"
    assert config(client).json()["theme"]["position"] == "bottom"  # visitors see only published versions
    published = client.post(
        reverse("admin:cookies_banner_publish", args=[settings_row.pk]), {"change_note": "Dark"}
    )
    assert published.status_code == 302
    config_cache_forget()
    assert config(client).json()["theme"]["position"] == "center"


def test_what_a_visitor_downloads_and_the_demo_config_fit_their_size_budgets(client, tmp_path):
    password = tmp_path / "password"
    for command in ("consent_demo", "subprocessors_demo", "cookies_demo"):
        kwargs = {"admin_password_file": str(password)} if command == "consent_demo" else {}
        call_command(command, stdout=StringIO(), **kwargs)
    config_cache_forget()
    # Three responses, each compressed on its own: the loader as served for the demo site, and
    # the built banner files (whitenoise serves them brotli-compressed at quality 11).
    static = Path(settings.BASE_DIR) / "static" / "cookies"
    files = {
        "loader": client.get("/c/demo.js").content,
        "banner.js": (static / "banner.js").read_bytes(),
        "banner.css": (static / "banner.css").read_bytes(),
    }
    sizes = {name: len(brotli.compress(body, quality=11)) for name, body in files.items()}
    total = sum(sizes.values())
    assert total <= 7 * 1024, f"the loader, banner JS and CSS are {total} bytes brotli: {sizes}"
    demo = client.get("/api/public/v1/sites/demo/config?lang=en", HTTP_CF_IPCOUNTRY="DE")
    config_size = len(brotli.compress(demo.content, quality=11))
    assert config_size <= 2 * 1024, f"demo config is {config_size} bytes brotli"


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the loader (make check requires it)")
def test_the_loader_carries_its_values_as_json_whatever_they_hold(client, site, monkeypatch):
    # No slash: the URL pattern stops at `/`. The rest of what could end a string or a script
    # element, or a line in older engines.
    hostile = "shop\"'<script>&\u2028"
    # Such a key is refused by its pattern before any lookup...
    assert client.get("/c/" + quote(hostile) + ".js").status_code == 404
    # ...and were one ever served, the loader still carries it as inert JSON.
    from cookies.banner import views

    real = views.site_snapshot
    monkeypatch.setattr(views, "site_snapshot", lambda *, key: real(key=site.key))
    response = client.get("/c/" + quote(hostile) + ".js")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<" not in body and "\u2028" not in body and '"shop\\"' in body
    # Run it as a browser would: the values arrive intact, nothing else runs.
    run = (
        "const vm = require('vm'); const w = {}; let src = '';"
        "const d = {createElement: () => ({}), head: {appendChild: s => { w.appended = s; }}};"
        "vm.runInNewContext(require('fs').readFileSync(0, 'utf8'), {window: w, document: d, navigator: {}});"
        "console.log(JSON.stringify({config: w.ConsentryConfig, script: w.appended,"
        " commands: w.dataLayer.map(args => Array.from(args))}));"
    )
    done = subprocess.run([NODE, "-e", run], input=body, capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    assert loaded["config"]["site"] == hostile
    assert loaded["config"]["config"] == f"http://testserver/api/public/v1/sites/{hostile}/config"
    assert loaded["script"]["src"].startswith("http://testserver/static/cookies/banner")
    assert loaded["script"]["async"] is True
    denied, granted = loaded["commands"]
    assert denied[:2] == ["consent", "default"] and denied[2]["ad_storage"] == "denied"
    assert granted[2]["region"] == ["US"] and granted[2]["ad_storage"] == "granted"
