"""History cannot be rewritten: not through the ORM, not through raw SQL, not in the admin."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.urls import reverse

from consent.audit.services import audit_record
from consent.immutability import immutable_models, triggers_present
from consent.models import AuditEntry, ImmutableRowError
from consent.sites.services import site_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    site = site_create(name="Shop", by=None)
    return audit_record(site=site, action="test.event", target="something", data={"n": 1})


def test_every_immutable_table_has_its_triggers_after_migrate():
    tables = [model._meta.db_table for model in immutable_models()]
    assert "consent_auditentry" in tables
    for table in tables:
        assert triggers_present(connection, table), table


def test_the_orm_refuses_to_change_or_delete(entry):
    entry.target = "rewritten"
    with pytest.raises(ImmutableRowError):
        entry.save()
    with pytest.raises(ImmutableRowError):
        entry.delete()
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.filter(pk=entry.pk).update(target="rewritten")
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_the_database_refuses_even_when_the_orm_guard_is_bypassed(entry):
    table = AuditEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET target = %s WHERE id = %s", ["rewritten", entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        # A plain QuerySet skips ImmutableQuerySet's guard; the trigger still refuses.
        QuerySet(AuditEntry).filter(pk=entry.pk).update(target="rewritten")
    entry.refresh_from_db()
    assert entry.target == "something"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {AuditEntry._meta.db_table} CASCADE")


def test_the_admin_shows_audit_entries_read_only(client, entry):
    owner = UserFactory(username="owner")
    entry.site.memberships.create(user=owner, role="owner")
    client.force_login(owner)
    url = reverse("admin:consent_auditentry_change", args=[entry.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"test.event" in page.content
    assert b'name="_save"' not in page.content
    client.post(url, {"target": "rewritten"})
    entry.refresh_from_db()
    assert entry.target == "something"
    assert client.get(reverse("admin:consent_auditentry_add")).status_code == 403
