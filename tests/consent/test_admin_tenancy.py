"""A member of site A can neither read nor change anything of site B in the admin."""

import pytest
from django.urls import reverse

from consent.models import Purpose, PurposeTranslation, Role, Site, SiteMembership, SiteOrigin
from consent.sites.services import purpose_create, site_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def site_a(alice):
    site = site_create(name="Alice Shop", origins=["https://alice.example"], owner=alice, by=None)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    return site


@pytest.fixture
def site_b():
    bob = UserFactory(username="bob")
    site = site_create(name="Bob Secret Bakery", origins=["https://bob.example"], owner=bob, by=None)
    purpose_create(site=site, key="marketing", texts={"en": ("Marketing", "Ads.")}, by=None)
    return site


@pytest.fixture
def alice_client(client, alice, site_a, site_b):
    client.force_login(alice)
    return client


def test_site_list_shows_only_the_members_sites(alice_client, site_a, site_b):
    response = alice_client.get(reverse("admin:consent_site_changelist"))
    assert response.status_code == 200
    assert site_a.name.encode() in response.content
    assert site_b.name.encode() not in response.content
    assert site_b.key.encode() not in response.content


def test_another_sites_change_page_is_not_found(alice_client, site_b):
    response = alice_client.get(reverse("admin:consent_site_change", args=[site_b.pk]), follow=True)
    assert site_b.name.encode() not in response.content
    assert b"doesn\xe2\x80\x99t exist" in response.content


def test_another_site_cannot_be_changed_by_post(alice_client, site_b):
    url = reverse("admin:consent_site_change", args=[site_b.pk])
    response = alice_client.post(
        url, {"name": "Taken over", "default_language": "en", "default_jurisdiction": "EU"}
    )
    assert response.status_code in (302, 403)
    site_b.refresh_from_db()
    assert site_b.name == "Bob Secret Bakery"


def test_another_sites_purposes_are_hidden_and_unchangeable(alice_client, site_a, site_b):
    response = alice_client.get(reverse("admin:consent_purpose_changelist"))
    assert b"analytics" in response.content
    assert b"marketing" not in response.content
    marketing = Purpose.objects.get(site=site_b, key="marketing")
    url = reverse("admin:consent_purpose_change", args=[marketing.pk])
    assert site_b.name.encode() not in alice_client.get(url, follow=True).content
    alice_client.post(url, {"is_sale_or_share": "on", "position": 1})
    marketing.refresh_from_db()
    assert marketing.is_sale_or_share is False
    delete_url = reverse("admin:consent_purpose_delete", args=[marketing.pk])
    alice_client.post(delete_url, {"post": "yes"})
    assert Purpose.objects.filter(pk=marketing.pk).exists()


def test_a_purpose_cannot_be_added_to_another_site(alice_client, site_a, site_b):
    add_page = alice_client.get(reverse("admin:consent_purpose_add"))
    assert site_b.name.encode() not in add_page.content
    response = alice_client.post(
        reverse("admin:consent_purpose_add"),
        {
            "site": site_b.pk,
            "key": "intruder",
            "position": 1,
            "translations-TOTAL_FORMS": 1,
            "translations-INITIAL_FORMS": 0,
            "translations-0-language": "en",
            "translations-0-name": "Intruder",
            "translations-0-description": "Should not exist.",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert b"Select a valid choice" in response.content
    assert not Purpose.objects.filter(key="intruder").exists()


def test_a_purpose_can_be_added_to_ones_own_site(alice_client, site_a):
    response = alice_client.post(
        reverse("admin:consent_purpose_add"),
        {
            "site": site_a.pk,
            "key": "preferences",
            "position": 5,
            "translations-TOTAL_FORMS": 1,
            "translations-INITIAL_FORMS": 0,
            "translations-0-language": "en",
            "translations-0-name": "Preferences",
            "translations-0-description": "Remembers your settings.",
        },
    )
    assert response.status_code == 302, response.content
    purpose = Purpose.objects.get(site=site_a, key="preferences")
    assert PurposeTranslation.objects.get(purpose=purpose).name == "Preferences"


def test_site_filter_on_purposes_lists_only_own_sites(client, site_a, site_b, alice):
    second = site_create(name="Alice Second Shop", owner=alice, by=None)
    client.force_login(alice)
    response = client.get(reverse("admin:consent_purpose_changelist"))
    assert second.name.encode() in response.content
    assert site_b.name.encode() not in response.content


def test_a_viewer_can_read_but_not_change(client, site_a):
    viewer = UserFactory(username="victor")
    SiteMembership.objects.create(site=site_a, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    url = reverse("admin:consent_site_change", args=[site_a.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b'name="name"' not in response.content  # read-only view, no input
    client.post(url, {"name": "Changed by a viewer", "default_language": "en", "default_jurisdiction": "EU"})
    site_a.refresh_from_db()
    assert site_a.name == "Alice Shop"


def test_a_non_member_staff_user_sees_no_consent_models(client, site_a):
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert b"/admin/consent/site/" not in response.content
    assert client.get(reverse("admin:consent_site_changelist")).status_code == 403


def test_superuser_sees_every_site(admin_client, site_a, site_b):
    response = admin_client.get(reverse("admin:consent_site_changelist"))
    assert site_a.name.encode() in response.content
    assert site_b.name.encode() in response.content


def test_owner_adds_a_member_by_email(alice_client, site_a):
    url = reverse("admin:consent_site_change", args=[site_a.pk])
    page = alice_client.get(url)
    assert b"alice@example.com" in page.content
    form = {
        "name": site_a.name,
        "default_language": "en",
        "languages": ["en", "ru"],
        "default_jurisdiction": "EU",
        "jurisdiction_overrides": "{}",
        "data_residency": "any",
        "data_residency_note": "",
        "consent_retention_days": 1095,
        "ip_storage": "truncated",
        "store_user_agent": "on",
        "notice_period_days": 30,
        "origins-TOTAL_FORMS": 1,
        "origins-INITIAL_FORMS": 1,
        "origins-0-id": SiteOrigin.objects.get(site=site_a).pk,
        "origins-0-site": site_a.pk,
        "origins-0-origin": "https://alice.example",
        "memberships-TOTAL_FORMS": 2,
        "memberships-INITIAL_FORMS": 1,
        "memberships-0-id": SiteMembership.objects.get(site=site_a).pk,
        "memberships-0-site": site_a.pk,
        "memberships-0-role": "owner",
        "memberships-1-site": site_a.pk,
        "memberships-1-email": "Dora.Viewer@Example.com",
        "memberships-1-role": "viewer",
    }
    response = alice_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    # An owner adds members in any role but DPO (which only a DPO or a superuser grants).
    membership = SiteMembership.objects.get(site=site_a, role=Role.VIEWER)
    assert membership.user.email == "dora.viewer@example.com"
    assert membership.user.is_staff
    assert not membership.user.has_usable_password()
    site_a.refresh_from_db()
    assert site_a.languages == ["en", "ru"]


def test_creating_a_site_in_the_admin_makes_the_creator_its_owner(alice_client, site_a):
    response = alice_client.post(
        reverse("admin:consent_site_add"),
        {
            "name": "Alice Blog",
            "key": "alice-blog",
            "default_language": "ru",
            "languages": ["ru"],
            "default_jurisdiction": "RU",
            "jurisdiction_overrides": "{}",
            "data_residency": "ru",
            "data_residency_note": "Primary database in Moscow.",
            "consent_retention_days": 1095,
            "ip_storage": "truncated",
            "store_user_agent": "on",
            "notice_period_days": 30,
            "origins-TOTAL_FORMS": 1,
            "origins-INITIAL_FORMS": 0,
            "origins-0-origin": "https://Blog.Alice.example:443/",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    site = Site.objects.get(key="alice-blog")
    assert SiteMembership.objects.get(site=site).role == Role.OWNER
    assert list(site.origins.values_list("origin", flat=True)) == ["https://blog.alice.example"]
    necessary = Purpose.objects.get(site=site, key="necessary")
    assert necessary.translations.get().language == "ru"
