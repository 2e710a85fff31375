"""The cookie catalogue links each cookie to its purpose and its vendor (provider) on one site."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consent.models import Purpose
from consent.sites.services import purpose_create, site_create
from cookies.catalogue.selectors import cookie_vendors_by_purpose
from cookies.catalogue.services import cookie_create
from cookies.models import Cookie
from tests.factories import UserFactory
from tests.subprocessors.conftest import GOOGLE, vendor_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(username="cookie-owner")


@pytest.fixture
def site(owner):
    site = site_create(name="Shop", owner=owner, by=None)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    return site


def test_cookies_are_grouped_by_purpose_and_vendor_for_the_banner(site):
    google = vendor_make(site, GOOGLE)
    analytics = Purpose.objects.get(site=site, key="analytics")
    necessary = Purpose.objects.get(site=site, key="necessary")
    cookie_create(
        site=site, purpose=analytics, vendor=google, name="_ga", duration_days=730, description="Id.", by=None
    )
    cookie_create(
        site=site, purpose=analytics, vendor=google, name="_gid", duration_days=1, description="Id.", by=None
    )
    pattern = cookie_create(
        site=site, purpose=analytics, name="stats_*", description="First-party stats.", by=None
    )
    cookie_create(
        site=site,
        purpose=necessary,
        name="csrftoken",
        description="Form security.",
        justification="Security.",
        by=None,
    )
    assert pattern.is_pattern
    grouped = cookie_vendors_by_purpose(site=site)
    assert [(group.vendor, [c.name for c in group.cookies]) for group in grouped["analytics"]] == [
        (None, ["stats_*"]),
        (google, ["_ga", "_gid"]),
    ]
    assert [c.name for c in grouped["necessary"][0].cookies] == ["csrftoken"]


def test_a_necessary_cookie_needs_a_justification(site):
    necessary = Purpose.objects.get(site=site, key="necessary")
    with pytest.raises(ValidationError) as error:
        cookie_create(site=site, purpose=necessary, name="sessionid", description="Login.", by=None)
    assert "justification" in error.value.message_dict
    assert not Cookie.objects.exists()


def test_purpose_and_vendor_must_belong_to_the_same_site(site):
    other = site_create(name="Other", by=None)
    other_vendor = vendor_make(other, GOOGLE)
    other_purpose = Purpose.objects.get(site=other, key="necessary")
    analytics = Purpose.objects.get(site=site, key="analytics")
    with pytest.raises(ValidationError) as error:
        cookie_create(
            site=site, purpose=analytics, vendor=other_vendor, name="_ga", description="Id.", by=None
        )
    assert "vendor" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        cookie_create(site=site, purpose=other_purpose, name="x", description="x", justification="x", by=None)
    assert "purpose" in error.value.message_dict


def test_the_admin_offers_only_the_members_purposes_and_vendors(client, owner, site):
    other = site_create(name="Other Tenant", by=None)
    vendor_make(other, GOOGLE, name="Other Tenant Vendor")
    purpose_create(site=other, key="secretpurpose", texts={"en": ("Secret", "x")}, by=None)
    vendor_make(site, GOOGLE)
    client.force_login(owner)
    page = client.get(reverse("admin:cookies_cookie_add"))
    assert page.status_code == 200
    assert b"Google Analytics" in page.content
    assert b"Other Tenant Vendor" not in page.content and b"secretpurpose" not in page.content
    analytics = Purpose.objects.get(site=site, key="analytics")
    vendor = site.vendors.get()
    response = client.post(
        reverse("admin:cookies_cookie_add"),
        {"site": site.pk, "purpose": analytics.pk, "vendor": vendor.pk, "name": "_ga", "description": "Id."},
    )
    assert response.status_code == 302
    assert Cookie.objects.get().vendor == vendor
