import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from consent.models import Purpose, Site, origin_normalise
from consent.sites.services import purpose_create, site_create
from consent.tenancy.services import site_member_set
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_site_gets_a_long_random_key_and_a_locked_necessary_purpose():
    first = site_create(name="One", languages=["en", "ru"], by=None)
    second = site_create(name="Two", by=None)
    assert first.key != second.key
    assert len(first.key) >= 20
    assert first.key != str(first.pk)
    necessary = Purpose.objects.get(site=first, key="necessary")
    assert necessary.is_necessary
    assert sorted(necessary.translations.values_list("language", flat=True)) == ["en", "ru"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443/", "https://shop.example.com"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_origins_are_normalised_to_what_browsers_send(given, expected):
    assert origin_normalise(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com/path",
        "https://user@shop.example.com",
        "https://shop.example.com:99999",
        "https://пример.рф",
    ],
)
def test_malformed_origins_are_refused(bad):
    with pytest.raises(ValidationError):
        origin_normalise(bad)


def test_unknown_languages_are_refused_and_the_default_language_is_always_enabled():
    site = SiteFactory.build(default_language="ru", languages=["en"])
    site.full_clean()
    assert site.languages == ["ru", "en"]
    site.languages = ["en", "xx"]
    with pytest.raises(ValidationError) as error:
        site.full_clean()
    assert "xx" in str(error.value)


def test_jurisdiction_overrides_beyond_legal_bounds_are_refused():
    site = SiteFactory.build(jurisdiction_overrides={"EU": {"reject_on_first_layer": False}})
    with pytest.raises(ValidationError) as error:
        site.full_clean()
    assert "jurisdiction_overrides" in error.value.message_dict
    site.jurisdiction_overrides = {"MARS": {}}
    with pytest.raises(ValidationError) as error:
        site.full_clean()
    assert "MARS" in str(error.value)
    site.jurisdiction_overrides = {"EU": {"reask_after_consent_days": 180}}
    site.full_clean()


def test_retention_cannot_be_shorter_than_the_life_of_a_consent():
    site = SiteFactory.build(consent_retention_days=30)
    with pytest.raises(ValidationError) as error:
        site.full_clean()
    assert "consent_retention_days" in error.value.message_dict


def test_the_database_refuses_a_second_purpose_with_the_same_key():
    site = site_create(name="Shop", by=None)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Purpose.objects.create(site=site, key="analytics")


def test_the_database_refuses_an_unlocked_necessary_purpose_or_a_fake_one():
    site = SiteFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Purpose.objects.create(site=site, key="necessary", is_necessary=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Purpose.objects.create(site=site, key="analytics", is_necessary=True)


def test_necessary_cannot_be_created_twice_or_sold():
    site = site_create(name="Shop", by=None)
    with pytest.raises(ValidationError):
        purpose_create(site=site, key="necessary", texts={}, by=None)
    necessary = Purpose.objects.get(site=site, key="necessary")
    necessary.is_sale_or_share = True
    with pytest.raises(ValidationError):
        necessary.full_clean()


def test_a_purpose_with_a_bad_key_or_language_leaves_nothing_behind():
    site = site_create(name="Shop", by=None)
    with pytest.raises(ValidationError):
        purpose_create(site=site, key="Bad Key", texts={"en": ("x", "y")}, by=None)
    with pytest.raises(ValidationError):
        purpose_create(site=site, key="analytics", texts={"xx": ("x", "y")}, by=None)
    assert list(Purpose.objects.filter(site=site).values_list("key", flat=True)) == ["necessary"]


def test_setting_a_member_twice_changes_the_role_not_the_count():
    site = SiteFactory()
    existing = UserFactory(username="dora", email="dora@example.com", is_staff=False)
    site_member_set(site=site, email="DORA@example.com", role="viewer", by=None)
    membership = site_member_set(site=site, email="dora@example.com", role="dpo", by=None)
    assert membership.user == existing
    assert membership.role == "dpo"
    assert site.memberships.count() == 1
    existing.refresh_from_db()
    assert existing.is_staff
    with pytest.raises(ValidationError):
        site_member_set(site=site, email="dora@example.com", role="emperor", by=None)


def test_site_keys_must_be_url_safe():
    with pytest.raises(ValidationError):
        site_create(name="Shop", key="has spaces", by=None)
    assert not Site.objects.filter(name="Shop").exists()
