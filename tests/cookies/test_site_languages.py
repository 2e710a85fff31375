"""Site content per language: what is missing in each, publishing refused where the law requires
the language, and elsewhere the fallback shown and named (admin, banner config, public pages)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from consent.models import Role, SiteMembership
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.sites.services import purpose_create, site_create
from cookies.banner.api import config_cache_forget
from cookies.banner.selectors import site_content_missing
from cookies.banner.services import banner_settings_ensure, banner_version_publish
from cookies.catalogue.services import cookie_create, cookie_translation_set, cookie_update
from cookies.models import BannerVersion, Cookie, CookieTranslation
from subprocessors.lists.services import subprocessor_list_publish, vendor_translation_set
from subprocessors.models import SubprocessorListVersion
from tests.factories import UserFactory
from tests.subprocessors.conftest import GOOGLE, vendor_make

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example"


@pytest.fixture(autouse=True)
def _fresh_configs():
    config_cache_forget()
    yield
    config_cache_forget()


@pytest.fixture
def dpo():
    return UserFactory(username="dpo", is_staff=True)


def _shop(dpo, *, default_jurisdiction: str, languages: list[str]):
    """A site with one purpose, one vendor and one cookie, all written in English only (and the
    purpose in every language: the cookie and the vendor are what is missing)."""
    site = site_create(
        key="shop",
        name="Shop",
        languages=languages,
        origins=[ORIGIN],
        default_jurisdiction=default_jurisdiction,
        by=None,
    )
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    texts = {"en": ("Analytics", "Counts visits."), "ru": ("Аналитика", "Считает посещения."),
             "de": ("Statistik", "Zählt Besuche.")}  # fmt: skip
    analytics = purpose_create(
        site=site, key="analytics", texts={code: texts[code] for code in site.enabled_languages}, by=None
    )
    google = vendor_make(site, GOOGLE)
    cookie_create(
        site=site, purpose=analytics, vendor=google, name="_ga", description="Visit counter.", by=None
    )
    banner_settings_ensure(site=site)
    return site


@pytest.fixture
def ru_site(dpo):
    """Russia's rules apply (its default jurisdiction): Russian is required."""
    return _shop(dpo, default_jurisdiction="RU", languages=["en", "ru"])


@pytest.fixture
def eu_site(dpo):
    """EU rules (no language required), German enabled but not written everywhere."""
    return _shop(dpo, default_jurisdiction="EU", languages=["en", "de"])


def test_the_languages_page_shows_per_language_what_is_missing_with_links_to_fix_it(client, dpo, ru_site):
    client.force_login(dpo)
    site_page = client.get(reverse("admin:consent_site_change", args=[ru_site.pk])).content.decode()
    languages_url = reverse("admin:cookies_site_languages", args=[ru_site.pk])
    assert languages_url in site_page
    html = client.get(languages_url).content.decode()
    english, _, russian = html.partition('id="language-ru"')
    assert "default language" in english and "Complete" in english
    assert "required by RU" in russian
    cookie = Cookie.objects.get(site=ru_site)
    assert 'data-missing="cookie:_ga"' in russian
    assert reverse("admin:cookies_cookie_change", args=[cookie.pk]) in russian
    assert 'data-missing="vendor:google"' in russian
    assert 'data-missing="purpose:analytics"' not in russian  # written in Russian
    cookie_translation_set(cookie=cookie, language="ru", description="Счётчик посещений.", by=None)
    assert 'data-missing="cookie:_ga"' not in client.get(languages_url).content.decode()


def test_a_member_of_another_site_cannot_see_its_languages_page(client, ru_site):
    stranger = UserFactory(username="stranger", is_staff=True)
    other = site_create(name="Other", owner=stranger, by=None)
    client.force_login(stranger)
    assert client.get(reverse("admin:cookies_site_languages", args=[other.pk])).status_code == 200
    assert client.get(reverse("admin:cookies_site_languages", args=[ru_site.pk])).status_code == 404


def test_an_ru_site_cannot_publish_its_banner_while_a_cookie_lacks_a_russian_description(
    client, dpo, ru_site
):
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        banner_version_publish(site=ru_site, by=dpo)
    message = refused.value.message_dict["languages"][0]
    assert message.startswith("Русский (ru) is required by RU")
    assert "description of cookie _ga" in message and "purpose of sub-processor Google Analytics" in message
    assert not BannerVersion.objects.exists()
    # The admin's Publish button shows the same refusal, in the DPO's language.
    settings_row = ru_site.banner_settings
    client.force_login(dpo)
    response = client.post(
        reverse("admin:cookies_banner_publish", args=[settings_row.pk]),
        {"change_note": "First."},
        HTTP_ACCEPT_LANGUAGE="ru",
        follow=True,
    )
    shown = response.content.decode()
    assert "обязательный язык для юрисдикций RU" in shown and "описание файла cookie _ga" in shown
    assert not BannerVersion.objects.exists()
    cookie_translation_set(
        cookie=Cookie.objects.get(site=ru_site), language="ru", description="Счётчик посещений.", by=None
    )
    vendor_translation_set(vendor=ru_site.vendors.get(), language="ru", purpose="Веб-аналитика.", by=None)
    assert banner_version_publish(site=ru_site, by=dpo).number == 1


def test_an_ru_site_cannot_publish_its_sub_processor_list_without_russian_purposes(dpo, ru_site):
    now = timezone.now()
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        subprocessor_list_publish(site=ru_site, effective_at=now, change_note="", by=dpo, ip=None)
    assert "purpose of sub-processor Google Analytics" in refused.value.message_dict["languages"][0]
    assert not SubprocessorListVersion.objects.exists()
    vendor_translation_set(vendor=ru_site.vendors.get(), language="ru", purpose="Веб-аналитика.", by=None)
    version = subprocessor_list_publish(site=ru_site, effective_at=now, change_note="", by=dpo, ip=None)
    (entry,) = version.entries
    assert entry["purpose"] == "Web analytics." and entry["language"] == "en"
    assert entry["texts"] == {"en": {"purpose": "Web analytics."}, "ru": {"purpose": "Веб-аналитика."}}


def test_a_jurisdiction_override_can_add_a_required_language(dpo, eu_site):
    banner_version_publish(site=eu_site, by=dpo)  # German is not required: fallback is enough
    eu_site.jurisdiction_overrides = {"EU": {"required_languages": ["de"]}}
    eu_site.save()
    german = {content.language: content for content in site_content_missing(site=eu_site)}["de"]
    assert german.required_by == ("EU",) and {text.kind for text in german.missing} == {"cookie", "vendor"}
    with pytest.raises(ValidationError):
        banner_version_publish(site=eu_site, by=dpo)


def test_elsewhere_the_banner_config_names_the_fallback_language_of_each_text(client, dpo, eu_site):
    banner_version_publish(site=eu_site, by=dpo)
    body = client.get(
        "/api/public/v1/sites/shop/config?lang=de", HTTP_ORIGIN=ORIGIN, HTTP_CF_IPCOUNTRY="DE"
    ).json()
    assert body["lang"] == "de"
    analytics = next(purpose for purpose in body["purposes"] if purpose["key"] == "analytics")
    assert analytics["name"] == "Statistik" and "lang" not in analytics
    (ga,) = analytics["cookies"]
    assert ga["description"] == "Visit counter." and ga["lang"] == "en"
    cookie_translation_set(
        cookie=Cookie.objects.get(site=eu_site), language="de", description="Besuchszähler.", by=None
    )
    config_cache_forget()
    body = client.get(
        "/api/public/v1/sites/shop/config?lang=de", HTTP_ORIGIN=ORIGIN, HTTP_CF_IPCOUNTRY="DE"
    ).json()
    (ga,) = next(purpose for purpose in body["purposes"] if purpose["key"] == "analytics")["cookies"]
    assert ga == {**ga, "description": "Besuchszähler."} and "lang" not in ga


def test_elsewhere_the_sub_processor_page_shows_the_fallback_text_marked_and_named(client, dpo, eu_site):
    subprocessor_list_publish(
        site=eu_site, effective_at=timezone.now() - timedelta(minutes=1), change_note="", by=dpo, ip=None
    )
    html = client.get(reverse("subprocessors:page", args=[eu_site.key]) + "?lang=de").content.decode()
    assert '<span lang="en">Web analytics.</span>' in html
    assert 'data-fallback="en"' in html
    english = client.get(reverse("subprocessors:page", args=[eu_site.key]) + "?lang=en").content.decode()
    assert "<dd>Web analytics.</dd>" in english and "data-fallback" not in english


def test_elsewhere_the_policy_page_shows_the_prevailing_text_and_says_so(client, dpo, eu_site):
    document = policy_document_create(site=eu_site, kind="privacy_policy", languages=["en"], by=None)
    policy_text_set(document=document, language="en", title="Privacy", body="We respect it.", by=None)
    past = timezone.now() - timedelta(days=1)
    policy_version_publish(document=document, effective_at=past, by=dpo, now=past)
    html = client.get(f"/s/{eu_site.key}/policies/{document.slug}/?lang=de").content.decode()
    assert '<html lang="de"' in html or 'lang="de"' in html.split("<body")[0]
    assert '<article class="policy" lang="en">' in html and 'data-fallback="en"' in html
    english = client.get(f"/s/{eu_site.key}/policies/{document.slug}/?lang=en").content.decode()
    assert '<article class="policy" lang="en">' in english and "data-fallback" not in english


def test_changing_a_description_in_the_default_language_goes_through_the_translation(ru_site):
    cookie = Cookie.objects.get(site=ru_site)
    cookie_update(cookie=cookie, description="Counts visits.", by=None)
    assert CookieTranslation.objects.get(cookie=cookie, language="en").description == "Counts visits."
    assert ru_site.audit_entries.filter(action="cookie_translation.change").exists()
