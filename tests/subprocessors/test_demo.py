"""The demo: eight vendors with their cookies, two versions in force in the past, one upcoming."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from consent.models import Site
from cookies.models import Cookie
from subprocessors.lists.selectors import subprocessor_list_in_force, subprocessor_list_upcoming
from subprocessors.models import SubprocessorListVersion, Vendor

pytestmark = pytest.mark.django_db


def test_the_demo_needs_the_demo_site():
    with pytest.raises(CommandError, match="consent_demo"):
        call_command("subprocessors_demo")


def test_the_demo_builds_a_consistent_history_and_is_idempotent(tmp_path, client):
    call_command("consent_demo", admin_password_file=str(tmp_path / "pw"))
    call_command("subprocessors_demo")
    call_command("subprocessors_demo")
    site = Site.objects.get(key="demo")
    assert Vendor.objects.filter(site=site).count() == 8
    versions = list(SubprocessorListVersion.objects.filter(site=site).order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    now = timezone.now()
    assert [v.effective_at <= now for v in versions] == [True, True, False]
    assert subprocessor_list_in_force(site=site).number == 2
    [upcoming] = subprocessor_list_upcoming(site=site)
    assert upcoming.published_at < now < upcoming.effective_at
    assert (upcoming.effective_at - upcoming.published_at).days >= site.notice_period_days
    assert {entry["key"] for entry in upcoming.entries} - {entry["key"] for entry in versions[1].entries} == {
        "hotjar"
    }
    assert Cookie.objects.get(site=site, name="_ga").vendor.legal_entity == "Google Ireland Limited"
    assert Cookie.objects.get(site=site, name="_ym_uid").vendor.key == "yandex"
    assert Cookie.objects.filter(site=site).count() == 11
    response = client.get("/s/demo/subprocessors/")
    assert response.status_code == 200 and b"Hotjar" in response.content
