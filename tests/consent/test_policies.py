"""Versioned policy documents: publishing rules, immutability, resolution in time, staleness."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from consent.ledger.selectors import consent_freshness
from consent.models import AuditEntry, ImmutableRowError, PolicyVersion, Role, SiteMembership
from consent.policies.selectors import policy_version_in_force, policy_versions_upcoming
from consent.policies.services import policy_document_create, policy_text_set, policy_version_publish
from consent.rules.jurisdictions import RULESETS
from consent.sites.services import purpose_create, site_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def dpo():
    return UserFactory(username="dora")


@pytest.fixture
def site(dpo):
    site = site_create(name="Shop", languages=["en", "ru"], by=None)
    SiteMembership.objects.create(site=site, user=dpo, role=Role.DPO)
    purpose_create(site=site, key="analytics", texts={"en": ("Analytics", "Counts visits.")}, by=None)
    purpose_create(site=site, key="marketing", texts={"en": ("Marketing", "Ads.")}, by=None)
    return site


@pytest.fixture
def document(site):
    document = policy_document_create(site=site, kind="privacy_policy", by=None)
    policy_text_set(
        document=document, language="en", title="Privacy policy", body="We collect little.\n", by=None
    )
    policy_text_set(document=document, language="ru", title="Политика", body="Мы собираем мало.\n", by=None)
    return document


def publish(document, dpo, *, at=T0, effective_at=None, **kwargs):
    return policy_version_publish(
        document=document, effective_at=effective_at or at, by=dpo, now=at, ip="203.0.113.9", **kwargs
    )


def test_publishing_freezes_the_working_copy_as_numbered_hashed_editions(document, dpo):
    first = publish(document, dpo, summary="First")
    policy_text_set(
        document=document, language="en", title="Privacy policy", body="We collect less.\n", by=None
    )
    second = publish(document, dpo, at=T0 + timedelta(days=1))
    assert (first.number, second.number) == (1, 2)
    assert len(first.content_sha256) == 64 and first.content_sha256 != second.content_sha256
    assert first.texts["en"]["body"] == "We collect little.\n"
    assert first.texts["en"]["html"] == "<p>We collect little.</p>"
    assert first.prevailing_language == "en"
    entry = AuditEntry.objects.get(action="policy_version.publish", data__number=1)
    assert (entry.actor, entry.actor_ip, entry.site) == (dpo, "203.0.113.9", document.site)
    assert entry.data["content_sha256"] == first.content_sha256


def test_an_unchanged_text_is_refused_even_with_invisible_differences(document, dpo):
    publish(document, dpo)
    policy_text_set(
        document=document,
        language="en",
        title="Privacy policy ",
        body="We collect little.  \r\n\r\n",
        by=None,
    )
    with pytest.raises(ValidationError, match="Nothing changed since edition 1"):
        publish(document, dpo, at=T0 + timedelta(days=1))
    assert PolicyVersion.objects.count() == 1


def test_a_missing_required_language_is_refused(site, dpo):
    document = policy_document_create(
        site=site, kind="cookie_policy", jurisdictions=["RU"], languages=["en"], by=None
    )
    assert document.prevailing_language == "ru"
    policy_text_set(document=document, language="en", title="Cookies", body="About cookies.", by=None)
    with pytest.raises(ValidationError) as error:
        publish(document, dpo)
    assert "missing in: ru" in str(error.value)
    assert not PolicyVersion.objects.exists()


def test_a_material_change_needs_the_notice_period_and_says_when_it_can_start(document, dpo):
    publish(document, dpo)
    policy_text_set(
        document=document, language="en", title="Privacy policy", body="We now share with partners.", by=None
    )
    too_soon = T0 + timedelta(days=29)
    with pytest.raises(ValidationError) as error:
        publish(document, dpo, effective_at=too_soon, is_material=True)
    assert "30 days' notice" in str(error.value)
    assert "2026-02-09 12:00" in str(error.value)
    version = publish(document, dpo, effective_at=T0 + timedelta(days=30), is_material=True)
    assert version.is_material


def test_a_change_kind_that_needs_fresh_consent_is_material_whatever_the_flag(document, dpo):
    publish(document, dpo)
    policy_text_set(
        document=document, language="en", title="Privacy policy", body="A new purpose: surveys.", by=None
    )
    with pytest.raises(ValidationError, match="notice"):
        publish(document, dpo, change_kinds=["new_purpose"], is_material=False)
    version = publish(document, dpo, effective_at=T0 + timedelta(days=31), change_kinds=["new_purpose"])
    assert version.is_material


def test_an_editorial_change_takes_effect_at_once(document, dpo):
    publish(document, dpo)
    policy_text_set(
        document=document, language="en", title="Privacy policy", body="We collect very little.", by=None
    )
    assert not publish(document, dpo, change_kinds=["editorial"]).is_material


def test_unknown_change_kinds_and_purposes_are_refused(document, dpo):
    with pytest.raises(ValidationError) as error:
        publish(document, dpo, change_kinds=["whim"], affected_purposes=["necessary", "ghosts"])
    assert set(error.value.message_dict) == {"change_kinds", "affected_purposes"}


def test_only_the_sites_dpo_can_publish(document, site):
    owner = UserFactory(username="owen")
    SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        publish(document, owner)
    outsider = UserFactory(username="otto")
    with pytest.raises(PermissionDenied):
        publish(document, outsider)
    assert not PolicyVersion.objects.exists()


def test_russian_policies_cannot_carry_consent_wording(site, dpo):
    document = policy_document_create(
        site=site, kind="privacy_policy", slug="privacy-ru", jurisdictions=["RU"], by=None
    )
    policy_text_set(
        document=document, language="ru", title="Политика", body="Пользователь даю согласие на всё.", by=None
    )
    policy_text_set(document=document, language="en", title="Policy", body="Processing rules.", by=None)
    with pytest.raises(ValidationError, match="separate document"):
        publish(document, dpo)
    consent_document = policy_document_create(site=site, kind="pd_consent", jurisdictions=["RU"], by=None)
    policy_text_set(
        document=consent_document,
        language="ru",
        title="Согласие",
        body="Я даю согласие на обработку.",
        by=None,
    )
    policy_text_set(
        document=consent_document, language="en", title="Consent", body="I consent to processing.", by=None
    )
    assert publish(consent_document, dpo).number == 1


def test_effective_dates_never_go_backwards(document, dpo):
    publish(document, dpo)
    policy_text_set(document=document, language="en", title="Privacy policy", body="Version two.", by=None)
    publish(document, dpo, at=T0 + timedelta(days=1), effective_at=T0 + timedelta(days=40), is_material=True)
    policy_text_set(document=document, language="en", title="Privacy policy", body="Version three.", by=None)
    with pytest.raises(ValidationError, match="cannot take effect before it"):
        publish(document, dpo, at=T0 + timedelta(days=2))


def test_the_version_in_force_is_the_newest_effective_one(document, dpo):
    first = publish(document, dpo)
    policy_text_set(document=document, language="en", title="Privacy policy", body="Version two.", by=None)
    second = publish(
        document, dpo, at=T0 + timedelta(days=5), effective_at=T0 + timedelta(days=40), is_material=True
    )
    assert policy_version_in_force(document=document, at=T0 - timedelta(seconds=1)) is None
    assert policy_version_in_force(document=document, at=T0) == first
    assert policy_version_in_force(document=document, at=T0 + timedelta(days=39)) == first
    assert policy_versions_upcoming(document=document, at=T0 + timedelta(days=39)) == [second]
    assert policy_version_in_force(document=document, at=T0 + timedelta(days=40)) == second
    assert policy_versions_upcoming(document=document, at=T0 + timedelta(days=40)) == []


def test_published_versions_cannot_change_through_the_orm_or_raw_sql(document, dpo):
    version = publish(document, dpo)
    version.change_note = "rewritten"
    with pytest.raises(ImmutableRowError):
        version.save()
    with pytest.raises(ImmutableRowError):
        PolicyVersion.objects.filter(pk=version.pk).update(change_note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(PolicyVersion).filter(pk=version.pk).update(texts={"en": {"body": "forged"}})
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PolicyVersion._meta.db_table} SET texts = %s WHERE id = %s", ['{"en": {}}', version.pk]
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PolicyVersion._meta.db_table} WHERE id = %s", [version.pk])
    version.refresh_from_db()
    assert version.texts["en"]["body"] == "We collect little.\n"


def test_markdown_is_rendered_and_sanitised(document, dpo):
    policy_text_set(
        document=document,
        language="en",
        title="Privacy policy",
        body="# Who we are\n\n<script>alert(1)</script>\n\n"
        "[contact](javascript:alert(1)) and [mail](mailto:dpo@example.com)"
        "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<img src=x onerror=alert(1)>",
        by=None,
    )
    html = publish(document, dpo).texts["en"]["html"]
    assert "<h1>Who we are</h1>" in html
    assert (
        "<script" not in html and "javascript:" not in html and "onerror" not in html and "<img" not in html
    )
    assert 'href="mailto:dpo@example.com"' in html
    assert "<table>" in html


# --- Does a consent still hold? -------------------------------------------------------------


def test_a_material_version_makes_consents_for_affected_purposes_stale_from_its_effective_date(
    site, document, dpo
):
    publish(document, dpo)
    policy_text_set(
        document=document,
        language="en",
        title="Privacy policy",
        body="Marketing now includes partners.",
        by=None,
    )
    effective = T0 + timedelta(days=30)
    publish(document, dpo, effective_at=effective, is_material=True, affected_purposes=["marketing"])
    eu = RULESETS["EU"]
    decided = T0 + timedelta(days=1)

    before = consent_freshness(
        site=site,
        ruleset=eu,
        decided_at=decided,
        purposes_granted=["marketing"],
        at=effective - timedelta(seconds=1),
    )
    assert before.holds
    after = consent_freshness(
        site=site, ruleset=eu, decided_at=decided, purposes_granted=["marketing"], at=effective
    )
    assert not after.holds
    assert after.reasons == ("policy_version:privacy-policy:v2",)
    # Analytics was not affected; a refusal asked for nothing and stays valid.
    assert consent_freshness(
        site=site, ruleset=eu, decided_at=decided, purposes_granted=["analytics"], at=effective
    ).holds
    assert consent_freshness(
        site=site, ruleset=eu, decided_at=decided, purposes_granted=[], at=effective
    ).holds
    # A consent given after the new version took effect covers it.
    later = effective + timedelta(days=1)
    assert consent_freshness(
        site=site, ruleset=eu, decided_at=later, purposes_granted=["marketing"], at=later
    ).holds


def test_change_kinds_count_only_where_the_jurisdiction_needs_fresh_consent(site, document, dpo):
    publish(document, dpo)
    policy_text_set(
        document=document, language="en", title="Privacy policy", body="A new recipient: Acme.", by=None
    )
    effective = T0 + timedelta(days=30)
    version = publish(document, dpo, effective_at=effective, change_kinds=["new_recipient"])
    assert version.is_material  # material for EU visitors, and so flagged
    decided, at = T0 + timedelta(days=1), effective + timedelta(days=1)
    assert not consent_freshness(
        site=site, ruleset=RULESETS["RU"], decided_at=decided, purposes_granted=["analytics"], at=at
    ).holds


def test_documents_for_other_jurisdictions_do_not_touch_a_visitors_consent(site, dpo):
    russian = policy_document_create(
        site=site, kind="privacy_policy", slug="privacy-ru", jurisdictions=["RU"], by=None
    )
    policy_text_set(document=russian, language="ru", title="Политика", body="Редакция 1.", by=None)
    policy_text_set(document=russian, language="en", title="Policy", body="Edition 1.", by=None)
    effective = T0 + timedelta(days=30)
    publish(russian, dpo, effective_at=effective, is_material=True)
    decided, at = T0 - timedelta(days=1), effective + timedelta(days=1)
    assert consent_freshness(
        site=site, ruleset=RULESETS["EU"], decided_at=decided, purposes_granted=["analytics"], at=at
    ).holds
    assert not consent_freshness(
        site=site, ruleset=RULESETS["RU"], decided_at=decided, purposes_granted=["analytics"], at=at
    ).holds


def test_the_reask_interval_of_the_jurisdiction_ends_a_decision(site):
    fr = RULESETS["EU-FR"]
    decided = T0
    assert consent_freshness(
        site=site, ruleset=fr, decided_at=decided, purposes_granted=[], at=T0 + timedelta(days=182)
    ).holds
    stale = consent_freshness(
        site=site, ruleset=fr, decided_at=decided, purposes_granted=[], at=T0 + timedelta(days=183)
    )
    assert (stale.holds, stale.reasons, stale.expires_at) == (
        False,
        ("reask_interval",),
        T0 + timedelta(days=183),
    )


def test_long_unchanged_runs_are_folded_around_the_changes():
    from consent.policies.text import text_diff

    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 10", "line ten")
    blocks = text_diff(old, new, context=2)
    assert [block.op for block in blocks] == ["skip", "equal", "replace", "equal", "skip"]
    assert blocks[0].old == "8" and blocks[1].old == "line 8\nline 9"
    assert [block.op for block in text_diff(old, new)] == ["equal", "replace", "equal"]
