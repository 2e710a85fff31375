"""Vendors, the diff, the notice rule and immutable published versions."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from consent.immutability import triggers_present
from consent.models import AuditEntry, ImmutableRowError
from subprocessors.lists.selectors import (
    subprocessor_list_diff,
    subprocessor_list_in_force,
    subprocessor_list_upcoming,
)
from subprocessors.lists.services import subprocessor_list_publish, vendor_update
from subprocessors.models import NotificationLog, Objection, ObjectionAnswer, SubprocessorListVersion, Vendor
from tests.subprocessors.conftest import GOOGLE, HOTJAR, YANDEX, vendor_make

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["name", "legal_entity", "address", "contact", "purpose"])
def test_a_vendor_without_an_identity_field_is_refused(site, field):
    with pytest.raises(ValidationError) as error:
        vendor_make(site, GOOGLE, **{field: "  "})
    assert field in error.value.message_dict
    assert not Vendor.objects.exists()


def test_a_vendor_without_a_processing_location_is_refused(site):
    with pytest.raises(ValidationError) as error:
        vendor_make(site, HOTJAR, locations=[])
    assert "locations" in error.value.message_dict


def test_locations_must_be_iso_alpha_2_codes(site):
    with pytest.raises(ValidationError) as error:
        vendor_make(site, HOTJAR, locations=["Malta"])
    assert "MALTA" in error.value.message_dict["locations"][0]
    assert vendor_make(site, HOTJAR, locations=["mt", "ie"]).locations == ["IE", "MT"]


def test_processing_outside_the_eea_needs_a_transfer_mechanism(site):
    with pytest.raises(ValidationError) as error:
        vendor_make(site, YANDEX, transfer_mechanisms=[])
    assert "outside the EEA (RU)" in error.value.message_dict["transfer_mechanisms"][0]
    assert vendor_make(site, HOTJAR).transfer_mechanisms == []  # inside the EEA: none needed


def test_sccs_need_a_transfer_assessment_and_dpf_needs_a_recent_check(site):
    with pytest.raises(ValidationError) as error:
        vendor_make(site, YANDEX, transfer_assessment_ref="")
    assert "transfer_assessment_ref" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        vendor_make(site, GOOGLE, dpf_checked_on=timezone.now().date() - timedelta(days=400))
    assert "more than a year old" in error.value.message_dict["dpf_checked_on"][0]
    with pytest.raises(ValidationError) as error:
        vendor_make(site, YANDEX, transfer_mechanisms=["adequacy"])
    assert "No EU adequacy decision covers RU" in error.value.message_dict["transfer_mechanisms"][0]


def test_the_diff_lists_added_removed_and_changed_entries_field_by_field():
    old = [
        {"key": "a", "name": "A", "locations": ["IE"], "purpose": "x"},
        {"key": "b", "name": "B", "locations": ["IE"], "purpose": "y"},
    ]
    new = [
        {"key": "a", "name": "A", "locations": ["IE", "US"], "purpose": "x2"},
        {"key": "c", "name": "C", "locations": ["DE"], "purpose": "z"},
    ]
    diff = subprocessor_list_diff(old_entries=old, new_entries=new)
    assert [entry["key"] for entry in diff.added] == ["c"]
    assert [entry["key"] for entry in diff.removed] == ["b"]
    [change] = diff.changed
    assert change.key == "a"
    assert [(f.field, f.old, f.new) for f in change.changes] == [
        ("locations", ["IE"], ["IE", "US"]),
        ("purpose", "x", "x2"),
    ]
    assert diff.needs_notice
    assert diff.summary() == "Added: C. Removed: B. Changed: A (locations, purpose)."
    assert subprocessor_list_diff(old_entries=old, new_entries=old).is_empty


def test_publishing_freezes_entries_by_value_with_a_hash_and_an_audit_entry(site, owner, published):
    assert published.number == 1
    assert [entry["key"] for entry in published.entries] == ["google", "yandex"]
    assert published.entries[0]["legal_entity"] == "Google Ireland Limited"
    assert len(published.content_sha256) == 64
    vendor_update(vendor=Vendor.objects.get(key="google"), name="Renamed", by=None)
    published.refresh_from_db()
    assert published.entries[0]["name"] == "Google Analytics"
    entry = AuditEntry.objects.get(action="subprocessor_list.publish")
    assert entry.site == site and entry.actor == owner and entry.data["number"] == 1


def test_an_unchanged_list_is_refused(site, owner, published):
    with pytest.raises(ValidationError, match="Nothing changed since edition 1"):
        subprocessor_list_publish(site=site, effective_at=timezone.now(), change_note="", by=owner, ip=None)
    assert SubprocessorListVersion.objects.count() == 1


def test_an_addition_before_the_notice_period_is_refused_with_the_earliest_date(site, owner, published):
    vendor_make(site, HOTJAR)
    now = timezone.now().replace(microsecond=0)
    with pytest.raises(ValidationError) as error:
        subprocessor_list_publish(
            site=site, effective_at=now + timedelta(days=29), change_note="", by=owner, ip=None, now=now
        )
    message = error.value.message_dict["effective_at"][0]
    assert "adds Hotjar" in message
    assert f"{now + timedelta(days=30):%Y-%m-%d %H:%M} UTC at the earliest" in message
    assert SubprocessorListVersion.objects.count() == 1
    version = subprocessor_list_publish(
        site=site, effective_at=now + timedelta(days=30), change_note="", by=owner, ip=None, now=now
    )
    assert version.number == 2


def test_a_new_processing_country_needs_notice_like_a_replacement(site, owner, published):
    vendor_update(vendor=Vendor.objects.get(key="yandex"), locations=["RU", "KZ"], by=None)
    with pytest.raises(ValidationError, match="changes locations of Yandex Metrica"):
        subprocessor_list_publish(site=site, effective_at=timezone.now(), change_note="", by=owner, ip=None)


def test_a_removal_or_a_cosmetic_edit_takes_effect_at_once(site, owner, published):
    google = Vendor.objects.get(key="google")
    vendor_update(vendor=google, is_listed=False, by=None)
    vendor_update(vendor=Vendor.objects.get(key="yandex"), purpose="Web analytics (Metrica).", by=None)
    now = timezone.now()
    version = subprocessor_list_publish(
        site=site, effective_at=now, change_note="Dropped GA.", by=owner, ip=None
    )
    assert subprocessor_list_in_force(site=site) == version
    assert [entry["key"] for entry in version.entries] == ["yandex"]


def test_the_version_in_force_is_the_newest_already_effective(site, published, upcoming):
    assert subprocessor_list_in_force(site=site) == published
    assert list(subprocessor_list_upcoming(site=site)) == [upcoming]
    later = upcoming.effective_at + timedelta(seconds=1)
    assert subprocessor_list_in_force(site=site, at=later) == upcoming
    assert subprocessor_list_in_force(site=site, at=published.effective_at - timedelta(seconds=1)) is None


def test_published_versions_cannot_be_changed_through_the_orm(published):
    published.change_note = "rewritten"
    with pytest.raises(ImmutableRowError):
        published.save()
    with pytest.raises(ImmutableRowError):
        SubprocessorListVersion.objects.filter(pk=published.pk).update(change_note="x")
    with pytest.raises(ImmutableRowError):
        published.delete()


def test_the_database_refuses_changes_even_bypassing_the_orm(published):
    table = SubprocessorListVersion._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET entries = %s WHERE id = %s", ["[]", published.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [published.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(SubprocessorListVersion).filter(pk=published.pk).update(change_note="x")
    published.refresh_from_db()
    assert published.change_note == "First."


def test_logs_objections_and_answers_have_their_triggers():
    for model in (SubprocessorListVersion, NotificationLog, Objection, ObjectionAnswer):
        assert triggers_present(connection, model._meta.db_table), model
