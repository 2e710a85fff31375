"""Shared states for sub-processor tests, built through the services."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from consent.sites.services import site_create
from subprocessors.lists.services import subprocessor_list_publish, vendor_create
from tests.factories import UserFactory

GOOGLE: dict[str, Any] = {
    "key": "google",
    "name": "Google Analytics",
    "legal_entity": "Google Ireland Limited",
    "address": "Gordon House, Barrow Street, Dublin 4, Ireland",
    "contact": "https://support.google.com/policies",
    "purpose": "Web analytics.",
    "locations": ["IE", "US"],
    "transfer_mechanisms": ["eu_us_dpf"],
    "category": "analytics",
}
YANDEX: dict[str, Any] = {
    "key": "yandex",
    "name": "Yandex Metrica",
    "legal_entity": "YANDEX LLC",
    "address": "16 Lva Tolstogo St., Moscow, Russia",
    "contact": "https://yandex.com/legal/confidential/",
    "purpose": "Web analytics for Russian visitors.",
    "locations": ["RU"],
    "transfer_mechanisms": ["sccs"],
    "transfer_assessment_ref": "TIA-1",
    "category": "analytics",
}
HOTJAR: dict[str, Any] = {
    "key": "hotjar",
    "name": "Hotjar",
    "legal_entity": "Hotjar Ltd",
    "address": "St Julian's, Malta",
    "contact": "https://www.hotjar.com/legal/policies/privacy/",
    "purpose": "Heatmaps.",
    "locations": ["MT"],
    "category": "analytics",
}


def vendor_make(site, data: dict[str, Any], **changes: Any):
    fields = {**data, **changes}
    if "eu_us_dpf" in fields.get("transfer_mechanisms", []):
        fields.setdefault("dpf_checked_on", timezone.now().date())
    return vendor_create(site=site, **fields, by=None)


def links_in(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


@pytest.fixture
def owner():
    return UserFactory(username="dpo-owner")


@pytest.fixture
def site(owner):
    return site_create(name="Shop", key="shop", owner=owner, by=None)


@pytest.fixture
def published(site, owner):
    """Version 1 (Google, Yandex) in force since 60 days ago."""
    vendor_make(site, GOOGLE)
    vendor_make(site, YANDEX)
    past = timezone.now() - timedelta(days=60)
    return subprocessor_list_publish(
        site=site, effective_at=past, change_note="First.", by=owner, ip=None, now=past
    )


@pytest.fixture
def upcoming(site, owner, published):
    """Version 2 adds Hotjar, published now, effective in 30 days."""
    vendor_make(site, HOTJAR)
    return subprocessor_list_publish(
        site=site,
        effective_at=timezone.now() + timedelta(days=30, minutes=1),
        change_note="Adding Hotjar.",
        by=owner,
        ip="127.0.0.1",
    )


@pytest.fixture(autouse=True)
def _outbox():
    mail.outbox = []
    yield
