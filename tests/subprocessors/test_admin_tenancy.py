"""A member of site A sees none of site B's vendors, versions, subscribers, objections or logs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.sites.services import site_create
from subprocessors.lists.services import subprocessor_list_publish
from subprocessors.models import NotificationLog, Objection, Subscriber, SubscriberStatus, Vendor
from tests.factories import UserFactory
from tests.subprocessors.conftest import GOOGLE, HOTJAR, vendor_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob_site():
    bob = UserFactory(username="bob")
    site = site_create(name="Bob Bakery", key="bob", owner=bob, by=None)
    vendor_make(site, GOOGLE, name="Bob Secret Vendor")
    past = timezone.now() - timedelta(days=60)
    version = subprocessor_list_publish(
        site=site, effective_at=past, change_note="Bob v1", by=bob, ip=None, now=past
    )
    subscriber = Subscriber.objects.create(
        site=site, email="bob-subscriber@example.org", status=SubscriberStatus.CONFIRMED
    )
    vendor_make(site, HOTJAR)
    upcoming = subprocessor_list_publish(
        site=site, effective_at=timezone.now() + timedelta(days=31), change_note="", by=bob, ip=None
    )
    Objection.objects.create(
        site=site, version=upcoming, vendor_key="hotjar", vendor_name="Hotjar", subscriber=subscriber,
        email=subscriber.email, reason="Bob objection reason",
    )  # fmt: skip
    NotificationLog.objects.create(
        site=site, version=version, channel="email", recipient="bob-subscriber@example.org",
        status="sent", content_sha256="0" * 64,
    )  # fmt: skip
    return site


@pytest.mark.parametrize(
    "model, secret",
    [
        ("vendor", b"Bob Secret Vendor"),
        ("subprocessorlistversion", b"Bob Bakery"),
        ("subscriber", b"bob-subscriber@example.org"),
        ("objection", b"bob-subscriber@example.org"),
        ("notificationlog", b"bob-subscriber@example.org"),
    ],
)
def test_lists_show_only_the_members_sites(client, owner, site, published, bob_site, model, secret):
    client.force_login(owner)
    response = client.get(reverse(f"admin:subprocessors_{model}_changelist"))
    assert response.status_code == 200
    assert secret not in response.content


def test_another_sites_rows_are_not_found_and_cannot_be_published_or_answered(client, owner, site, bob_site):
    client.force_login(owner)
    bob_vendor = Vendor.objects.get(site=bob_site, key="google")
    response = client.get(reverse("admin:subprocessors_vendor_change", args=[bob_vendor.pk]), follow=True)
    assert b"Bob Secret Vendor" not in response.content
    assert client.post(reverse("admin:subprocessors_publish"), {"site": bob_site.pk}).status_code == 403
    objection = Objection.objects.get()
    answer = client.post(reverse("admin:subprocessors_objection_answer", args=[objection.pk]), {"text": "hi"})
    assert answer.status_code == 404
    add = client.get(reverse("admin:subprocessors_vendor_add"))
    assert b"Bob Bakery" not in add.content


def test_the_members_own_rows_are_listed_and_publishable(client, owner, site, published):
    client.force_login(owner)
    assert b"Google Analytics" in client.get(reverse("admin:subprocessors_vendor_changelist")).content
    assert b"Preview and publish" in client.get(reverse("admin:subprocessors_vendor_changelist")).content
    preview = client.get(reverse("admin:subprocessors_publish"))  # one site: preselected
    assert b"Changes against version 1" in preview.content
